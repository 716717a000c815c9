package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/humanllm/humanllm/model/chat/jinja"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
)

// hfTemplate is a tokenizer_config.json chat_template.
type hfTemplate struct {
	path     string
	tpl      *jinja.Template
	vars     map[string]string // bos_token, eos_token, unk_token, pad_token
	specials []string          // special token spellings, longest first
}

// tokenizerConfig is the part of tokenizer_config.json used here.
type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	UNK          json.RawMessage `json:"unk_token"`
	PAD          json.RawMessage `json:"pad_token"`
	AddedTokens  map[string]struct {
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens_decoder"`
}

// tokenString reads a special token field: a string, an AddedToken object
// ({"content": …}) or null.
func tokenString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var o struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.Content == nil {
		return "", errors.New(`want a string or {"content": "…"}`)
	}
	return *o.Content, nil
}

// FromTokenizerConfig returns the template of a Hugging Face
// tokenizer_config.json (its chat_template; a list of named templates
// gives the one named "default") for tok. It renders as transformers'
// apply_chat_template does (messages, add_generation_prompt and the
// config's bos_token, eos_token, unk_token, pad_token), with the Hugging
// Face engine's semantics (package jinja). Render tokenizes the rendered
// string as a whole with special tokens recognised (add_special_tokens
// off: BOS only where the template writes it) and trains each assistant
// turn up to its end-of-turn token, found by rendering message prefixes:
// the turn of message i spans from the rendering of messages[:i] with the
// generation prompt (what the model generates after that prompt) to that of
// messages[:i+1], cut after a special token that ends it (so "<|im_end|>"
// is trained and the "\n" after it is not), or extended by the eos_token
// when the template writes that only with the next message. Tokens that
// straddle a turn's boundary are trained.
func FromTokenizerConfig(path string, tok tokenizer.Tokenizer) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	var cfg tokenizerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("chat: %s: %w", path, err)
	}
	src, err := chatTemplate(cfg.ChatTemplate)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: chat_template: %w", path, err)
	}
	tpl, err := jinja.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: chat_template: %w", path, err)
	}
	h := &hfTemplate{path: path, tpl: tpl, vars: map[string]string{}}
	for name, raw := range map[string]json.RawMessage{"bos_token": cfg.BOS, "eos_token": cfg.EOS, "unk_token": cfg.UNK, "pad_token": cfg.PAD} {
		s, err := tokenString(raw)
		if err != nil {
			return nil, fmt.Errorf("chat: %s: %s: %w", path, name, err)
		}
		if s == "" {
			continue
		}
		h.vars[name] = s
		if _, ok := tok.TokenID(s); !ok && (name == "bos_token" || name == "eos_token") {
			return nil, fmt.Errorf("chat: %s: %s %q is not a token of the tokenizer", path, name, s)
		}
	}
	seen := map[string]bool{}
	addSpecial := func(s string) {
		if _, ok := tok.TokenID(s); ok && s != "" && !seen[s] {
			seen[s] = true
			h.specials = append(h.specials, s)
		}
	}
	addSpecial(h.vars["eos_token"])
	addSpecial(h.vars["bos_token"])
	for _, a := range cfg.AddedTokens {
		if a.Special {
			addSpecial(a.Content)
		}
	}
	if hf, ok := tok.(*tokenizer.HF); ok {
		for _, a := range hf.AddedTokens() {
			if a.Special {
				addSpecial(a.Content)
			}
		}
	}
	sort.SliceStable(h.specials, func(i, j int) bool { return len(h.specials[i]) > len(h.specials[j]) })
	return &Template{name: path, tok: tok, hf: h}, nil
}

func chatTemplate(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("missing (the tokenizer has no chat template)")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", errors.New(`want a string or a list of {"name": …, "template": …}`)
	}
	var names []string
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
		names = append(names, n.Name)
	}
	return "", fmt.Errorf("no template named \"default\" among %q", names)
}

// text renders msgs to the template's string.
func (h *hfTemplate) text(msgs []tasks.Message, generation bool) (string, error) {
	list := &jinja.List{Items: make([]jinja.Value, len(msgs))}
	for i, m := range msgs {
		list.Items[i] = jinja.NewDict().Set("role", m.Role).Set("content", m.Content)
	}
	vars := jinja.NewDict().Set("messages", list).Set("add_generation_prompt", generation)
	for _, k := range []string{"bos_token", "eos_token", "unk_token", "pad_token"} {
		if v, ok := h.vars[k]; ok {
			vars.Set(k, v)
		}
	}
	s, err := h.tpl.Render(vars)
	if err != nil {
		return "", fmt.Errorf("chat: %s: chat_template: %w", h.path, err)
	}
	return s, nil
}

// span is a trained byte range of the rendered text.
type span struct{ start, end int }

