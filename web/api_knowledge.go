package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// KnowledgeAdmin is the knowledge index the content team works on through
// the API and the console: the stored index, embedding with the
// configured model.
type KnowledgeAdmin interface {
	knowledge.Index
	Delete(ctx context.Context, collection, id string) error
	// Reindex embeds every document of the collection ("" for all) again
	// with the configured model, and reports how many documents and
	// chunks it embedded.
	Reindex(ctx context.Context, collection string) (documents, chunks int, err error)
	// Model names the embedding model new documents are indexed with.
	Model() string
}

// uploadRoute is the one route whose body may be as large as
// Options.MaxUploadBytes.
const uploadRoute = "/api/v1/knowledge/documents"

// maxUploadFiles bounds the files of one upload.
const maxUploadFiles = 200

func (s *Server) knowledgeRoutes(r gin.IRouter) {
	r.GET("/collections", s.listCollections)
	r.GET("/documents", s.listDocuments)
	r.POST("/documents", s.uploadDocuments)
	r.GET("/documents/:collection/*id", s.getDocument)
	r.DELETE("/documents/:collection/*id", s.deleteDocument)
	r.GET("/search", s.searchKnowledge)
	r.POST("/reindex", s.reindexKnowledge)
	r.GET("/gaps", s.knowledgeGaps)
}

// apiKnowledge returns the knowledge admin, or answers 503 until it is
// attached.
func (s *Server) apiKnowledge(c *gin.Context) (KnowledgeAdmin, bool) {
	b := s.backend.Load()
	if b == nil || b.Knowledge == nil {
		reason := "starting"
		if r := s.notReady.Load(); r != nil && b == nil {
			reason = *r
		}
		writeError(c, http.StatusServiceUnavailable, "the knowledge base is not ready: "+reason)
		return nil, false
	}
	return b.Knowledge, true
}

