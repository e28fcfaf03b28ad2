package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/yanit/yanit/tools"
)

// storeHours is a Go-native tool: it tells the opening hours of a store.
type storeHours struct {
	hours map[string]string
}

var _ tools.Tool = (*storeHours)(nil)

func (*storeHours) Spec() tools.Spec {
	return tools.Spec{
		Name: "store_hours",
		Description: map[string]string{
			"en": "Opening hours of the store in a city.",
			"tr": "Bir şehirdeki mağazanın çalışma saatleri.",
		},
		Parameters: json.RawMessage(`{
			"type": "object",
			"properties": {"city": {"type": "string", "minLength": 1}},
			"required": ["city"],
			"additionalProperties": false
		}`),
		Idempotent: true,
	}
}

func (s *storeHours) Call(ctx context.Context, args json.RawMessage) (tools.Result, error) {
	var in struct {
		City string `json:"city"`
	}
	if err := json.Unmarshal(args, &in); err != nil {
		return tools.Result{}, tools.Invalid("city", "cannot read the arguments")
	}
	hours, ok := s.hours[in.City]
	if !ok {
		return tools.Result{}, tools.NotFound("no store in %s", in.City)
	}
	return tools.Result{User: map[string]any{"city": in.City, "hours": hours}}, nil
}

func ExampleRegistry() {
	r := tools.NewRegistry()
	r.MustRegister(&storeHours{hours: map[string]string{"İzmir": "10:00–22:00"}})

	ctx := context.Background()
	call, err := r.Call(ctx, "store_hours", json.RawMessage(`{"city": "İzmir"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(call.Result.User["city"], call.Result.User["hours"], "attempts:", call.Attempts)

	// Arguments that break the schema never reach the tool; Field says
	// what to ask the user for again.
	_, err = r.Call(ctx, "store_hours", json.RawMessage(`{}`))
	var te *tools.Error
	if errors.As(err, &te) {
		fmt.Println(te.Kind, te.Field)
	}

	// The tool's own errors keep their kind.
	call, _ = r.Call(ctx, "store_hours", json.RawMessage(`{"city": "Van"}`))
	fmt.Println(call.Kind, "-", call.Err)
	// Output:
	// İzmir 10:00–22:00 attempts: 1
	// invalid city
	// not_found - calling store_hours: not_found: no store in Van
}
