// Package config loads yanit's settings: a YAML file, then YANIT_*
// environment variables (key whatsapp.app_secret ↔ YANIT_WHATSAPP_APP_SECRET),
// then defaults. Load is the only place that touches viper; everything else
// receives the typed, validated Config.
package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Config is the effective configuration of one yanit process.
type Config struct {
	HTTP     HTTP     `mapstructure:"http" yaml:"http"`
	Database Database `mapstructure:"database" yaml:"database"`
	// DataDir holds the embedded SQLite file when no database URL is set.
	DataDir  string   `mapstructure:"data_dir" yaml:"data_dir"`
	WhatsApp WhatsApp `mapstructure:"whatsapp" yaml:"whatsapp"`
	LLM      LLM      `mapstructure:"llm" yaml:"llm"`
	Tools    Tools    `mapstructure:"tools" yaml:"tools"`
	// Assistants map business numbers to their assistant. Empty: one demo
	// assistant answers whatsapp.phone_number_id.
	Assistants []Assistant `mapstructure:"assistants" yaml:"assistants"`
	Inbox      Inbox       `mapstructure:"inbox" yaml:"inbox"`
	Privacy    Privacy     `mapstructure:"privacy" yaml:"privacy"`
	Campaigns  Campaigns   `mapstructure:"campaigns" yaml:"campaigns"`
	Jobs       Jobs        `mapstructure:"jobs" yaml:"jobs"`
	Log        Log         `mapstructure:"log" yaml:"log"`
}

// Inbox configures live support: when the teams answer, and what a
// waiting user hears.
type Inbox struct {
	// Hours are the default team's business hours, and every team's
	// without its own; no days means always open.
	Hours Hours `mapstructure:"hours" yaml:"hours"`
	// Teams are the business hours of teams that differ, by team name.
	Teams map[string]Hours `mapstructure:"teams" yaml:"teams"`
	// WaitNoticeEvery is the time between notices of a user's place in the
	// queue and the expected wait; 0 sends none.
	WaitNoticeEvery time.Duration `mapstructure:"wait_notice_every" yaml:"wait_notice_every"`
	// MaxWaitNotices bounds them per ticket.
	MaxWaitNotices int `mapstructure:"max_wait_notices" yaml:"max_wait_notices"`
	// Assignment is how a waiting ticket finds an agent: manual (agents
	// claim), round_robin or least_loaded among the team's agents with
	// the inbox open.
	Assignment string `mapstructure:"assignment" yaml:"assignment"`
	// CSAT asks the user to rate a resolved ticket with three faces.
	CSAT bool `mapstructure:"csat" yaml:"csat"`
	// Routing sends handoffs to teams with priorities: the first rule
	// whose reason and intent match decides.
	Routing []Route `mapstructure:"routing" yaml:"routing"`
	// ReopenWithin gives a user who writes again this soon after their
	// ticket was resolved back to the same agent; 0: the bot answers.
	ReopenWithin time.Duration `mapstructure:"reopen_within" yaml:"reopen_within"`
}

// Route is a routing rule of handoffs: a handoff reason
// (person_requested, tool_failed, …) and/or an intent, and the team and
// priority (higher first) of the ticket.
type Route struct {
	Reason   string `mapstructure:"reason" yaml:"reason"`
	Intent   string `mapstructure:"intent" yaml:"intent"`
	Team     string `mapstructure:"team" yaml:"team"`
	Priority int    `mapstructure:"priority" yaml:"priority"`
}

// Hours are business hours: an IANA time zone, a span per weekday by its
// English three-letter name ("mon": "09:00-18:00"; a day left out is
// closed) and holidays as dates ("2026-10-29").
type Hours struct {
	TimeZone string            `mapstructure:"time_zone" yaml:"time_zone"`
	Days     map[string]string `mapstructure:"days" yaml:"days"`
	Holidays []string          `mapstructure:"holidays" yaml:"holidays"`
}

