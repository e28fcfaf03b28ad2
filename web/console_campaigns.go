package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// The admins' campaigns page: a shell the server renders, which
// static/campaigns.js fills from /api/v1/campaigns and /api/v1/segments:
// the form that makes a campaign from an approved template, the list of
// campaigns, and the campaign picked with its counts, polled while it
// runs, and their chart.

// defaultCampaignZone is the time zone a schedule is given in unless the
// admin picks another.
const defaultCampaignZone = "Europe/Istanbul"

// campaignsData is what campaigns.html reads.
type campaignsData struct {
	page
	TimeZone string
}

// campaignsPage shows the campaigns page.
func (s *Server) campaignsPage(c *gin.Context) {
	s.render(c, http.StatusOK, "campaigns.html", campaignsData{page: pageFor(c, "Campaigns", "campaigns"), TimeZone: defaultCampaignZone})
}
