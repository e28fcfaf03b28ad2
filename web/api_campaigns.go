package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// CampaignAdmin makes broadcast campaigns and moves them through their
// states (store.CampaignMoves): the campaign service behind a small
// adapter. A campaign is named by its name, unique and never changed.
// Every change is recorded in the audit log as by.
type CampaignAdmin interface {
	// Templates returns the approved templates a campaign may send.
	Templates() []inbox.Template
	// Create makes a draft campaign. An error wrapping ErrInvalidInput
	// names the field that is wrong (an unknown template, parameters that
	// do not fill it, a segment that does not exist); store.ErrConflict
	// means the name is taken.
	Create(ctx context.Context, by privacy.Actor, spec CampaignSpec) (store.Campaign, error)
	// Schedule makes a draft or scheduled campaign start at at, given in
	// the IANA time zone tz.
	Schedule(ctx context.Context, by privacy.Actor, name string, at time.Time, tz string) (store.Campaign, error)
	// Start, Pause, Resume and Cancel move the campaign called name. A
	// move the state machine refuses wraps store.ErrIllegalMove; one that
	// lost a race with another, store.ErrConflict.
	Start(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error)
	Pause(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error)
	Resume(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error)
	Cancel(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error)
	// Delete removes a campaign that never ran; store.ErrConflict when it
	// did.
	Delete(ctx context.Context, by privacy.Actor, name string) error
}

// CampaignSpec is what a new campaign sends, to whom, from which number.
type CampaignSpec struct {
	Name     string
	Template string
	Language string
	// Params fill the template's placeholders: Params[0] is {{1}}.
	Params  []store.CampaignParam
	Segment string
	// PhoneNumberID is the business number; the configured one when empty.
	PhoneNumberID string
	// ScheduledAt, when set, creates the campaign scheduled to start then,
	// in TimeZone.
	ScheduledAt time.Time
	TimeZone    string
}

// Bounds of the campaign routes' pages.
const (
	defaultRecipientPage = 100
	defaultSegmentSample = 10
)

// campaignRoutes are the broadcasts: campaigns, their recipients and
// stats, the segments they go to and the templates they may send. Admins
// only (there is no marketing role).
func (s *Server) campaignRoutes(r gin.IRouter) {
	r.GET("/campaigns", s.listCampaigns)
	r.POST("/campaigns", s.createCampaign)
	r.GET("/campaigns/templates", s.campaignTemplates)
	r.GET("/campaigns/:id", s.getCampaign)
	r.DELETE("/campaigns/:id", s.deleteCampaign)
	r.GET("/campaigns/:id/recipients", s.listCampaignRecipients)
	r.POST("/campaigns/:id/schedule", s.scheduleCampaign)
	r.POST("/campaigns/:id/start", s.moveCampaign(CampaignAdmin.Start))
	r.POST("/campaigns/:id/pause", s.moveCampaign(CampaignAdmin.Pause))
	r.POST("/campaigns/:id/resume", s.moveCampaign(CampaignAdmin.Resume))
	r.POST("/campaigns/:id/cancel", s.moveCampaign(CampaignAdmin.Cancel))
	r.GET("/segments", s.listSegments)
	r.GET("/segments/:name/preview", s.previewSegment)
}

// apiCampaigns returns the campaign admin, or answers 503 until it is
// attached.
func (s *Server) apiCampaigns(c *gin.Context) (CampaignAdmin, bool) {
	b := s.backend.Load()
	if b == nil || b.Campaigns == nil {
		reason := "starting"
		if r := s.notReady.Load(); r != nil && b == nil {
			reason = *r
		}
		writeError(c, http.StatusServiceUnavailable, "campaigns are not ready: "+reason)
		return nil, false
	}
	return b.Campaigns, true
}

// writeCampaignError answers a failed campaign call: 400 with the message
// naming the field, 404, 409 for a status change the campaign's status
// does not allow (or that lost a race), else 500 with the cause in the
// log only.
func (s *Server) writeCampaignError(c *gin.Context, what string, err error) {
	switch {
	case errors.Is(err, ErrInvalidInput):
		writeError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrIllegalMove), errors.Is(err, store.ErrConflict):
		writeError(c, http.StatusConflict, err.Error())
	default:
		s.writeStoreError(c, what, err)
	}
}