// HTTP configures the HTTP server.
type HTTP struct {
	Addr            string        `mapstructure:"addr" yaml:"addr"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" yaml:"shutdown_timeout"`
	// MaxBodyBytes caps request bodies but knowledge uploads'.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes" yaml:"max_body_bytes"`
	// MaxUploadBytes caps a knowledge upload (many files in one request).
	MaxUploadBytes int64 `mapstructure:"max_upload_bytes" yaml:"max_upload_bytes"`
	// TrustedProxies are the addresses or CIDRs of the reverse proxies
	// whose X-Forwarded-For names the client (sign-in limits, logs); empty
	// trusts none and takes the connection's address.
	TrustedProxies []string `mapstructure:"trusted_proxies" yaml:"trusted_proxies"`
}

// Privacy configures how personal data is found and kept. Consent modes
// and retention are per assistant (its definition's privacy section).
type Privacy struct {
	// Region reads phone numbers written without a country code (ISO
	// 3166 code, TR by default).
	Region string `mapstructure:"region" yaml:"region"`
	// Patterns are the organisation's own kinds of personal data (a
	// customer number, a policy number), kept from models, logs and
	// traces like the built-in ones.
	Patterns []PIIPattern `mapstructure:"patterns" yaml:"patterns"`
	// EncryptionKeys, when set, encrypts message bodies at rest with
	// AES-256-GCM: "id:base64key,id:base64key", the first key seals, the
	// others only open what they sealed (key rotation: docs/privacy.md).
	// Set it in the environment (YANIT_PRIVACY_ENCRYPTION_KEYS).
	EncryptionKeys string `mapstructure:"encryption_keys" yaml:"encryption_keys" secret:"true"`
	// RetentionEvery is how often the retention job clears what the
	// assistants' retention_days let go.
	RetentionEvery time.Duration `mapstructure:"retention_every" yaml:"retention_every"`
}

// PIIPattern is a custom kind of personal data: its name in placeholders
// ([CUSTOMER_NO_1]) and a regular expression (RE2) finding it.
type PIIPattern struct {
	Kind  string `mapstructure:"kind" yaml:"kind"`
	Regex string `mapstructure:"regex" yaml:"regex"`
}

// Database selects the store: PostgreSQL when URL is set, else SQLite in DataDir.
type Database struct {
	URL string `mapstructure:"url" yaml:"url" secret:"url"`
}

// WhatsApp configures the Cloud API channel.
type WhatsApp struct {
	GraphURL      string `mapstructure:"graph_url" yaml:"graph_url"`
	APIVersion    string `mapstructure:"api_version" yaml:"api_version"`
	PhoneNumberID string `mapstructure:"phone_number_id" yaml:"phone_number_id"`
	AccessToken   string `mapstructure:"access_token" yaml:"access_token" secret:"true"`
	AppSecret     string `mapstructure:"app_secret" yaml:"app_secret" secret:"true"`
	VerifyToken   string `mapstructure:"verify_token" yaml:"verify_token" secret:"true"`
	// RatePerSecond caps sends per business number in this process (Meta's
	// default throughput is 80 messages per second).
	RatePerSecond float64 `mapstructure:"rate_per_second" yaml:"rate_per_second"`
	// Templates are the message templates Meta approved for the account:
	// what agents may send outside the 24-hour window.
	Templates []Template `mapstructure:"templates" yaml:"templates"`
}

// Template is an approved message template: its name and language as
// Meta knows them, its category, and its body with {{1}}, {{2}}, …
// placeholders, the parameters a send fills in.
type Template struct {
	Name     string `mapstructure:"name" yaml:"name"`
	Language string `mapstructure:"language" yaml:"language"`
	Category string `mapstructure:"category" yaml:"category"` // utility, marketing, authentication
	Body     string `mapstructure:"body" yaml:"body"`
}

// Assistant is one assistant and the business numbers it answers.
type Assistant struct {
	Name           string   `mapstructure:"name" yaml:"name"`
	PhoneNumberIDs []string `mapstructure:"phone_number_ids" yaml:"phone_number_ids"`
	// File is the assistant definition (YAML: intents, slots, tools,
	// messages, policy); empty: the demo retailer shipped in the binary.
	File string `mapstructure:"file" yaml:"file"`
	// KnowledgeDir is a folder of Markdown and text files the assistant
	// answers from; empty with an empty File: the demo's knowledge.
	KnowledgeDir string `mapstructure:"knowledge_dir" yaml:"knowledge_dir"`
}

