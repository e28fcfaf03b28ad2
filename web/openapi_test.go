package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/store"
)

// openAPIOperation is what the tests read of an operation.
type openAPIOperation struct {
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Roles       []string               `json:"x-roles"`
	Security    *[]map[string][]string `json:"security"`
	Responses   map[string]any         `json:"responses"`
}

// openAPIOperations reads the embedded document's operations by "METHOD
// /path".
func openAPIOperations(t *testing.T) map[string]openAPIOperation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	ops := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // parameters, summary, ...
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("openapi.json: %s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// The document is OpenAPI 3.1 JSON whose every $ref names something in it.
func TestOpenAPIDocument(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	if info, _ := doc["info"].(map[string]any); info["title"] != "yanit" || info["version"] == "" {
		t.Errorf("info = %v, want the title yanit and a version", info)
	}
	refs := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if _, err := resolvePointer(doc, ref); err != nil {
					t.Errorf("%s: $ref %q: %v", at, ref, err)
				}
			}
			for k, x := range v {
				walk(at+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", at, i), x)
			}
		}
	}
	walk("#", doc)
	if refs == 0 {
		t.Error("no $ref found: the walk is broken")
	}

	param := regexp.MustCompile(`\{(\w+)\}`)
	for key, op := range openAPIOperations(t) {
		if op.Summary == "" || len(op.Responses) == 0 {
			t.Errorf("%s: want a summary and responses", key)
		}
		// Every {param} of the path is declared, on the path or the operation.
		path := strings.SplitN(key, " ", 2)[1]
		item := doc["paths"].(map[string]any)[path].(map[string]any)
		opMap := item[strings.ToLower(strings.SplitN(key, " ", 2)[0])].(map[string]any)
		declared := map[string]bool{}
		for _, list := range []any{item["parameters"], opMap["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					r, err := resolvePointer(doc, ref)
					if err != nil {
						continue // reported above
					}
					pm = r.(map[string]any)
				}
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
		}
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: the path parameter %s is not declared", key, m[1])
			}
		}
	}
}

// resolvePointer follows a local JSON pointer (#/a/b) in doc.
func resolvePointer(doc any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	v := doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if v, ok = m[tok]; !ok {
			return nil, fmt.Errorf("no %q", tok)
		}
	}
	return v, nil
}

// documentedPrefixes are the route trees the document describes; the
// console's HTML pages, its static files and the mounts are left out.
var documentedPrefixes = []string{"/api/v1", "/webhooks", "/healthz", "/readyz", "/metrics", "/console/login", "/console/logout"}

// htmlPages are routes under documentedPrefixes that serve pages to a
// browser, not the API.
var htmlPages = []string{"GET /console/login"}

