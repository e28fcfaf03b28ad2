package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/prompts"
	"github.com/yanit/yanit/tools"
)

// minCandidate is the confidence under which an intent is not worth
// offering in a clarifying question.
const minCandidate = 0.1

// act decides on an understood message.
func (e *Engine) act(ctx context.Context, t *turn, u understanding) error {
	t.trace.Source = u.Source
	t.reply.Intent, t.reply.Confidence = u.Intent, u.Confidence
	if u.OutOfScope {
		return e.unsure(ctx, t, u)
	}
	t.st.Fallbacks, t.st.Clarified = 0, false
	in := e.intents[u.Intent]
	if t.st.Task != nil && t.st.Task.Intent != in.Name {
		t.st.Task = nil // a new request replaces the unfinished one
	}
	switch {
	case in.Sensitive:
		// Personal or sensitive data should not travel over WhatsApp:
		// the user is pointed to the secure channel.
		t.reply.Decision, t.reply.Reason = DecisionGate, "intent "+in.Name+" is sensitive: served on the secure channel only"
		t.st.Task = nil
		return e.say(t, e.def.Messages.Sensitive, nil)
	case in.Handoff == "always":
		return e.handoff(ctx, t, ReasonAlways, "intent "+in.Name+" always goes to a person", in.Team)
	case in.Tool != "":
		task := t.st.Task
		if task == nil {
			task = &Task{Intent: in.Name, Slots: map[string]string{}}
		}
		return e.runTask(ctx, t, task)
	case in.Knowledge != nil:
		return e.answerFromKnowledge(ctx, t, in)
	}
	t.reply.Decision, t.reply.Reason = DecisionAnswer, fmt.Sprintf("intent %s (%.2f, %s)", in.Name, u.Confidence, u.Source)
	t.st.LastIntent, t.st.LastSlots = in.Name, nil
	return e.say(t, in.Reply, nil)
}

// unsure handles a message under the confidence threshold: a follow-up of
// the last request carries on; otherwise clarify once, then hand off.
func (e *Engine) unsure(ctx context.Context, t *turn, u understanding) error {
	if name, ok := e.followUp(t); ok {
		folded := local.Fold(t.text)
		task := &Task{Intent: name, Slots: map[string]string{}}
		if _, other := matchesKeywords(otherWords, folded); !other {
			maps.Copy(task.Slots, t.st.LastSlots)
		}
		t.trace.Source = "follow_up"
		t.reply.Intent = name
		t.st.Fallbacks, t.st.Clarified = 0, false
		t.st.Task = nil
		return e.runTask(ctx, t, task)
	}
	reason := fmt.Sprintf("confidence %.2f under %.2f (best guess %s)", u.Confidence, e.def.Understanding.Threshold, u.Intent)
	// Not understood: the turn records no intent (the guesses stay in the
	// trace's candidates), so reports never count it as that intent.
	t.reply.Intent = ""
	if t.st.Clarified {
		t.st.Clarified = false
		return e.handoff(ctx, t, ReasonUnclear, reason+" after a clarifying question", "")
	}
	var offer []Candidate
	for _, c := range u.Candidates {
		if c.Confidence >= minCandidate && len(offer) < whatsapp.MaxButtons {
			offer = append(offer, c)
		}
	}
	if !*e.def.Policy.Clarify || len(offer) == 0 {
		return e.fallback(ctx, t, reason)
	}
	t.st.Clarified = true
	t.reply.Decision, t.reply.Reason = DecisionClarify, reason
	m := e.def.Messages.Clarify[t.lang]
	b := &whatsapp.Buttons{Body: m.Text}
	for _, c := range offer {
		b.Buttons = append(b.Buttons, whatsapp.Button{ID: c.Intent, Title: e.intents[c.Intent].Title[t.lang]})
	}
	t.reply.Messages = append(t.reply.Messages, whatsapp.Outbound{Content: b})
	return nil
}

// answerSlot reads the answer to the slot the task waits for. It reports
// false when the message is a new request instead.
func (e *Engine) answerSlot(ctx context.Context, t *turn) (bool, error) {
	task := t.st.Task
	in := e.intents[task.Intent]
	if in == nil {
		t.st.Task = nil
		return false, nil
	}
	if found := e.extract(t, in); found[task.Awaiting] != "" {
		t.trace.Source = "task"
		t.reply.Intent, t.reply.Confidence = in.Name, 1
		return true, e.runTask(ctx, t, task)
	}
	u, err := e.understand(ctx, t)
	if err != nil {
		return true, err
	}
	if !u.OutOfScope && u.Intent != task.Intent {
		t.st.Task = nil
		return true, e.act(ctx, t, u)
	}
	t.reply.Intent, t.reply.Confidence = in.Name, u.Confidence
	return true, e.ask(ctx, t, task, task.Awaiting, "no "+task.Awaiting+" in the answer")
}

