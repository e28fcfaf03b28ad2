package privacy

import (
	"context"
	"encoding/json"

	"github.com/yanit/yanit/llm"
)

// Chatter keeps a conversation's personal data from a language model: it
// replaces every value the detectors find in the messages it sends by the
// vault's placeholder, and puts the values back in the model's answer and
// in the arguments of the tools it calls, so that the user reads their
// own data and a tool gets the real value, while the model saw only
// [TCKN_1].
type Chatter struct {
	inner     llm.Chatter
	vault     *Vault
	detectors []Detector
}

// NewChatter returns inner behind the vault v (the conversation's, kept
// between its turns) and the detectors.
func NewChatter(inner llm.Chatter, v *Vault, detectors []Detector) *Chatter {
	return &Chatter{inner: inner, vault: v, detectors: detectors}
}

// Chat sends req with its personal data replaced and restores the answer.
func (c *Chatter) Chat(ctx context.Context, req llm.ChatRequest) (llm.ChatResponse, error) {
	msgs := make([]llm.Message, len(req.Messages))
	for i, m := range req.Messages {
		m.Content, _ = c.vault.Redact(m.Content, c.detectors)
		if len(m.ToolCalls) > 0 {
			calls := make([]llm.ToolCall, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				args, _ := c.vault.Redact(string(tc.Arguments), c.detectors)
				tc.Arguments = json.RawMessage(args)
				calls[j] = tc
			}
			m.ToolCalls = calls
		}
		msgs[i] = m
	}
	req.Messages = msgs
	resp, err := c.inner.Chat(ctx, req)
	if err != nil {
		return resp, err
	}
	resp.Content = c.vault.Restore(resp.Content)
	for i, tc := range resp.ToolCalls {
		resp.ToolCalls[i].Arguments = json.RawMessage(c.vault.Restore(string(tc.Arguments)))
	}
	return resp, nil
}
