package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/yanit/yanit/store"
)

// toolSetYAML is a document of HTTP tools as an integrator sends it: the
// store must give it back byte for byte, comments, indentation and
// non-ASCII text included.
const toolSetYAML = `# Shop backend
backends:
  - name: shop
    base_url: https://shop.example/api
    signing_secret_env: SHOP_SECRET
tools:
  - name: order_status
    backend: shop
    description:
      tr: "Siparişin durumunu gösterir: kargoda mı, teslim mi?"
      en: Shows where an order is.
    method: GET
    path: /orders/{order_id}
`

// showToolSet formats a tool set for a failure message, its body as text.
func showToolSet(ts store.ToolSet) string {
	return fmt.Sprintf("{%s %q created %v updated %v}", ts.Name, ts.Body, ts.CreatedAt, ts.UpdatedAt)
}

func showToolSets(sets []store.ToolSet) []string {
	out := make([]string, len(sets))
	for i, ts := range sets {
		out[i] = showToolSet(ts)
	}
	return out
}

func testToolSets(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	names := func(sets []store.ToolSet) []string {
		out := make([]string, len(sets))
		for i, ts := range sets {
			out[i] = ts.Name
		}
		return out
	}
	list := func(t *testing.T) []store.ToolSet {
		t.Helper()
		return must(s.ListToolSets(c))(t)
	}
	equal := func(a, b store.ToolSet) bool {
		return a.Name == b.Name && bytes.Equal(a.Body, b.Body) &&
			a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
	}

	if got := list(t); len(got) != 0 {
		t.Fatalf("tool sets of a new store = %v, want none", names(got))
	}

	// Put stores the body as sent; ListToolSets returns the sets by name,
	// whatever the order they were put in.
	shop := must(s.PutToolSet(c, "shop", []byte(toolSetYAML)))(t)
	if shop.Name != "shop" || !bytes.Equal(shop.Body, []byte(toolSetYAML)) ||
		shop.CreatedAt.IsZero() || !shop.UpdatedAt.Equal(shop.CreatedAt) {
		t.Fatalf("put tool set = %s, want the name, the body as sent, and created = updated", showToolSet(shop))
	}
	crm := must(s.PutToolSet(c, "crm", []byte("tools: []\n")))(t)
	billing := must(s.PutToolSet(c, "billing", []byte("backends: []\n")))(t)
	got := list(t)
	if len(got) != 3 || !equal(got[0], billing) || !equal(got[1], crm) || !equal(got[2], shop) {
		t.Fatalf("ListToolSets = %v, want billing, crm, shop as put", showToolSets(got))
	}

	// Putting a name again replaces its body: one set, the same CreatedAt, a
	// later UpdatedAt.
	const newBody = "tools: [] # emptied\n"
	replaced := must(s.PutToolSet(c, "crm", []byte(newBody)))(t)
	if string(replaced.Body) != newBody || !replaced.CreatedAt.Equal(crm.CreatedAt) ||
		!replaced.UpdatedAt.After(crm.UpdatedAt) {
		t.Fatalf("replaced tool set = %s, want body %q, CreatedAt %v kept and UpdatedAt after %v",
			showToolSet(replaced), newBody, crm.CreatedAt, crm.UpdatedAt)
	}
	got = list(t)
	if len(got) != 3 || !equal(got[1], replaced) || !equal(got[0], billing) || !equal(got[2], shop) {
		t.Fatalf("ListToolSets after a replace = %v, want billing, the replaced crm, shop", showToolSets(got))
	}

	// A set without a name is refused and nothing is stored.
	if ts, err := s.PutToolSet(c, "", []byte(toolSetYAML)); err == nil {
		t.Fatalf("putting a tool set without a name stored %s, want an error", showToolSet(ts))
	}
	if got := list(t); len(got) != 3 {
		t.Fatalf("after a refused put: %v, want billing, crm, shop", names(got))
	}

	// Delete removes the one set; deleting it again, or a name never put,
	// is ErrNotFound.
	if err := s.DeleteToolSet(c, "crm"); err != nil {
		t.Fatal(err)
	}
	if got := list(t); len(got) != 2 || got[0].Name != "billing" || got[1].Name != "shop" {
		t.Fatalf("after deleting crm: %v, want billing, shop", names(got))
	}
	for _, name := range []string{"crm", "missing", ""} {
		if err := s.DeleteToolSet(c, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting tool set %q that does not exist: %v, want ErrNotFound", name, err)
		}
	}
	// A name deleted can be put again, as new.
	again := must(s.PutToolSet(c, "crm", []byte("tools: []\n")))(t)
	if !again.CreatedAt.After(crm.CreatedAt) || !again.UpdatedAt.Equal(again.CreatedAt) {
		t.Fatalf("tool set put again after its delete = %s, want a new CreatedAt after %v", showToolSet(again), crm.CreatedAt)
	}

	// Inside a transaction the writes are seen by the transaction, and a
	// rollback undoes all of them.
	before := list(t)
	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.PutToolSet(c, "draft", []byte("tools: []\n")); err != nil {
			return err
		}
		if _, err := tx.PutToolSet(c, "shop", []byte("tools: [] # replaced\n")); err != nil {
			return err
		}
		if err := tx.DeleteToolSet(c, "billing"); err != nil {
			return err
		}
		inTx, err := tx.ListToolSets(c)
		if err != nil {
			return err
		}
		if len(inTx) != 3 || inTx[0].Name != "crm" || inTx[1].Name != "draft" || inTx[2].Name != "shop" {
			t.Errorf("tool sets inside the transaction: %v, want crm, draft, shop", names(inTx))
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want the callback's error", err)
	}
	got = list(t)
	if len(got) != len(before) {
		t.Fatalf("after a rolled-back transaction: %v, want %v", names(got), names(before))
	}
	for i := range got {
		if !equal(got[i], before[i]) {
			t.Fatalf("after a rolled-back transaction: %s, want %s", showToolSet(got[i]), showToolSet(before[i]))
		}
	}

	// The same put committed stays.
	err = s.InTx(c, func(tx store.Queries) error {
		_, err := tx.PutToolSet(c, "draft", []byte("tools: []\n"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := list(t); len(got) != 4 || got[2].Name != "draft" {
		t.Fatalf("after a committed transaction: %v, want billing, crm, draft, shop", names(got))
	}
}