// ask asks for a slot again or for the first time; the second unanswered
// question hands off.
func (e *Engine) ask(ctx context.Context, t *turn, task *Task, slot, reason string) error {
	if task.Awaiting == slot {
		task.Asked++
	} else {
		task.Awaiting, task.Asked = slot, 0
	}
	if task.Asked >= 2 {
		t.st.Task = task
		return e.handoff(ctx, t, ReasonSlotUnanswered, fmt.Sprintf("%s still missing for %s (%s)", slot, task.Intent, reason), e.intents[task.Intent].Team)
	}
	t.st.Task = task
	t.reply.Decision, t.reply.Reason = DecisionAsk, reason
	in := e.intents[task.Intent]
	for _, s := range in.Slots {
		if s.Name == slot {
			return e.say(t, s.Ask, nil)
		}
	}
	return e.say(t, e.def.Messages.Fallback, nil)
}

// runTask fills the task's slots from the message, asks for what is
// missing, asks to confirm a state-changing tool, and calls the tool.
func (e *Engine) runTask(ctx context.Context, t *turn, task *Task) error {
	in := e.intents[task.Intent]
	if task.Slots == nil {
		task.Slots = map[string]string{}
	}
	maps.Copy(task.Slots, e.extract(t, in))
	if e.def.Understanding.Provider == ProviderLLM && missing(in, task) {
		e.llmSlots(ctx, t, in, task)
	}
	t.trace.Slots = task.Slots
	for _, s := range in.Slots {
		if s.Required && task.Slots[s.Name] == "" {
			if s.entity() == EntityContactPhone {
				return e.handoff(ctx, t, ReasonToolFailed, "the contact has no phone number for "+in.Tool, in.Team)
			}
			return e.ask(ctx, t, task, s.Name, "asking for "+s.Name)
		}
	}
	tool, _ := e.deps.Tools.Get(in.Tool)
	if tool.Spec().Mutates && task.Awaiting != awaitingConfirm {
		task.Awaiting, task.Asked = awaitingConfirm, 0
		t.st.Task = task
		t.reply.Decision, t.reply.Reason = DecisionConfirm, in.Tool+" changes something: asking first"
		data := map[string]any{"action": in.Title[t.lang]}
		for k, v := range task.Slots {
			data[k] = v
		}
		text, err := e.render(e.def.Messages.Confirm[t.lang].Text, data)
		if err != nil {
			return err
		}
		t.reply.Messages = append(t.reply.Messages, whatsapp.Outbound{Content: &whatsapp.Buttons{Body: text, Buttons: []whatsapp.Button{
			{ID: ConfirmYes, Title: e.def.Messages.Yes[t.lang].Text},
			{ID: ConfirmNo, Title: e.def.Messages.No[t.lang].Text},
		}}})
		return nil
	}
	return e.call(ctx, t, task)
}

// missing reports whether a required slot the user must give is empty.
func missing(in *Intent, task *Task) bool {
	for _, s := range in.Slots {
		if s.Required && s.entity() != EntityContactPhone && task.Slots[s.Name] == "" {
			return true
		}
	}
	return false
}

// llmSlots asks the model to fill the slots the extractors missed, by
// calling the intent's tool (function calling with the tool's JSON
// Schema). Only the intent's own slots are taken, only as strings, never
// the contact's number; the registry validates them at call time, and a
// failure here only means the user is asked.
func (e *Engine) llmSlots(ctx context.Context, t *turn, in *Intent, task *Task) {
	start := time.Now()
	defer t.stage("slots", start)
	tool, _ := e.deps.Tools.Get(in.Tool)
	spec := tool.Spec()
	desc := spec.Description["en"]
	if desc == "" {
		desc = spec.Description[t.lang]
	}
	system, err := prompts.Render("slots", t.lang, map[string]any{
		"Tool": spec.Name, "Assistant": e.def.Name, "Today": e.deps.Now().Format("2006-01-02 (Monday)"),
	})
	if err != nil {
		e.deps.Logger.Warn("rendering the slots prompt", slog.String("error", err.Error()))
		return
	}
	zero := 0.0
	resp, err := t.chat.Chat(ctx, llm.ChatRequest{
		Messages:    []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: t.text}},
		Tools:       []llm.Tool{{Name: spec.Name, Description: desc, Parameters: spec.Parameters}},
		ToolChoice:  spec.Name,
		Temperature: &zero,
	})
	if err != nil {
		e.deps.Logger.Warn("llm slot filling failed; asking the user", slog.String("error", err.Error()))
		return
	}
	t.trace.Model = resp.Model
	t.trace.Usage = t.trace.Usage.Add(resp.Usage)
	for _, call := range resp.ToolCalls {
		if call.Name != spec.Name {
			continue
		}
		var args map[string]any
		if json.Unmarshal(call.Arguments, &args) != nil {
			return
		}
		for _, s := range in.Slots {
			if v, ok := args[s.Name].(string); ok && strings.TrimSpace(v) != "" && task.Slots[s.Name] == "" && s.entity() != EntityContactPhone {
				task.Slots[s.Name] = strings.TrimSpace(v)
			}
		}
	}
}

