package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/yanit/yanit/tools"
)

// Rules of the service desk at the Kadıköy store.
const (
	storeName    = "Kadıköy"
	opensAt      = 10 * 60 // minutes after midnight of the first slot
	lastSlotAt   = 21 * 60 // and of the last one
	slotCapacity = 2       // bookings per date and time
)

// Appointment is a booking at the store's service desk.
type Appointment struct {
	// ID looks like RDV-1001.
	ID string
	// Date is YYYY-MM-DD and Time HH:MM, in Turkish time.
	Date string
	Time string
	// Service is repair, installation or return_help.
	Service string
	// Phone is the customer's number in E.164, if given.
	Phone string
	// Status is booked or cancelled.
	Status string
}

// serviceTexts names each service to the user.
var serviceTexts = map[string]map[string]string{
	"repair":       texts("Teknik servis (onarım)", "Repair"),
	"installation": texts("Kurulum", "Installation"),
	"return_help":  texts("İade desteği", "Help with a return"),
}

// cancelTexts says each outcome of a cancellation to the user.
var cancelTexts = map[string]map[string]string{
	"cancelled":         texts("Randevunuz iptal edildi.", "Your appointment has been cancelled."),
	"already_cancelled": texts("Bu randevu zaten iptal edilmişti.", "This appointment was already cancelled."),
}

// seedAppointments returns RDV-1001 to RDV-1005, in the coming days:
// tomorrow's 14:00 slot is full and RDV-1005 is cancelled.
func seedAppointments(today time.Time) map[string]*Appointment {
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(dateLayout) }
	list := []Appointment{
		{ID: "RDV-1001", Date: day(1), Time: "14:00", Service: "repair", Phone: "+905321234567", Status: "booked"},
		{ID: "RDV-1002", Date: day(1), Time: "14:00", Service: "installation", Phone: "+905551112233", Status: "booked"},
		{ID: "RDV-1003", Date: day(2), Time: "11:30", Service: "return_help", Phone: "+447700900123", Status: "booked"},
		{ID: "RDV-1004", Date: day(3), Time: "16:00", Service: "installation", Phone: "+905339876543", Status: "booked"},
		{ID: "RDV-1005", Date: day(1), Time: "10:00", Service: "repair", Phone: "+905059998877", Status: "cancelled"},
	}
	appointments := make(map[string]*Appointment, len(list))
	for _, a := range list {
		appointments[a.ID] = &a
	}
	return appointments
}

// bookAppointment is the book_appointment tool.
type bookAppointment struct{ s *Store }

var _ tools.Tool = (*bookAppointment)(nil)

func (*bookAppointment) Spec() tools.Spec {
	return tools.Spec{
		Name: "book_appointment",
		Description: texts(
			"Kadıköy mağazasında teknik servis, kurulum veya iade desteği için randevu alır. Randevular 10:00 ile 21:00 arasında, saat başı ya da buçukta başlar.",
			"Books an appointment at the Kadıköy store for a repair, an installation or help with a return. Appointments start on the hour or half past, from 10:00 to 21:00.",
		),
		Parameters: json.RawMessage(`{
			"type": "object",
			"properties": {
				"date": {
					"type": "string",
					"pattern": "^\\d{4}-\\d{2}-\\d{2}$",
					"description": "Day of the appointment, YYYY-MM-DD."
				},
				"time": {
					"type": "string",
					"pattern": "^([01]\\d|2[0-3]):[0-5]\\d$",
					"description": "Start time, HH:MM in 24 hours: 10:00 to 21:00, on :00 or :30."
				},
				"service": {
					"type": "string",
					"enum": ["repair", "installation", "return_help"],
					"default": "repair",
					"description": "What the appointment is for."
				},
				"phone": {
					"type": "string",
					"pattern": "^\\+[1-9]\\d{7,14}$",
					"description": "The customer's phone number in E.164, like +905321234567."
				}
			},
			"required": ["date", "time"],
			"additionalProperties": false
		}`),
		Mutates: true,
	}
}

