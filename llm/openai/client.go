package openai

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/llm"
)

// Default backoff between attempts: the first retry waits up to
// defaultBackoffBase, each later one up to twice as long, never more than
// defaultBackoffMax.
const (
	defaultBackoffBase = 500 * time.Millisecond
	defaultBackoffMax  = 20 * time.Second
)

var (
	_ llm.Chatter  = (*Client)(nil)
	_ llm.Embedder = (*Client)(nil)
)

// Client talks to one OpenAI-compatible endpoint with one API key. Build it
// with New; it is safe for concurrent use.
type Client struct {
	api         *goopenai.Client
	apiKey      string
	baseURL     string
	chatModel   string
	embedModel  string
	dimensions  int
	timeout     time.Duration
	maxRetries  int
	backoffBase time.Duration
	backoffMax  time.Duration
	httpClient  *http.Client
	log         *slog.Logger
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient sends requests through h instead of a default
// http.Client. Timeouts come from the configuration, per attempt; h needs
// none of its own.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.httpClient = h }
}

// WithLogger logs retries to l. Without it the Client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// WithBackoff sets the backoff between attempts: the wait before retry n is
// drawn uniformly from [0, min(maxWait, base·2ⁿ⁻¹)). Tests use it to keep
// waits tiny; a Retry-After header from the server takes precedence.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.backoffBase, c.backoffMax = base, maxWait }
}

// New returns a Client for the endpoint c describes. An empty BaseURL is
// OpenAI's (https://api.openai.com/v1); APIType azure addresses the
// deployment named like the model, sends the key in the api-key header and
// APIVersion as the api-version query parameter.
func New(c config.LLM, opts ...Option) (*Client, error) {
	cl := &Client{
		apiKey:      c.APIKey,
		baseURL:     c.BaseURL,
		chatModel:   c.ChatModel,
		embedModel:  c.EmbeddingModel,
		dimensions:  c.EmbeddingDimensions,
		timeout:     c.Timeout,
		maxRetries:  c.MaxRetries,
		backoffBase: defaultBackoffBase,
		backoffMax:  defaultBackoffMax,
		httpClient:  &http.Client{},
		log:         slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(cl)
	}
	switch {
	case c.Timeout <= 0:
		return nil, errors.New("openai: llm.timeout must be a positive duration")
	case c.MaxRetries < 0:
		return nil, errors.New("openai: llm.max_retries must not be negative")
	case c.EmbeddingModel != "" && c.EmbeddingDimensions <= 0:
		return nil, errors.New("openai: llm.embedding_dimensions must be set with llm.embedding_model")
	case cl.backoffBase <= 0 || cl.backoffMax < cl.backoffBase:
		return nil, errors.New("openai: backoff needs 0 < base <= max")
	}

	var gc goopenai.ClientConfig
	switch c.APIType {
	case "", "openai":
		gc = goopenai.DefaultConfig(c.APIKey)
		if c.BaseURL != "" {
			gc.BaseURL = c.BaseURL
		}
	case "azure":
		if c.BaseURL == "" || c.APIVersion == "" {
			return nil, errors.New("openai: azure needs llm.base_url (the resource endpoint) and llm.api_version")
		}
		gc = goopenai.DefaultAzureConfig(c.APIKey, c.BaseURL)
		gc.APIVersion = c.APIVersion
		// The deployment is named like the model, verbatim: go-openai's
		// default mapper would strip dots from "gpt-3.5" names.
		gc.AzureModelMapperFunc = func(model string) string { return model }
	default:
		return nil, fmt.Errorf("openai: llm.api_type %q is not openai or azure", c.APIType)
	}
	gc.HTTPClient = exchangeDoer{next: cl.httpClient}
	cl.api = goopenai.NewClientWithConfig(gc)
	return cl, nil
}

// EmbeddingModel names the configured embedding model.
func (c *Client) EmbeddingModel() string { return c.embedModel }

// Dimensions is the configured length of every embedding vector.
func (c *Client) Dimensions() int { return c.dimensions }

// String describes c without its API key, so that logging a Client is safe.
func (c *Client) String() string {
	return fmt.Sprintf("openai.Client{BaseURL: %q, ChatModel: %q, EmbeddingModel: %q, APIKey: [redacted]}",
		c.baseURL, c.chatModel, c.embedModel)
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }
