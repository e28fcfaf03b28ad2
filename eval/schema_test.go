package eval

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaPath = "../configs/eval/suite.schema.json"

func loadSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("suite.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("suite.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch, doc.(map[string]any)
}

// yamlDoc reads a YAML suite as the JSON values the schema validates.
func yamlDoc(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The documented schema accepts the demo suite and refuses what
// ParseSuite refuses.
func TestSchemaValidatesSuites(t *testing.T) {
	sch, _ := loadSchema(t)
	demo, err := os.ReadFile("../configs/eval/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(yamlDoc(t, demo)); err != nil {
		t.Errorf("the demo suite does not validate: %v", err)
	}
	for name, bad := range map[string]string{
		"unknown key":       "name: s\ncases: [{name: c, turns: [{text: hi, expect: {intnet: x}}]}]\n",
		"no cases":          "name: s\n",
		"text and tap":      "name: s\ncases: [{name: c, turns: [{text: hi, tap: {id: x}}]}]\n",
		"two stub outcomes": "name: s\ncases: [{name: c, tools: {t: {error: invalid, timeout: true}}, turns: [{text: hi}]}]\n",
		"stub error kind":   "name: s\ncases: [{name: c, tools: {t: {error: boom}}, turns: [{text: hi}]}]\n",
	} {
		if err := sch.Validate(yamlDoc(t, []byte(bad))); err == nil {
			t.Errorf("%s: the schema accepts %q", name, bad)
		}
		if _, err := ParseSuite([]byte(bad)); err == nil {
			t.Errorf("%s: ParseSuite accepts %q", name, bad)
		}
	}
}

// Every key the suite's types read is in the schema, and the schema has
// no key they do not read.
func TestSchemaMatchesTheTypes(t *testing.T) {
	_, doc := loadSchema(t)
	defs := doc["$defs"].(map[string]any)
	props := func(node map[string]any) []string {
		var keys []string
		for k := range node["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	sub := func(node map[string]any, key string) map[string]any {
		return node["properties"].(map[string]any)[key].(map[string]any)
	}
	for _, c := range []struct {
		typ  reflect.Type
		node map[string]any
	}{
		{reflect.TypeFor[Suite](), doc},
		{reflect.TypeFor[Case](), defs["case"].(map[string]any)},
		{reflect.TypeFor[Stub](), defs["stub"].(map[string]any)},
		{reflect.TypeFor[StubResult](), sub(defs["stub"].(map[string]any), "result")},
		{reflect.TypeFor[Turn](), defs["turn"].(map[string]any)},
		{reflect.TypeFor[Tap](), sub(defs["turn"].(map[string]any), "tap")},
		{reflect.TypeFor[Expect](), defs["expect"].(map[string]any)},
		{reflect.TypeFor[Range](), sub(defs["expect"].(map[string]any), "confidence")},
		{reflect.TypeFor[ToolCall](), sub(defs["expect"].(map[string]any), "tool")},
		{reflect.TypeFor[ReplyCheck](), sub(defs["expect"].(map[string]any), "reply")},
	} {
		var keys []string
		for f := range c.typ.Fields() {
			if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
				keys = append(keys, tag)
			}
		}
		slices.Sort(keys)
		if got := props(c.node); !slices.Equal(got, keys) {
			t.Errorf("%s: the schema has %v, the type reads %v", c.typ.Name(), got, keys)
		}
	}
}
