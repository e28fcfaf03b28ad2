package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// HTTPOptions are the dependencies of the tools LoadHTTPTools makes.
type HTTPOptions struct {
	// Client sends the requests; nil means a client on
	// http.DefaultTransport. The tools use a copy that never follows
	// redirects: a redirected request would lose its signature.
	Client *http.Client
	// Logger receives failed calls and breaker changes; nil discards them.
	Logger *slog.Logger
	// Now is the clock of signatures, breakers and log throttling; nil
	// means time.Now.
	Now func() time.Time
}

// MinSigningSecret is the shortest signing secret a backend may have, in
// bytes.
const MinSigningSecret = 16

// httpFile is the YAML document of HTTP tools.
type httpFile struct {
	Backends []httpBackendConfig `yaml:"backends"`
	Tools    []httpToolConfig    `yaml:"tools"`
}

type httpBackendConfig struct {
	Name             string            `yaml:"name"`
	BaseURL          string            `yaml:"base_url"`
	SigningSecretEnv string            `yaml:"signing_secret_env"`
	Headers          map[string]string `yaml:"headers"`
	Timeout          string            `yaml:"timeout"`
	Breaker          struct {
		Failures int    `yaml:"failures"`
		Cooldown string `yaml:"cooldown"`
	} `yaml:"breaker"`
}

type httpToolConfig struct {
	Name        string            `yaml:"name"`
	Backend     string            `yaml:"backend"`
	Description map[string]string `yaml:"description"`
	Parameters  any               `yaml:"parameters"`
	Method      string            `yaml:"method"`
	Path        string            `yaml:"path"`
	Query       map[string]string `yaml:"query"`
	Body        any               `yaml:"body"`
	Mutates     *bool             `yaml:"mutates"`
	Idempotent  *bool             `yaml:"idempotent"`
	Timeout     string            `yaml:"timeout"`
	Response    struct {
		User  []string `yaml:"user"`
		Agent []string `yaml:"agent"`
	} `yaml:"response"`
}

var (
	backendNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	envNamePattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envRefPattern      = regexp.MustCompile(`\$\{([^}]*)\}`)
	headerNamePattern  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// placeholderPattern is a query or body value that stands for an
	// argument.
	placeholderPattern = regexp.MustCompile(`^\{([^{}]*)\}$`)
	pathParamPattern   = regexp.MustCompile(`\{([^{}]*)\}`)
)

// httpMethods are the methods a tool may use.
var httpMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// reservedHeaders are set by yanit on every request; a backend may not set
// them.
var reservedHeaders = []string{SignatureHeader, "User-Agent", "Content-Type", "Content-Length", "Host"}

