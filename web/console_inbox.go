package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/store"
)

// The agents' page: a shell the server renders with who is signed in, which
// static/inbox.js fills from /api/v1/inbox and keeps current with the
// inbox's event stream.

// inboxData is what inbox.html reads.
type inboxData struct {
	page
	// Teams are the agent's teams, offered as the queue's filter.
	Teams []string
}

// inboxPage shows the agents' inbox: the queue, the mine list, and the
// conversation of the ticket picked with its context pack and history.
func (s *Server) inboxPage(c *gin.Context) {
	p := pageFor(c, "Inbox", "inbox")
	s.render(c, http.StatusOK, "inbox.html", inboxData{page: p, Teams: p.User.Teams})
}

// consoleHome answers GET /console/ with the page of the user's work:
// the inbox for agents and admins, the knowledge for the content team.
func consoleHome(c *gin.Context) {
	to := "/console/knowledge"
	switch currentUser(c).Role {
	case store.RoleAgent, store.RoleAdmin:
		to = "/console/inbox"
	}
	c.Redirect(http.StatusSeeOther, to)
}
