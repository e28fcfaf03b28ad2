package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// Options configure Run.
type Options struct {
	// Assistant builds the responder evaluated, on the run's store (where
	// it may index its knowledge). Required: cmd/yanit builds the
	// configured one exactly as yanit chat does.
	Assistant func(ctx context.Context, st store.Store) (assistant.Responder, error)
	// Concurrency is the number of cases run at once; 0 means the number
	// of CPUs, at most 8.
	Concurrency int
	// TurnTimeout bounds each turn; 0 means 30 seconds.
	TurnTimeout time.Duration
	// Provider names the model provider in the report (local, openai).
	Provider string
	// Prices, when set, estimate the cost of the model's tokens.
	Prices Prices
	// Seed is the training seed the assistant was built with (the
	// caller's to apply; Run records it in the report); 0: the
	// definition's own.
	Seed uint64
	// DatabaseURL, when set, runs the suite on PostgreSQL, in a schema of
	// its own dropped at the end, instead of on a new SQLite file.
	DatabaseURL string
	// Progress, when set, is called after each case, one call at a time.
	Progress func(done, total int, c CaseResult)
	Logger   *slog.Logger
}

// phoneNumberID is the business number the simulated users write to.
const phoneNumberID = "100000000000099"

// Run runs every case of the suite as a new user's conversation through
// the real turn pipeline (receiver, pipeline, outbox) on a new embedded
// SQLite store, checks each turn against its expectations and WhatsApp's
// limits, and measures the whole. It returns an error only when the run
// cannot start or ctx ends; a failing case is in the report.
func Run(ctx context.Context, s *Suite, o Options) (Report, error) {
	if o.Assistant == nil {
		return Report{}, errors.New("eval: Options.Assistant is required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = min(runtime.NumCPU(), 8)
	}
	if o.TurnTimeout <= 0 {
		o.TurnTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	started := time.Now()
	st, cleanup, err := openStore(ctx, o.DatabaseURL)
	if err != nil {
		return Report{}, fmt.Errorf("eval: %w", err)
	}
	defer cleanup()
	responder, err := o.Assistant(ctx, st)
	if err != nil {
		return Report{}, fmt.Errorf("eval: building the assistant of suite %s: %w", s.Name, err)
	}
	setup := time.Since(started)
	h := &harness{
		st:        st,
		receiver:  channel.NewReceiver(st, channel.ReceiverOptions{Logger: o.Logger}),
		pipeline:  assistant.NewPipeline(st, graph{}, responder, assistant.PipelineOptions{Logger: o.Logger}),
		responder: responder,
		log:       o.Logger,
		nonce:     started.UnixNano(),
		timeout:   o.TurnTimeout,
		suite:     s,
	}

	runs := make([]caseRun, len(s.Cases))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(o.Concurrency, len(s.Cases)) {
		wg.Go(func() {
			for i := range next {
				runs[i] = h.runCase(ctx, i)
				if o.Progress != nil {
					mu.Lock()
					done++
					o.Progress(done, len(s.Cases), runs[i].result)
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := range s.Cases {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("eval: suite %s: %w", s.Name, err)
	}

	r := Report{Suite: s.Name, File: s.Path, Provider: o.Provider, Started: started.UTC(),
		DurationMS: ms(time.Since(started)), SetupMS: ms(setup), Concurrency: o.Concurrency, Seed: o.Seed}
	if d, ok := responder.(interface{ Definition() *assistant.Definition }); ok {
		r.Assistant = d.Definition().Name
	}
	for _, c := range runs {
		r.Cases = append(r.Cases, c.result)
	}
	r.measure(runs)
	if r.Tokens != nil {
		r.CostUSD = r.Tokens.cost(o.Prices)
	}
	return r, nil
}

// harness drives conversations through the pipeline.
type harness struct {
	st        store.Store
	receiver  *channel.Receiver
	pipeline  *assistant.Pipeline
	responder assistant.Responder
	log       *slog.Logger
	nonce     int64
	timeout   time.Duration
	suite     *Suite
}

// caseRun is a case's result with what the metrics need of each turn.
type caseRun struct {
	result CaseResult
	turns  []turnRun
}

// turnRun pairs a turn's expectations with what happened.
type turnRun struct {
	expect *Expect
	obs    observation
	ran    bool
}

// observation is what a turn did, from the stored turn and outbox.
type observation struct {
	turn     store.Turn
	trace    assistant.Trace
	messages []whatsapp.Outbound
}

// option is a button or list row a message offered.
type option struct {
	title string
	kind  string // button_reply or list_reply
}

func (h *harness) runCase(ctx context.Context, i int) (run caseRun) {
	c := h.suite.Cases[i]
	start := time.Now()
	run.result = CaseResult{Name: c.Name, Passed: true}
	defer func() { run.result.DurationMS = ms(time.Since(start)) }()
	waID := fmt.Sprintf("9099%08d", i+1)
	lang := c.Language
	if lang == "" {
		lang = h.suite.Language
	}
	contact, err := h.st.UpsertContact(ctx, store.ContactUpsert{WaID: waID, Name: "eval " + c.Name, Locale: lang, Seen: time.Now()})
	if err != nil {
		run.result.Passed = false
		run.result.Error = "creating the user: " + err.Error()
		return run
	}
	pipeline := h.pipeline
	if len(c.Tools) > 0 {
		r, err := stubbed(h.responder, c.Tools)
		if err != nil {
			run.result.Passed = false
			run.result.Error = err.Error()
			return run
		}
		pipeline = assistant.NewPipeline(h.st, graph{}, r, assistant.PipelineOptions{Logger: h.log})
	}
	offered := map[string]option{}
	failed := -1
	for j := range c.Turns {
		t := &c.Turns[j]
		tr := TurnResult{Input: t.input()}
		if failed >= 0 {
			tr.Failures = []string{fmt.Sprintf("not run: turn %d failed to run", failed+1)}
			run.result.Turns = append(run.result.Turns, tr)
			run.result.Passed = false
			run.turns = append(run.turns, turnRun{expect: &t.Expect})
			continue
		}
		in, failures := h.inbound(i, j, waID, t, offered)
		if t.Tap != nil {
			tr.Input = fmt.Sprintf("[tap %s] %s", t.Tap.ID, in.Text)
		}
		obs, invalid, err := h.runTurn(ctx, pipeline, contact.ID, in)
		failures = append(failures, invalid...)
		if err != nil {
			failed = j
			failures = append(failures, "the turn failed: "+err.Error())
		} else {
			failures = append(failures, check(&t.Expect, obs)...)
			tr.fill(obs)
			for _, m := range obs.messages {
				for id, o := range optionsOf(m.Content) {
					offered[id] = o
				}
			}
		}
		tr.Failures = failures
		tr.Passed = len(failures) == 0
		run.result.Passed = run.result.Passed && tr.Passed
		run.result.Turns = append(run.result.Turns, tr)
		run.turns = append(run.turns, turnRun{expect: &t.Expect, obs: obs, ran: err == nil})
	}
	return run
}

// input is how a turn's message reads in reports.
func (t *Turn) input() string {
	if t.Tap != nil {
		return fmt.Sprintf("[tap %s] %s", t.Tap.ID, t.Tap.Title)
	}
	return t.Text
}

// inbound is the message of a turn as WhatsApp delivers it; a tap takes
// its kind and default title from the message that offered it, and is a
// failure when none did.
func (h *harness) inbound(ci, ti int, waID string, t *Turn, offered map[string]option) (whatsapp.Inbound, []string) {
	in := whatsapp.Inbound{
		PhoneNumberID: phoneNumberID, WaID: waID, ProfileName: "eval",
		WAMID: fmt.Sprintf("wamid.eval.%d.%d.%d", h.nonce, ci, ti), Timestamp: time.Now(),
		Type: whatsapp.TypeText, Text: t.Text, Raw: json.RawMessage(`{}`),
	}
	if t.Tap == nil {
		return in, nil
	}
	var failures []string
	o, ok := offered[t.Tap.ID]
	if !ok {
		failures = append(failures, fmt.Sprintf("tapped %q, which no earlier message offered", t.Tap.ID))
		o.kind = "button_reply"
	}
	title := t.Tap.Title
	if title == "" {
		title = o.title
	}
	in.Type, in.Subtype, in.Text, in.ReplyID = whatsapp.TypeInteractive, o.kind, title, t.Tap.ID
	return in, failures
}

// runTurn delivers one message through the receiver, runs its turn job
// and reads back what the turn stored and queued; failures are messages
// that break WhatsApp's limits; err means the turn did not run.
func (h *harness) runTurn(ctx context.Context, pipeline *assistant.Pipeline, contactID int64, in whatsapp.Inbound) (observation, []string, error) {
	var failures []string
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	if _, err := h.receiver.Accept(ctx, whatsapp.Batch{Messages: []whatsapp.Inbound{in}}); err != nil {
		return observation{}, failures, err
	}
	conv, msgID, err := h.find(ctx, contactID, in.WAMID)
	if err != nil {
		return observation{}, failures, err
	}
	payload, _ := json.Marshal(channel.TurnPayload{ConversationID: conv})
	job := jobs.Job{Kind: channel.KindTurn, Key: channel.TurnKey(conv), Payload: payload, Attempt: 1, MaxAttempts: 1}
	if err := pipeline.Handle(ctx, job); err != nil {
		return observation{}, failures, err
	}
	var obs observation
	turns, err := h.st.ListTurns(ctx, conv)
	if err != nil {
		return obs, failures, err
	}
	k := slices.IndexFunc(turns, func(t store.Turn) bool { return slices.Contains(t.InboundIDs, msgID) })
	if k < 0 {
		return obs, failures, errors.New("the pipeline stored no turn for the message")
	}
	obs.turn = turns[k]
	if len(obs.turn.Trace) > 0 {
		if err := json.Unmarshal(obs.turn.Trace, &obs.trace); err != nil {
			return obs, failures, fmt.Errorf("decoding the turn's trace: %w", err)
		}
	}
	msgs, err := h.st.ListMessages(ctx, conv)
	if err != nil {
		return obs, failures, err
	}
	for n, id := range obs.turn.OutboundIDs {
		m := msgs[slices.IndexFunc(msgs, func(m store.Message) bool { return m.ID == id })]
		var out whatsapp.Outbound
		if err := json.Unmarshal(m.Payload, &out); err != nil {
			failures = append(failures, fmt.Sprintf("message %d is not a valid Cloud API request: %v", n+1, err))
			continue
		}
		if err := out.Validate(); err != nil {
			failures = append(failures, fmt.Sprintf("message %d breaks a WhatsApp limit: %v", n+1, err))
		}
		obs.messages = append(obs.messages, out)
	}
	return obs, failures, nil
}

// find returns the conversation and id of the stored inbound message.
func (h *harness) find(ctx context.Context, contactID int64, wamid string) (conv, msg int64, err error) {
	convs, err := h.st.ListConversations(ctx, store.ConversationFilter{ContactID: contactID})
	if err != nil {
		return 0, 0, err
	}
	for _, c := range convs {
		msgs, err := h.st.ListMessages(ctx, c.ID)
		if err != nil {
			return 0, 0, err
		}
		for _, m := range msgs {
			if m.ChannelMessageID == wamid {
				return c.ID, m.ID, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("the receiver stored no message %s", wamid)
}

// optionsOf lists the buttons and rows a message offers, by id.
func optionsOf(c whatsapp.Content) map[string]option {
	out := map[string]option{}
	switch v := c.(type) {
	case *whatsapp.Buttons:
		for _, b := range v.Buttons {
			out[b.ID] = option{b.Title, "button_reply"}
		}
	case *whatsapp.List:
		for _, s := range v.Sections {
			for _, r := range s.Rows {
				out[r.ID] = option{r.Title, "list_reply"}
			}
		}
	}
	return out
}

// graph stands in for the Graph API: the pipeline only marks messages
// read; the outbox is read back from the store instead of sent.
type graph struct{}

func (graph) Send(context.Context, string, whatsapp.Outbound) (string, error) {
	return "", errors.New("eval: messages are read from the outbox, not sent")
}

func (graph) MarkRead(context.Context, string, string, bool) error { return nil }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