// campaignOf reads the campaign of the path's :id from the API's store,
// returning that store too, or answers 503, 400 or 404.
func (s *Server) campaignOf(c *gin.Context) (store.Store, store.Campaign, bool) {
	st, ok := s.apiStore(c)
	if !ok {
		return nil, store.Campaign{}, false
	}
	id, ok := pathID(c)
	if !ok {
		return nil, store.Campaign{}, false
	}
	camp, err := st.GetCampaignByID(c.Request.Context(), id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("campaign %d", id), err)
		return nil, store.Campaign{}, false
	}
	return st, camp, true
}

// bindJSON decodes the request's JSON body into v, refusing fields v does
// not have, or answers 400 saying what is wrong and where (413 for a body
// over the limit).
func bindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("the body holds more than one JSON value")
	}
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", tooLarge.Limit))
		return false
	case errors.Is(err, io.EOF):
		err = errors.New("the body is empty: want a JSON object")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		err = fmt.Errorf("%s: want a JSON %s, got %s", typeErr.Field, jsonKind(typeErr.Type.Kind()), typeErr.Value)
	case !strings.HasPrefix(err.Error(), "the body"):
		err = fmt.Errorf("the body is not the JSON object expected: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	writeError(c, http.StatusBadRequest, err.Error())
	return false
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Bool:
		return "boolean"
	}
	return "number"
}

// scheduleAt reads when a campaign should start: scheduled_at as an RFC
// 3339 time (2026-12-01T10:00:00+03:00), or as a date and time without an
// offset (2026-12-01T10:00) in the IANA zone tz. tz defaults to UTC for an
// RFC 3339 time and is required for the other kind. The time must be
// after now. The error names the field.
func scheduleAt(at, tz string, now time.Time) (time.Time, string, error) {
	var loc *time.Location
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return time.Time{}, "", fmt.Errorf("time_zone %q: want an IANA time zone such as Europe/Istanbul", tz)
		}
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t, err = wallClock(at, time.UTC)
		if err == nil && loc == nil {
			return time.Time{}, "", fmt.Errorf("time_zone: required with scheduled_at %q, a time without an offset", at)
		}
		if err == nil {
			t, err = wallClock(at, loc)
		}
		if err != nil {
			return time.Time{}, "", fmt.Errorf("scheduled_at %q: want an RFC 3339 time (2026-12-01T10:00:00+03:00), "+
				"or a date and time (2026-12-01T10:00) with time_zone", at)
		}
	}
	if tz == "" {
		tz = "UTC"
	}
	if !t.After(now) {
		return time.Time{}, "", fmt.Errorf("scheduled_at %s: in the past, want a time to come", t.UTC().Format(time.RFC3339))
	}
	return t.UTC(), tz, nil
}

