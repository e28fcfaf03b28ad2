package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

// The web API gets the campaign service of yanit dev's configuration with
// the errors it branches on: what the caller can fix is ErrInvalidInput
// (its message without the service's sentinel words), an illegal move and
// a missing campaign keep the store's sentinels.
func TestCampaignAdminAdapter(t *testing.T) {
	ctx := context.Background()
	cfg, err := devDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	st, err := openAndMigrate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.PutSegment(ctx, store.Segment{Name: "herkes"}); err != nil {
		t.Fatal(err)
	}
	admin, err := webCampaigns(newCampaigns(cfg, st, slog.New(slog.DiscardHandler), nil))
	if err != nil {
		t.Fatal(err)
	}
	if ts := admin.Templates(); len(ts) != len(cfg.WhatsApp.Templates) || ts[0].Name != "support_follow_up" || ts[0].Params != 1 {
		t.Errorf("templates %+v, want the configured ones", ts)
	}
	by := privacy.Actor{Name: "selin", UserID: 1}

	_, err = admin.Create(ctx, by, web.CampaignSpec{Name: "X", Template: "yok", Language: "tr", Segment: "herkes"})
	if !errors.Is(err, web.ErrInvalidInput) || !errors.Is(err, campaign.ErrInvalid) ||
		!strings.HasPrefix(err.Error(), `template "yok" in language "tr" is not an approved template`) {
		t.Errorf("an unknown template: %v, want ErrInvalidInput naming the template first", err)
	}
	_, err = admin.Create(ctx, by, web.CampaignSpec{Name: "X", Template: "support_follow_up", Language: "tr", Segment: "yok",
		Params: []store.CampaignParam{{Source: store.ParamName}}})
	if !errors.Is(err, web.ErrInvalidInput) || !strings.HasPrefix(err.Error(), `segment "yok"`) {
		t.Errorf("an unknown segment: %v, want ErrInvalidInput naming the segment", err)
	}

	c, err := admin.Create(ctx, by, web.CampaignSpec{Name: "Takip", Template: "support_follow_up", Language: "tr", Segment: "herkes",
		Params: []store.CampaignParam{{Source: store.ParamName, Default: "müşterimiz"}}})
	if err != nil || c.Status != store.CampaignDraft || c.PhoneNumberID != cfg.WhatsApp.PhoneNumberID || c.CreatedBy != "selin" {
		t.Fatalf("created %+v, %v; want a draft from the configured number by selin", c, err)
	}
	if _, err := admin.Pause(ctx, by, "Takip"); !errors.Is(err, store.ErrIllegalMove) || errors.Is(err, web.ErrInvalidInput) {
		t.Errorf("pausing a draft: %v, want ErrIllegalMove only", err)
	}
	if _, err := admin.Start(ctx, by, "Yok"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("starting a campaign that does not exist: %v, want ErrNotFound", err)
	}
	if c, err := admin.Start(ctx, by, "Takip"); err != nil || c.Status != store.CampaignRunning {
		t.Errorf("starting the draft: %+v, %v", c, err)
	}
	if err := admin.Delete(ctx, by, "Takip"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("deleting a campaign that ran: %v, want ErrConflict", err)
	}
	if a, err := webCampaigns(nil, errors.New("campaigns.batch_size")); a != nil || err == nil {
		t.Errorf("webCampaigns of a failed build: %v, %v; want no admin and the error", a, err)
	}
}
