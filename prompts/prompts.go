package prompts

import (
	"embed"
	"fmt"
	"strings"
	"sync"
	"text/template"
)

//go:embed templates/*.tmpl
var files embed.FS

var (
	parseOnce sync.Once
	parsed    *template.Template
	parseErr  error
)

// Render executes the prompt template name for language lang: the file
// templates/<name>.<lang>.tmpl when it exists, else templates/<name>.tmpl.
// Every template carries its version in its first line comment, which
// traces record with the model's answer.
func Render(name, lang string, data any) (string, error) {
	parseOnce.Do(func() {
		parsed, parseErr = template.New("prompts").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Option("missingkey=error").ParseFS(files, "templates/*.tmpl")
	})
	if parseErr != nil {
		return "", parseErr
	}
	t := parsed.Lookup(name + "." + lang + ".tmpl")
	if t == nil {
		t = parsed.Lookup(name + ".tmpl")
	}
	if t == nil {
		return "", fmt.Errorf("prompts: no template %q", name)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("prompts: rendering %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}