// LLM selects the model provider: local (offline, the default) or openai
// (any OpenAI-compatible endpoint: OpenAI, Azure OpenAI, vLLM, Ollama,
// llama.cpp server).
type LLM struct {
	Provider string `mapstructure:"provider" yaml:"provider"`
	BaseURL  string `mapstructure:"base_url" yaml:"base_url"`
	APIKey   string `mapstructure:"api_key" yaml:"api_key" secret:"true"`
	// APIType is openai or azure (Azure OpenAI: deployments in the path,
	// api-key header, api-version query).
	APIType    string `mapstructure:"api_type" yaml:"api_type"`
	APIVersion string `mapstructure:"api_version" yaml:"api_version"`
	ChatModel  string `mapstructure:"chat_model" yaml:"chat_model"`
	// EmbeddingModel and EmbeddingDimensions describe the vectors; the
	// dimension must match the model's.
	EmbeddingModel      string        `mapstructure:"embedding_model" yaml:"embedding_model"`
	EmbeddingDimensions int           `mapstructure:"embedding_dimensions" yaml:"embedding_dimensions"`
	Timeout             time.Duration `mapstructure:"timeout" yaml:"timeout"`
	MaxRetries          int           `mapstructure:"max_retries" yaml:"max_retries"`
}

// Tools configures the tools assistants call besides the demo's.
type Tools struct {
	// File declares HTTP tools and their backends (YAML; see
	// configs/demo-tools.yaml). Secrets are named there by environment
	// variable, never written in it.
	File string `mapstructure:"file" yaml:"file"`
}

// Campaigns configures broadcasts: who may receive each category of
// template, and the pace.
type Campaigns struct {
	// MarketingRequires is who receives marketing templates: consent (a
	// granted marketing consent is the contact's current one; the default)
	// or not_opted_out (anyone who did not stop marketing messages).
	MarketingRequires string `mapstructure:"marketing_requires" yaml:"marketing_requires"`
	// UtilityRequires is who receives utility and authentication
	// templates: not_opted_out (the default) or any.
	UtilityRequires string `mapstructure:"utility_requires" yaml:"utility_requires"`
	// DailyUniqueLimit is the business portfolio's messaging limit: the
	// unique users campaigns may reach in 24 hours (250, 2000, 10000,
	// 100000); 0 is unlimited. Recipients past it wait, they are not
	// skipped.
	DailyUniqueLimit int `mapstructure:"daily_unique_limit" yaml:"daily_unique_limit"`
	// BatchSize is how many recipients one transaction queues.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size"`
	// Backlog bounds the outbox: a campaign queues more messages only
	// while fewer send jobs than this wait, so that the replies of the
	// assistant and the agents never queue behind a whole campaign. 0 is
	// two seconds of whatsapp.rate_per_second.
	Backlog int `mapstructure:"backlog" yaml:"backlog"`
}

// Jobs tunes the background job runner.
type Jobs struct {
	Concurrency  int           `mapstructure:"concurrency" yaml:"concurrency"`
	PollInterval time.Duration `mapstructure:"poll_interval" yaml:"poll_interval"`
	Lease        time.Duration `mapstructure:"lease" yaml:"lease"`
}

// Log configures logging.
type Log struct {
	Level  string `mapstructure:"level" yaml:"level"`   // debug, info, warn, error
	Format string `mapstructure:"format" yaml:"format"` // text or json
}

// Default returns the defaults every key falls back to.
func Default() Config {
	return Config{
		HTTP:    HTTP{Addr: ":8080", ShutdownTimeout: 15 * time.Second, MaxBodyBytes: 1 << 20, MaxUploadBytes: 32 << 20},
		DataDir: "./data",
		WhatsApp: WhatsApp{
			GraphURL:      "https://graph.facebook.com",
			APIVersion:    "v24.0",
			RatePerSecond: 80,
		},
		LLM:       LLM{Provider: "local", APIType: "openai", Timeout: 30 * time.Second, MaxRetries: 3},
		Inbox:     Inbox{Hours: Hours{TimeZone: "Europe/Istanbul"}, WaitNoticeEvery: 3 * time.Minute, MaxWaitNotices: 3, Assignment: "manual", CSAT: true},
		Privacy:   Privacy{Region: "TR", RetentionEvery: time.Hour},
		Campaigns: Campaigns{MarketingRequires: "consent", UtilityRequires: "not_opted_out", BatchSize: 500},
		Jobs:      Jobs{Concurrency: 8, PollInterval: 250 * time.Millisecond, Lease: 30 * time.Second},
		Log:       Log{Level: "info", Format: "text"},
	}
}

