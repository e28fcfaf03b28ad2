package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

// testOutbox covers the batch forms of the outbox (store.Outbox) and
// MarkRecipientsQueued: what a campaign's sender and the status webhooks
// do to thousands of messages at once.
func testOutbox(t *testing.T, h Harness) {
	t.Run("OpenConversations", func(t *testing.T) { testOpenConversations(t, h) })
	t.Run("OpenConversationsRace", func(t *testing.T) { testOpenConversationsRace(t, h) })
	t.Run("InsertOutbound", func(t *testing.T) { testInsertOutbound(t, h) })
	t.Run("OutboxEntries", func(t *testing.T) { testOutboxEntries(t, h) })
	t.Run("RecordSends", func(t *testing.T) { testRecordSends(t, h) })
	t.Run("UpdateMessageStatuses", func(t *testing.T) { testUpdateMessageStatuses(t, h) })
	t.Run("MarkRecipientsQueued", func(t *testing.T) { testMarkRecipientsQueued(t, h) })
	t.Run("BatchLimits", func(t *testing.T) { testOutboxLimits(t, h) })
	t.Run("Campaign", func(t *testing.T) { testOutboxCampaign(t, h) })
}

// outboxMessage is a queued template message to the conversation.
func outboxMessage(conv int64, body string) store.Message {
	return store.Message{ConversationID: conv, Direction: store.Outbound, Type: "template", Body: body,
		Payload: json.RawMessage(fmt.Sprintf(`{"type":"template","template":{"name":"kampanya","body":%q}}`, body)),
		Status:  store.StatusQueued}
}

// sameConversation fails the test unless got is want as stored.
func sameConversation(t *testing.T, got, want store.Conversation) {
	t.Helper()
	if got.ID != want.ID || got.ContactID != want.ContactID || got.PhoneNumberID != want.PhoneNumberID ||
		got.Status != want.Status || got.Mode != want.Mode || !jsonEqual(got.State, want.State) ||
		!got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("conversation = %+v, want %+v", got, want)
	}
}

// openCount counts the open conversations of the contact on the number.
func openCount(t *testing.T, s store.Queries, contactID int64, phoneNumberID string) int {
	t.Helper()
	n := 0
	for _, cv := range must(s.ListConversations(ctx(t), store.ConversationFilter{ContactID: contactID, Status: store.ConversationOpen}))(t) {
		if cv.PhoneNumberID == phoneNumberID {
			n++
		}
	}
	return n
}

func testOpenConversations(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	people := campaignPeople(t, s, 5)
	id := func(i int) int64 { return people[i].ID }
	before := must(s.OpenConversation(c, id(0), "1001"))(t)

	// The open one is kept; the missing ones are made, open in bot mode
	// with the state {}; a contact given twice has one.
	convs := must(s.OpenConversations(c, "1001", []int64{id(1), id(0), id(2), id(1)}))(t)
	if len(convs) != 3 {
		t.Fatalf("OpenConversations returned %d conversations, want 3: %v", len(convs), convs)
	}
	sameConversation(t, convs[id(0)], before)
	for _, i := range []int{1, 2} {
		cv := convs[id(i)]
		if cv.ID == 0 || cv.ContactID != id(i) || cv.PhoneNumberID != "1001" || cv.Status != store.ConversationOpen ||
			cv.Mode != store.ModeBot || !jsonEqual(cv.State, json.RawMessage(`{}`)) {
			t.Errorf("new conversation of contact %d = %+v, want it open in bot mode with {}", i, cv)
		}
		sameConversation(t, must(s.GetConversation(c, cv.ID))(t), cv)
		// OpenConversation finds the same one.
		sameConversation(t, must(s.OpenConversation(c, id(i), "1001"))(t), cv)
	}
	// Asked again, nothing new is made.
	again := must(s.OpenConversations(c, "1001", []int64{id(0), id(1), id(2)}))(t)
	for _, i := range []int{0, 1, 2} {
		sameConversation(t, again[id(i)], convs[id(i)])
		if n := openCount(t, s, id(i), "1001"); n != 1 {
			t.Errorf("contact %d has %d open conversations on 1001, want 1", i, n)
		}
	}
	// Another number has conversations of its own; a closed one is
	// replaced by a new one.
	other := must(s.OpenConversations(c, "2002", []int64{id(0)}))(t)
	if cv := other[id(0)]; cv.ID == convs[id(0)].ID || cv.PhoneNumberID != "2002" {
		t.Errorf("conversation on 2002 = %+v, want one of its own", cv)
	}
	if err := s.CloseConversation(c, convs[id(1)].ID); err != nil {
		t.Fatal(err)
	}
	fresh := must(s.OpenConversations(c, "1001", []int64{id(1), id(2)}))(t)
	if cv := fresh[id(1)]; cv.ID == convs[id(1)].ID || cv.Status != store.ConversationOpen {
		t.Errorf("after closing, conversation of contact 1 = %+v, want a new open one", cv)
	}
	sameConversation(t, fresh[id(2)], convs[id(2)])

	// A missing contact is an error naming it, and nothing is made for
	// the others.
	_, err := s.OpenConversations(c, "1001", []int64{id(3), 424242, id(4)})
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "424242") {
		t.Errorf("opening conversations with a missing contact: %v, want ErrNotFound naming 424242", err)
	}
	for _, i := range []int{3, 4} {
		if n := openCount(t, s, id(i), "1001"); n != 0 {
			t.Errorf("after the failed call, contact %d has %d open conversations, want 0", i, n)
		}
	}

	// Inside a transaction they are the transaction's.
	var inTx map[int64]store.Conversation
	err = s.InTx(c, func(tx store.Queries) error {
		var err error
		inTx, err = tx.OpenConversations(c, "1001", []int64{id(3), id(0)})
		if err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) || len(inTx) != 2 {
		t.Fatalf("OpenConversations in a transaction: %v, %v", inTx, err)
	}
	if n := openCount(t, s, id(3), "1001"); n != 0 {
		t.Errorf("after a rollback, contact 3 has %d open conversations, want 0", n)
	}

	if got := must(s.OpenConversations(c, "1001", nil))(t); got == nil || len(got) != 0 {
		t.Errorf("OpenConversations of no contacts = %#v, want an empty map", got)
	}
}

// testOpenConversationsRace opens the conversations of the same contacts
// from several goroutines at once, in different orders, and with
// OpenConversation: each contact gets one.
func testOpenConversationsRace(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	people := campaignPeople(t, s, 40)
	ids := make([]int64, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)

	const racers = 4
	got := make([]map[int64]store.Conversation, racers)
	single := make([]store.Conversation, len(ids))
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() {
			order := ids
			if r%2 == 1 {
				order = reversed
			}
			var err error
			if got[r], err = s.OpenConversations(c, "1001", order); err != nil {
				t.Errorf("racer %d: %v", r, err)
			}
		})
	}
	wg.Go(func() {
		for i, id := range reversed[:10] {
			var err error
			if single[i], err = s.OpenConversation(c, id, "1001"); err != nil {
				t.Errorf("OpenConversation of contact %d: %v", id, err)
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, id := range ids {
		for r := 1; r < racers; r++ {
			if got[r][id].ID != got[0][id].ID || got[0][id].ID == 0 {
				t.Errorf("contact %d: racer %d got conversation %d, racer 0 %d", id, r, got[r][id].ID, got[0][id].ID)
			}
		}
		if n := openCount(t, s, id, "1001"); n != 1 {
			t.Errorf("contact %d has %d open conversations, want 1", id, n)
		}
	}
	for i, id := range reversed[:10] {
		if single[i].ID != got[0][id].ID {
			t.Errorf("contact %d: OpenConversation got %d, OpenConversations %d", id, single[i].ID, got[0][id].ID)
		}
	}
}

func testInsertOutbound(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	a := newConversation(t, s, "905550000101")
	b := newConversation(t, s, "905550000102")

	want := []store.Message{
		outboxMessage(a.ID, "Bahar indirimi başladı"),
		{ConversationID: b.ID, Direction: store.Outbound, Type: "image"}, // no payload, no status
		outboxMessage(b.ID, "Kargonuz yolda"),
		outboxMessage(a.ID, "İkinci mesaj"),
	}
	got := must(s.InsertOutbound(c, want))(t)
	if len(got) != len(want) {
		t.Fatalf("InsertOutbound returned %d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		w := want[i]
		payload := w.Payload
		if payload == nil {
			payload = json.RawMessage(`{}`)
		}
		if m.ID == 0 || i > 0 && m.ID <= got[i-1].ID {
			t.Errorf("message %d has ID %d, after %d: want IDs ascending in the order given", i, m.ID, got[max(i-1, 0)].ID)
		}
		if m.ConversationID != w.ConversationID || m.Direction != store.Outbound || m.Type != w.Type || m.Body != w.Body ||
			!jsonEqual(m.Payload, payload) || m.Status != store.StatusQueued || m.ChannelMessageID != "" ||
			!m.SentAt.IsZero() || m.CreatedAt.IsZero() {
			t.Errorf("message %d returned as %+v, want %+v queued with payload %s", i, m, w, payload)
		}
		stored := must(s.GetMessage(c, m.ID))(t)
		if stored.ConversationID != m.ConversationID || stored.Body != m.Body || !jsonEqual(stored.Payload, m.Payload) ||
			stored.Status != store.StatusQueued || stored.Direction != store.Outbound {
			t.Errorf("message %d stored as %+v, returned as %+v", i, stored, m)
		}
	}
	if inA := ids(must(s.ListMessages(c, a.ID))(t)); !slices.Equal(inA, []int64{got[0].ID, got[3].ID}) {
		t.Errorf("conversation a holds %v, want %v", inA, []int64{got[0].ID, got[3].ID})
	}

	// A bad message refuses the batch, and nothing of it is stored.
	count := func() int {
		return len(must(s.ListMessages(c, a.ID))(t)) + len(must(s.ListMessages(c, b.ID))(t))
	}
	stored := count()
	inbound := outboxMessage(a.ID, "x")
	inbound.Direction = store.Inbound
	withID := outboxMessage(a.ID, "x")
	withID.ChannelMessageID = "wamid.OUT"
	sent := outboxMessage(a.ID, "x")
	sent.Status = store.StatusSent
	for _, tc := range []struct {
		name string
		bad  store.Message
		says string
		is   error
	}{
		{"inbound", inbound, "direction", nil},
		{"with a channel id", withID, "wamid.OUT", nil},
		{"sent", sent, `status "sent"`, nil},
		{"missing conversation", outboxMessage(424242, "x"), "", store.ErrNotFound},
	} {
		_, err := s.InsertOutbound(c, []store.Message{outboxMessage(a.ID, "iyi"), tc.bad, outboxMessage(b.ID, "iyi")})
		if err == nil || !strings.Contains(err.Error(), tc.says) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want an error saying %q (%v)", tc.name, err, tc.says, tc.is)
		}
		if n := count(); n != stored {
			t.Errorf("%s: %d messages stored, want %d: the batch must store nothing", tc.name, n, stored)
		}
	}
	if got := must(s.InsertOutbound(c, nil))(t); len(got) != 0 {
		t.Errorf("InsertOutbound of no messages = %+v, want none", got)
	}
}

func testOutboxEntries(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ct := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000111", Name: "Elif", Locale: "tr",
		Tags: []string{"vip"}, Attributes: map[string]string{"city": "İzmir"}}))(t)
	conv := must(s.OpenConversation(c, ct.ID, "1001"))(t)
	other := newConversation(t, s, "905550000112")
	out := must(s.InsertOutbound(c, []store.Message{outboxMessage(conv.ID, "bir"), outboxMessage(other.ID, "iki"),
		outboxMessage(conv.ID, "üç")}))(t)
	in := must(s.InsertMessage(c, inbound(conv.ID, "wamid.IN", "merhaba", time.Now())))(t)

	// By message ID, whatever the order asked; inbound and missing ids
	// are left out, a repeated one comes once.
	es := must(s.OutboxEntries(c, []int64{out[2].ID, 424242, in.ID, out[0].ID, out[1].ID, out[2].ID}))(t)
	if len(es) != 3 {
		t.Fatalf("OutboxEntries returned %d entries, want 3: %+v", len(es), es)
	}
	for i, e := range es {
		m := must(s.GetMessage(c, out[i].ID))(t)
		if e.Message.ID != m.ID || e.Message.ConversationID != m.ConversationID || e.Message.Body != m.Body ||
			!jsonEqual(e.Message.Payload, m.Payload) || e.Message.Status != m.Status || e.Message.Direction != store.Outbound ||
			e.Message.Type != m.Type || !e.Message.CreatedAt.Equal(m.CreatedAt) {
			t.Errorf("entry %d message = %+v, want %+v", i, e.Message, m)
		}
		if e.PhoneNumberID != "1001" {
			t.Errorf("entry %d number %q, want 1001", i, e.PhoneNumberID)
		}
	}
	if got := es[0].Contact; got.ID != ct.ID || got.WaID != ct.WaID || got.Name != "Elif" || got.Locale != "tr" ||
		!slices.Equal(got.Tags, []string{"vip"}) || got.Attributes["city"] != "İzmir" {
		t.Errorf("entry 0 contact = %+v, want %+v", got, ct)
	}
	if es[1].Contact.ID != other.ContactID || es[2].Contact.ID != ct.ID {
		t.Errorf("entries' contacts %d and %d, want %d and %d", es[1].Contact.ID, es[2].Contact.ID, other.ContactID, ct.ID)
	}
	if es := must(s.OutboxEntries(c, []int64{in.ID, 424242}))(t); len(es) != 0 {
		t.Errorf("OutboxEntries of no outbound message = %+v, want none", es)
	}
	if es := must(s.OutboxEntries(c, nil))(t); len(es) != 0 {
		t.Errorf("OutboxEntries of no ids = %+v, want none", es)
	}
}

