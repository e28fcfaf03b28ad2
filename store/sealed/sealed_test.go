package sealed_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sealed"
	"github.com/yanit/yanit/store/sqlite"
)

var (
	keyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa1}, 32))
	keyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xb2}, 32))
)

const (
	waID          = "905551112233"
	phoneNumberID = "pn-1"
)

// eachStore runs test on a new, migrated SQLite store and on a new
// PostgreSQL store, unwrapped.
func eachStore(t *testing.T, test func(t *testing.T, raw store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "y.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		test(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, pgtest.NewStore(t))
	})
}

func ring(t *testing.T, spec string) *privacy.Keyring {
	t.Helper()
	k, err := privacy.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// conversation returns the open conversation of the test's contact.
func conversation(t *testing.T, q store.Queries) int64 {
	t.Helper()
	c := must[store.Contact](t)(q.UpsertContact(t.Context(), store.ContactUpsert{WaID: waID}))
	return must[store.Conversation](t)(q.OpenConversation(t.Context(), c.ID, phoneNumberID)).ID
}

func textMessage(conv int64, dir, wamid, body string) store.Message {
	payload, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": body}})
	status := store.StatusReceived
	if dir == store.Outbound {
		status = store.StatusQueued
	}
	return store.Message{ConversationID: conv, Direction: dir, ChannelMessageID: wamid, Type: "text",
		Body: body, Payload: payload, Status: status}
}

// checkSealed fails the test unless the stored row holds the body (when
// there is one) and the payload of plain sealed under key, and not a word
// of them in plain text.
func checkSealed(t *testing.T, stored store.Message, key string, plain store.Message) {
	t.Helper()
	if id, ok := privacy.KeyID(stored.Body); plain.Body != "" && (!ok || id != key) {
		t.Errorf("message %d: the stored body %.30q… is not sealed under %s", stored.ID, stored.Body, key)
	}
	var s string
	if err := json.Unmarshal(stored.Payload, &s); err != nil {
		t.Errorf("message %d: the stored payload %.30s… is not a JSON string: %v", stored.ID, stored.Payload, err)
	} else if id, ok := privacy.KeyID(s); !ok || id != key {
		t.Errorf("message %d: the stored payload %.30q… is not sealed under %s", stored.ID, s, key)
	}
	words := strings.Fields(plain.Body)
	words = append(words, strings.FieldsFunc(string(plain.Payload), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})...)
	for _, word := range words {
		if len(word) >= 4 && (strings.Contains(stored.Body, word) || bytes.Contains(stored.Payload, []byte(word))) {
			t.Errorf("message %d: the stored row holds %q of the plain text", stored.ID, word)
		}
	}
}