var piiKind = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// Mode says which checks Validate applies.
type Mode int

const (
	// Serve requires the production secrets.
	Serve Mode = iota
	// Dev accepts missing secrets: the caller generates dev ones.
	Dev
	// Tool is for commands that only need the store (migrate, config print).
	Tool
)

// Load reads the file at path (optional when empty), then the environment,
// then the defaults, and validates the result for mode. A YAML key the
// Config does not know is an error, so a typo never passes silently.
func Load(path string, defaults Config, mode Mode) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix("YANIT")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	setDefaults(v, defaults)
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", path, err)
		}
	}
	var cfg Config
	err := v.UnmarshalExact(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return Config{}, fmt.Errorf("config: %s", cleanDecodeError(err))
	}
	if err := cfg.Validate(mode); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// setDefaults registers every key with its default, which also lets
// AutomaticEnv find the YANIT_* variable of every key.
func setDefaults(v *viper.Viper, d Config) {
	var m map[string]any
	if err := mapstructure.Decode(d, &m); err != nil {
		panic(err) // Config is a fixed struct of plain fields: cannot fail
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, val := range m {
			if sub, ok := val.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			v.SetDefault(prefix+k, val)
		}
	}
	walk("", m)
}

func cleanDecodeError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "decoding failed due to the following error(s):\n\n")
	return strings.ReplaceAll(msg, "\n", "; ")
}

// FieldError names a bad configuration key and what is wrong with it.
type FieldError struct {
	Key     string
	Problem string
}

func (e *FieldError) Error() string {
	env := "YANIT_" + strings.ToUpper(strings.ReplaceAll(e.Key, ".", "_"))
	return fmt.Sprintf("config: %s: %s (set %s or %s in the config file)", e.Key, e.Problem, e.Key, env)
}