func testRecordSends(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000121")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	queue := func(n int) []store.Message {
		t.Helper()
		ms := make([]store.Message, n)
		for i := range ms {
			ms[i] = outboxMessage(conv.ID, fmt.Sprintf("mesaj %d", i))
		}
		return must(s.InsertOutbound(c, ms))(t)
	}
	get := func(id int64) store.Message {
		t.Helper()
		return must(s.GetMessage(c, id))(t)
	}
	m := queue(7)
	// A message recorded before, one recorded under another wamid, one a
	// status webhook made delivered first, an inbound one, and an inbound
	// wamid.
	if err := s.RecordSend(c, m[2].ID, "wamid.R2", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSend(c, m[3].ID, "wamid.R3", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	delivered := must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound,
		Type: "template", Status: store.StatusDelivered}))(t)
	in := must(s.InsertMessage(c, inbound(conv.ID, "wamid.IN", "merhaba", t0)))(t)

	sends := []store.Send{
		{MessageID: m[0].ID, ChannelMessageID: "wamid.R0", At: t0},                     // recorded
		{MessageID: m[1].ID, ChannelMessageID: "wamid.R1"},                             // recorded, at now
		{MessageID: m[2].ID, ChannelMessageID: "wamid.R2", At: t0},                     // a repeat: no-op
		{MessageID: m[3].ID, ChannelMessageID: "wamid.OTHER", At: t0},                  // another wamid: conflict
		{MessageID: m[4].ID, ChannelMessageID: "wamid.R0", At: t0},                     // the wamid of send 0: conflict
		{MessageID: 424242, ChannelMessageID: "wamid.MISSING", At: t0},                 // not found
		{MessageID: in.ID, ChannelMessageID: "wamid.NEW", At: t0},                      // inbound: not found
		{MessageID: delivered.ID, ChannelMessageID: "wamid.D", At: t0},                 // recorded, stays delivered
		{MessageID: m[5].ID, ChannelMessageID: "", At: t0},                             // empty: an error
		{MessageID: m[6].ID, ChannelMessageID: "wamid.IN", At: t0},                     // an inbound message's: conflict
		{MessageID: m[0].ID, ChannelMessageID: "wamid.R0", At: t0.Add(time.Minute)},    // send 0 again: no-op
		{MessageID: m[1].ID, ChannelMessageID: "wamid.AGAIN", At: t0.Add(time.Minute)}, // send 1's message again: conflict
	}
	const (
		ok = iota
		conflict
		notFound
		other
	)
	want := []int{ok, ok, ok, conflict, conflict, notFound, notFound, ok, other, conflict, ok, conflict}
	check := func(name string, errs []error, want []int) {
		t.Helper()
		if len(errs) != len(want) {
			t.Fatalf("%s: %d errors for %d sends", name, len(errs), len(want))
		}
		for i, err := range errs {
			var good bool
			switch want[i] {
			case ok:
				good = err == nil
			case conflict:
				good = errors.Is(err, store.ErrConflict)
			case notFound:
				good = errors.Is(err, store.ErrNotFound)
			case other:
				good = err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound)
			}
			if !good {
				t.Errorf("%s: send %d (message %d as %q): %v, want %s", name, i, sends[i].MessageID, sends[i].ChannelMessageID,
					err, []string{"nil", "ErrConflict", "ErrNotFound", "another error"}[want[i]])
			}
		}
	}
	before := time.Now().Add(-time.Minute)
	check("first batch", must(s.RecordSends(c, sends))(t), want)

	for _, tc := range []struct {
		id            int64
		wamid, status string
		at            time.Time
	}{
		{m[0].ID, "wamid.R0", store.StatusSent, t0},
		{m[2].ID, "wamid.R2", store.StatusSent, t0.Add(-time.Hour)},
		{m[3].ID, "wamid.R3", store.StatusSent, t0.Add(-time.Hour)},
		{m[4].ID, "", store.StatusQueued, time.Time{}},
		{delivered.ID, "wamid.D", store.StatusDelivered, t0},
		{m[5].ID, "", store.StatusQueued, time.Time{}},
		{m[6].ID, "", store.StatusQueued, time.Time{}},
		{in.ID, "wamid.IN", store.StatusReceived, t0},
	} {
		if got := get(tc.id); got.ChannelMessageID != tc.wamid || got.Status != tc.status || !got.SentAt.Equal(tc.at) {
			t.Errorf("message %d after RecordSends = %q %s sent at %v, want %q %s at %v", tc.id, got.ChannelMessageID,
				got.Status, got.SentAt, tc.wamid, tc.status, tc.at)
		}
	}
	if got := get(m[1].ID); got.ChannelMessageID != "wamid.R1" || got.Status != store.StatusSent || got.SentAt.Before(before) {
		t.Errorf("message sent at zero time = %+v, want wamid.R1, sent now", got)
	}
	// Status webhooks find the recorded messages by their wamids.
	if changed, err := s.UpdateMessageStatus(c, "wamid.R0", store.StatusDelivered, 0, ""); err != nil || !changed {
		t.Errorf("delivered status for a wamid RecordSends recorded: %v, %v", changed, err)
	}

	// The same batch again, as a retried job sends it: the recorded sends
	// are no-ops, and change nothing.
	check("the batch again", must(s.RecordSends(c, sends))(t), want)
	if got := get(m[0].ID); got.Status != store.StatusDelivered || !got.SentAt.Equal(t0) {
		t.Errorf("after the batch again, message 0 = %+v, want delivered, sent at %v", got, t0)
	}

	// A wamid whose first send failed is free for a later one of the
	// batch; a message whose first send failed for its wamid takes its
	// next one.
	more := queue(2)
	sends = []store.Send{
		{MessageID: 424242, ChannelMessageID: "wamid.Q", At: t0},
		{MessageID: more[0].ID, ChannelMessageID: "wamid.Q", At: t0},
		{MessageID: more[1].ID, ChannelMessageID: "wamid.IN", At: t0},
		{MessageID: more[1].ID, ChannelMessageID: "wamid.Q2", At: t0},
	}
	check("freed wamids", must(s.RecordSends(c, sends))(t), []int{notFound, ok, conflict, ok})
	if a, b := get(more[0].ID), get(more[1].ID); a.ChannelMessageID != "wamid.Q" || b.ChannelMessageID != "wamid.Q2" {
		t.Errorf("messages recorded as %q and %q, want wamid.Q and wamid.Q2", a.ChannelMessageID, b.ChannelMessageID)
	}

	// Inside a transaction, a batch with conflicts leaves the transaction
	// usable, and lands with it.
	last := queue(2)
	err := s.InTx(c, func(tx store.Queries) error {
		sends = []store.Send{{MessageID: last[0].ID, ChannelMessageID: "wamid.T0", At: t0},
			{MessageID: last[1].ID, ChannelMessageID: "wamid.R0", At: t0}}
		errs, err := tx.RecordSends(c, sends)
		if err != nil {
			return err
		}
		check("in a transaction", errs, []int{ok, conflict})
		_, err = tx.InsertMessage(c, outboxMessage(conv.ID, "sonra"))
		return err
	})
	if err != nil {
		t.Fatalf("RecordSends in a transaction: %v", err)
	}
	if got := get(last[0].ID); got.ChannelMessageID != "wamid.T0" {
		t.Errorf("after the transaction, message = %+v, want wamid.T0", got)
	}
	if errs := must(s.RecordSends(c, nil))(t); len(errs) != 0 {
		t.Errorf("RecordSends of no sends = %v, want none", errs)
	}
}