type collectionJSON struct {
	Name       string    `json:"name"`
	Model      string    `json:"model"`
	Dimensions int       `json:"dimensions"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

func (s *Server) listCollections(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	cs, err := st.ListCollections(c.Request.Context())
	if err != nil {
		s.writeStoreError(c, "collections", err)
		return
	}
	out := make([]collectionJSON, len(cs))
	for i, k := range cs {
		out[i] = collectionJSON{Name: k.Name, Model: k.Model, Dimensions: k.Dimensions, CreatedAt: k.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"collections": out})
}

type documentJSON struct {
	Collection string      `json:"collection"`
	ID         string      `json:"id"`
	Title      string      `json:"title"`
	Source     string      `json:"source"`
	Language   string      `json:"language"`
	Tags       []string    `json:"tags"`
	Version    string      `json:"version"`
	Hash       string      `json:"hash"`
	CreatedAt  time.Time   `json:"created_at,omitzero"`
	UpdatedAt  time.Time   `json:"updated_at,omitzero"`
	Chunks     []chunkJSON `json:"chunks,omitempty"`
}

type chunkJSON struct {
	Ordinal int      `json:"ordinal"`
	Section string   `json:"section"`
	Text    string   `json:"text"`
	Tokens  int      `json:"tokens"`
	Tags    []string `json:"tags"`
}

func toDocumentJSON(d store.KnowledgeDocument) documentJSON {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return documentJSON{Collection: d.Collection, ID: d.ID, Title: d.Title, Source: d.Source, Language: d.Language,
		Tags: tags, Version: d.Version, Hash: d.Hash, CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt}
}

func (s *Server) listDocuments(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ds, err := st.ListDocuments(c.Request.Context(), c.Query("collection"))
	if err != nil {
		s.writeStoreError(c, "collection "+c.Query("collection"), err)
		return
	}
	out := make([]documentJSON, len(ds))
	for i, d := range ds {
		out[i] = toDocumentJSON(d)
	}
	c.JSON(http.StatusOK, gin.H{"documents": out})
}

// documentID is the *id parameter without its leading slash: IDs may hold
// slashes ("returns/policy").
func documentID(c *gin.Context) string { return strings.TrimPrefix(c.Param("id"), "/") }

func (s *Server) getDocument(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	collection, id := c.Param("collection"), documentID(c)
	d, err := st.GetDocument(c.Request.Context(), collection, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("document %q of collection %q", id, collection), err)
		return
	}
	chunks, err := st.ListChunks(c.Request.Context(), collection, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("document %q of collection %q", id, collection), err)
		return
	}
	out := toDocumentJSON(d)
	out.Chunks = make([]chunkJSON, len(chunks))
	for i, k := range chunks {
		tags := k.Tags
		if tags == nil {
			tags = []string{}
		}
		out.Chunks[i] = chunkJSON{Ordinal: k.Ordinal, Section: k.Section, Text: k.Text, Tokens: k.Tokens, Tags: tags}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) deleteDocument(c *gin.Context) {
	admin, ok := s.apiKnowledge(c)
	if !ok {
		return
	}
	collection, id := c.Param("collection"), documentID(c)
	if err := admin.Delete(c.Request.Context(), collection, id); err != nil {
		s.writeStoreError(c, fmt.Sprintf("document %q of collection %q", id, collection), err)
		return
	}
	s.log.Info("api: knowledge document deleted", slog.String("user", currentUser(c).Login),
		slog.String("collection", collection), slog.String("document", id))
	c.Status(http.StatusNoContent)
}

// uploadResult is what became of one uploaded file.
type uploadResult struct {
	File   string `json:"file"`
	ID     string `json:"id,omitempty"`
	Title  string `json:"title,omitempty"`
	Change string `json:"change,omitempty"` // added, replaced, unchanged
	Error  string `json:"error,omitempty"`
}

// uploadDocuments answers POST /api/v1/knowledge/documents, a
// multipart/form-data body with one or more "file" parts and the fields
// collection (required), tags (comma-separated, added to every file's),
// language (overrides detection) and id (only with one file). A file that
// cannot be parsed or stored fails alone: the answer lists every file with
// what became of it, and is 200 when none failed, 422 otherwise.
func (s *Server) uploadDocuments(c *gin.Context) {
	admin, ok := s.apiKnowledge(c)
	if !ok {
		return
	}
	form, err := c.MultipartForm()
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d bytes: send fewer or smaller files", s.maxUpload))
			return
		}
		writeError(c, http.StatusBadRequest, "want a multipart/form-data body with file parts: "+err.Error())
		return
	}
	field := func(name string) string {
		if vs := form.Value[name]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	files := form.File["file"]
	collection := field("collection")
	switch {
	case len(files) == 0:
		writeError(c, http.StatusBadRequest, `no file: send each file as a part named "file"`)
		return
	case len(files) > maxUploadFiles:
		writeError(c, http.StatusBadRequest, fmt.Sprintf("%d files: send at most %d in one upload", len(files), maxUploadFiles))
		return
	case collection == "":
		writeError(c, http.StatusBadRequest, "the field collection is required")
		return
	case field("id") != "" && len(files) > 1:
		writeError(c, http.StatusBadRequest, "the field id names one document: send one file with it")
		return
	}
	tags := splitList(field("tags"))
	user := currentUser(c).Login
	results := make([]uploadResult, len(files))
	failed := 0
	for i, fh := range files {
		r := &results[i]
		r.File = fh.Filename
		data, err := readPart(fh.Open)
		var doc knowledge.Document
		var change knowledge.Change
		if err == nil {
			doc, change, err = knowledge.AddFile(c.Request.Context(), admin, fh.Filename, data, knowledge.FileOptions{
				ID: field("id"), Collection: collection, Source: fh.Filename, Tags: tags, Language: field("language")})
		}
		if err != nil {
			failed++
			r.Error = err.Error()
			s.log.Warn("api: knowledge upload failed", slog.String("user", user), slog.String("file", fh.Filename), slog.String("error", err.Error()))
			continue
		}
		r.ID, r.Title, r.Change = doc.ID, doc.Title, change.String()
		s.log.Info("api: knowledge document uploaded", slog.String("user", user), slog.String("collection", collection),
			slog.String("document", doc.ID), slog.String("change", r.Change))
	}
	status := http.StatusOK
	if failed > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.JSON(status, gin.H{"collection": collection, "results": results, "failed": failed})
}

// readPart reads an uploaded file.
func readPart[F io.ReadCloser](open func() (F, error)) ([]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

type hitJSON struct {
	Citation   string           `json:"citation"`
	DocumentID string           `json:"document_id"`
	Title      string           `json:"title"`
	Section    string           `json:"section"`
	Source     string           `json:"source"`
	Language   string           `json:"language"`
	Text       string           `json:"text"`
	Scores     knowledge.Scores `json:"scores"`
}

// searchKnowledge answers GET /api/v1/knowledge/search?q=…, with optional
// collection, language, tags (comma-separated, all required), mode
// (fused, vector, text) and limit (1 to 50).
func (s *Server) searchKnowledge(c *gin.Context) {
	admin, ok := s.apiKnowledge(c)
	if !ok {
		return
	}
	q := knowledge.Query{Text: c.Query("q"), Collection: c.Query("collection"), Language: c.Query("language")}
	if strings.TrimSpace(q.Text) == "" {
		writeError(c, http.StatusBadRequest, "the parameter q, the question to search for, is required")
		return
	}
	q.Tags = splitList(c.Query("tags"))
	switch m := c.DefaultQuery("mode", "fused"); m {
	case "fused":
		q.Mode = knowledge.Fused
	case "vector":
		q.Mode = knowledge.VectorOnly
	case "text":
		q.Mode = knowledge.TextOnly
	default:
		writeError(c, http.StatusBadRequest, fmt.Sprintf("mode %q: want fused, vector or text", m))
		return
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 50 {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to 50", l))
			return
		}
		q.Limit = n
	}
	hits, err := admin.Search(c.Request.Context(), q)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(c, http.StatusNotFound, "collection "+q.Collection+" not found")
			return
		}
		s.log.Error("api: knowledge search", slog.String("error", err.Error()))
		writeError(c, http.StatusInternalServerError, "internal error")
		return
	}
	out := make([]hitJSON, len(hits))
	for i, h := range hits {
		out[i] = hitJSON{Citation: h.Citation, DocumentID: h.DocumentID, Title: h.Title, Section: h.Section,
			Source: h.Source, Language: h.Language, Text: h.Text, Scores: h.Scores}
	}
	c.JSON(http.StatusOK, gin.H{"query": q.Text, "mode": q.Mode.String(), "hits": out})
}

// reindexKnowledge answers POST /api/v1/knowledge/reindex with an optional
// JSON body {"collection": "…"} ("" or no body: every collection).
func (s *Server) reindexKnowledge(c *gin.Context) {
	admin, ok := s.apiKnowledge(c)
	if !ok {
		return
	}
	var body struct {
		Collection string `json:"collection"`
	}
	if c.Request.ContentLength != 0 {
		if err := c.ShouldBindJSON(&body); err != nil {
			writeError(c, http.StatusBadRequest, `want a JSON body {"collection": "name"} or none: `+err.Error())
			return
		}
	}
	docs, chunks, err := admin.Reindex(c.Request.Context(), body.Collection)
	if err != nil {
		s.writeStoreError(c, "collection "+body.Collection, err)
		return
	}
	s.log.Info("api: knowledge reindexed", slog.String("user", currentUser(c).Login), slog.String("collection", body.Collection),
		slog.Int("documents", docs), slog.Int("chunks", chunks))
	c.JSON(http.StatusOK, gin.H{"collection": body.Collection, "documents": docs, "chunks": chunks})
}

// knowledgeGaps answers GET /api/v1/knowledge/gaps?days=30: the questions
// of the last days the assistant could not answer well from its
// knowledge, grouped (assistant.KnowledgeGaps), largest group first.
func (s *Server) knowledgeGaps(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	days := 30
	if d := c.Query("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 365 {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("days %q: want a number from 1 to 365", d))
			return
		}
		days = n
	}
	turns, err := st.ListRecentTurns(c.Request.Context(), store.TurnFilter{
		Since:     time.Now().AddDate(0, 0, -days),
		Decisions: []string{assistant.DecisionAnswer, assistant.DecisionFallback, assistant.DecisionHandoff},
	})
	if err != nil {
		s.writeStoreError(c, "turns", err)
		return
	}
	// The content team reads what customers asked, never who they are:
	// personal data in a question shows as its kind ([TCKN]).
	for i := range turns {
		turns[i].Input = privacy.RedactKinds(turns[i].Input, s.detectors)
	}
	gaps := assistant.KnowledgeGaps(turns, assistant.DefaultWeakScore)
	if gaps == nil {
		gaps = []assistant.Gap{}
	}
	c.JSON(http.StatusOK, gin.H{"days": days, "turns": len(turns), "gaps": gaps})
}

var _ KnowledgeAdmin = (*knowledge.Stored)(nil)