// render renders msgs to ids and the trained mask.
func (h *hfTemplate) render(tok tokenizer.Tokenizer, msgs []tasks.Message, generation bool) ([]int32, []bool, error) {
	full, err := h.text(msgs, generation)
	if err != nil {
		return nil, nil, err
	}
	var spans []span
	for i, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		after, err := h.text(msgs[:i+1], false)
		if err != nil {
			return nil, nil, err
		}
		if !strings.HasPrefix(full, after) {
			return nil, nil, fmt.Errorf("chat: %s: the rendering of the first %d messages is not a prefix of the whole conversation's, so the assistant turn of message %d cannot be located", h.path, i+1, i)
		}
		// The turn is what the model generates after the generation prompt:
		// it starts where the rendering of the messages before it with the
		// generation prompt ends. When that is not a prefix (a template that
		// renders something else first) or not known, it starts after their
		// rendering without the prompt, and not before the message's
		// content: where the rendering with the content replaced by a
		// sentinel diverges.
		start := -1
		prompted, err := h.text(msgs[:i], true)
		if err != nil {
			return nil, nil, err
		}
		before, err := h.text(msgs[:i], false)
		if err != nil {
			return nil, nil, err
		}
		// A first message has a known prompt only if the template writes
		// one outside its loop over the messages.
		if strings.HasPrefix(after, prompted) && (i > 0 || prompted != before) {
			start = len(prompted)
		} else {
			if strings.HasPrefix(after, before) {
				start = len(before)
			}
			probe := append(append([]tasks.Message(nil), msgs[:i]...), tasks.Message{Role: m.Role, Content: "\x00"})
			if alt, err := h.text(probe, false); err == nil {
				k := 0
				for k < len(after) && k < len(alt) && after[k] == alt[k] {
					k++
				}
				start = max(start, k)
			}
		}
		if start < 0 {
			return nil, nil, fmt.Errorf("chat: %s: cannot locate the assistant turn of message %d in the rendering", h.path, i)
		}
		end := len(after)
		if j := h.lastSpecial(full[start:end]); j >= 0 && strings.TrimSpace(full[start+j:end]) == "" {
			end = start + j // up to the end-of-turn token; the formatting after it is not trained
		} else if eos := h.vars["eos_token"]; eos != "" && strings.HasPrefix(full[end:], eos) {
			end += len(eos) // the template closes the turn in the next message's rendering
		}
		spans = append(spans, span{start, end})
	}
	ids, trained := h.encode(tok, full, spans)
	return ids, trained, nil
}

// lastSpecial returns the end of the last special token in s, or -1.
func (h *hfTemplate) lastSpecial(s string) int {
	best := -1
	for _, sp := range h.specials {
		if i := strings.LastIndex(s, sp); i >= 0 && i+len(sp) > best {
			best = i + len(sp)
		}
	}
	return best
}

// encode tokenizes the whole text with special tokens recognised and marks
// the tokens overlapping a span. The token offsets come from decoding each
// token (exact for byte-level tokenizers); when the tokens do not decode
// back to the text (SentencePiece's dummy prefix), the text is encoded
// segment by segment instead: cut at the span boundaries and at special
// tokens, which are placed by id.
func (h *hfTemplate) encode(tok tokenizer.Tokenizer, full string, spans []span) ([]int32, []bool) {
	ids := tok.EncodeWithSpecial(full)
	off, ok := 0, true
	starts := make([]int, len(ids))
	for i, id := range ids {
		piece := tok.Decode([]int{id})
		if !strings.HasPrefix(full[off:], piece) {
			ok = false
			break
		}
		starts[i] = off
		off += len(piece)
	}
	if ok && off == len(full) {
		out := make([]int32, len(ids))
		trained := make([]bool, len(ids))
		for i, id := range ids {
			out[i] = int32(id)
			end := len(full)
			if i+1 < len(ids) {
				end = starts[i+1]
			}
			for _, s := range spans {
				if starts[i] < s.end && end > s.start {
					trained[i] = true
				}
			}
		}
		return out, trained
	}
	b := &builder{tok: tok}
	segment := func(s string, trained bool) {
		for s != "" {
			at, which := -1, ""
			for _, sp := range h.specials {
				if i := strings.Index(s, sp); i >= 0 && (at < 0 || i < at) {
					at, which = i, sp
				}
			}
			if at < 0 {
				b.text(s, trained)
				return
			}
			b.text(s[:at], trained)
			id, _ := tok.TokenID(which)
			b.id(id, trained)
			s = s[at+len(which):]
		}
	}
	prev := 0
	for _, s := range spans {
		segment(full[prev:s.start], false)
		segment(full[s.start:s.end], true)
		prev = s.end
	}
	segment(full[prev:], false)
	return b.ids, b.trained
}

// isSpecial reports whether s is one of the template's special tokens.
func (h *hfTemplate) isSpecial(s string) bool { return slices.Contains(h.specials, s) }