func (t *bookAppointment) Call(_ context.Context, args json.RawMessage) (tools.Result, error) {
	var in struct {
		Date    string `json:"date"`
		Time    string `json:"time"`
		Service string `json:"service"`
		Phone   string `json:"phone"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return tools.Result{}, tools.Invalid("", "cannot read the arguments: %v", err)
	}
	if in.Service == "" {
		in.Service = "repair"
	}
	serviceText, ok := serviceTexts[in.Service]
	if !ok {
		return tools.Result{}, tools.Invalid("service", "unknown service %q", in.Service)
	}
	if err := t.s.checkSlot(in.Date, in.Time); err != nil {
		return tools.Result{}, err
	}

	a, err := t.s.book(Appointment{Date: in.Date, Time: in.Time, Service: in.Service, Phone: in.Phone})
	if err != nil {
		return tools.Result{}, err
	}
	res := tools.Result{User: map[string]any{
		"appointment_id": a.ID,
		"date":           a.Date,
		"time":           a.Time,
		"service":        a.Service,
		"service_text":   maps.Clone(serviceText),
		"store":          storeName,
	}}
	if a.Phone != "" {
		res.Agent = map[string]any{"phone": a.Phone}
	}
	return res, nil
}

// checkSlot applies the desk's rules to a date and time, apart from its
// capacity.
func (s *Store) checkSlot(date, clock string) error {
	day, err := time.ParseInLocation(dateLayout, date, istanbul)
	if err != nil {
		return tools.Invalid("date", "%q is not a date in the calendar", date)
	}
	at, err := time.Parse("15:04", clock)
	if err != nil {
		return tools.Invalid("time", "%q is not a time of day (HH:MM)", clock)
	}
	minutes := at.Hour()*60 + at.Minute()
	today := s.today()
	switch {
	case day.Before(today):
		return tools.Invalid("date", "that date is in the past")
	case minutes < opensAt || minutes > lastSlotAt:
		return tools.Invalid("time", "appointments are between 10:00 and 21:00")
	case at.Minute()%30 != 0:
		return tools.Invalid("time", "appointments start on the hour or half past")
	case day.Equal(today) && !day.Add(time.Duration(minutes)*time.Minute).After(s.now()):
		return tools.Invalid("time", "that time has already passed today")
	}
	return nil
}

// book stores a new appointment if its slot has room, numbering it after
// the last one.
func (s *Store) book(a Appointment) (Appointment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := 0
	for _, b := range s.appointments {
		if b.Date == a.Date && b.Time == a.Time && b.Status == "booked" {
			taken++
		}
	}
	if taken >= slotCapacity {
		return Appointment{}, tools.Invalid("time", "that slot is full")
	}
	if s.nextID > 9999 {
		return Appointment{}, tools.Unavailable(errors.New("appointment numbers are used up"))
	}
	a.ID = fmt.Sprintf("RDV-%04d", s.nextID)
	a.Status = "booked"
	s.nextID++
	s.appointments[a.ID] = &a
	return a, nil
}

// cancelAppointment is the cancel_appointment tool.
type cancelAppointment struct{ s *Store }

var _ tools.Tool = (*cancelAppointment)(nil)

func (*cancelAppointment) Spec() tools.Spec {
	return tools.Spec{
		Name: "cancel_appointment",
		Description: texts(
			"Randevu numarasıyla (RDV-1001 gibi) bir randevuyu iptal eder. Zaten iptal edilmiş bir randevuda bir şey değiştirmez.",
			"Cancels an appointment by its number (like RDV-1001). An appointment already cancelled stays as it is.",
		),
		Parameters: json.RawMessage(`{
			"type": "object",
			"properties": {
				"appointment_id": {
					"type": "string",
					"pattern": "^RDV-\\d{4}$",
					"description": "Appointment number, like RDV-1001."
				}
			},
			"required": ["appointment_id"],
			"additionalProperties": false
		}`),
		Mutates:    true,
		Idempotent: true,
	}
}

func (t *cancelAppointment) Call(_ context.Context, args json.RawMessage) (tools.Result, error) {
	var in struct {
		ID string `json:"appointment_id"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return tools.Result{}, tools.Invalid("", "cannot read the arguments: %v", err)
	}
	a, status, ok := t.s.cancel(in.ID)
	if !ok {
		return tools.Result{}, tools.NotFound("no appointment %s", in.ID)
	}
	res := tools.Result{User: map[string]any{
		"appointment_id": a.ID,
		"date":           a.Date,
		"time":           a.Time,
		"status":         status,
		"status_text":    maps.Clone(cancelTexts[status]),
	}}
	if a.Phone != "" {
		res.Agent = map[string]any{"phone": a.Phone}
	}
	return res, nil
}

// cancel marks an appointment cancelled and says whether it already was
// (status cancelled or already_cancelled).
func (s *Store) cancel(id string) (a Appointment, status string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.appointments[id]
	if !ok {
		return Appointment{}, "", false
	}
	if p.Status == "cancelled" {
		return *p, "already_cancelled", true
	}
	p.Status = "cancelled"
	return *p, "cancelled", true
}