// LoadHTTPTools reads HTTP tools declared in YAML (the format is in the
// package documentation) and returns them in the order declared, each an
// *HTTPTool ready for Registry.Register. env looks up environment
// variables (os.LookupEnv in production; nil means os.LookupEnv).
//
// The error names the place of the first problem
// ("tools[order_status].path: {order} is not a parameter"). Neither errors
// nor logs ever hold a signing secret or the value of a ${VAR}.
func LoadHTTPTools(data []byte, env func(string) (string, bool), opts HTTPOptions) ([]Tool, error) {
	if env == nil {
		env = os.LookupEnv
	}
	opts = opts.withDefaults()
	var f httpFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading HTTP tools: %w", err)
	}
	backends := make(map[string]*Backend, len(f.Backends))
	for i, bc := range f.Backends {
		b, err := bc.backend(i, env, opts)
		if err != nil {
			return nil, fmt.Errorf("loading HTTP tools: %w", err)
		}
		if _, dup := backends[b.name]; dup {
			return nil, fmt.Errorf("loading HTTP tools: backends[%s]: declared twice", b.name)
		}
		backends[b.name] = b
	}
	var loaded []Tool
	names := make(map[string]bool, len(f.Tools))
	for i, tc := range f.Tools {
		t, err := tc.tool(i, backends)
		if err != nil {
			return nil, fmt.Errorf("loading HTTP tools: %w", err)
		}
		if names[t.spec.Name] {
			return nil, fmt.Errorf("loading HTTP tools: tools[%s]: declared twice", t.spec.Name)
		}
		names[t.spec.Name] = true
		loaded = append(loaded, t)
	}
	return loaded, nil
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	client := &http.Client{}
	if o.Client != nil {
		c := *o.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = client
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// backend checks the i-th backend and makes it.
func (c *httpBackendConfig) backend(i int, env func(string) (string, bool), opts HTTPOptions) (*Backend, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("backends[%d].name: required", i)
	}
	place := fmt.Sprintf("backends[%s]", c.Name)
	if !backendNamePattern.MatchString(c.Name) {
		return nil, fmt.Errorf("%s.name: must match %s", place, backendNamePattern)
	}
	b := &Backend{
		name:    c.Name,
		headers: make(http.Header),
		masked:  make(http.Header),
		client:  opts.Client,
		logger:  opts.Logger,
		now:     opts.Now,
	}

	if c.BaseURL == "" {
		return nil, fmt.Errorf("%s.base_url: required", place)
	}
	base, _, err := expandEnv(c.BaseURL, env)
	if err != nil {
		return nil, fmt.Errorf("%s.base_url: %w", place, err)
	}
	// The expanded URL is never quoted: a variable may hold more than a
	// host name.
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s.base_url: not a URL", place)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%s.base_url: must be an absolute http or https URL", place)
	case u.User != nil:
		return nil, fmt.Errorf("%s.base_url: must not hold credentials; send them in headers", place)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(base, "?"):
		return nil, fmt.Errorf("%s.base_url: must not have a query or fragment; use a tool's query", place)
	}
	b.baseURL = strings.TrimRight(base, "/")

	switch secretEnv := c.SigningSecretEnv; {
	case secretEnv == "":
		return nil, fmt.Errorf("%s.signing_secret_env: required: every request is signed", place)
	case !envNamePattern.MatchString(secretEnv):
		// Not repeated: someone may have put the secret itself here.
		return nil, fmt.Errorf("%s.signing_secret_env: must be the name of an environment variable (letters, digits, _), not the secret", place)
	default:
		secret, ok := env(secretEnv)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s.signing_secret_env: %s is not set", place, secretEnv)
		case len(secret) < MinSigningSecret:
			return nil, fmt.Errorf("%s.signing_secret_env: %s is shorter than %d bytes", place, secretEnv, MinSigningSecret)
		}
		b.secret = []byte(secret)
	}

	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		hplace := place + ".headers." + name
		if !headerNamePattern.MatchString(name) {
			return nil, fmt.Errorf("%s: not a valid header name", hplace)
		}
		if slices.ContainsFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, name) }) {
			return nil, fmt.Errorf("%s: set by yanit on every request", hplace)
		}
		value, masked, err := expandEnv(c.Headers[name], env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hplace, err)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("%s: the value holds a line break or NUL", hplace)
		}
		b.headers.Set(name, value)
		b.masked.Set(name, maskHeader(name, value, masked, c.Headers[name]))
	}

	if b.timeout, err = positiveDuration(c.Timeout); err != nil {
		return nil, fmt.Errorf("%s.timeout: %w", place, err)
	}
	failures := c.Breaker.Failures
	switch {
	case failures < 0:
		return nil, fmt.Errorf("%s.breaker.failures: %d is negative", place, failures)
	case failures == 0:
		failures = DefaultBreakerFailures
	}
	cooldown, err := positiveDuration(c.Breaker.Cooldown)
	if err != nil {
		return nil, fmt.Errorf("%s.breaker.cooldown: %w", place, err)
	}
	if cooldown == 0 {
		cooldown = DefaultBreakerCooldown
	}
	b.breaker = newBreaker(failures, cooldown, opts.Now)
	return b, nil
}

// expandEnv replaces each ${VAR} in s with its value. masked is s with
// each ${VAR} replaced by "***" instead. Errors name the variable, never
// its value.
func expandEnv(s string, env func(string) (string, bool)) (value, masked string, err error) {
	var v, m strings.Builder
	last := 0
	for _, loc := range envRefPattern.FindAllStringSubmatchIndex(s, -1) {
		name := s[loc[2]:loc[3]]
		if !envNamePattern.MatchString(name) {
			return "", "", errors.New("a ${…} does not hold a variable name (letters, digits, _)")
		}
		val, ok := env(name)
		if !ok {
			return "", "", fmt.Errorf("${%s} not set", name)
		}
		if val == "" {
			return "", "", fmt.Errorf("${%s} is empty", name)
		}
		v.WriteString(s[last:loc[0]])
		m.WriteString(s[last:loc[0]])
		v.WriteString(val)
		m.WriteString("***")
		last = loc[1]
	}
	if strings.Contains(s[last:], "${") {
		return "", "", errors.New("a ${ is not closed")
	}
	v.WriteString(s[last:])
	m.WriteString(s[last:])
	return v.String(), m.String(), nil
}