// The document describes exactly the routes the server has: a route added
// without documentation, or documentation of a route that is gone, fails
// here, named.
func TestOpenAPIRoutes(t *testing.T) {
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), Mounts: map[string]http.Handler{"/sim": http.NotFoundHandler()}})
	if err != nil {
		t.Fatal(err)
	}
	engine, ok := s.Routes().(*gin.Engine)
	if !ok {
		t.Fatalf("Routes returns %T, want *gin.Engine to list its routes", s.Routes())
	}
	param := regexp.MustCompile(`[:*](\w+)`)
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		documented := slices.ContainsFunc(documentedPrefixes, func(p string) bool {
			return r.Path == p || strings.HasPrefix(r.Path, p+"/")
		})
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		if documented && !slices.Contains(htmlPages, key) {
			served[key] = true
		}
	}
	if !served["GET /api/v1/conversations/{id}"] || !served["GET /api/v1/knowledge/documents/{collection}/{id}"] {
		t.Fatalf("routes read from gin: %v, want the API's among them with {params}", keys(served))
	}
	ops := openAPIOperations(t)
	for _, k := range keys(served) {
		if _, ok := ops[k]; !ok {
			t.Errorf("route %s is not documented in web/openapi.json", k)
		}
	}
	for _, k := range keys(ops) {
		if !served[k] {
			t.Errorf("web/openapi.json documents %s, which is no route of the server", k)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Every API operation says who may call it: the credentials (a token, or
// the session cookie with its CSRF token on changes) and the roles, in
// x-roles and in words.
func TestOpenAPISecurity(t *testing.T) {
	for key, op := range openAPIOperations(t) {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if path == "/api/v1/openapi.json" {
			if op.Security == nil || len(*op.Security) != 0 || op.Roles != nil {
				t.Errorf("%s: want security [] and no x-roles: it is served to anyone", key)
			}
			continue
		}
		if op.Security == nil || len(*op.Security) == 0 {
			t.Errorf("%s: no security", key)
			continue
		}
		var bearer, session bool
		for _, alt := range *op.Security {
			_, b := alt["bearerToken"]
			_, c := alt["sessionCookie"]
			_, csrf := alt["csrfToken"]
			bearer, session = bearer || b, session || c
			if c && unsafeMethod(method) && !csrf {
				t.Errorf("%s: the session cookie without csrfToken on a change", key)
			}
		}
		if !bearer || !session {
			t.Errorf("%s: security %v, want bearerToken or sessionCookie", key, *op.Security)
		}
		if len(op.Roles) == 0 || !slices.Contains(op.Roles, store.RoleAdmin) {
			t.Errorf("%s: x-roles %v, want the roles allowed, admin among them", key, op.Roles)
		}
		for _, r := range op.Roles {
			if !slices.Contains(store.Roles, r) {
				t.Errorf("%s: x-roles names %q, no role", key, r)
			}
		}
		if want := "Roles: " + strings.Join(op.Roles, ", ") + "."; !strings.Contains(op.Description, want) {
			t.Errorf("%s: the description does not say %q", key, want)
		}
	}
}

// The roles the document names are those the server lets through: every
// API operation called with a token of each role answers 403 exactly for
// the roles x-roles leaves out. (The server has a store and nothing else,
// so allowed calls end in 404, 400 or 503 and change nothing.)
func TestOpenAPIRoles(t *testing.T) {
	st := apiStores["sqlite"](t)
	base, _ := apiServer(t, st)
	tokens := map[string]string{}
	for _, role := range store.Roles {
		tokens[role] = addUser(t, st, role+"-user", role)
	}
	sample := strings.NewReplacer("{id}", "1", "{name}", "demo", "{collection}", "default")
	ops := openAPIOperations(t)
	checked := 0
	for _, key := range keys(ops) {
		method, path, _ := strings.Cut(key, " ")
		op := ops[key]
		if op.Roles == nil {
			continue
		}
		url := base + sample.Replace(path)
		if strings.HasPrefix(path, "/api/v1/knowledge/documents/") {
			url = base + "/api/v1/knowledge/documents/default/faq/returns"
		}
		for _, role := range store.Roles {
			code, body := openAPICall(t, method, url, "Bearer "+tokens[role])
			allowed := slices.Contains(op.Roles, role)
			switch {
			case allowed && (code == http.StatusForbidden || code == http.StatusUnauthorized):
				t.Errorf("%s as %s: %d %s, but x-roles %v lets it through", key, role, code, body, op.Roles)
			case !allowed && code != http.StatusForbidden:
				t.Errorf("%s as %s: %d %s, want 403: x-roles is %v", key, role, code, body, op.Roles)
			}
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("checked %d operations with x-roles, want every API operation", checked)
	}
}

// openAPICall sends an empty request with the Authorization header.
func openAPICall(t *testing.T, method, url, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// The document is served to anyone, even before the store is attached,
// with the build's version.
func TestOpenAPIServed(t *testing.T) {
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), Version: "1.2.3-test"})
	if err != nil {
		t.Fatal(err)
	}
	base := httpServer(t, s)
	r := apiGet(t, base+"/api/v1/openapi.json", "")
	if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s %.200s, want 200 application/json", r.code, r.header.Get("Content-Type"), r.body)
	}
	var got, want map[string]any
	r.decode(t, &got)
	if err := json.Unmarshal(openAPIDocument, &want); err != nil {
		t.Fatal(err)
	}
	if v := got["info"].(map[string]any)["version"]; v != "1.2.3-test" {
		t.Errorf("info.version = %v, want the server's version 1.2.3-test", v)
	}
	got["info"].(map[string]any)["version"] = want["info"].(map[string]any)["version"]
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Error("the served document differs from web/openapi.json beyond info.version")
	}
	// Once the store is attached, the document still needs no credentials
	// and the routes next to it still do.
	s.SetBackend(Backend{Store: apiStores["sqlite"](t)})
	if r := apiGet(t, base+"/api/v1/openapi.json", ""); r.code != http.StatusOK {
		t.Errorf("GET /api/v1/openapi.json with the store: %d %.200s, want 200", r.code, r.body)
	}
	if r := apiGet(t, base+"/api/v1/conversations", ""); r.code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/conversations without credentials: %d %s, want 401", r.code, r.body)
	}
}