func testUpdateMessageStatuses(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000131")
	for i := 1; i <= 6; i++ {
		must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound,
			ChannelMessageID: fmt.Sprintf("wamid.U%d", i), Type: "template", Status: store.StatusSent}))(t)
	}
	if _, err := s.UpdateMessageStatus(c, "wamid.U3", store.StatusRead, 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMessageStatus(c, "wamid.U4", store.StatusFailed, 131047, "Re-engagement message"); err != nil {
		t.Fatal(err)
	}

	st := func(wamid, status string) store.StatusUpdate {
		return store.StatusUpdate{ChannelMessageID: wamid, Status: status}
	}
	failed := store.StatusUpdate{ChannelMessageID: "wamid.U5", Status: store.StatusFailed, ErrorCode: 131026,
		ErrorText: "Message undeliverable"}
	us := []store.StatusUpdate{
		st("wamid.U1", store.StatusDelivered), // U1 ends read: stale
		st("wamid.U2", store.StatusDelivered), // U2's first delivered: applied
		st("wamid.U1", store.StatusRead),      // applied
		st("wamid.U3", store.StatusDelivered), // U3 is read: stale
		st("wamid.NOPE", store.StatusRead),    // unknown
		st("wamid.U2", store.StatusDelivered), // the same rank again: stale
		st("wamid.U4", store.StatusRead),      // U4 failed, for good: stale
		st("wamid.U5", store.StatusRead),      // U5 ends failed: stale
		failed,                                // applied, with its error
		st("wamid.U1", store.StatusSent),      // stale
		st("", store.StatusRead),              // no channel id: unknown
		st("wamid.U6", "played"),              // not a status: stale
	}
	want := []store.StatusOutcome{store.StatusStale, store.StatusApplied, store.StatusApplied, store.StatusStale,
		store.StatusUnknown, store.StatusStale, store.StatusStale, store.StatusStale, store.StatusApplied,
		store.StatusStale, store.StatusUnknown, store.StatusStale}
	got := must(s.UpdateMessageStatuses(c, us))(t)
	if !slices.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	status := map[string]store.Message{}
	for _, m := range must(s.ListMessages(c, conv.ID))(t) {
		status[m.ChannelMessageID] = m
	}
	for wamid, want := range map[string]string{"wamid.U1": store.StatusRead, "wamid.U2": store.StatusDelivered,
		"wamid.U3": store.StatusRead, "wamid.U4": store.StatusFailed, "wamid.U5": store.StatusFailed, "wamid.U6": store.StatusSent} {
		if got := status[wamid].Status; got != want {
			t.Errorf("%s is %s, want %s", wamid, got, want)
		}
	}
	if m := status["wamid.U5"]; m.ErrorCode != 131026 || m.ErrorText != "Message undeliverable" {
		t.Errorf("failed message has error %d %q, want 131026 %q", m.ErrorCode, m.ErrorText, "Message undeliverable")
	}
	if m := status["wamid.U4"]; m.ErrorCode != 131047 || m.ErrorText != "Re-engagement message" {
		t.Errorf("the message failed before has error %d %q, want its first", m.ErrorCode, m.ErrorText)
	}

	// The same webhook again changes nothing.
	again := must(s.UpdateMessageStatuses(c, us))(t)
	for i, o := range again {
		if w := map[bool]store.StatusOutcome{true: store.StatusUnknown, false: store.StatusStale}[want[i] == store.StatusUnknown]; o != w {
			t.Errorf("again, status %d: %v, want %v", i, o, w)
		}
	}
	// Each status reaches the single form's end, and its outcome matches.
	for _, u := range []store.StatusUpdate{st("wamid.U2", store.StatusRead), st("wamid.U6", store.StatusDelivered)} {
		if got := must(s.UpdateMessageStatuses(c, []store.StatusUpdate{u}))(t); !slices.Equal(got, []store.StatusOutcome{store.StatusApplied}) {
			t.Errorf("%s → %s alone: %v, want applied", u.ChannelMessageID, u.Status, got)
		}
		if changed, err := s.UpdateMessageStatus(c, u.ChannelMessageID, u.Status, 0, ""); err != nil || changed {
			t.Errorf("UpdateMessageStatus after it: %v, %v; want unchanged", changed, err)
		}
	}
	if got := must(s.UpdateMessageStatuses(c, nil))(t); len(got) != 0 {
		t.Errorf("UpdateMessageStatuses of none = %v", got)
	}
	for o, name := range map[store.StatusOutcome]string{store.StatusApplied: "applied", store.StatusStale: "stale", store.StatusUnknown: "unknown"} {
		if o.String() != name {
			t.Errorf("outcome %d is called %q, want %q", o, o, name)
		}
	}
}

