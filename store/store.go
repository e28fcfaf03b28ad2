package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/yanit/yanit/jobs"
)

// Contact is one end user, keyed by the channel's user id (WhatsApp wa_id, or
// the business-scoped user_id when no wa_id is sent).
type Contact struct {
	ID            int64
	WaID          string // phone number in E.164 digits; empty when only UserID is known
	UserID        string // business-scoped user id (2026+); may be empty
	Name          string
	Locale        string
	LastInboundAt time.Time // zero until the contact writes; opens the 24-hour window
	// MarketingOptOut is true after the contact stopped marketing messages
	// (Meta's user_preferences webhook or an opt-out word), until a resume.
	MarketingOptOut bool
	// MarketingPrefAt is when MarketingOptOut was last set; zero if never.
	MarketingPrefAt time.Time
	// Tags label the contact for segments ("vip", "istanbul"); nil when
	// it has none. They compare exactly: case matters.
	Tags []string
	// Attributes are the contact's other facts by name (an import's extra
	// columns: "city" → "İzmir"); nil when it has none.
	Attributes map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ContactUpsert identifies a contact by WaID (preferred) or UserID and sets
// the fields that are not empty. Seen, when not zero, moves LastInboundAt
// forward (never backward). Tags and Attributes are replaced whole when
// they are not nil (an empty, non-nil value clears them) and left as they
// are when nil; see Validate.
type ContactUpsert struct {
	WaID       string
	UserID     string
	Name       string
	Locale     string
	Seen       time.Time
	Tags       []string
	Attributes map[string]string
}

// Conversation modes: who answers the user right now.
const (
	ModeBot   = "bot"
	ModeHuman = "human"
)

// Conversation statuses.
const (
	ConversationOpen   = "open"
	ConversationClosed = "closed"
)

// Conversation is the thread between one contact and one business phone
// number. At most one conversation per (contact, number) is open.
type Conversation struct {
	ID            int64
	ContactID     int64
	PhoneNumberID string // the business number (Cloud API phone_number_id)
	Status        string // ConversationOpen or ConversationClosed
	Mode          string // ModeBot or ModeHuman
	State         json.RawMessage
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time // zero while open
}

// ConversationFilter narrows ListConversations. Zero values match all.
type ConversationFilter struct {
	ContactID int64
	Status    string
	Limit     int // default 50, at most 500
}

// Message directions.
const (
	Inbound  = "in"
	Outbound = "out"
)

// Message statuses. Outbound messages move queued → sent → delivered → read;
// failed is terminal. Inbound messages are received.
const (
	StatusReceived  = "received"
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// StatusRank orders outbound statuses so that an update never downgrades a
// message: a status may only replace one of lower rank. Failed outranks all.
func StatusRank(s string) int {
	switch s {
	case StatusQueued:
		return 1
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	case StatusFailed:
		return 5
	}
	return 0
}

// Message is one inbound or outbound message. Payload keeps the channel's
// JSON for the message so nothing the channel sent is lost.
type Message struct {
	ID               int64
	ConversationID   int64
	Direction        string // Inbound or Outbound
	ChannelMessageID string // wamid; empty for outbound until the channel accepts it
	Type             string // text, interactive, image, …
	Body             string // the text a person reads, when there is one
	Payload          json.RawMessage
	Status           string
	ErrorCode        int       // channel error code of a failed message, else 0
	ErrorText        string    // reason of a failed message
	SentAt           time.Time // the channel's timestamp for inbound; accepted time for outbound
	ProcessedAt      time.Time // inbound: when a turn consumed it; zero while pending
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Turn is the trace of one assistant step: what came in, what was understood,
// what was decided and why, and what went out.
type Turn struct {
	ID             int64
	ConversationID int64
	InboundIDs     []int64
	OutboundIDs    []int64
	Intent         string
	Confidence     float64
	Decision       string
	Reason         string
	Trace          json.RawMessage // stage details: candidates, slots, tools, sources, latencies
	LatencyMS      float64
	CreatedAt      time.Time
	// Input is the text of the inbound messages the turn answered, one
	// per line; only ListRecentTurns fills it.
	Input string
}

// TurnFilter selects the turns of ListRecentTurns.
type TurnFilter struct {
	// Since is the oldest time a turn may have been stored at.
	Since time.Time
	// Decisions keeps the turns of these decisions; empty keeps all.
	Decisions []string
	// Limit bounds the turns returned, 1 to MaxRecentTurns; 0 means
	// MaxRecentTurns.
	Limit int
}

// MaxRecentTurns is the most turns ListRecentTurns returns at once.
const MaxRecentTurns = 5000

// Queries are the operations available on a Store and inside a transaction.
type Queries interface {
	jobs.Queue

	// UpsertContact creates or updates the contact identified by WaID, or by
	// UserID when WaID is empty. Both empty is an error.
	UpsertContact(ctx context.Context, c ContactUpsert) (Contact, error)
	GetContact(ctx context.Context, id int64) (Contact, error)
	// SetMarketingPreference records a marketing opt-out (true) or resume
	// (false) of the contact made at the given time. A preference older than
	// the one recorded is ignored (webhooks arrive out of order); it reports
	// whether the contact changed.
	SetMarketingPreference(ctx context.Context, contactID int64, optOut bool, at time.Time) (bool, error)

	// OpenConversation returns the open conversation of the contact on the
	// number, creating it in bot mode when there is none.
	OpenConversation(ctx context.Context, contactID int64, phoneNumberID string) (Conversation, error)
	GetConversation(ctx context.Context, id int64) (Conversation, error)
	ListConversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// SetConversationState replaces the mode and the state of an open
	// conversation; ErrNotFound when it is missing or closed.
	SetConversationState(ctx context.Context, id int64, mode string, state json.RawMessage) error
	CloseConversation(ctx context.Context, id int64) error

	// AcceptInbound stores an inbound message with its contact, the open
	// conversation and, when asked, its turn job, all or nothing. A message
	// whose channel id was stored before returns ErrDuplicate and enqueues
	// nothing.
	AcceptInbound(ctx context.Context, p InboundParams) (Message, error)

	// InsertMessage stores a message. An inbound message whose
	// ChannelMessageID was already stored returns ErrDuplicate and changes
	// nothing.
	InsertMessage(ctx context.Context, m Message) (Message, error)
	GetMessage(ctx context.Context, id int64) (Message, error)
	ListMessages(ctx context.Context, conversationID int64) ([]Message, error)
	// PendingInbound lists the inbound messages of the conversation that no
	// turn has consumed yet, in arrival order.
	PendingInbound(ctx context.Context, conversationID int64) ([]Message, error)
	MarkProcessed(ctx context.Context, ids []int64, at time.Time) error
	// RecordSend marks the outbound message id as accepted by the channel:
	// it records the channel message id (wamid) and the time, and moves the
	// status to sent unless it is already sent or beyond. Recording the same
	// wamid again is a no-op; ErrNotFound when no outbound message has the id;
	// ErrConflict when the message already has another channel id.
	RecordSend(ctx context.Context, id int64, channelMessageID string, at time.Time) error
	// FailOutbound marks the outbound message id as failed for good with the
	// channel's error code and reason (failed is terminal); ErrNotFound when
	// no outbound message has the id.
	FailOutbound(ctx context.Context, id int64, errCode int, errText string) error
	// UpdateMessageStatus applies a status to the message with the channel
	// id, unless the message already has an equal or higher rank. It
	// reports whether the status changed; ErrNotFound when no message has
	// that id.
	UpdateMessageStatus(ctx context.Context, channelMessageID, status string, errCode int, errText string) (bool, error)

	InsertTurn(ctx context.Context, t Turn) (Turn, error)
	ListTurns(ctx context.Context, conversationID int64) ([]Turn, error)
	// ListRecentTurns returns the turns of every conversation passing f,
	// newest first, each with its Input.
	ListRecentTurns(ctx context.Context, f TurnFilter) ([]Turn, error)

	// PutToolSet stores a named document of HTTP tool declarations (the
	// YAML of tools.LoadHTTPTools), replacing the one of that name.
	PutToolSet(ctx context.Context, name string, body []byte) (ToolSet, error)
	// ListToolSets returns every tool set, by name.
	ListToolSets(ctx context.Context) ([]ToolSet, error)
	// DeleteToolSet removes a tool set; ErrNotFound when there is none.
	DeleteToolSet(ctx context.Context, name string) error

	Knowledge
	Users
	Inbox
	Privacy
	Segments
	Contents
	Campaigns // campaigns.go
	Outbox    // outbox.go
}

// ToolSet is a document of HTTP tools an integrator declared through the
// admin API; every instance loads the stored sets at start.
type ToolSet struct {
	Name      string
	Body      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is a database holding yanit's records.
type Store interface {
	Queries

	// InTx runs fn in one transaction: every write in it lands, or none.
	InTx(ctx context.Context, fn func(tx Queries) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Migrate applies the pending migrations, forward only.
	Migrate(ctx context.Context) error
	// MigrationStatus reports the applied and the newest known version.
	MigrationStatus(ctx context.Context) (current, latest int64, err error)
	// Dialect names the implementation: "postgres" or "sqlite".
	Dialect() string
	Close() error
}

// Knowledge is the stored knowledge index: collections of documents, each
// document kept as its chunks with their embeddings, found by vector
// similarity (SearchVector) and by full text (SearchText). The knowledge
// package fuses the two rankings; the store keeps and finds.
//
// Writes are whole: ReplaceDocument swaps a document's version, metadata
// and chunks, in one transaction (joining the enclosing one inside InTx),
// so a search running at the same time sees the old version or the new
// one, never parts of both.
type Knowledge interface {
	// EnsureCollection creates the collection c (Name, Model, Dimensions;
	// CreatedAt is set by the store) or returns the stored one of that
	// name. A stored collection indexed with another model or dimension is
	// an error wrapping ErrConflict that says which model it holds and to
	// run `yanit knowledge reindex`; see KnowledgeCollection.Check.
	EnsureCollection(ctx context.Context, c KnowledgeCollection) (KnowledgeCollection, error)
	// ListCollections returns every collection, by name.
	ListCollections(ctx context.Context) ([]KnowledgeCollection, error)

	// ReplaceDocument stores the version d of a document with its chunks,
	// all or nothing. When the collection holds the document (same
	// Collection and ID) with the same Hash, it changes nothing and
	// reports false; otherwise it deletes the old version's chunks, stores
	// d and chunks, and reports true. A replaced document keeps its
	// CreatedAt. The collection must exist (ErrNotFound otherwise), and
	// every chunk must pass KnowledgeCollection.CheckDocument: an embedding
	// of another dimension than the collection's is an error naming the
	// document and both dimensions.
	ReplaceDocument(ctx context.Context, d KnowledgeDocument, chunks []KnowledgeChunk) (changed bool, err error)
	// DeleteDocument removes a document and its chunks; ErrNotFound when
	// the collection does not hold it.
	DeleteDocument(ctx context.Context, collection, id string) error
	// GetDocument returns a document's stored version, without its
	// chunks; ErrNotFound when there is none.
	GetDocument(ctx context.Context, collection, id string) (KnowledgeDocument, error)
	// ListDocuments returns the documents of a collection, or of every
	// collection when it is "", by collection then ID (byte order).
	ListDocuments(ctx context.Context, collection string) ([]KnowledgeDocument, error)

	// SearchVector returns the chunks passing f whose embeddings are the
	// most similar to v, most similar first: at most f.SearchLimit() of
	// them, each with its cosine similarity as Score, in [-1, 1]. Only
	// chunks whose embeddings have len(v) dimensions are searched; when f
	// names a collection, it must exist (ErrNotFound) and hold embeddings
	// of len(v) dimensions (an error otherwise). A chunk whose embedding
	// is all zeros (the local embedder's for a text without letters or
	// digits) has no direction and is never returned; a zero v finds
	// nothing. Stores may search approximately (an HNSW index): a result
	// may then miss a chunk as similar as one returned, never return one
	// that fails f.
	SearchVector(ctx context.Context, v []float32, f ChunkFilter) ([]ChunkHit, error)
	// SearchText returns the chunks passing f whose document title,
	// section or text hold any of the words of query, best first (a
	// store may look among the chunks holding all of them first, and
	// widen to any only when those are fewer than the limit), at most
	// f.SearchLimit() of them; Score is the store's relevance: higher is
	// better, comparable only within one result. Words are matched in
	// the document's language as each store can: PostgreSQL stems Turkish
	// and English; SQLite folds case and diacritics. An empty query is an
	// error; a query without a word to match finds nothing. When f names a
	// collection, it must exist (ErrNotFound).
	SearchText(ctx context.Context, query string, f ChunkFilter) ([]ChunkHit, error)

	// ListChunks returns the chunks of a stored document, by ordinal,
	// without their embeddings (Embedding is nil); ErrNotFound when the
	// collection does not hold the document.
	ListChunks(ctx context.Context, collection, documentID string) ([]KnowledgeChunk, error)
	// SetCollectionModel records that the stored collection c.Name is
	// indexed with c.Model and c.Dimensions from now on (CreatedAt is
	// kept); ErrNotFound when there is none, and c must pass Validate.
	// It changes no chunk: chunks of the old dimension stay until they are
	// replaced, so a reindex calls it in the transaction that replaces
	// every document of the collection (knowledge.Reindex).
	SetCollectionModel(ctx context.Context, c KnowledgeCollection) error
}

// KnowledgeCollection is a named set of documents embedded with one model,
// so that every embedding in it has Dimensions values. A collection keeps
// its model and dimension for good: embedding with another model means
// indexing the collection again (`yanit knowledge reindex`).
type KnowledgeCollection struct {
	Name       string
	Model      string // the embedding model, as the llm provider names it
	Dimensions int
	CreatedAt  time.Time
}

// MaxDimensions is the longest embedding a collection may hold, the limit
// of pgvector's vector type.
const MaxDimensions = 16000

// Validate reports what makes c unfit to be created: a missing name or
// model, or a dimension outside 1 to MaxDimensions.
func (c KnowledgeCollection) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("the collection's name is empty")
	case c.Model == "":
		return fmt.Errorf("collection %q: the embedding model is empty", c.Name)
	case c.Dimensions < 1 || c.Dimensions > MaxDimensions:
		return fmt.Errorf("collection %q: %d dimensions, want 1 to %d", c.Name, c.Dimensions, MaxDimensions)
	}
	return nil
}

// Check reports, as an error wrapping ErrConflict, that the stored
// collection c was indexed with another model or dimension than want. The
// stores return it from EnsureCollection.
func (c KnowledgeCollection) Check(want KnowledgeCollection) error {
	if c.Model == want.Model && c.Dimensions == want.Dimensions {
		return nil
	}
	return fmt.Errorf("%w: knowledge collection %q was indexed with model %s (%d dims), not %s (%d dims); "+
		"run `yanit knowledge reindex` to embed it again with the new model",
		ErrConflict, c.Name, c.Model, c.Dimensions, want.Model, want.Dimensions)
}

// CheckDocument reports what keeps the collection c from holding document
// d with chunks: d must name c and have an ID and a Hash; it must have
// chunks, each with text, an Ordinal of 1 or more that no other chunk of d
// has, and an embedding of c's dimension with finite values. The stores
// call it before they write.
func (c KnowledgeCollection) CheckDocument(d KnowledgeDocument, chunks []KnowledgeChunk) error {
	switch {
	case d.Collection != c.Name:
		return fmt.Errorf("document %q of collection %q checked against collection %q", d.ID, d.Collection, c.Name)
	case d.ID == "":
		return fmt.Errorf("a document of collection %q has an empty ID", c.Name)
	case d.Hash == "":
		return fmt.Errorf("document %q: the hash is empty", d.ID)
	case len(chunks) == 0:
		return fmt.Errorf("document %q has no chunks", d.ID)
	}
	seen := make(map[int]bool, len(chunks))
	for _, ch := range chunks {
		switch {
		case ch.Ordinal < 1:
			return fmt.Errorf("document %q: chunk ordinal %d, want 1 or more", d.ID, ch.Ordinal)
		case seen[ch.Ordinal]:
			return fmt.Errorf("document %q: two chunks have ordinal %d", d.ID, ch.Ordinal)
		case strings.TrimSpace(ch.Text) == "":
			return fmt.Errorf("document %q: chunk %d has no text", d.ID, ch.Ordinal)
		case len(ch.Embedding) != c.Dimensions:
			return fmt.Errorf("document %q: chunk %d has an embedding of %d dimensions; collection %q holds %d",
				d.ID, ch.Ordinal, len(ch.Embedding), c.Name, c.Dimensions)
		}
		if err := CheckVector(ch.Embedding); err != nil {
			return fmt.Errorf("document %q: chunk %d: %w", d.ID, ch.Ordinal, err)
		}
		seen[ch.Ordinal] = true
	}
	return nil
}

// CheckVector reports what makes v unfit to store or to search with: no
// values, or a value that is NaN or infinite.
func CheckVector(v []float32) error {
	if len(v) == 0 {
		return errors.New("the embedding is empty")
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("the embedding's value %d is %v", i, x)
		}
	}
	return nil
}

// KnowledgeDocument is the stored version of one document of a collection:
// its metadata and the number of its chunks.
type KnowledgeDocument struct {
	Collection string
	ID         string // unique in the collection, e.g. the file's path
	Title      string
	Source     string // the URI or file name a citation shows
	Language   string // "tr", "en", …: the language of its full-text search
	Tags       []string
	Version    string // the caller's label of the version, kept as given
	// Hash fingerprints the version: ReplaceDocument stores a document
	// again only when its Hash changed, so it must cover everything the
	// caller stores (text, metadata, chunking, model).
	Hash      string
	Chunks    int       // the number of chunks stored; set by the store
	CreatedAt time.Time // when the ID was first stored in the collection
	UpdatedAt time.Time // when this version was stored
}

// KnowledgeChunk is one piece of a document, as indexed.
type KnowledgeChunk struct {
	Ordinal   int    // its place in the document, from 1
	Section   string // heading path, "Returns > Refunds"
	Text      string
	Tokens    int       // the chunker's count, kept as given
	Embedding []float32 // of the collection's dimension
	// Tags are the chunk's own tags (a FAQ row's), besides its
	// document's: a filter on tags sees the chunk with both.
	Tags []string
}

// Chunk searches return DefaultChunkLimit hits when the filter sets no
// Limit, and never more than MaxChunkLimit.
const (
	DefaultChunkLimit = 10
	MaxChunkLimit     = 1000
)

// ChunkFilter narrows a chunk search. Empty fields match all.
type ChunkFilter struct {
	Collection string
	Language   string   // the document's language, exactly
	Tags       []string // a chunk must have all of them, its own or its document's
	Limit      int      // see SearchLimit
}

// SearchLimit is the number of hits a search with f returns at most:
// Limit, DefaultChunkLimit when it is 0, MaxChunkLimit when it is more. A
// negative Limit is an error.
func (f ChunkFilter) SearchLimit() (int, error) {
	switch {
	case f.Limit < 0:
		return 0, fmt.Errorf("the limit %d is negative", f.Limit)
	case f.Limit == 0:
		return DefaultChunkLimit, nil
	}
	return min(f.Limit, MaxChunkLimit), nil
}

// ChunkHit is a chunk a search found, with what a citation needs.
type ChunkHit struct {
	Collection string
	DocumentID string
	Title      string
	Source     string
	Language   string
	Section    string
	Text       string
	Ordinal    int
	Score      float64 // cosine similarity, or the text search's relevance
}

// CheckLimit returns the limit f asks for, MaxRecentTurns for 0, or an
// error naming a limit out of range.
func (f TurnFilter) CheckLimit() (int, error) {
	switch {
	case f.Limit == 0:
		return MaxRecentTurns, nil
	case f.Limit < 0 || f.Limit > MaxRecentTurns:
		return 0, fmt.Errorf("limit %d: want 1 to %d", f.Limit, MaxRecentTurns)
	}
	return f.Limit, nil
}