// confirmed acts on the answer to a confirmation.
func (e *Engine) confirmed(ctx context.Context, t *turn, yes bool) error {
	task := t.st.Task
	t.trace.Source = "task"
	t.reply.Intent, t.reply.Confidence = task.Intent, 1
	if !yes {
		t.st.Task = nil
		t.reply.Decision, t.reply.Reason = DecisionAnswer, "the user declined "+task.Intent
		return e.say(t, e.def.Messages.Cancelled, nil)
	}
	t.trace.Slots = task.Slots
	return e.call(ctx, t, task)
}

// call calls the intent's tool with the task's slots and answers from the
// result, or by the error's kind.
func (e *Engine) call(ctx context.Context, t *turn, task *Task) error {
	in := e.intents[task.Intent]
	args := map[string]string{}
	for _, s := range in.Slots {
		if v := task.Slots[s.Name]; v != "" {
			args[s.Name] = v
		}
	}
	raw, _ := json.Marshal(args)
	start := time.Now()
	c, err := e.deps.Tools.Call(ctx, in.Tool, raw)
	t.stage("tool", start)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	rec := ToolRecord{Name: in.Tool, Args: raw, Status: "ok", User: c.Result.User, Agent: c.Result.Agent,
		Attempts: c.Attempts, LatencyMS: float64(c.Latency.Microseconds()) / 1000}
	if err != nil {
		rec.Status, rec.Error = string(tools.KindOf(err)), err.Error()
	}
	t.trace.Tools = append(t.trace.Tools, rec)
	t.st.Tools = appendBounded(t.st.Tools, rec)
	data := map[string]any{}
	for k, v := range task.Slots {
		data[k] = v
	}
	maps.Copy(data, c.Result.User)

	if err == nil {
		t.st.Task = nil
		t.st.LastIntent, t.st.LastSlots = in.Name, task.Slots
		t.reply.Decision, t.reply.Reason = DecisionTool, "called "+in.Tool
		rerr := e.say(t, in.Reply, data)
		if rerr == nil {
			return nil
		}
		// The backend answered in a shape the reply cannot show (a field
		// missing, of another type): a person takes over with the answer
		// in the context pack, rather than the turn failing.
		e.deps.Logger.Warn("a tool's answer does not fit its reply", slog.String("tool", in.Tool), slog.String("error", rerr.Error()))
		err = fmt.Errorf("its answer does not fit the reply: %w", rerr)
	}
	var te *tools.Error
	switch tools.KindOf(err) {
	case tools.KindNotFound:
		t.st.Task = nil
		t.st.LastIntent, t.st.LastSlots = in.Name, task.Slots
		t.reply.Decision, t.reply.Reason = DecisionTool, in.Tool+" found nothing"
		if len(in.NotFound) > 0 {
			return e.say(t, in.NotFound, data)
		}
		return e.say(t, e.def.Messages.NoAnswer, data)
	case tools.KindInvalid:
		if errors.As(err, &te) && te.Field != "" {
			for _, s := range in.Slots {
				if s.Name == te.Field && s.entity() != EntityContactPhone {
					delete(task.Slots, s.Name)
					return e.ask(ctx, t, task, s.Name, in.Tool+" rejected "+s.Name+": "+te.Message)
				}
			}
		}
	}
	if err := e.say(t, e.def.Messages.ToolError, nil); err != nil {
		return err
	}
	t.st.Task = task
	return e.handoff(ctx, t, ReasonToolFailed, in.Tool+": "+err.Error(), in.Team)
}