// maskHeader is how a header shows in DescribeRequest: the values of
// ${VAR}s are masked, and so is a literal credential in a header whose name
// says it holds one (after its scheme: "Bearer ***").
func maskHeader(name, value, masked, raw string) string {
	if masked != value || !sensitiveHeader(name) {
		return masked
	}
	if scheme, _, ok := strings.Cut(raw, " "); ok && strings.EqualFold(name, "Authorization") {
		return scheme + " ***"
	}
	return "***"
}

func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"auth", "token", "key", "secret", "cookie", "password", "session"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// positiveDuration parses an optional duration; "" is 0.
func positiveDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (3s, 500ms)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be positive", s)
	}
	return d, nil
}

// tool checks the i-th tool and makes it.
func (c *httpToolConfig) tool(i int, backends map[string]*Backend) (*HTTPTool, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("tools[%d].name: required", i)
	}
	place := fmt.Sprintf("tools[%s]", c.Name)
	if !namePattern.MatchString(c.Name) {
		return nil, fmt.Errorf("%s.name: must match %s", place, namePattern)
	}
	if c.Backend == "" {
		return nil, fmt.Errorf("%s.backend: required", place)
	}
	b, ok := backends[c.Backend]
	if !ok {
		return nil, fmt.Errorf("%s.backend: unknown backend %q; declare it under backends", place, c.Backend)
	}
	if !hasText(c.Description) {
		return nil, fmt.Errorf("%s.description: required in at least one language (tr, en)", place)
	}
	t := &HTTPTool{backend: b, spec: Spec{Name: c.Name, Description: maps.Clone(c.Description)}}

	if c.Parameters == nil {
		return nil, fmt.Errorf("%s.parameters: required; give at least {type: object}", place)
	}
	params, err := jsonValue(c.Parameters, place+".parameters")
	if err != nil {
		return nil, err
	}
	t.spec.Parameters, err = json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s.parameters: %w", place, err)
	}
	schema, required, err := compileParameters(t.spec.Parameters)
	if err != nil {
		return nil, fmt.Errorf("%s.parameters: %w", place, err)
	}
	t.args = &entry{spec: t.spec, schema: schema, required: required}
	obj, _ := params.(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	t.params = make(map[string]bool, len(props))
	for name := range props {
		t.params[name] = true
	}
	isParam := func(name string) bool { return t.params[name] }

	t.method = strings.ToUpper(c.Method)
	if !slices.Contains(httpMethods, t.method) {
		return nil, fmt.Errorf("%s.method: %q is not one of %s", place, c.Method, strings.Join(httpMethods, ", "))
	}

	if t.path, err = parsePath(c.Path, b.baseURL, isParam, required); err != nil {
		return nil, fmt.Errorf("%s.path: %w", place, err)
	}
	// declared is the "type" a parameter's schema gives, if one.
	declared := func(name string) string {
		p, _ := props[name].(map[string]any)
		s, _ := p["type"].(string)
		return s
	}
	for _, p := range t.path {
		if typ := declared(p.param); typ == "object" || typ == "array" {
			return nil, fmt.Errorf("%s.path: {%s} is an %s; only strings, numbers and booleans go in a path", place, p.param, typ)
		}
	}

	for _, key := range slices.Sorted(maps.Keys(c.Query)) {
		if key == "" {
			return nil, fmt.Errorf("%s.query: a key is empty", place)
		}
		q := queryParam{key: key, value: c.Query[key]}
		if m := placeholderPattern.FindStringSubmatch(q.value); m != nil {
			if !isParam(m[1]) {
				return nil, fmt.Errorf("%s.query.%s: {%s} is not a parameter", place, key, m[1])
			}
			if declared(m[1]) == "object" {
				return nil, fmt.Errorf("%s.query.%s: {%s} is an object; only strings, numbers, booleans and lists of them go in a query", place, key, m[1])
			}
			q.param, q.value = m[1], ""
		}
		t.query = append(t.query, q)
	}

	if c.Body != nil {
		if t.method == http.MethodGet {
			return nil, fmt.Errorf("%s.body: a GET request has no body", place)
		}
		body, err := jsonValue(c.Body, place+".body")
		if err != nil {
			return nil, err
		}
		if _, ok := body.(map[string]any); !ok {
			return nil, fmt.Errorf("%s.body: must be a mapping (a JSON object)", place)
		}
		if t.body, err = bodyTemplate(body, place+".body", isParam); err != nil {
			return nil, err
		}
	}

	// Unless told, a GET only reads and may be repeated; anything else
	// changes state and may not.
	reads := t.method == http.MethodGet
	t.spec.Mutates = !reads
	if c.Mutates != nil {
		t.spec.Mutates = *c.Mutates
	}
	t.spec.Idempotent = reads
	if c.Idempotent != nil {
		t.spec.Idempotent = *c.Idempotent
	}

	if t.spec.Timeout, err = positiveDuration(c.Timeout); err != nil {
		return nil, fmt.Errorf("%s.timeout: %w", place, err)
	}
	if t.spec.Timeout == 0 {
		t.spec.Timeout = b.timeout
	}

	if t.user, err = fieldPaths(c.Response.User); err != nil {
		return nil, fmt.Errorf("%s.response.user: %w", place, err)
	}
	if t.agent, err = fieldPaths(c.Response.Agent); err != nil {
		return nil, fmt.Errorf("%s.response.agent: %w", place, err)
	}
	return t, nil
}