func testMarkRecipientsQueued(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	people := campaignPeople(t, s, 5)
	id := func(i int) int64 { return people[i].ID }
	k := must(s.CreateCampaign(c, newCampaign("toplu")))(t)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignDraft, store.CampaignRunning, time.Now(), store.CampaignMove{}))(t)
	rs := []store.CampaignRecipient{
		{ContactID: id(0), Status: store.RecipientPending}, {ContactID: id(1), Status: store.RecipientPending},
		{ContactID: id(2), Status: store.RecipientPending}, {ContactID: id(3), Status: store.RecipientSkipped, SkipReason: store.SkipOptedOut},
	}
	must(s.AddCampaignRecipients(c, k.ID, rs, id(3), true))(t)
	convs := must(s.OpenConversations(c, "1001", []int64{id(0), id(1), id(2), id(3), id(4)}))(t)
	msg := map[int]int64{}
	for i := range 5 {
		msg[i] = must(s.InsertOutbound(c, []store.Message{outboxMessage(convs[id(i)].ID, "kampanya")}))(t)[0].ID
	}
	rm := func(i int) store.RecipientMessage { return store.RecipientMessage{ContactID: id(i), MessageID: msg[i]} }
	at := time.Date(2026, 5, 2, 9, 30, 0, 0, time.UTC)
	statuses := func() string {
		t.Helper()
		var out []string
		for _, r := range must(s.ListCampaignRecipients(c, k.ID, 0, 10))(t) {
			out = append(out, fmt.Sprintf("%s/%s", r.Status, r.MessageStatus))
		}
		return strings.Join(out, " ")
	}
	const untouched = "pending/ pending/ pending/ skipped/"
	for _, tc := range []struct {
		name string
		rs   []store.RecipientMessage
		is   error
		says string
	}{
		{"a skipped one", []store.RecipientMessage{rm(0), rm(1), rm(3)}, store.ErrConflict, fmt.Sprintf("contact %d", id(3))},
		{"one not a recipient", []store.RecipientMessage{rm(0), rm(4), rm(1)}, store.ErrNotFound, fmt.Sprintf("contact %d", id(4))},
		{"a missing contact", []store.RecipientMessage{{ContactID: 424242, MessageID: msg[4]}, rm(0)}, store.ErrNotFound, "424242"},
		{"a missing message", []store.RecipientMessage{rm(0), {ContactID: id(1), MessageID: 424242}}, store.ErrNotFound, ""},
		{"a contact twice", []store.RecipientMessage{rm(0), {ContactID: id(0), MessageID: msg[1]}}, nil, "repeats"},
		{"a message twice", []store.RecipientMessage{rm(0), {ContactID: id(1), MessageID: msg[0]}}, nil, "repeats"},
	} {
		err := s.MarkRecipientsQueued(c, k.ID, tc.rs, at)
		if err == nil || tc.is != nil && !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.is, tc.says)
		}
		if got := statuses(); got != untouched {
			t.Errorf("%s: recipients are %s, want them untouched: %s", tc.name, got, untouched)
		}
	}

	if err := s.MarkRecipientsQueued(c, k.ID, []store.RecipientMessage{rm(1), rm(0)}, at); err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(), "queued/queued queued/queued pending/ skipped/"; got != want {
		t.Errorf("recipients are %s, want %s", got, want)
	}
	got := must(s.ListCampaignRecipients(c, k.ID, 0, 2))(t)
	for i, r := range got {
		if r.MessageID != msg[i] || !r.QueuedAt.Equal(at) {
			t.Errorf("recipient %d = %+v, want message %d queued at %v", i, r, msg[i], at)
		}
	}
	// Queued already: the batch is refused whole, naming the contact.
	err := s.MarkRecipientsQueued(c, k.ID, []store.RecipientMessage{rm(2), {ContactID: id(0), MessageID: msg[4]}}, at)
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), fmt.Sprintf("contact %d", id(0))) ||
		!strings.Contains(err.Error(), "queued") {
		t.Errorf("queueing a queued recipient: %v, want ErrConflict naming contact %d, queued", err, id(0))
	}
	if got, want := statuses(), "queued/queued queued/queued pending/ skipped/"; got != want {
		t.Errorf("after the refused batch, recipients are %s, want %s", got, want)
	}
	// One message is one recipient's.
	if err := s.MarkRecipientsQueued(c, k.ID, []store.RecipientMessage{{ContactID: id(2), MessageID: msg[0]}}, at); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a message of another recipient: %v, want ErrConflict", err)
	}
	if err := s.MarkRecipientsQueued(c, 424242, []store.RecipientMessage{rm(2)}, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("recipients of a missing campaign: %v, want ErrNotFound", err)
	}
	if err := s.MarkRecipientsQueued(c, k.ID, nil, at); err != nil {
		t.Errorf("queueing no recipients: %v", err)
	}
	// Inside a transaction, they land with it or not at all.
	err = s.InTx(c, func(tx store.Queries) error {
		if err := tx.MarkRecipientsQueued(c, k.ID, []store.RecipientMessage{rm(2)}, at); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if got, want := statuses(), "queued/queued queued/queued pending/ skipped/"; got != want {
		t.Errorf("after a rollback, recipients are %s, want %s", got, want)
	}
	if st := must(s.CampaignStats(c, k.ID))(t); st.Queued != 2 || st.Pending != 1 || st.Skipped != 1 {
		t.Errorf("stats = %+v, want 2 queued, 1 pending, 1 skipped", st)
	}
}

// testOutboxLimits checks that each batch form takes MaxOutboxBatch items
// and refuses one more, naming the count.
func testOutboxLimits(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000141")
	const n = store.MaxOutboxBatch
	many := func(k int) []int64 {
		out := make([]int64, k)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	ms := make([]store.Message, n+1)
	sends := make([]store.Send, n+1)
	us := make([]store.StatusUpdate, n+1)
	rs := make([]store.RecipientMessage, n+1)
	for i := range n + 1 {
		ms[i] = outboxMessage(conv.ID, fmt.Sprintf("mesaj %d", i))
		sends[i] = store.Send{MessageID: int64(i + 1), ChannelMessageID: fmt.Sprintf("wamid.L%d", i)}
		us[i] = store.StatusUpdate{ChannelMessageID: fmt.Sprintf("wamid.L%d", i), Status: store.StatusDelivered}
		rs[i] = store.RecipientMessage{ContactID: int64(i + 1), MessageID: int64(i + 1)}
	}
	k := must(s.CreateCampaign(c, newCampaign("sınır")))(t)
	tooMany := fmt.Sprint(n + 1)
	for name, call := range map[string]func() error{
		"OpenConversations":     func() error { _, err := s.OpenConversations(c, "1001", many(n+1)); return err },
		"InsertOutbound":        func() error { _, err := s.InsertOutbound(c, ms); return err },
		"OutboxEntries":         func() error { _, err := s.OutboxEntries(c, many(n+1)); return err },
		"RecordSends":           func() error { _, err := s.RecordSends(c, sends); return err },
		"UpdateMessageStatuses": func() error { _, err := s.UpdateMessageStatuses(c, us); return err },
		"MarkRecipientsQueued":  func() error { return s.MarkRecipientsQueued(c, k.ID, rs, time.Now()) },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), tooMany) {
			t.Errorf("%s of %d items: %v, want an error naming %s", name, n+1, err, tooMany)
		}
	}
	if got := must(s.ListMessages(c, conv.ID))(t); len(got) != 0 {
		t.Fatalf("the refused batches stored %d messages", len(got))
	}

	// A full batch passes.
	stored := must(s.InsertOutbound(c, ms[:n]))(t)
	if len(stored) != n || stored[n-1].Body != ms[n-1].Body {
		t.Fatalf("a full batch stored %d messages", len(stored))
	}
	for i := range n {
		sends[i].MessageID = stored[i].ID
	}
	es := must(s.OutboxEntries(c, ids(stored)))(t)
	if len(es) != n {
		t.Fatalf("OutboxEntries of a full batch: %d entries", len(es))
	}
	errs := must(s.RecordSends(c, sends[:n]))(t)
	if i := slices.IndexFunc(errs, func(err error) bool { return err != nil }); i >= 0 || len(errs) != n {
		t.Fatalf("RecordSends of a full batch: %d errors, send %d: %v", len(errs), i, errs[max(i, 0)])
	}
	outcomes := must(s.UpdateMessageStatuses(c, us[:n]))(t)
	if i := slices.IndexFunc(outcomes, func(o store.StatusOutcome) bool { return o != store.StatusApplied }); i >= 0 || len(outcomes) != n {
		t.Fatalf("UpdateMessageStatuses of a full batch: %d outcomes, status %d %v", len(outcomes), i, outcomes[max(i, 0)])
	}
}