// Validate checks the config for mode and returns the first problem found.
func (c Config) Validate(mode Mode) error {
	bad := func(key, problem string) error { return &FieldError{Key: key, Problem: problem} }
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return bad("http.addr", fmt.Sprintf("%q is not host:port", c.HTTP.Addr))
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		return bad("http.shutdown_timeout", "must be a positive duration such as 15s")
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		return bad("http.max_body_bytes", "must be at least 1024")
	}
	if c.Database.URL != "" {
		u, err := url.Parse(c.Database.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return bad("database.url", "must be a postgres:// URL with a host")
		}
	} else if c.DataDir == "" {
		return bad("data_dir", "is required when database.url is empty (the embedded SQLite file lives there)")
	}
	if u, err := url.Parse(c.WhatsApp.GraphURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return bad("whatsapp.graph_url", "must be an http(s) URL")
	}
	if !strings.HasPrefix(c.WhatsApp.APIVersion, "v") {
		return bad("whatsapp.api_version", fmt.Sprintf("%q must look like v23.0", c.WhatsApp.APIVersion))
	}
	if c.WhatsApp.RatePerSecond <= 0 || c.WhatsApp.RatePerSecond > 1000 {
		return bad("whatsapp.rate_per_second", "must be above 0 and at most 1000 (Meta's highest tier)")
	}
	seen := map[string]string{}
	for i, a := range c.Assistants {
		key := fmt.Sprintf("assistants[%d]", i)
		if a.Name == "" {
			return bad(key+".name", "is required")
		}
		if len(a.PhoneNumberIDs) == 0 {
			return bad(key+".phone_number_ids", "needs at least one business number")
		}
		for _, id := range a.PhoneNumberIDs {
			if other, dup := seen[id]; dup {
				return bad(key+".phone_number_ids", fmt.Sprintf("number %s is already answered by %s", id, other))
			}
			seen[id] = a.Name
		}
	}
	switch c.LLM.Provider {
	case "local":
	case "openai":
		if u, err := url.Parse(c.LLM.BaseURL); c.LLM.BaseURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			return bad("llm.base_url", "must be an http(s) URL such as https://api.openai.com/v1")
		}
		if c.LLM.ChatModel == "" {
			return bad("llm.chat_model", "is required with provider openai")
		}
		if c.LLM.APIType != "openai" && c.LLM.APIType != "azure" {
			return bad("llm.api_type", fmt.Sprintf("%q is not openai or azure", c.LLM.APIType))
		}
		if c.LLM.APIType == "azure" && (c.LLM.BaseURL == "" || c.LLM.APIVersion == "") {
			return bad("llm.api_version", "azure needs llm.base_url (the resource endpoint) and llm.api_version")
		}
		if c.LLM.EmbeddingModel != "" && c.LLM.EmbeddingDimensions <= 0 {
			return bad("llm.embedding_dimensions", "must be set with llm.embedding_model (e.g. 1536)")
		}
	default:
		return bad("llm.provider", fmt.Sprintf("%q is not local or openai", c.LLM.Provider))
	}
	if c.LLM.Timeout <= 0 {
		return bad("llm.timeout", "must be a positive duration such as 30s")
	}
	if c.LLM.MaxRetries < 0 || c.LLM.MaxRetries > 10 {
		return bad("llm.max_retries", "must be between 0 and 10")
	}
	switch {
	case c.Campaigns.MarketingRequires != "consent" && c.Campaigns.MarketingRequires != "not_opted_out":
		return bad("campaigns.marketing_requires", fmt.Sprintf("%q: want consent or not_opted_out", c.Campaigns.MarketingRequires))
	case c.Campaigns.UtilityRequires != "any" && c.Campaigns.UtilityRequires != "not_opted_out":
		return bad("campaigns.utility_requires", fmt.Sprintf("%q: want any or not_opted_out", c.Campaigns.UtilityRequires))
	case c.Campaigns.DailyUniqueLimit < 0:
		return bad("campaigns.daily_unique_limit", "must be 0 (unlimited) or more")
	case c.Campaigns.BatchSize < 1 || c.Campaigns.BatchSize > 1000:
		return bad("campaigns.batch_size", "must be between 1 and 1000")
	case c.Campaigns.Backlog < 0:
		return bad("campaigns.backlog", "must be 0 (two seconds of sends) or more")
	}
	if c.Jobs.Concurrency < 1 || c.Jobs.Concurrency > 1024 {
		return bad("jobs.concurrency", "must be between 1 and 1024")
	}
	if c.Jobs.PollInterval <= 0 {
		return bad("jobs.poll_interval", "must be a positive duration")
	}
	if c.Jobs.Lease < time.Second {
		return bad("jobs.lease", "must be at least 1s")
	}
	if len(c.Privacy.Region) != 2 || strings.ToUpper(c.Privacy.Region) != c.Privacy.Region {
		return bad("privacy.region", fmt.Sprintf("%q is not a two-letter region code such as TR", c.Privacy.Region))
	}
	for i, p := range c.Privacy.Patterns {
		key := fmt.Sprintf("privacy.patterns[%d]", i)
		if !piiKind.MatchString(p.Kind) {
			return bad(key+".kind", fmt.Sprintf("%q must be upper-case letters, digits and _ (it names placeholders)", p.Kind))
		}
		if p.Regex == "" {
			return bad(key+".regex", "is required")
		}
		if _, err := regexp.Compile(p.Regex); err != nil {
			return bad(key+".regex", fmt.Sprintf("%q is not a regular expression: %v", p.Regex, err))
		}
	}
	if c.Privacy.RetentionEvery < time.Minute {
		return bad("privacy.retention_every", "must be at least 1m")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", fmt.Sprintf("%q is not one of debug, info, warn, error", c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return bad("log.format", fmt.Sprintf("%q is not text or json", c.Log.Format))
	}
	if mode == Serve {
		required := []struct{ key, val string }{
			{"whatsapp.phone_number_id", c.WhatsApp.PhoneNumberID},
			{"whatsapp.access_token", c.WhatsApp.AccessToken},
			{"whatsapp.app_secret", c.WhatsApp.AppSecret},
			{"whatsapp.verify_token", c.WhatsApp.VerifyToken},
		}
		for _, r := range required {
			if r.val == "" {
				return bad(r.key, "is required")
			}
		}
	}
	return nil
}
