package demo

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yanit/yanit/tools"
)

// istanbul is Turkey's time, UTC+3 all year since 2016; a fixed zone needs
// no tzdata on the host.
var istanbul = time.FixedZone("TRT", 3*60*60)

// dateLayout is how every date of the demo is written: YYYY-MM-DD.
const dateLayout = "2006-01-02"

// Store holds Yanıt Market's orders, loyalty cards and appointments.
type Store struct {
	now    func() time.Time
	orders map[string]Order
	cards  map[string]card

	mu           sync.Mutex
	appointments map[string]*Appointment
	nextID       int // number of the next appointment, RDV-<nextID>
}

// New returns a store seeded with the demo data, its dates relative to
// now() in Turkish time; nil now means time.Now. Tests pass a fixed clock.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now}
	today := s.today()
	s.orders = seedOrders(today)
	s.cards = seedCards()
	s.appointments = seedAppointments(today)
	s.nextID = 1001 + len(s.appointments)
	return s
}

// Tools returns the store's tools: order_status, card_balance,
// book_appointment and cancel_appointment.
func (s *Store) Tools() []tools.Tool {
	return []tools.Tool{
		&orderStatus{s: s},
		&cardBalance{s: s},
		&bookAppointment{s: s},
		&cancelAppointment{s: s},
	}
}

// Register adds the store's tools to r.
func Register(r *tools.Registry, s *Store) error {
	for _, t := range s.Tools() {
		if err := r.Register(t); err != nil {
			return err
		}
	}
	return nil
}

// Orders returns every order, sorted by ID.
func (s *Store) Orders() []Order {
	orders := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		orders = append(orders, o)
	}
	slices.SortFunc(orders, func(a, b Order) int { return strings.Compare(a.ID, b.ID) })
	return orders
}

// Appointment returns the appointment with the given ID, cancelled ones
// included.
func (s *Store) Appointment(id string) (Appointment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.appointments[id]
	if !ok {
		return Appointment{}, false
	}
	return *a, true
}

// today is the current date in Turkey, at midnight.
func (s *Store) today() time.Time {
	y, m, d := s.now().In(istanbul).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, istanbul)
}

// texts is a text in Turkish and English, as the tools return them.
func texts(tr, en string) map[string]string {
	return map[string]string{"tr": tr, "en": en}
}

// formatTL writes an amount in kuruş the Turkish way: "1.249,90 TL".
func formatTL(kurus int64) string {
	lira := fmt.Sprint(kurus / 100)
	var b strings.Builder
	for i, r := range lira {
		if i > 0 && (len(lira)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s,%02d TL", b.String(), kurus%100)
}