// wallClock reads a date and time without an offset in loc.
func wallClock(at string, loc *time.Location) (time.Time, error) {
	var err error
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, at, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// createCampaign answers POST /api/v1/campaigns: a draft, or a scheduled
// campaign when scheduled_at is set.
func (s *Server) createCampaign(c *gin.Context) {
	admin, ok := s.apiCampaigns(c)
	if !ok {
		return
	}
	var body struct {
		Name        string                `json:"name"`
		Template    string                `json:"template"`
		Language    string                `json:"language"`
		Segment     string                `json:"segment"`
		Params      []store.CampaignParam `json:"params"`
		Number      string                `json:"number"`
		ScheduledAt string                `json:"scheduled_at"`
		TimeZone    string                `json:"time_zone"`
	}
	if !bindJSON(c, &body) {
		return
	}
	var at time.Time
	if body.ScheduledAt != "" || body.TimeZone != "" {
		if body.ScheduledAt == "" {
			writeError(c, http.StatusBadRequest, "scheduled_at: required with time_zone (or leave both out for a draft)")
			return
		}
		var err error
		if at, body.TimeZone, err = scheduleAt(body.ScheduledAt, body.TimeZone, time.Now()); err != nil {
			writeError(c, http.StatusBadRequest, err.Error())
			return
		}
	}
	if body.Language == "" {
		body.Language = onlyLanguage(admin.Templates(), body.Template)
	}
	ctx, by := c.Request.Context(), actor(c)
	camp, err := admin.Create(ctx, by, CampaignSpec{Name: body.Name, Template: body.Template, Language: body.Language,
		Params: body.Params, Segment: body.Segment, PhoneNumberID: body.Number, ScheduledAt: at, TimeZone: body.TimeZone})
	if err != nil {
		s.writeCampaignError(c, "campaign", err)
		return
	}
	s.log.Info("api: campaign created", slog.String("campaign", camp.Name), slog.String("status", camp.Status),
		slog.String("by", by.Name))
	c.JSON(http.StatusCreated, gin.H{"campaign": newCampaignJSON(camp)})
}

// onlyLanguage returns the language of the template called name when it is
// approved in one language only, else "" (the service then names what is
// missing).
func onlyLanguage(ts []inbox.Template, name string) string {
	lang := ""
	for _, t := range ts {
		if t.Name != name {
			continue
		}
		if lang != "" {
			return ""
		}
		lang = t.Language
	}
	return lang
}

// scheduleCampaign answers POST /api/v1/campaigns/:id/schedule.
func (s *Server) scheduleCampaign(c *gin.Context) {
	admin, ok := s.apiCampaigns(c)
	if !ok {
		return
	}
	var body struct {
		ScheduledAt string `json:"scheduled_at"`
		TimeZone    string `json:"time_zone"`
	}
	if !bindJSON(c, &body) {
		return
	}
	if body.ScheduledAt == "" {
		writeError(c, http.StatusBadRequest, "scheduled_at: required, an RFC 3339 time or a date and time (2026-12-01T10:00) in time_zone")
		return
	}
	at, tz, err := scheduleAt(body.ScheduledAt, body.TimeZone, time.Now())
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	_, camp, ok := s.campaignOf(c)
	if !ok {
		return
	}
	out, err := admin.Schedule(c.Request.Context(), actor(c), camp.Name, at, tz)
	if err != nil {
		s.writeCampaignError(c, "campaign "+camp.Name, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": newCampaignJSON(out)})
}

// moveCampaign answers POST /api/v1/campaigns/:id/{start,pause,resume,
// cancel} with move.
func (s *Server) moveCampaign(move func(CampaignAdmin, context.Context, privacy.Actor, string) (store.Campaign, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		admin, ok := s.apiCampaigns(c)
		if !ok {
			return
		}
		_, camp, ok := s.campaignOf(c)
		if !ok {
			return
		}
		out, err := move(admin, c.Request.Context(), actor(c), camp.Name)
		if err != nil {
			s.writeCampaignError(c, "campaign "+camp.Name, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"campaign": newCampaignJSON(out)})
	}
}

// deleteCampaign answers DELETE /api/v1/campaigns/:id: a draft or
// scheduled campaign is removed.
func (s *Server) deleteCampaign(c *gin.Context) {
	admin, ok := s.apiCampaigns(c)
	if !ok {
		return
	}
	_, camp, ok := s.campaignOf(c)
	if !ok {
		return
	}
	if err := admin.Delete(c.Request.Context(), actor(c), camp.Name); err != nil {
		s.writeCampaignError(c, "campaign "+camp.Name, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// campaignTemplates answers GET /api/v1/campaigns/templates.
func (s *Server) campaignTemplates(c *gin.Context) {
	admin, ok := s.apiCampaigns(c)
	if !ok {
		return
	}
	ts := admin.Templates()
	if ts == nil {
		ts = []inbox.Template{}
	}
	c.JSON(http.StatusOK, gin.H{"templates": ts})
}

// listCampaigns answers GET /api/v1/campaigns, newest first, each with
// its counts so far.
func (s *Server) listCampaigns(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	camps, err := st.ListCampaigns(ctx)
	if err != nil {
		s.writeStoreError(c, "campaigns", err)
		return
	}
	tallies, err := st.CampaignTallies(ctx)
	if err != nil {
		s.writeStoreError(c, "campaign counts", err)
		return
	}
	out := make([]campaignListJSON, len(camps))
	for i, camp := range camps {
		out[i] = campaignListJSON{campaignJSON: newCampaignJSON(camp), Stats: newSummaryJSON(tallies[camp.ID])}
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": out})
}

// getCampaign answers GET /api/v1/campaigns/:id: the campaign and its
// live counts.
func (s *Server) getCampaign(c *gin.Context) {
	st, camp, ok := s.campaignOf(c)
	if !ok {
		return
	}
	stats, err := st.CampaignStats(c.Request.Context(), camp.ID)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("stats of campaign %d", camp.ID), err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"campaign": newCampaignJSON(camp), "stats": newStatsJSON(stats)})
}

// pageQuery reads an optional integer query parameter from min to max;
// def when absent. The error names it.
func pageQuery(c *gin.Context, name string, def, min, max int64) (int64, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("%s %q: want an integer from %d to %d", name, v, min, max)
	}
	return n, nil
}

// listCampaignRecipients answers GET /api/v1/campaigns/:id/recipients: a
// page of recipients by contact ID after the contact ID after, with their
// message's status; phone numbers masked.
func (s *Server) listCampaignRecipients(c *gin.Context) {
	after, err := pageQuery(c, "after", 0, 0, 1<<62)
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := pageQuery(c, "limit", defaultRecipientPage, 1, maxListLimit)
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	st, camp, ok := s.campaignOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	rs, err := st.ListCampaignRecipients(ctx, camp.ID, after, int(limit))
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("recipients of campaign %d", camp.ID), err)
		return
	}
	out := make([]recipientJSON, len(rs))
	for i, r := range rs {
		out[i] = recipientJSON{ContactID: r.ContactID, Status: r.Status, SkipReason: r.SkipReason, MessageID: r.MessageID,
			MessageStatus: r.MessageStatus, ErrorCode: r.ErrorCode, QueuedAt: r.QueuedAt.UTC(),
			Phone: privacy.MaskPhone(r.Contact.WaID)}
	}
	resp := gin.H{"recipients": out}
	if len(rs) == int(limit) {
		resp["next_after"] = rs[len(rs)-1].ContactID
	}
	c.JSON(http.StatusOK, resp)
}

// listSegments answers GET /api/v1/segments: every segment with how many
// contacts it holds now.
func (s *Server) listSegments(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	segs, err := st.ListSegments(ctx)
	if err != nil {
		s.writeStoreError(c, "segments", err)
		return
	}
	now := time.Now()
	out := make([]segmentJSON, len(segs))
	for i, seg := range segs {
		n, err := st.CountSegment(ctx, seg.Filter, now)
		if err != nil {
			s.writeStoreError(c, "segment "+seg.Name, err)
			return
		}
		out[i] = newSegmentJSON(seg, n)
	}
	c.JSON(http.StatusOK, gin.H{"segments": out})
}

// previewSegment answers GET /api/v1/segments/:name/preview: how many
// contacts the segment holds now and a random sample of them, phone
// numbers masked.
func (s *Server) previewSegment(c *gin.Context) {
	limit, err := pageQuery(c, "sample", defaultSegmentSample, 1, store.MaxSegmentSample)
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx, name := c.Request.Context(), c.Param("name")
	seg, err := st.GetSegment(ctx, name)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("segment %q", name), err)
		return
	}
	now := time.Now()
	n, err := st.CountSegment(ctx, seg.Filter, now)
	if err != nil {
		s.writeStoreError(c, "segment "+name, err)
		return
	}
	members, err := st.SampleSegment(ctx, seg.Filter, now, int(limit))
	if err != nil {
		s.writeStoreError(c, "segment "+name, err)
		return
	}
	sample := make([]memberJSON, len(members))
	for i, m := range members {
		tags := m.Tags
		if tags == nil {
			tags = []string{}
		}
		sample[i] = memberJSON{ContactID: m.ID, Phone: privacy.MaskPhone(m.WaID), Locale: m.Locale, Tags: tags,
			MarketingOptOut: m.MarketingOptOut, LastInboundAt: m.LastInboundAt.UTC()}
	}
	c.JSON(http.StatusOK, segmentPreviewJSON{segmentJSON: newSegmentJSON(seg, n), Sample: sample})
}

