package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/tools"
)

// stubTimeout bounds a stubbed tool that never answers: the case learns
// what a timeout does without waiting for the real tool's.
const stubTimeout = 50 * time.Millisecond

// stubTool answers every call as its Stub says, with the real tool's spec.
type stubTool struct {
	spec tools.Spec
	stub Stub
}

func (t stubTool) Spec() tools.Spec { return t.spec }

func (t stubTool) Call(ctx context.Context, _ json.RawMessage) (tools.Result, error) {
	switch {
	case t.stub.Result != nil:
		return tools.Result{User: t.stub.Result.User, Agent: t.stub.Result.Agent}, nil
	case t.stub.Timeout:
		<-ctx.Done() // the registry's timeout ends the call
		return tools.Result{}, ctx.Err()
	}
	return tools.Result{}, &tools.Error{Kind: tools.Kind(t.stub.Error), Field: t.stub.Field,
		Message: fmt.Sprintf("stubbed %s error of %s", t.stub.Error, t.spec.Name)}
}

// stubbed returns the engine of a case with its stubs in place of the
// named tools; every other tool is the real one. A stub of a tool the
// assistant does not have is an error naming it.
func stubbed(r assistant.Responder, stubs map[string]Stub) (assistant.Responder, error) {
	if len(stubs) == 0 {
		return r, nil
	}
	e, ok := r.(*assistant.Engine)
	if !ok {
		return nil, fmt.Errorf("tools: stubs need the assistant engine, got %T", r)
	}
	deps := e.Deps()
	if deps.Tools == nil {
		return nil, fmt.Errorf("tools: the assistant has no tools to stub")
	}
	reg := tools.NewRegistry()
	for _, spec := range deps.Tools.Specs() {
		real, _ := deps.Tools.Get(spec.Name)
		var t tools.Tool = real
		if st, ok := stubs[spec.Name]; ok {
			if st.Timeout {
				spec.Timeout = stubTimeout
			}
			t = stubTool{spec: spec, stub: st}
		}
		if err := reg.Register(t); err != nil {
			return nil, err
		}
	}
	for name := range stubs {
		if _, ok := deps.Tools.Get(name); !ok {
			return nil, fmt.Errorf("tools.%s: the assistant has no such tool", name)
		}
	}
	deps.Tools = reg
	return e.With(deps)
}
