package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// KindNotice is the job kind of the notices a waiting user gets: outside
// business hours, when a person will answer; within them, at a cadence,
// the place in the queue and the expected wait.
const KindNotice = "inbox_notice"

// DefaultMaxWaitNotices bounds the wait notices of one ticket.
const DefaultMaxWaitNotices = 3

// NoticeRules say when a waiting user hears from the queue.
type NoticeRules struct {
	// Hours are each team's business hours; a team without is Default's.
	Hours   map[string]Hours
	Default Hours
	// WaitEvery is the time between wait notices; 0 sends none.
	WaitEvery time.Duration
	// MaxWaitNotices bounds them per ticket; 0 means
	// DefaultMaxWaitNotices.
	MaxWaitNotices int
	// Assignment is how a waiting ticket finds an agent: AssignManual
	// (agents claim), AssignRoundRobin or AssignLeastLoaded among the
	// team's agents online.
	Assignment string
}

// The assignment policies.
const (
	AssignManual      = "manual"
	AssignRoundRobin  = "round_robin"
	AssignLeastLoaded = "least_loaded"
)

// PresenceWindow is how recently an agent must have been seen on a live
// inbox stream to be online.
const PresenceWindow = 45 * time.Second

// AssignRetry is how often a waiting ticket looks for an online agent.
const AssignRetry = 15 * time.Second

// The notices' texts by language; {next}, {position} and {minutes} are
// filled in.
var noticeTexts = map[string]map[string]string{
	"outside_hours": {
		"tr": "Ekibimiz şu an çalışma saatleri dışında. Talebiniz kaydedildi; bir temsilcimiz size {next} yazacak.",
		"en": "Our team is outside working hours now. Your request is saved; a person will write to you {next}.",
	},
	"wait": {
		"tr": "Sırada {position}. sıradasınız. Tahmini bekleme süresi yaklaşık {minutes} dakika. Bizi beklediğiniz için teşekkür ederiz.",
		"en": "You are number {position} in the queue. The expected wait is about {minutes} minutes. Thank you for waiting.",
	},
	"wait_unknown": {
		"tr": "Sırada {position}. sıradasınız; ilk uygun temsilcimiz size yazacak. Bizi beklediğiniz için teşekkür ederiz.",
		"en": "You are number {position} in the queue; the first free person will write to you. Thank you for waiting.",
	},
}

