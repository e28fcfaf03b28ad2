package tools

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaURL is where a tool's schema lives for the compiler; nothing is
// fetched from it.
const schemaURL = "https://tools.yanit.invalid/parameters.json"

// noLoader refuses every reference to another document, so that
// registering a tool never reads a file or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s; a tool's schema must be self-contained", url)
}

// compileParameters compiles a tool's Parameters and returns its top-level
// "required" list.
func compileParameters(raw json.RawMessage) (*jsonschema.Schema, []string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, errors.New("missing; give at least {\"type\": \"object\"}")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, errors.New("not a JSON object")
	}
	if obj["type"] != "object" {
		return nil, nil, errors.New(`"type" must be "object": the arguments are an object`)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, nil, err
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, nil, schemaProblem(err)
	}
	var required []string
	if list, ok := obj["required"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				required = append(required, s)
			}
		}
	}
	return sch, required, nil
}

// schemaProblem shortens a compile error to the schema's faults, each with
// its place in the schema ("at '/properties/date/type': ...").
func schemaProblem(err error) error {
	var se *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if !errors.As(err, &se) || !errors.As(se.Err, &ve) {
		return err
	}
	var faults []string
	for _, leaf := range leaves(ve, nil) {
		faults = append(faults, leaf.Error())
	}
	return fmt.Errorf("not a valid JSON Schema: %s", strings.Join(faults, "; "))
}

// violation is one failed keyword of a validation.
type violation struct {
	field   string // top-level argument at fault, "" for the whole object
	message string
}

// validate checks args against the tool's schema; a violation is an
// *Error of KindInvalid naming the first offending argument. Messages
// never repeat the argument's value, which may be personal data.
func (e *entry) validate(args json.RawMessage) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return &Error{Kind: KindInvalid, Message: "arguments are not valid JSON"}
	}
	err = e.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Kind: KindInvalid, Message: err.Error()}
	}
	var found []violation
	for _, leaf := range leaves(ve, nil) {
		found = append(found, describe(leaf))
	}
	rank := func(v violation) int {
		if v.field == "" {
			return len(e.required) + 1
		}
		if i := slices.Index(e.required, v.field); i >= 0 {
			return i
		}
		return len(e.required)
	}
	first := slices.MinFunc(found, func(a, b violation) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.field, b.field), cmp.Compare(a.message, b.message))
	})
	return &Error{Kind: KindInvalid, Field: first.field, Message: first.message}
}

// leaves appends the errors of ve that have no causes.
func leaves(ve *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return append(out, ve)
	}
	for _, c := range ve.Causes {
		out = leaves(c, out)
	}
	return out
}

// describe says what a leaf error means for the user's arguments.
func describe(ve *jsonschema.ValidationError) violation {
	loc := ve.InstanceLocation
	var v violation
	if len(loc) > 0 {
		v.field = loc[0]
	}
	path := strings.Join(loc, "/")
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		// Missing is in the order of the schema's list.
		name := strings.Join(append(slices.Clone(loc), k.Missing[0]), "/")
		if len(loc) == 0 {
			v.field = k.Missing[0]
		}
		v.message = fmt.Sprintf("missing required argument %q", name)
	case *kind.AdditionalProperties:
		extra := slices.Sorted(slices.Values(k.Properties))[0]
		if len(loc) == 0 {
			v.field = extra
		}
		v.message = fmt.Sprintf("unexpected argument %q", strings.Join(append(slices.Clone(loc), extra), "/"))
	case *kind.Type:
		want := strings.Join(k.Want, " or ")
		if len(loc) == 0 {
			v.message = fmt.Sprintf("arguments must be a JSON %s, not %s", want, k.Got)
		} else {
			v.message = fmt.Sprintf("argument %q must be %s, not %s", path, want, k.Got)
		}
	case *kind.Pattern:
		v.message = fmt.Sprintf("argument %q does not have the expected format %s", path, k.Want)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			b, _ := json.Marshal(w)
			want[i] = string(b)
		}
		v.message = fmt.Sprintf("argument %q must be one of %s", path, strings.Join(want, ", "))
	default:
		keyword := strings.Join(ve.ErrorKind.KeywordPath(), "/")
		if len(loc) == 0 {
			v.message = fmt.Sprintf("arguments fail the schema's %q", keyword)
		} else {
			v.message = fmt.Sprintf("argument %q fails the schema's %q", path, keyword)
		}
	}
	return v
}
