package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/store"
)

// ToolAdmin manages the tools of the process: the HTTP tool sets that
// integrators declare through the API, stored and applied live.
type ToolAdmin interface {
	ListTools() []ToolInfo
	// PutToolSet validates, stores and applies a named document of HTTP
	// tools (the YAML format of configs/demo-tools.yaml), replacing the
	// set of that name, and returns the names of its tools. A document
	// that does not load wraps ErrInvalidInput; a tool name taken by
	// another set or by a built-in tool wraps store.ErrConflict.
	PutToolSet(ctx context.Context, name string, body []byte) ([]string, error)
	// DeleteToolSet removes a set and its tools; store.ErrNotFound when
	// there is none.
	DeleteToolSet(ctx context.Context, name string) error
}

// ErrInvalidInput marks an error the caller can fix by sending something
// else: the API answers 400 with its text.
var ErrInvalidInput = errors.New("invalid input")

// ToolInfo describes one registered tool.
type ToolInfo struct {
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`          // go or http
	Set         string            `json:"set,omitempty"` // the API tool set it came from
	Description map[string]string `json:"description"`
	Parameters  json.RawMessage   `json:"parameters"`
	Mutates     bool              `json:"mutates"`
	Idempotent  bool              `json:"idempotent"`
	Backend     string            `json:"backend,omitempty"`
	Breaker     string            `json:"breaker,omitempty"` // closed, open, half_open
}

func (s *Server) toolRoutes(v1 gin.IRouter) {
	v1.GET("/tools", s.listTools)
	v1.PUT("/tools/sets/:name", s.putToolSet)
	v1.DELETE("/tools/sets/:name", s.deleteToolSet)
}

// apiTools returns the tool admin, or answers 503 until it is attached.
func (s *Server) apiTools(c *gin.Context) (ToolAdmin, bool) {
	b := s.backend.Load()
	if b == nil || b.Tools == nil {
		reason := "starting"
		if r := s.notReady.Load(); r != nil {
			reason = *r
		}
		writeError(c, http.StatusServiceUnavailable, reason)
		return nil, false
	}
	return b.Tools, true
}

// listTools answers GET /api/v1/tools.
func (s *Server) listTools(c *gin.Context) {
	admin, ok := s.apiTools(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"tools": admin.ListTools()})
}

// putToolSet answers PUT /api/v1/tools/sets/:name with a YAML or JSON
// document of HTTP tools.
func (s *Server) putToolSet(c *gin.Context) {
	admin, ok := s.apiTools(c)
	if !ok {
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		writeError(c, http.StatusRequestEntityTooLarge, "the body is too large or unreadable")
		return
	}
	names, err := admin.PutToolSet(c.Request.Context(), c.Param("name"), body)
	switch {
	case err == nil:
		s.log.Info("api: tool set stored", slog.String("set", c.Param("name")), slog.Int("tools", len(names)))
		c.JSON(http.StatusOK, gin.H{"set": c.Param("name"), "tools": names})
	case errors.Is(err, ErrInvalidInput):
		writeError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrConflict):
		writeError(c, http.StatusConflict, err.Error())
	default:
		s.log.Error("api: storing a tool set", slog.String("set", c.Param("name")), slog.String("error", err.Error()))
		writeError(c, http.StatusInternalServerError, "internal error")
	}
}

// deleteToolSet answers DELETE /api/v1/tools/sets/:name.
func (s *Server) deleteToolSet(c *gin.Context) {
	admin, ok := s.apiTools(c)
	if !ok {
		return
	}
	if err := admin.DeleteToolSet(c.Request.Context(), c.Param("name")); err != nil {
		s.writeStoreError(c, "tool set "+c.Param("name"), err)
		return
	}
	c.Status(http.StatusNoContent)
}