// testOutboxCampaign runs a campaign's batch the way the sender does, on
// many contacts: conversations opened, messages queued, recipients marked,
// sends recorded, status webhooks applied; the stats count them.
func testOutboxCampaign(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	const n = 120
	us := make([]store.ContactUpsert, n)
	for i := range us {
		us[i] = store.ContactUpsert{WaID: fmt.Sprintf("9053300%05d", i), Name: fmt.Sprintf("Kişi %d", i)}
	}
	people := must(s.UpsertContactsByWaID(c, us))(t)
	k := must(s.CreateCampaign(c, newCampaign("toplu gönderim")))(t)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignDraft, store.CampaignRunning, time.Now(), store.CampaignMove{}))(t)
	rs := make([]store.CampaignRecipient, n)
	for i, p := range people {
		rs[i] = store.CampaignRecipient{ContactID: p.ID, Status: store.RecipientPending}
	}
	must(s.AddCampaignRecipients(c, k.ID, rs, people[n-1].ID, true))(t)
	pending := must(s.PendingRecipients(c, k.ID, 0, n))(t)

	now := time.Now().UTC().Truncate(time.Microsecond)
	var stored []store.Message
	err := s.InTx(c, func(tx store.Queries) error {
		contacts := make([]int64, len(pending))
		for i, r := range pending {
			contacts[i] = r.ContactID
		}
		convs, err := tx.OpenConversations(c, k.PhoneNumberID, contacts)
		if err != nil {
			return err
		}
		ms := make([]store.Message, len(pending))
		for i, r := range pending {
			ms[i] = outboxMessage(convs[r.ContactID].ID, "Merhaba "+r.Contact.Name)
		}
		if stored, err = tx.InsertOutbound(c, ms); err != nil {
			return err
		}
		queued := make([]store.RecipientMessage, len(stored))
		for i, m := range stored {
			queued[i] = store.RecipientMessage{ContactID: pending[i].ContactID, MessageID: m.ID}
		}
		return tx.MarkRecipientsQueued(c, k.ID, queued, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	es := must(s.OutboxEntries(c, ids(stored)))(t)
	for i, e := range es {
		if e.Contact.ID != pending[i].ContactID || e.Message.Body != "Merhaba "+pending[i].Contact.Name || e.PhoneNumberID != k.PhoneNumberID {
			t.Fatalf("entry %d = %+v, want the message of contact %d", i, e, pending[i].ContactID)
		}
	}
	sends := make([]store.Send, len(es))
	for i, e := range es {
		sends[i] = store.Send{MessageID: e.Message.ID, ChannelMessageID: fmt.Sprintf("wamid.C%d", i), At: now}
	}
	for i, err := range must(s.RecordSends(c, sends))(t) {
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// One webhook: everyone delivered, the first fifty read too, ten
	// failed, and a status of another system's message.
	var webhook []store.StatusUpdate
	for i := range n {
		webhook = append(webhook, store.StatusUpdate{ChannelMessageID: sends[i].ChannelMessageID, Status: store.StatusDelivered})
		switch {
		case i < 50:
			webhook = append(webhook, store.StatusUpdate{ChannelMessageID: sends[i].ChannelMessageID, Status: store.StatusRead})
		case i >= n-10:
			webhook = append(webhook, store.StatusUpdate{ChannelMessageID: sends[i].ChannelMessageID, Status: store.StatusFailed,
				ErrorCode: 131049, ErrorText: "healthy ecosystem"})
		}
	}
	webhook = append(webhook, store.StatusUpdate{ChannelMessageID: "wamid.ELSEWHERE", Status: store.StatusRead})
	counts := map[store.StatusOutcome]int{}
	for start := 0; start < len(webhook); start += store.MaxOutboxBatch {
		for _, o := range must(s.UpdateMessageStatuses(c, webhook[start:min(start+store.MaxOutboxBatch, len(webhook))]))(t) {
			counts[o]++
		}
	}
	wantCounts := map[store.StatusOutcome]int{store.StatusApplied: n, store.StatusStale: 60, store.StatusUnknown: 1}
	if !maps.Equal(counts, wantCounts) {
		t.Errorf("outcomes %v, want %v", counts, wantCounts)
	}
	st := must(s.CampaignStats(c, k.ID))(t)
	if st.Queued != n || st.Pending != 0 || st.Sent != n-10 || st.Delivered != n-10 || st.Read != 50 ||
		st.Failed != 10 || st.FailedBy[131049] != 10 {
		t.Errorf("stats = %+v, want %d queued, %d sent and delivered, 50 read, 10 failed with 131049", st, n, n-10)
	}
}
