package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

// privacyOK runs the CLI in-process and fails the test unless it exits 0.
func privacyOK(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("yanit %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

// privacyFails runs the CLI in-process and fails the test unless it exits
// non-zero saying want.
func privacyFails(t *testing.T, want string, args ...string) {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("yanit %s: exit %d, stderr %q; want a failure saying %q (stdout %q)", strings.Join(args, " "), code, errOut, want, out)
	}
}

// privacyDataDir points the CLI at a new data directory (its SQLite store)
// with nothing else of the environment, and returns the directory.
func privacyDataDir(t *testing.T) string {
	t.Helper()
	isolate(t)
	dir := t.TempDir()
	t.Setenv("YANIT_DATA_DIR", dir)
	return dir
}

// openDataDir opens the migrated SQLite store of the data directory, as
// the CLI does without encryption keys; it is closed when the test ends.
func openDataDir(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "yanit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// rawMessages opens the SQLite file of the data directory without the
// store, to read and write rows as they are at rest.
func rawMessages(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "yanit.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawRow is a message as the database holds it.
type rawRow struct {
	id      int64
	body    string
	payload string
}

func rawRows(t *testing.T, db *sql.DB) []rawRow {
	t.Helper()
	rows, err := db.Query(`SELECT id, body, payload FROM messages ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []rawRow
	for rows.Next() {
		var r rawRow
		if err := rows.Scan(&r.id, &r.body, &r.payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// privacyMessage stores a text message of the conversation, with its
// WhatsApp payload.
func privacyMessage(t *testing.T, st store.Store, convID int64, dir, body string) store.Message {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": body}})
	m, err := st.InsertMessage(context.Background(), store.Message{ConversationID: convID, Direction: dir, Type: "text",
		Body: body, Payload: payload, Status: store.StatusReceived})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A data subject's requests from the command line: their data exported to
// a private file, then erased, each recorded in the audit log as done by
// the CLI; the contact is found by their number in any usual writing.
func TestPrivacyEraseAndExportCommands(t *testing.T) {
	dir := privacyDataDir(t)
	ctx := context.Background()
	st := openDataDir(t, dir)
	ayse, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe", Locale: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	can, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905559876543", Name: "Can"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.OpenConversation(ctx, ayse.ID, "100000000000001")
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"Merhaba, TC kimlik numaram 10000000146", "Size nasıl yardımcı olabilirim?", "Siparişim nerede?"}
	for i, b := range bodies {
		privacyMessage(t, st, conv.ID, []string{store.Inbound, store.Outbound}[i%2], b)
	}
	canConv, err := st.OpenConversation(ctx, can.ID, "100000000000001")
	if err != nil {
		t.Fatal(err)
	}
	privacyMessage(t, st, canConv.ID, store.Inbound, "Can'ın mesajı")
	if _, err := privacy.RecordConsent(ctx, st, store.Consent{ContactID: ayse.ID, Purpose: store.PurposeService, Granted: true,
		Source: store.ConsentByButton, PolicyVersion: "2026-01", At: time.Now()}, privacy.Actor{}); err != nil {
		t.Fatal(err)
	}

	// Export, to a new file and over an existing one readable by all.
	outDir := t.TempDir()
	fresh, existing := filepath.Join(outDir, "ayse.json"), filepath.Join(outDir, "old.json")
	if err := os.WriteFile(existing, []byte("an older export"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, ref string }{{fresh, "+90 532 123 45 67"}, {existing, "05321234567"}} {
		stdout, stderr := privacyOK(t, "privacy", "export", "--contact", c.ref, "-o", c.file)
		want := fmt.Sprintf("exported contact %d to %s: 1 conversations, 0 tickets, 1 consent records\n", ayse.ID, c.file)
		if stdout != "" || stderr != want {
			t.Errorf("export --contact %q: stdout %q, stderr %q; want nothing on stdout and %q", c.ref, stdout, stderr, want)
		}
		info, err := os.Stat(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has the mode %v, want 0600: the export is personal data", c.file, info.Mode().Perm())
		}
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var x privacy.Export
		if err := json.Unmarshal(b, &x); err != nil {
			t.Fatalf("%s is not an export: %v\n%s", c.file, err, b)
		}
		if x.Contact.ID != ayse.ID || x.Contact.WaID != "905321234567" || x.Contact.Name != "Ayşe" || len(x.Conversations) != 1 ||
			len(x.Consents) != 1 || x.Consents[0].Purpose != store.PurposeService || !x.Consents[0].Granted {
			t.Fatalf("%s: %+v, want Ayşe with her conversation and consent", c.file, x)
		}
		var got []string
		for _, m := range x.Conversations[0].Messages {
			got = append(got, m.Body)
		}
		if strings.Join(got, "|") != strings.Join(bodies, "|") {
			t.Errorf("%s: messages %q, want %q as written", c.file, got, bodies)
		}
		if strings.Contains(string(b), "Can") {
			t.Errorf("%s holds another contact's data:\n%s", c.file, b)
		}
	}
	// To stdout, by contact id.
	stdout, _ := privacyOK(t, "privacy", "export", "--contact", fmt.Sprint(ayse.ID))
	if x := (privacy.Export{}); json.Unmarshal([]byte(stdout), &x) != nil || x.Contact.ID != ayse.ID {
		t.Errorf("export to stdout: %.300s, want Ayşe's export", stdout)
	}
	privacyFails(t, "--contact is required", "privacy", "export")
	privacyFails(t, "no contact has the id 987654", "privacy", "export", "--contact", "987654")
	privacyFails(t, "neither a contact id nor a valid phone number", "privacy", "export", "--contact", "ayse")
	privacyFails(t, "no contact has the number +905329999999", "privacy", "export", "--contact", "0532 999 99 99")

	// Erase, by the number as people write it at home.
	stdout, _ = privacyOK(t, "privacy", "erase", "--contact", "0532 123 45 67")
	wantErase := regexp.MustCompile(fmt.Sprintf(`^erased contact %d \(•+4567\)\n`, ayse.ID) +
		`  conversations +1\n  messages +3\n  turns +0\n  tickets +0\n  ticket events +0\n  consent records +1\n  jobs +0\n$`)
	if !wantErase.MatchString(stdout) {
		t.Errorf("erase printed:\n%s\nwant the masked number and the counts (%s)", stdout, wantErase)
	}
	if strings.Contains(stdout, "905321234567") {
		t.Errorf("erase printed the whole number:\n%s", stdout)
	}
	if found, err := st.ContactsByWaID(ctx, []string{"905321234567", "905559876543"}); err != nil || len(found) != 1 || found[0].ID != can.ID {
		t.Errorf("contacts after the erasure: %+v %v, want Can alone", found, err)
	}
	if ms, err := st.ListMessages(ctx, conv.ID); err != nil || len(ms) != 0 {
		t.Errorf("Ayşe's messages after the erasure: %+v %v", ms, err)
	}
	if ms, err := st.ListMessages(ctx, canConv.ID); err != nil || len(ms) != 1 {
		t.Errorf("Can's messages after Ayşe's erasure: %+v %v, want his one", ms, err)
	}
	privacyFails(t, "no contact has the number +905321234567", "privacy", "erase", "--contact", "0532 123 45 67")
	privacyFails(t, "no contact has the id", "privacy", "erase", "--contact", fmt.Sprint(ayse.ID))

	// The audit log: the two exports to files, the one to stdout and the
	// erasure, by the CLI, newest first; the consent is no contact.* entry.
	stdout, _ = privacyOK(t, "privacy", "audit", "--action", "contact.")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("audit --action contact.:\n%s\nwant a header and four entries", stdout)
	}
	target := privacy.ContactTarget(ayse.ID)
	for i, want := range []string{"contact.erased", "contact.exported", "contact.exported", "contact.exported"} {
		f := strings.Fields(lines[i+1])
		if len(f) < 5 || f[2] != "cli" || f[3] != want || f[4] != target {
			t.Errorf("audit line %d: %q, want cli %s %s", i+1, lines[i+1], want, target)
		}
	}
	if !strings.Contains(lines[1], `"messages":3`) {
		t.Errorf("the erasure's entry %q does not count what it removed", lines[1])
	}
	stdout, _ = privacyOK(t, "privacy", "audit", "--target", target, "--json")
	var actions []string
	for line := range strings.Lines(stdout) {
		var e store.AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit --json line %q: %v", line, err)
		}
		actions = append(actions, e.Actor+" "+e.Action)
	}
	if want := []string{"cli contact.erased", "cli contact.exported", "cli contact.exported", "cli contact.exported", target + " consent.given"}; strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit --target %s --json: %v, want %v", target, actions, want)
	}
	if stdout, _ := privacyOK(t, "privacy", "audit", "--actor", "cli", "--since", "1h", "--limit", "1"); strings.Count(stdout, "\n") != 2 ||
		!strings.Contains(stdout, "contact.erased") {
		t.Errorf("audit --actor cli --since 1h --limit 1:\n%s\nwant the header and the erasure", stdout)
	}
	privacyFails(t, "limit", "privacy", "audit", "--limit", "5000")
}

// keygen prints a key in the form privacy.encryption_keys takes.
func TestPrivacyKeygen(t *testing.T) {
	isolate(t)
	stdout, _ := privacyOK(t, "privacy", "keygen", "k1")
	if !regexp.MustCompile(`^k1:[A-Za-z0-9+/]{43}=\n$`).MatchString(stdout) {
		t.Fatalf("keygen k1 = %q, want k1:<44 base64 characters>", stdout)
	}
	if _, err := privacy.ParseKeyring(strings.TrimSpace(stdout)); err != nil {
		t.Errorf("the key printed does not parse: %v", err)
	}
	if again, _ := privacyOK(t, "privacy", "keygen", "k1"); again == stdout {
		t.Error("two keys are the same")
	}
	privacyFails(t, "key id", "privacy", "keygen", "Key One")
	privacyFails(t, "accepts 1 arg", "privacy", "keygen")
}

// With encryption keys set, what the CLI's store writes is sealed at rest
// and read back plain; rotate seals everything under the first key, once.
func TestPrivacySealedAtRestAndRotate(t *testing.T) {
	dir := privacyDataDir(t)
	ctx := context.Background()
	key := func(id string) string {
		t.Helper()
		out, _ := privacyOK(t, "privacy", "keygen", id)
		return strings.TrimSpace(out)
	}
	k1, k2 := key("k1"), key("k2")
	const secret = "TC kimlik numaram 10000000146"

	// A message stored before encryption was turned on stays plain.
	plain := openDataDir(t, dir)
	contact, err := plain.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := plain.OpenConversation(ctx, contact.ID, "100000000000001")
	if err != nil {
		t.Fatal(err)
	}
	privacyMessage(t, plain, conv.ID, store.Inbound, "Merhaba")
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}

	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", k1)
	cfg, err := loadDevConfig(&globals{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Privacy.EncryptionKeys != k1 {
		t.Fatal("YANIT_PRIVACY_ENCRYPTION_KEYS does not reach privacy.encryption_keys")
	}
	sealedStore, err := openAndMigrate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	written := privacyMessage(t, sealedStore, conv.ID, store.Inbound, secret)
	if written.Body != secret {
		t.Errorf("the store returned the body %q, want it plain", written.Body)
	}
	if ms, err := sealedStore.ListMessages(ctx, conv.ID); err != nil || len(ms) != 2 || ms[0].Body != "Merhaba" || ms[1].Body != secret {
		t.Errorf("messages read back through the store: %+v %v, want both plain", ms, err)
	}
	if err := sealedStore.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawMessages(t, dir)
	sealedWith := func(id string, r rawRow) bool {
		var p string
		return strings.HasPrefix(r.body, "yanit:enc:v1:"+id+":") && json.Unmarshal([]byte(r.payload), &p) == nil &&
			strings.HasPrefix(p, "yanit:enc:v1:"+id+":")
	}
	rows := rawRows(t, db)
	if len(rows) != 2 || rows[0].body != "Merhaba" || !sealedWith("k1", rows[1]) {
		t.Fatalf("rows at rest: %+v, want the first plain and the second sealed with k1", rows)
	}
	for _, r := range rows {
		if strings.Contains(r.body+r.payload, "10000000146") {
			t.Errorf("message %d holds the text in plain at rest: %+v", r.id, r)
		}
	}
	// The CLI reads what it sealed.
	stdout, _ := privacyOK(t, "privacy", "export", "--contact", "905321234567")
	if !strings.Contains(stdout, secret) {
		t.Errorf("export with the key: %.400s, want the message plain", stdout)
	}

	// Rotation with the same key seals what was plain.
	if stdout, _ := privacyOK(t, "privacy", "rotate"); stdout != "re-sealed 1 messages with key k1\n" {
		t.Errorf("rotate with k1 = %q, want the plain message sealed", stdout)
	}
	// A new key first: everything is sealed again under it, once.
	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", k2+","+k1)
	if stdout, _ := privacyOK(t, "privacy", "rotate"); stdout != "re-sealed 2 messages with key k2\n" {
		t.Errorf("rotate to k2 = %q, want 2 messages re-sealed", stdout)
	}
	for _, r := range rawRows(t, db) {
		if !sealedWith("k2", r) {
			t.Errorf("after the rotation message %d is %+v, want it sealed with k2", r.id, r)
		}
	}
	if stdout, _ := privacyOK(t, "privacy", "rotate", "--batch", "1"); stdout != "re-sealed 0 messages with key k2\n" {
		t.Errorf("second rotate = %q, want nothing left to re-seal", stdout)
	}
	// The old key may go; without the new one nothing opens, and the
	// failure names the key, not the content.
	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", k2)
	if stdout, _ := privacyOK(t, "privacy", "export", "--contact", "905321234567"); !strings.Contains(stdout, secret) {
		t.Errorf("export with k2 alone: %.400s, want the message plain", stdout)
	}
	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", k1)
	code, _, stderr := run(t, "privacy", "export", "--contact", "905321234567")
	if code == 0 || !strings.Contains(stderr, "k2") || strings.Contains(stderr, "10000000146") {
		t.Errorf("export without the key k2: exit %d, stderr %q; want a failure naming k2 without the content", code, stderr)
	}
	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", "")
	privacyFails(t, "privacy.encryption_keys is empty", "privacy", "rotate")
	t.Setenv("YANIT_PRIVACY_ENCRYPTION_KEYS", "k1:c2hvcnQ=")
	privacyFails(t, "privacy.encryption_keys", "privacy", "rotate")
}

// expire applies the demo assistant's retention (365 days) to the
// conversations on its number: what is older is cleared, the rest kept.
func TestPrivacyExpire(t *testing.T) {
	dir := privacyDataDir(t)
	ctx := context.Background()
	cfg, err := loadDevConfig(&globals{})
	if err != nil {
		t.Fatal(err)
	}
	number := cfg.WhatsApp.PhoneNumberID
	if number == "" || len(cfg.Assistants) != 0 {
		t.Fatalf("the dev config has the number %q and the assistants %+v; want the demo assistant on one number", number, cfg.Assistants)
	}
	st := openDataDir(t, dir)
	contact, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.OpenConversation(ctx, contact.ID, number)
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.OpenConversation(ctx, contact.ID, "200000000000002") // no assistant answers there
	if err != nil {
		t.Fatal(err)
	}
	old := privacyMessage(t, st, conv.ID, store.Inbound, "Geçen yılki siparişim 10000000146")
	recent := privacyMessage(t, st, conv.ID, store.Inbound, "Bu haftaki siparişim")
	elsewhere := privacyMessage(t, st, other.ID, store.Inbound, "Başka numaraya eski mesaj")
	oldTurn, err := st.InsertTurn(ctx, store.Turn{ConversationID: conv.ID, InboundIDs: []int64{old.ID}, Intent: "order_status",
		Decision: "answer", Trace: json.RawMessage(`{"slots":{"order_id":"SP-2025-0001"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	// The store dates what it writes now: the old records are made older
	// in the file, as 400 days will have made them.
	db := rawMessages(t, dir)
	longAgo := time.Now().AddDate(0, 0, -400).UnixMicro()
	for _, q := range []struct {
		table string
		id    int64
	}{{"messages", old.ID}, {"messages", elsewhere.ID}, {"turns", oldTurn.ID}} {
		if _, err := db.Exec(`UPDATE `+q.table+` SET created_at = ? WHERE id = ?`, longAgo, q.id); err != nil {
			t.Fatal(err)
		}
	}

	stdout, _ := privacyOK(t, "privacy", "expire")
	want := "assistant demo keeps 365 days on " + number + "\ncleared 1 messages, 1 turn traces, 0 tickets, 0 conversation states\n"
	if stdout != want {
		t.Errorf("expire printed %q, want %q", stdout, want)
	}
	if m, err := st.GetMessage(ctx, old.ID); err != nil || m.Body != "" || (len(m.Payload) != 0 && string(m.Payload) != "{}") {
		t.Errorf("the message of 400 days ago: %+v %v, want it kept without its content", m, err)
	}
	if m, err := st.GetMessage(ctx, recent.ID); err != nil || m.Body != recent.Body || !strings.Contains(string(m.Payload), "Bu haftaki") {
		t.Errorf("the message of today: %+v %v, want it whole", m, err)
	}
	if m, err := st.GetMessage(ctx, elsewhere.ID); err != nil || m.Body != elsewhere.Body {
		t.Errorf("the old message on a number without retention: %+v %v, want it whole", m, err)
	}
	if ts, err := st.ListTurns(ctx, conv.ID); err != nil || len(ts) != 1 || strings.Contains(string(ts[0].Trace), "SP-2025") || ts[0].Intent != "order_status" {
		t.Errorf("the old turn: %+v %v, want it kept without its trace", ts, err)
	}
	stdout, _ = privacyOK(t, "privacy", "audit", "--action", "retention.")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^\d+ +\S+ +system +retention\.expired +assistant:demo +.*"messages":1`).MatchString(lines[1]) {
		t.Errorf("audit --action retention.:\n%s\nwant one entry of the system clearing one message", stdout)
	}

	// Again: nothing is left to clear, and nothing is logged.
	if stdout, _ := privacyOK(t, "privacy", "expire"); !strings.HasSuffix(stdout, "cleared 0 messages, 0 turn traces, 0 tickets, 0 conversation states\n") {
		t.Errorf("second expire printed %q, want nothing cleared", stdout)
	}
	if stdout, _ := privacyOK(t, "privacy", "audit", "--action", "retention."); strings.Count(stdout, "\n") != 2 {
		t.Errorf("after a second expire the log holds:\n%s\nwant the first one's entry alone", stdout)
	}
}
