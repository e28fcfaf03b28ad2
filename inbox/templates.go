package inbox

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
)

// Template is a message template Meta approved: what an agent may send
// when the 24-hour window is closed.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Category string `json:"category"`
	// Body is the text with its placeholders {{1}}, {{2}}, …
	Body string `json:"body"`
	// Params is how many placeholders the body has.
	Params int `json:"params"`
}

var placeholder = regexp.MustCompile(`\{\{(\d+)\}\}`)

// MaxTemplateParam bounds a parameter's text, in characters.
const MaxTemplateParam = 1024

// NewTemplate checks an approved template's declaration: a name of
// lower-case letters, digits and underscores, a language, a known
// category, and placeholders numbered from 1 without gaps.
func NewTemplate(name, language, category, body string) (Template, error) {
	t := Template{Name: name, Language: language, Category: category, Body: body}
	switch {
	case name == "" || strings.IndexFunc(name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) >= 0:
		return t, fmt.Errorf("template %q: the name must be lower-case letters, digits and _", name)
	case language == "":
		return t, fmt.Errorf("template %q: the language is empty", name)
	case !slices.Contains([]string{"utility", "marketing", "authentication"}, category):
		return t, fmt.Errorf("template %q: category %q, want utility, marketing or authentication", name, category)
	case strings.TrimSpace(body) == "":
		return t, fmt.Errorf("template %q: the body is empty", name)
	}
	seen := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n] = true
	}
	for i := 1; i <= len(seen); i++ {
		if !seen[i] {
			return t, fmt.Errorf("template %q: the placeholders must be {{1}} to {{%d}} without gaps", name, len(seen))
		}
	}
	t.Params = len(seen)
	return t, nil
}

// Render is the body with params in place, as the user will read it.
func (t Template) Render(params []string) string {
	return placeholder.ReplaceAllStringFunc(t.Body, func(m string) string {
		n, _ := strconv.Atoi(m[2 : len(m)-2])
		if n >= 1 && n <= len(params) {
			return params[n-1]
		}
		return m
	})
}

// Content is the message that sends t with params in its placeholders,
// in order: as many params as t has placeholders, each (spaces around it
// trimmed) 1 to MaxTemplateParam characters on one line. An error names
// the template or the parameter that is wrong.
func (t Template) Content(params []string) (*whatsapp.Template, error) {
	if len(params) != t.Params {
		return nil, fmt.Errorf("template %q takes %d parameters, got %d", t.Name, t.Params, len(params))
	}
	var body []whatsapp.Parameter
	for n, p := range params {
		p = strings.TrimSpace(p)
		if p == "" || len([]rune(p)) > MaxTemplateParam || strings.ContainsAny(p, "\n\t") {
			return nil, fmt.Errorf("parameter %d must be 1 to %d characters on one line", n+1, MaxTemplateParam)
		}
		body = append(body, whatsapp.TextParam(p))
	}
	var components []whatsapp.Component
	if len(body) > 0 {
		components = []whatsapp.Component{{Type: whatsapp.ComponentBody, Parameters: body}}
	}
	return &whatsapp.Template{Name: t.Name, Language: t.Language, Components: components}, nil
}

// Templates returns the approved templates, by name and language.
func (s *Service) Templates() []Template { return s.templates }

// SendTemplate sends the approved template name in language, with params
// for its placeholders, to the user of a ticket u owns; it is the one way
// to reach a user whose 24-hour window is closed.
func (s *Service) SendTemplate(ctx context.Context, u store.User, id int64, name, language string, params []string) (store.Message, error) {
	i := slices.IndexFunc(s.templates, func(t Template) bool { return t.Name == name && t.Language == language })
	if i < 0 {
		return store.Message{}, fmt.Errorf("%w: no approved template %q in %q", ErrInvalid, name, language)
	}
	tmpl := s.templates[i]
	content, err := tmpl.Content(params)
	if err != nil {
		return store.Message{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return s.send(ctx, u, id, content, false,
		"template", map[string]any{"name": name, "language": language}, tmpl.Render(params))
}