// parsePath splits a path template into literal text and parameters. A
// parameter in the path must be required: without it there is no URL.
func parsePath(path, base string, isParam func(string) bool, required []string) ([]pathPart, error) {
	switch {
	case path == "":
		return nil, errors.New("required")
	case !strings.HasPrefix(path, "/"):
		return nil, errors.New("must start with /")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("must not hold ? or #; put the query under query")
	}
	var parts []pathPart
	var probe strings.Builder // the path with every parameter as "x"
	last := 0
	for _, loc := range pathParamPattern.FindAllStringSubmatchIndex(path, -1) {
		name := path[loc[2]:loc[3]]
		switch {
		case !isParam(name):
			return nil, fmt.Errorf("{%s} is not a parameter", name)
		case !slices.Contains(required, name):
			return nil, fmt.Errorf("{%s} must be a required parameter", name)
		}
		if loc[0] > last {
			parts = append(parts, pathPart{text: path[last:loc[0]]})
		}
		parts = append(parts, pathPart{param: name})
		probe.WriteString(path[last:loc[0]] + "x")
		last = loc[1]
	}
	if last < len(path) {
		parts = append(parts, pathPart{text: path[last:]})
	}
	probe.WriteString(path[last:])
	if strings.ContainsAny(probe.String(), "{}") {
		return nil, errors.New("has a { or } that is not around a parameter name")
	}
	if _, err := url.Parse(base + probe.String()); err != nil || strings.ContainsAny(probe.String(), " \t") {
		return nil, errors.New("not a valid URL path; escape its literal parts")
	}
	return parts, nil
}

// jsonValue turns a value decoded from YAML at place into one that
// encodes as the same JSON: mappings must have string keys, and dates must
// be quoted.
func jsonValue(v any, place string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			j, err := jsonValue(e, place+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v is not a string; quote it", place, k)
			}
			j, err := jsonValue(e, place+"."+s)
			if err != nil {
				return nil, err
			}
			out[s] = j
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			j, err := jsonValue(e, fmt.Sprintf("%s[%d]", place, i))
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case time.Time:
		return nil, fmt.Errorf("%s: a YAML timestamp; quote it to send it as a string", place)
	}
	return v, nil
}

// bodyTemplate replaces every string value that is exactly "{name}" with
// a placeholder for the argument.
func bodyTemplate(v any, place string, isParam func(string) bool) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			t, err := bodyTemplate(v[k], place+"."+k, isParam)
			if err != nil {
				return nil, err
			}
			v[k] = t
		}
	case []any:
		for i := range v {
			t, err := bodyTemplate(v[i], fmt.Sprintf("%s[%d]", place, i), isParam)
			if err != nil {
				return nil, err
			}
			v[i] = t
		}
	case string:
		if m := placeholderPattern.FindStringSubmatch(v); m != nil {
			if !isParam(m[1]) {
				return nil, fmt.Errorf("%s: {%s} is not a parameter", place, m[1])
			}
			return placeholder(m[1]), nil
		}
	}
	return v, nil
}

// fieldPaths splits dotted response fields.
func fieldPaths(fields []string) ([][]string, error) {
	var paths [][]string
	for _, f := range fields {
		p := strings.Split(f, ".")
		if slices.Contains(p, "") {
			return nil, fmt.Errorf("%q is not a field name or a dotted path (a.b)", f)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
