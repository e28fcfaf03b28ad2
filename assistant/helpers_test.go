package assistant_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

// now is the demo's clock in tests: Tuesday 10 March 2026, 12:00 in
// Istanbul.
var now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var (
	demoOnce   sync.Once
	demoDef    *assistant.Definition
	demoMemory *knowledge.Memory
	demoErr    error
)

// demoParts loads the demo definition and its knowledge once per test
// binary; each engine gets fresh tools, so bookings never leak between
// tests.
func demoParts(t testing.TB) (*assistant.Definition, *knowledge.Memory) {
	t.Helper()
	demoOnce.Do(func() {
		if demoDef, demoErr = assistant.LoadDefinition(configs.DemoAssistant); demoErr != nil {
			return
		}
		demoMemory = knowledge.NewMemory(local.NewEmbedder(local.DefaultEmbeddingDim))
		_, demoErr = knowledge.LoadDir(context.Background(), demoMemory, configs.DemoKnowledge(), "demo")
	})
	if demoErr != nil {
		t.Fatalf("the demo does not load: %v", demoErr)
	}
	return demoDef, demoMemory
}

var (
	engineOnce sync.Once
	engine     *assistant.Engine
	engineErr  error
)

// demoEngine is the demo assistant with its tools and knowledge, trained
// once per test binary (the classifier is immutable; the demo tools keep
// bookings, so tests that book use newDemoEngine).
func demoEngine(t testing.TB) *assistant.Engine {
	t.Helper()
	def, mem := demoParts(t)
	engineOnce.Do(func() {
		deps := assistant.Deps{Tools: tools.NewRegistry(), Knowledge: mem, Now: clock}
		if engineErr = demo.Register(deps.Tools, demo.New(clock)); engineErr == nil {
			engine, engineErr = assistant.NewEngine(def, deps)
		}
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// buildDemo returns the demo engine with fresh demo tools (or deps.Tools),
// sharing the trained classifier of demoEngine.
func buildDemo(t testing.TB, deps assistant.Deps) (*assistant.Engine, error) {
	_, mem := demoParts(t)
	if deps.Tools == nil {
		deps.Tools = toolsOf(t)
	}
	if deps.Knowledge == nil {
		deps.Knowledge = mem
	}
	deps.Now = clock
	return demoEngine(t).With(deps)
}

// chat drives an engine the way the pipeline does, in memory: it keeps the
// conversation's state and mode between turns.
type chat struct {
	t       testing.TB
	r       assistant.Responder
	conv    store.Conversation
	contact store.Contact
	seq     int64
	log     []store.Message
	// consents are the contact's consent records, newest last, as the
	// pipeline would store them.
	consents []store.Consent
}

func newChat(t testing.TB, r assistant.Responder) *chat {
	return &chat{t: t, r: r,
		conv:    store.Conversation{ID: 1, PhoneNumberID: "1001", Mode: store.ModeBot, Status: store.ConversationOpen},
		contact: store.Contact{ID: 1, WaID: "905321234567", Name: "Ayşe"}}
}

// say sends a text and returns the reply.
func (c *chat) say(text string) assistant.Reply {
	return c.send(store.Message{Type: "text", Body: text})
}

// tap taps a button or list row by id.
func (c *chat) tap(id, title string) assistant.Reply {
	payload, _ := json.Marshal(map[string]string{"reply_id": id})
	return c.send(store.Message{Type: "interactive.button_reply", Body: title, Payload: payload})
}

func (c *chat) send(m store.Message) assistant.Reply {
	c.t.Helper()
	c.seq++
	m.ID, m.ConversationID, m.Direction, m.ChannelMessageID = c.seq, c.conv.ID, store.Inbound, "wamid.t"
	m.SentAt = now
	c.log = append(c.log, m)
	if c.conv.Mode == store.ModeHuman {
		return assistant.Reply{Decision: assistant.DecisionSilent}
	}
	in := assistant.Input{Conversation: c.conv, Contact: c.contact, Pending: []store.Message{m}, Consents: c.current(),
		Transcript: func(context.Context) ([]store.Message, error) { return c.log, nil }}
	rep, err := c.r.Respond(context.Background(), in)
	if err != nil {
		c.t.Fatalf("%q: %v", m.Body, err)
	}
	c.consents = append(c.consents, rep.Consents...)
	if rep.Withhold {
		// Nothing of a withheld turn is kept: no state, and the user's
		// message is cleared.
		c.log[len(c.log)-1].Body = ""
	} else if rep.State != nil {
		c.conv.State = rep.State
	}
	if rep.Handoff != nil {
		c.conv.Mode = store.ModeHuman
	}
	for _, o := range rep.Messages {
		c.seq++
		c.log = append(c.log, store.Message{ID: c.seq, Direction: store.Outbound, Type: "text", Body: whatsapp.Summary(o.Content)})
	}
	return rep
}

// current is the newest consent record of each purpose.
func (c *chat) current() []store.Consent {
	var out []store.Consent
	for i := len(c.consents) - 1; i >= 0; i-- {
		if !slices.ContainsFunc(out, func(k store.Consent) bool { return k.Purpose == c.consents[i].Purpose }) {
			out = append(out, c.consents[i])
		}
	}
	return out
}

func (c *chat) state() assistant.State { return assistant.ParseState(c.conv.State) }

// text is the body of every message of a reply, joined.
func text(r assistant.Reply) string {
	var s string
	for _, m := range r.Messages {
		switch c := m.Content.(type) {
		case *whatsapp.Text:
			s += c.Body + "\n"
		case *whatsapp.Buttons:
			s += c.Body + "\n"
		case *whatsapp.List:
			s += c.Body + "\n"
		}
	}
	return s
}

// buttons lists the ids of a reply's buttons or list rows.
func buttons(r assistant.Reply) []string {
	var ids []string
	for _, m := range r.Messages {
		switch c := m.Content.(type) {
		case *whatsapp.Buttons:
			for _, b := range c.Buttons {
				ids = append(ids, b.ID)
			}
		case *whatsapp.List:
			for _, s := range c.Sections {
				for _, row := range s.Rows {
					ids = append(ids, row.ID)
				}
			}
		}
	}
	return ids
}
