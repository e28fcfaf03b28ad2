package openaitest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

func (s *Server) embeddings(w http.ResponseWriter, body []byte, requireModel bool) *ErrorResponse {
	var req EmbeddingRequest
	if err := decode(body, &req); err != nil {
		return err
	}
	if requireModel && req.Model == "" {
		return badRequest("model", "you must provide a model parameter")
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		return badRequest("encoding_format", "this fake only returns float vectors")
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil {
		return badRequest("input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
	}
	if len(inputs) == 0 || len(inputs) > 2048 {
		return badRequest("input", "'$.input' must hold between 1 and 2048 texts.")
	}
	tokens := 0
	data := make([]map[string]any, 0, len(inputs))
	for i, text := range inputs {
		if text == "" {
			return badRequest("input", "'$.input' is invalid: empty string at index %d.", i)
		}
		tokens += len(strings.Fields(text))
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": Vector(text, s.cfg.Dimensions)})
	}
	if s.cfg.Shuffle {
		slices.Reverse(data)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	return nil
}

// Vector is the server's embedding of text in dims dimensions: element j
// is the length of the text in bytes plus j/8, so that a vector names its
// input.
func Vector(text string, dims int) []float32 {
	v := make([]float32, dims)
	for j := range v {
		v[j] = float32(len(text)) + float32(j)/8
	}
	return v
}