// alter flips a bit of the ciphertext of a sealed value.
func alter(t *testing.T, sealed string) string {
	t.Helper()
	i := strings.LastIndex(sealed, ":")
	raw, err := base64.StdEncoding.DecodeString(sealed[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	return sealed[:i+1] + base64.StdEncoding.EncodeToString(raw)
}

func sameContent(t *testing.T, got, want store.Message) {
	t.Helper()
	if got.Body != want.Body || !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("message %d reads back as %q %s, want %q %s", got.ID, got.Body, got.Payload, want.Body, want.Payload)
	}
}

func TestWrap(t *testing.T) {
	eachStore(t, func(t *testing.T, raw store.Store) {
		ctx := t.Context()
		st := sealed.Wrap(raw, ring(t, "k1:"+keyA))
		conv := conversation(t, raw)

		// Written before sealing was turned on: it stays readable.
		old := must[store.Message](t)(raw.InsertMessage(ctx,
			textMessage(conv, store.Inbound, "wamid.old", "eski satır 1\neski satır 2")))

		inWant := textMessage(0, store.Inbound, "wamid.new", "Kartım 4111 1111 1111 1111, siparişim nerede?")
		in := must[store.Message](t)(st.AcceptInbound(ctx, store.InboundParams{
			Contact: store.ContactUpsert{WaID: waID}, PhoneNumberID: phoneNumberID, Message: inWant}))
		sameContent(t, in, inWant)
		if in.ConversationID != conv {
			t.Errorf("the inbound message went to conversation %d, want %d", in.ConversationID, conv)
		}
		_, err := st.AcceptInbound(ctx, store.InboundParams{
			Contact: store.ContactUpsert{WaID: waID}, PhoneNumberID: phoneNumberID, Message: inWant})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("accepting the message again: %v, want ErrDuplicate", err)
		}

		outWant := textMessage(conv, store.Outbound, "", "Siparişiniz yarın Kadıköy şubesinde")
		var out store.Message
		if err := st.InTx(ctx, func(tx store.Queries) error {
			var err error
			out, err = tx.InsertMessage(ctx, outWant)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sameContent(t, out, outWant)
		empty := must[store.Message](t)(st.InsertMessage(ctx, store.Message{ConversationID: conv,
			Direction: store.Outbound, Type: "image", Status: store.StatusQueued}))

		// Every read through the wrapper sees what was written.
		for _, want := range []store.Message{old, in, out} {
			sameContent(t, must[store.Message](t)(st.GetMessage(ctx, want.ID)), want)
		}
		listed := must[[]store.Message](t)(st.ListMessages(ctx, conv))
		if len(listed) != 4 {
			t.Fatalf("ListMessages returned %d messages, want 4", len(listed))
		}
		for i, want := range []store.Message{old, in, out, empty} {
			sameContent(t, listed[i], want)
		}
		pending := must[[]store.Message](t)(st.PendingInbound(ctx, conv))
		if len(pending) != 2 {
			t.Fatalf("PendingInbound returned %d messages, want 2", len(pending))
		}
		sameContent(t, pending[0], old)
		sameContent(t, pending[1], in)

		// The rows hold no plain text, except the one stored before.
		checkSealed(t, must[store.Message](t)(raw.GetMessage(ctx, in.ID)), "k1", inWant)
		checkSealed(t, must[store.Message](t)(raw.GetMessage(ctx, out.ID)), "k1", outWant)
		sameContent(t, must[store.Message](t)(raw.GetMessage(ctx, old.ID)), old)
		if e := must[store.Message](t)(raw.GetMessage(ctx, empty.ID)); e.Body != "" || string(e.Payload) != "{}" {
			t.Errorf("the message without content is stored as %q %s, want \"\" {}", e.Body, e.Payload)
		}

		// A turn's input is the plain text of its messages, one per line.
		if _, err := raw.InsertTurn(ctx, store.Turn{ConversationID: conv, InboundIDs: []int64{old.ID, in.ID},
			OutboundIDs: []int64{out.ID}, Decision: "answer"}); err != nil {
			t.Fatal(err)
		}
		recent := store.TurnFilter{Since: time.Now().Add(-time.Hour)}
		turns := must[[]store.Turn](t)(st.ListRecentTurns(ctx, recent))
		if want := old.Body + "\n" + inWant.Body; len(turns) != 1 || turns[0].Input != want {
			t.Errorf("ListRecentTurns: %+v, want one turn with input %q", turns, want)
		}
		rawTurns := must[[]store.Turn](t)(raw.ListRecentTurns(ctx, recent))
		if len(rawTurns) != 1 || !strings.HasPrefix(rawTurns[0].Input, old.Body+"\nyanit:enc:v1:k1:") ||
			strings.Contains(rawTurns[0].Input, "4111") {
			t.Errorf("the stored input %+v, want the old plain text, then a sealed value", rawTurns)
		}

		// Contents are written sealed and read opened.
		newPayload := json.RawMessage(`{"type":"text","text":{"body":"düzeltildi 05551112233"}}`)
		if err := st.SetMessageContent(ctx, old.ID, "düzeltildi 05551112233", newPayload); err != nil {
			t.Fatal(err)
		}
		checkSealed(t, must[store.Message](t)(raw.GetMessage(ctx, old.ID)), "k1",
			store.Message{Body: "düzeltildi 05551112233", Payload: newPayload})
		cs := must[[]store.MessageContent](t)(st.MessageContents(ctx, 0, 10))
		if len(cs) != 4 || cs[0].Body != "düzeltildi 05551112233" || !bytes.Equal(cs[0].Payload, newPayload) ||
			cs[1].Body != inWant.Body || !bytes.Equal(cs[1].Payload, inWant.Payload) {
			t.Errorf("MessageContents = %+v, want the four messages' plain contents", cs)
		}

		// An altered row fails its read, naming the key but not the content.
		stored := must[store.Message](t)(raw.GetMessage(ctx, in.ID))
		if err := raw.SetMessageContent(ctx, in.ID, alter(t, stored.Body), stored.Payload); err != nil {
			t.Fatal(err)
		}
		_, err = st.GetMessage(ctx, in.ID)
		if err == nil || !strings.Contains(err.Error(), `key "k1"`) || strings.Contains(err.Error(), "4111") {
			t.Errorf("reading an altered message: %v, want an error naming key k1 without the content", err)
		}
		if _, err := st.ListMessages(ctx, conv); err == nil {
			t.Error("listing a conversation with an altered message: no error")
		}
	})
}

// TestOutbox checks the outbox's batch forms: InsertOutbound seals what it
// stores and opens what it returns, in a transaction too, and
// OutboxEntries opens the messages it reads.
func TestOutbox(t *testing.T) {
	eachStore(t, func(t *testing.T, raw store.Store) {
		ctx := t.Context()
		st := sealed.Wrap(raw, ring(t, "k1:"+keyA))
		conv := conversation(t, raw)

		want := []store.Message{
			textMessage(conv, store.Outbound, "", "Kampanya: 4111 1111 1111 1111 kartınıza %20 indirim"),
			{ConversationID: conv, Direction: store.Outbound, Type: "image", Status: store.StatusQueued},
			textMessage(conv, store.Outbound, "", "İkinci mesaj, Moda şubesinden"),
		}
		got := must[[]store.Message](t)(st.InsertOutbound(ctx, want[:2]))
		var inTx []store.Message
		if err := st.InTx(ctx, func(tx store.Queries) error {
			var err error
			inTx, err = tx.InsertOutbound(ctx, want[2:])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got = append(got, inTx...)
		if len(got) != len(want) {
			t.Fatalf("InsertOutbound returned %d messages, want %d", len(got), len(want))
		}
		ids := make([]int64, len(got))
		for i, m := range got {
			ids[i] = m.ID
			if want[i].Payload == nil {
				want[i].Payload = json.RawMessage(`{}`)
			}
			if m.Body != want[i].Body || !jsonEqual(m.Payload, want[i].Payload) {
				t.Errorf("InsertOutbound returned message %d as %q %s, want %q %s", m.ID, m.Body, m.Payload, want[i].Body, want[i].Payload)
			}
		}

		// The rows hold no plain text; the empty message stays empty.
		checkSealed(t, must[store.Message](t)(raw.GetMessage(ctx, ids[0])), "k1", want[0])
		checkSealed(t, must[store.Message](t)(raw.GetMessage(ctx, ids[2])), "k1", want[2])
		if e := must[store.Message](t)(raw.GetMessage(ctx, ids[1])); e.Body != "" || string(e.Payload) != "{}" {
			t.Errorf("the message without content is stored as %q %s, want \"\" {}", e.Body, e.Payload)
		}

		// OutboxEntries opens the messages; the raw store's are sealed.
		entries := must[[]store.OutboxEntry](t)(st.OutboxEntries(ctx, ids))
		if len(entries) != len(want) {
			t.Fatalf("OutboxEntries returned %d entries, want %d", len(entries), len(want))
		}
		for i, e := range entries {
			if e.Message.ID != ids[i] || e.Message.Body != want[i].Body || !jsonEqual(e.Message.Payload, want[i].Payload) ||
				e.PhoneNumberID != phoneNumberID || e.Contact.WaID != waID {
				t.Errorf("OutboxEntries[%d] = %+v, want message %d %q %s to %s on %s", i, e, ids[i], want[i].Body,
					want[i].Payload, waID, phoneNumberID)
			}
		}
		rawEntries := must[[]store.OutboxEntry](t)(raw.OutboxEntries(ctx, ids[:1]))
		if len(rawEntries) != 1 {
			t.Fatalf("the raw store's OutboxEntries returned %d entries, want 1", len(rawEntries))
		}
		checkSealed(t, rawEntries[0].Message, "k1", want[0])

		// An altered row fails the read, naming the key.
		stored := must[store.Message](t)(raw.GetMessage(ctx, ids[0]))
		if err := raw.SetMessageContent(ctx, ids[0], alter(t, stored.Body), stored.Payload); err != nil {
			t.Fatal(err)
		}
		if _, err := st.OutboxEntries(ctx, ids); err == nil || !strings.Contains(err.Error(), `key "k1"`) ||
			strings.Contains(err.Error(), "4111") {
			t.Errorf("reading an altered outbox message: %v, want an error naming key k1 without the content", err)
		}
	})
}

func TestRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, raw store.Store) {
		ctx := t.Context()
		k1 := ring(t, "k1:"+keyA)
		k2 := ring(t, "k2:"+keyB+",k1:"+keyA)
		k2only := ring(t, "k2:"+keyB)
		conv := conversation(t, raw)

		var want []store.Message
		add := func(st store.Store, m store.Message) {
			want = append(want, must[store.Message](t)(st.InsertMessage(ctx, m)))
		}
		add(raw, textMessage(conv, store.Inbound, "wamid.1", "düz metin, şifrelenmeden önce"))
		add(sealed.Wrap(raw, k1), textMessage(conv, store.Inbound, "wamid.2", "TC 10000000146 adresim Moda"))
		add(sealed.Wrap(raw, k1), store.Message{ConversationID: conv, Direction: store.Outbound, Type: "image",
			Status: store.StatusQueued})
		add(sealed.Wrap(raw, k1), textMessage(conv, store.Outbound, "", "IBAN TR330006100519786457841326"))
		add(raw, store.Message{ConversationID: conv, Direction: store.Inbound, ChannelMessageID: "wamid.5",
			Type: "location", Payload: json.RawMessage(`{"location":{"latitude":41.0,"longitude":29.0}}`),
			Status: store.StatusReceived})
		add(sealed.Wrap(raw, k2), textMessage(conv, store.Outbound, "", "zaten yeni anahtarla"))

		// A ring without k1 cannot seal k1's values again: the batch
		// holding the first of them changes nothing.
		n, err := sealed.Rotate(ctx, raw, k2only, 10, nil)
		if !errors.Is(err, privacy.ErrUnknownKey) || n != 0 || !strings.Contains(err.Error(), `key "k1"`) {
			t.Errorf("rotating without the old key: %d, %v; want 0 and an error naming k1", n, err)
		}
		if m := must[store.Message](t)(raw.GetMessage(ctx, want[0].ID)); m.Body != want[0].Body {
			t.Errorf("the failed rotation changed message %d to %.30q…", m.ID, m.Body)
		}

		var progress []int
		n, err = sealed.Rotate(ctx, raw, k2, 2, func(done int) { progress = append(progress, done) })
		if err != nil || n != 4 {
			t.Fatalf("Rotate = %d, %v; want 4 messages changed", n, err)
		}
		if !slices.Equal(progress, []int{2, 4, 6}) {
			t.Errorf("progress %v, want [2 4 6]", progress)
		}

		for _, m := range want {
			stored := must[store.Message](t)(raw.GetMessage(ctx, m.ID))
			if m.Body == "" && string(m.Payload) == "{}" {
				sameContent(t, stored, m)
				continue
			}
			checkSealed(t, stored, "k2", m)
		}

		// The old ring cannot read what the new one sealed; the new one,
		// even without k1, reads everything.
		_, err = sealed.Wrap(raw, k1).GetMessage(ctx, want[1].ID)
		if !errors.Is(err, privacy.ErrUnknownKey) || !strings.Contains(err.Error(), `key "k2"`) ||
			strings.Contains(err.Error(), "10000000146") {
			t.Errorf("reading with the old ring: %v, want ErrUnknownKey naming k2", err)
		}
		got := must[[]store.Message](t)(sealed.Wrap(raw, k2only).ListMessages(ctx, conv))
		if len(got) != len(want) {
			t.Fatalf("ListMessages returned %d messages, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].Body != want[i].Body || !jsonEqual(got[i].Payload, want[i].Payload) {
				t.Errorf("message %d reads back as %q %s, want %q %s", got[i].ID, got[i].Body, got[i].Payload,
					want[i].Body, want[i].Payload)
			}
		}

		// Nothing is left to do, whichever store Rotate is given.
		if n, err := sealed.Rotate(ctx, sealed.Wrap(raw, k2only), k2only, 0, nil); err != nil || n != 0 {
			t.Errorf("a second Rotate = %d, %v; want 0 changed", n, err)
		}
	})
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestEveryMessageMethodIsSealed fails when store.Queries gains a method
// taking or returning a message that the wrapper does not seal or open: a
// new way for plain text into or out of the database.
func TestEveryMessageMethodIsSealed(t *testing.T) {
	handled := []string{"AcceptInbound", "InsertMessage", "GetMessage", "ListMessages", "PendingInbound",
		"ListRecentTurns", "MessageContents", "SetMessageContent", "InsertOutbound", "OutboxEntries"}
	// Turns carry an Input only from ListRecentTurns.
	turnsOnly := []string{"InsertTurn", "ListTurns"}
	content := []reflect.Type{reflect.TypeFor[store.Message](), reflect.TypeFor[store.MessageContent](),
		reflect.TypeFor[store.Turn]()}
	if !holds(reflect.TypeFor[store.InboundParams](), content[0], map[reflect.Type]bool{}) {
		t.Fatal("holds does not find the Message inside store.InboundParams")
	}
	q := reflect.TypeFor[store.Queries]()
	for i := range q.NumMethod() {
		m := q.Method(i)
		if slices.Contains(handled, m.Name) || slices.Contains(turnsOnly, m.Name) {
			continue
		}
		for _, typ := range signature(m.Type) {
			for _, c := range content {
				if holds(typ, c, map[reflect.Type]bool{}) {
					t.Errorf("store.Queries.%s takes or returns a %v, which sealed.Wrap passes on unsealed", m.Name, c)
				}
			}
		}
	}
	if m, ok := q.MethodByName("SetMessageContent"); !ok || !slices.ContainsFunc(signature(m.Type), func(t reflect.Type) bool {
		return t == reflect.TypeFor[json.RawMessage]()
	}) {
		t.Error("store.Queries.SetMessageContent no longer takes a payload: check the wrapper")
	}
}

func signature(f reflect.Type) []reflect.Type {
	var ts []reflect.Type
	for i := range f.NumIn() {
		ts = append(ts, f.In(i))
	}
	for i := range f.NumOut() {
		ts = append(ts, f.Out(i))
	}
	return ts
}

// holds reports whether a value of type t may hold a value of type c.
func holds(t, c reflect.Type, seen map[reflect.Type]bool) bool {
	if t == c {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Pointer, reflect.Chan:
		return holds(t.Elem(), c, seen)
	case reflect.Map:
		return holds(t.Key(), c, seen) || holds(t.Elem(), c, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holds(t.Field(i).Type, c, seen) {
				return true
			}
		}
	case reflect.Func:
		return slices.ContainsFunc(signature(t), func(x reflect.Type) bool { return holds(x, c, seen) })
	}
	return false
}

// TestContents checks the stores' Contents, which Rotate stands on.
func TestContents(t *testing.T) {
	eachStore(t, func(t *testing.T, raw store.Store) {
		ctx := t.Context()
		conv := conversation(t, raw)
		m := must[store.Message](t)(raw.InsertMessage(ctx, textMessage(conv, store.Inbound, "wamid.1", "merhaba")))

		if err := raw.SetMessageContent(ctx, m.ID+1, "x", nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting the content of a missing message: %v, want ErrNotFound", err)
		}
		for _, limit := range []int{0, store.MaxContentBatch + 1} {
			if _, err := raw.MessageContents(ctx, 0, limit); err == nil {
				t.Errorf("MessageContents with limit %d: no error", limit)
			}
		}
		if cs := must[[]store.MessageContent](t)(raw.MessageContents(ctx, m.ID, 10)); len(cs) != 0 {
			t.Errorf("MessageContents after the last message = %+v, want none", cs)
		}
		if err := raw.SetMessageContent(ctx, m.ID, "", nil); err != nil {
			t.Fatal(err)
		}
		cs := must[[]store.MessageContent](t)(raw.MessageContents(ctx, 0, 10))
		if len(cs) != 1 || cs[0].ID != m.ID || cs[0].Body != "" || string(cs[0].Payload) != "{}" {
			t.Errorf("MessageContents after clearing = %+v, want message %d with \"\" {}", cs, m.ID)
		}
	})
}

// TestContentsLockedInTx checks that PostgreSQL's MessageContents locks
// its rows inside a transaction: a write of another connection (an expiry
// clearing the message) waits, so that Rotate cannot write back a content
// read before it.
func TestContentsLockedInTx(t *testing.T) {
	raw := pgtest.NewStore(t)
	ctx := t.Context()
	m := must[store.Message](t)(raw.InsertMessage(ctx,
		textMessage(conversation(t, raw), store.Inbound, "wamid.1", "merhaba")))
	err := raw.InTx(ctx, func(tx store.Queries) error {
		if _, err := tx.MessageContents(ctx, 0, 10); err != nil {
			return err
		}
		other, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := raw.SetMessageContent(other, m.ID, "", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("writing a row MessageContents returned in a transaction: %v, want it to wait", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
