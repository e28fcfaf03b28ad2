package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yanit/yanit/store/postgres/pgtest"
)

func TestContactsAndSegmentsCommands(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		isolate(t)
		t.Setenv("YANIT_DATA_DIR", t.TempDir())
		testContactsAndSegmentsCommands(t)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewSchemaDSN(t)
		isolate(t)
		t.Setenv("YANIT_DATABASE_URL", dsn)
		testContactsAndSegmentsCommands(t)
	})
}

// A shop's export: a byte order mark, CRLF line ends, ';' separators as
// spreadsheets in Turkish write them, a bad number on line 4.
const cliContactsCSV = "\uFEFFphone;name;language;tags;consent;city\r\n" +
	"0532 123 45 67;Ayşe Yılmaz;tr;vip|istanbul;evet;İstanbul\r\n" +
	"+90 533 765 43 21;Mehmet Öz;tr;vip;hayır;Ankara\r\n" +
	"0532 12;Yanlış Numara;tr;;;İzmir\r\n" +
	"905441112233;Zeynep Kaya;en;istanbul;;İstanbul\r\n"

func testContactsAndSegmentsCommands(t *testing.T) {
	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runStdin(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return out
	}
	fails := func(args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runStdin(t, "", args...)
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return out, errOut
	}
	wantIn := func(what, text string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q does not say %q", what, text, w)
			}
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "musteriler.csv")
	if err := os.WriteFile(file, []byte(cliContactsCSV), 0o600); err != nil {
		t.Fatal(err)
	}

	// A bad line fails the command, after the others are imported.
	out, errOut := fails("contacts", "import", file)
	wantIn("first import", out, "3 created, 0 updated, 0 unchanged, 1 failed\n", `line 4: phone "0532 12"`)
	wantIn("first import", errOut, "1 line(s) failed")
	out, _ = fails("contacts", "import", file)
	wantIn("second import", out, "0 created, 0 updated, 3 unchanged, 1 failed\n")
	// From stdin, a file of good lines: updates, exit 0.
	code, out, errOut := runStdin(t, "phone,tags\n05321234567,vip;istanbul;yeni\n", "contacts", "import", "-")
	if code != 0 {
		t.Fatalf("import from stdin: exit %d\n%s%s", code, out, errOut)
	}
	wantIn("import from stdin", out, "0 created, 1 updated, 0 unchanged, 0 failed\n")

	noPhone := filepath.Join(dir, "telefonsuz.csv")
	if err := os.WriteFile(noPhone, []byte("name,telefon\nAyşe,05321234567\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut = fails("contacts", "import", noPhone)
	wantIn("a file without a phone column", errOut, `no "phone" column`)
	_, errOut = fails("contacts", "import", filepath.Join(dir, "yok.csv"))
	wantIn("a missing file", errOut, "yok.csv")
	_, errOut = fails("contacts", "import", file, "--region", "XX")
	wantIn("an unknown region", errOut, `region "XX"`)

	// Segments: saved, counted at once, listed, previewed with masked
	// numbers, deleted.
	out = ok("segments", "put", "vip-istanbul", "--tag", "vip", "--attr", "city=İstanbul", "--consent", "marketing",
		"--locale", "tr", "--description", "İstanbul'daki VIP'ler")
	wantIn("put", out, "saved segment vip-istanbul", "1 contact(s) match now")
	out = ok("segments", "put", "istanbul", "--any-tag", "istanbul", "--any-tag", "ankara")
	wantIn("put any-tag", out, "2 contact(s) match now")
	out = ok("segments", "put", "recent", "--active-within", "30d", "--inactive-for", "7")
	wantIn("put activity", out, "0 contact(s) match now", "active within 30d", "inactive for 7d")

	out = ok("segments", "list")
	if !strings.HasPrefix(out, "NAME ") {
		t.Errorf("segments list: no header:\n%s", out)
	}
	for _, re := range []string{`(?m)^istanbul +any tag of ankara, istanbul `, `(?m)^recent +active within 30d; inactive for 7d `,
		`(?m)^vip-istanbul +tags vip; city=İstanbul; consent marketing; locale tr +İstanbul'daki VIP'ler `} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("segments list does not match %s:\n%s", re, out)
		}
	}

	out = ok("segments", "preview", "istanbul")
	wantIn("preview", out, "segment istanbul (any tag of ankara, istanbul): 2 contact(s)", "a sample of 2:",
		"+********4567", "+********2233", "Ayşe Yılmaz", "never")
	for _, full := range []string{"905321234567", "905441112233", "532 123"} {
		if strings.Contains(out, full) {
			t.Errorf("preview shows the number %s:\n%s", full, out)
		}
	}
	out = ok("segments", "preview", "istanbul", "--sample", "1")
	wantIn("preview of 1", out, "2 contact(s)", "a sample of 1:")

	for _, bad := range []struct {
		args []string
		says string
	}{
		{[]string{"segments", "put", "x", "--active-within", "30x"}, `--active-within "30x"`},
		{[]string{"segments", "put", "x", "--attr", "city"}, `--attr "city"`},
		{[]string{"segments", "put", "x", "--consent", "all"}, `consent "all"`},
		{[]string{"segments", "put", "x", "--tag", ""}, "tags: a tag is empty"},
		{[]string{"segments", "put", "x", "--active-within", "7", "--inactive-for", "30"}, "active_within_days"},
		{[]string{"segments", "preview", "yok"}, `no segment "yok"`},
		{[]string{"segments", "preview", "istanbul", "--sample", "0"}, "--sample"},
		{[]string{"segments", "delete", "yok"}, `no segment "yok"`},
	} {
		_, errOut := fails(bad.args...)
		wantIn(strings.Join(bad.args, " "), errOut, bad.says)
	}

	out = ok("segments", "delete", "recent")
	wantIn("delete", out, "deleted segment recent")
	if out = ok("segments", "list"); strings.Contains(out, "recent") {
		t.Errorf("a deleted segment is listed:\n%s", out)
	}
	// Re-tagging by import moves contacts into segments.
	if code, out, errOut := runStdin(t, "phone,tags\n05441112233,vip\n", "contacts", "import", "-"); code != 0 {
		t.Fatalf("retagging: exit %d\n%s%s", code, out, errOut)
	}
	out = ok("segments", "preview", "istanbul")
	wantIn("preview after retagging", out, "1 contact(s)")
}