// The campaign routes' JSON shapes.

type campaignJSON struct {
	ID           int64                 `json:"id"`
	Name         string                `json:"name"`
	Number       string                `json:"number"`
	Template     string                `json:"template"`
	Language     string                `json:"language"`
	Category     string                `json:"category"`
	Params       []store.CampaignParam `json:"params"`
	Segment      string                `json:"segment"`
	Filter       store.SegmentFilter   `json:"filter,omitzero"`
	Status       string                `json:"status"`
	ScheduledAt  time.Time             `json:"scheduled_at,omitzero"`
	TimeZone     string                `json:"time_zone,omitempty"`
	CreatedBy    string                `json:"created_by"`
	Materialized bool                  `json:"materialized"`
	StartedAt    time.Time             `json:"started_at,omitzero"`
	FinishedAt   time.Time             `json:"finished_at,omitzero"`
	CreatedAt    time.Time             `json:"created_at,omitzero"`
	UpdatedAt    time.Time             `json:"updated_at,omitzero"`
}

func newCampaignJSON(c store.Campaign) campaignJSON {
	params := c.Params
	if params == nil {
		params = []store.CampaignParam{}
	}
	return campaignJSON{
		ID: c.ID, Name: c.Name, Number: c.PhoneNumberID, Template: c.Template, Language: c.Language, Category: c.Category,
		Params: params, Segment: c.Segment, Filter: c.Filter, Status: c.Status, ScheduledAt: c.ScheduledAt.UTC(),
		TimeZone: c.TimeZone, CreatedBy: c.CreatedBy, Materialized: c.Materialized, StartedAt: c.StartedAt.UTC(),
		FinishedAt: c.FinishedAt.UTC(), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

// campaignRates are the shares the console charts: the delivery rate is
// the messages delivered (or read) of those queued, the read rate those
// read of those delivered; null while there is nothing to divide by.
type campaignRates struct {
	DeliveryRate *float64 `json:"delivery_rate"`
	ReadRate     *float64 `json:"read_rate"`
}

func ratesOf(st store.CampaignStats) campaignRates {
	share := func(n, of int) *float64 {
		if of == 0 {
			return nil
		}
		r := float64(n) / float64(of)
		return &r
	}
	return campaignRates{DeliveryRate: share(st.Delivered, st.Queued), ReadRate: share(st.Read, st.Delivered)}
}

// statsJSON is a campaign's every count, and its rates.
type statsJSON struct {
	store.CampaignStats
	campaignRates
}

func newStatsJSON(st store.CampaignStats) statsJSON {
	if st.SkippedBy == nil {
		st.SkippedBy = map[string]int{}
	}
	if st.FailedBy == nil {
		st.FailedBy = map[int]int{}
	}
	return statsJSON{CampaignStats: st, campaignRates: ratesOf(st)}
}

// summaryJSON is what the list of campaigns shows of each one's counts.
type summaryJSON struct {
	Recipients int `json:"recipients"`
	Pending    int `json:"pending"`
	Skipped    int `json:"skipped"`
	Queued     int `json:"queued"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Read       int `json:"read"`
	Failed     int `json:"failed"`
	campaignRates
}

func newSummaryJSON(st store.CampaignStats) summaryJSON {
	return summaryJSON{Recipients: st.Recipients, Pending: st.Pending, Skipped: st.Skipped, Queued: st.Queued,
		Sent: st.Sent, Delivered: st.Delivered, Read: st.Read, Failed: st.Failed, campaignRates: ratesOf(st)}
}

type campaignListJSON struct {
	campaignJSON
	Stats summaryJSON `json:"stats"`
}

type recipientJSON struct {
	ContactID     int64     `json:"contact_id"`
	Phone         string    `json:"phone"` // masked
	Status        string    `json:"status"`
	SkipReason    string    `json:"skip_reason,omitempty"`
	MessageID     int64     `json:"message_id,omitempty"`
	MessageStatus string    `json:"message_status,omitempty"`
	ErrorCode     int       `json:"error_code,omitempty"`
	QueuedAt      time.Time `json:"queued_at,omitzero"`
}

type segmentJSON struct {
	ID          int64               `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Filter      store.SegmentFilter `json:"filter"`
	Count       int                 `json:"count"`
	CreatedAt   time.Time           `json:"created_at,omitzero"`
	UpdatedAt   time.Time           `json:"updated_at,omitzero"`
}

func newSegmentJSON(s store.Segment, count int) segmentJSON {
	return segmentJSON{ID: s.ID, Name: s.Name, Description: s.Description, Filter: s.Filter, Count: count,
		CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// memberJSON is a contact of a segment's sample, its number masked.
type memberJSON struct {
	ContactID       int64     `json:"contact_id"`
	Phone           string    `json:"phone"`
	Locale          string    `json:"locale"`
	Tags            []string  `json:"tags"`
	MarketingOptOut bool      `json:"marketing_opt_out"`
	LastInboundAt   time.Time `json:"last_inbound_at,omitzero"`
}

type segmentPreviewJSON struct {
	segmentJSON
	Sample []memberJSON `json:"sample"`
}