var weekdays = map[string][7]string{
	"tr": {"Pazar", "Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// noticePayload is a notice job's payload.
type noticePayload struct {
	TicketID int64 `json:"ticket_id"`
	// Sent counts the wait notices sent so far.
	Sent int `json:"sent"`
	// Outside is set once the outside-hours notice went out.
	Outside bool `json:"outside,omitempty"`
	// Last is when the last wait notice went out.
	Last time.Time `json:"last,omitzero"`
}

// Notices sends the notices of waiting users: the handler of KindNotice
// jobs, which Schedule enqueues when a ticket opens.
type Notices struct {
	st    store.Store
	bus   Bus
	rules NoticeRules
	log   *slog.Logger
	wake  func()
	now   func() time.Time
}

// NewNotices returns the notices of rules on st, publishing automatic
// assignments on bus; o's Logger, Wake (the runner's Notify, after a
// notice is queued) and Now are used.
func NewNotices(st store.Store, rules NoticeRules, bus Bus, o Options) *Notices {
	n := &Notices{st: st, bus: bus, rules: rules, log: o.Logger, wake: o.Wake, now: o.Now}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.wake == nil {
		n.wake = func() {}
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.rules.MaxWaitNotices == 0 {
		n.rules.MaxWaitNotices = DefaultMaxWaitNotices
	}
	if n.rules.Assignment == "" {
		n.rules.Assignment = AssignManual
	}
	return n
}

// Schedule enqueues, in tx, the first check of a ticket just opened: at
// once, so that a user outside business hours is told straight away.
func (n *Notices) Schedule(ctx context.Context, tx store.Queries, t store.Ticket) error {
	return n.enqueue(ctx, tx, noticePayload{TicketID: t.ID}, n.now())
}

func (n *Notices) enqueue(ctx context.Context, tx store.Queries, p noticePayload, at time.Time) error {
	b, _ := json.Marshal(p)
	_, err := tx.Enqueue(ctx, jobs.EnqueueParams{Kind: KindNotice, Key: "ticket:" + strconv.FormatInt(p.TicketID, 10), Payload: b, RunAt: at})
	return err
}

func (n *Notices) hours(team string) Hours {
	if h, ok := n.rules.Hours[team]; ok {
		return h
	}
	return n.rules.Default
}

// Handle checks a waiting ticket: it assigns it to an online agent when
// the rules say so and the team is in its hours, else tells the user what
// is due (outside hours when a person will answer, once; within them,
// their place and the expected wait, at the cadence, at most the maximum),
// and schedules the next check. A ticket taken or closed ends the checks.
func (n *Notices) Handle(ctx context.Context, j jobs.Job) error {
	var p noticePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.TicketID == 0 {
		return jobs.Cancel(fmt.Errorf("notice job %d names no ticket: %s", j.ID, j.Payload))
	}
	t, err := n.st.GetTicket(ctx, p.TicketID)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Cancel(err)
	}
	if err != nil {
		return err
	}
	if t.Status != store.TicketQueued {
		return nil
	}
	now := n.now()
	hours := n.hours(t.Team)
	open := hours.Open(now)
	if open && n.rules.Assignment != AssignManual {
		assigned, err := n.assign(ctx, t, now)
		if err != nil || assigned {
			return err
		}
	}
	lang := packLanguage(t.Pack)
	var text string
	var next []time.Time
	waitsFrom := t.CreatedAt
	if !p.Last.IsZero() {
		waitsFrom = p.Last
	}
	switch {
	case !open:
		opens, ok := hours.NextOpen(now)
		if !p.Outside {
			when := map[string]string{"tr": "en kısa sürede", "en": "as soon as possible"}[lang]
			if ok {
				when = describeTime(opens, now, lang)
			}
			text = strings.ReplaceAll(pick(noticeTexts["outside_hours"], lang), "{next}", when)
			p.Outside = true
		}
		if ok {
			next = append(next, opens)
		}
	case n.rules.WaitEvery > 0 && p.Sent < n.rules.MaxWaitNotices:
		if now.Sub(waitsFrom) >= n.rules.WaitEvery {
			if text, err = n.waitText(ctx, t, now, lang); err != nil {
				return err
			}
			p.Sent++
			p.Last = now
			waitsFrom = now
		}
		if p.Sent < n.rules.MaxWaitNotices {
			next = append(next, waitsFrom.Add(n.rules.WaitEvery))
		}
	}
	if open && n.rules.Assignment != AssignManual {
		next = append(next, now.Add(AssignRetry))
	}
	var at time.Time
	if len(next) > 0 {
		at = slices.MinFunc(next, time.Time.Compare)
	}
	return n.send(ctx, t, text, p, at)
}

// assign gives the ticket to an online agent of its team by the rules'
// policy; it reports false when none is online. A claim that loses to an
// agent's own claim is fine: the ticket is taken.
func (n *Notices) assign(ctx context.Context, t store.Ticket, now time.Time) (bool, error) {
	agents, err := n.st.OnlineAgents(ctx, t.Team, now.Add(-PresenceWindow))
	if err != nil || len(agents) == 0 {
		return false, err
	}
	pickAgent := func(a, b store.AgentLoad) int { return a.LastAssigned.Compare(b.LastAssigned) }
	if n.rules.Assignment == AssignLeastLoaded {
		pickAgent = func(a, b store.AgentLoad) int {
			if c := a.Open - b.Open; c != 0 {
				return c
			}
			return a.LastAssigned.Compare(b.LastAssigned)
		}
	}
	to := slices.MinFunc(agents, pickAgent)
	var got store.Ticket
	err = n.st.InTx(ctx, func(tx store.Queries) error {
		var err error
		if got, err = tx.ClaimTicket(ctx, t.ID, to.ID, now); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"assignee": to.Login, "policy": n.rules.Assignment})
		_, err = tx.AddTicketEvent(ctx, store.TicketEvent{TicketID: t.ID, Kind: KindTicketAssigned, Data: data})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	PublishTicket(ctx, n.bus, n.log, got, KindTicketAssigned, map[string]any{"assignee": to.Login, "policy": n.rules.Assignment}, now)
	return true, nil
}

// send queues text to the ticket's user, when there is a text and the
// window is open, and the next check at next, when set, in one transaction.
func (n *Notices) send(ctx context.Context, t store.Ticket, text string, p noticePayload, next time.Time) error {
	queued := false
	err := n.st.InTx(ctx, func(tx store.Queries) error {
		if text != "" {
			conv, err := tx.GetConversation(ctx, t.ConversationID)
			if err != nil {
				return err
			}
			contact, err := tx.GetContact(ctx, t.ContactID)
			if err != nil {
				return err
			}
			if !contact.LastInboundAt.IsZero() && n.now().Sub(contact.LastInboundAt) < Window {
				if _, err := channel.Queue(ctx, tx, conv, contact, []whatsapp.Outbound{{Content: &whatsapp.Text{Body: text}}}); err != nil {
					return err
				}
				queued = true
			}
		}
		if next.IsZero() {
			return nil
		}
		return n.enqueue(ctx, tx, p, next)
	})
	if err != nil {
		return fmt.Errorf("notice of ticket %d: %w", t.ID, err)
	}
	if queued {
		n.wake()
	}
	return nil
}

// waitText says the ticket's place in its team's queue and the expected
// wait: the median wait of the team's last tickets taken, less what the
// user waited already.
func (n *Notices) waitText(ctx context.Context, t store.Ticket, now time.Time, lang string) (string, error) {
	queue, err := n.st.ListTickets(ctx, store.TicketFilter{Statuses: []string{store.TicketQueued}, Teams: []string{t.Team}, Limit: 1000})
	if err != nil {
		return "", err
	}
	position := slices.IndexFunc(queue, func(q store.Ticket) bool { return q.ID == t.ID }) + 1
	if position == 0 {
		position = len(queue) + 1
	}
	recent, err := n.st.ListTickets(ctx, store.TicketFilter{Statuses: []string{store.TicketAssigned, store.TicketResolved, store.TicketReturned},
		Teams: []string{t.Team}, NewestFirst: true, Limit: 20})
	if err != nil {
		return "", err
	}
	var waits []time.Duration
	for _, r := range recent {
		if !r.AssignedAt.IsZero() {
			waits = append(waits, r.AssignedAt.Sub(r.CreatedAt))
		}
	}
	text := pick(noticeTexts["wait_unknown"], lang)
	if len(waits) > 0 {
		slices.Sort(waits)
		left := waits[len(waits)/2] - now.Sub(t.CreatedAt)
		text = strings.ReplaceAll(pick(noticeTexts["wait"], lang), "{minutes}", strconv.Itoa(max(1, int(left.Round(time.Minute).Minutes()))))
	}
	return strings.ReplaceAll(text, "{position}", strconv.Itoa(position)), nil
}

// describeTime says when opens is, seen from now, in the hours' zone:
// "tomorrow at 09:00", "on Monday at 09:00", or the date; in Turkish
// "ilk fırsatta (yarın 09:00)", which needs no suffix after the hour.
func describeTime(opens, now time.Time, lang string) string {
	now = now.In(opens.Location())
	y1, m1, d1 := now.Date()
	y2, m2, d2 := opens.Date()
	days := int(time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	clock := opens.Format("15:04")
	tr := lang == "tr"
	switch {
	case days == 0 && tr:
		return "ilk fırsatta (bugün " + clock + ")"
	case days == 0:
		return "today at " + clock
	case days == 1 && tr:
		return "ilk fırsatta (yarın " + clock + ")"
	case days == 1:
		return "tomorrow at " + clock
	case days < 7 && tr:
		return "ilk fırsatta (" + weekdays["tr"][opens.Weekday()] + " " + clock + ")"
	case days < 7:
		return "on " + weekdays["en"][opens.Weekday()] + " at " + clock
	case tr:
		return "ilk fırsatta (" + opens.Format("02.01.2006") + " " + clock + ")"
	}
	return "on " + opens.Format("2 January 2006") + " at " + clock
}

// packLanguage is the language of the context pack, "tr" when it has none.
func packLanguage(pack json.RawMessage) string {
	var p struct {
		Language string `json:"language"`
	}
	_ = json.Unmarshal(pack, &p)
	if p.Language == "" {
		return "tr"
	}
	return p.Language
}

// pick is the text in lang, else the Turkish one.
func pick(texts map[string]string, lang string) string {
	if s, ok := texts[lang]; ok {
		return s
	}
	return texts["tr"]
}
