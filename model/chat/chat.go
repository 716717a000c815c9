// Package chat renders chat-messages samples into token ids with the
// per-token mask of what is trained: the assistant turns' content and their
// end-of-turn token, nothing else (completion-only loss).
//
// Rendering is done segment by segment: the text between special tokens is
// encoded as plain text, and special tokens are placed by id. Hugging Face
// tokenizers split on special tokens before anything else, so for the
// templates with special tokens this gives the ids of encoding the whole
// rendered string. The mask is then exact by construction: a segment is
// trained or not as a whole, and no offset mapping is needed.
//
// Templates:
//
//	chatml   <|im_start|>role\ncontent<|im_end|>\n per turn (Qwen2, SmolLM)
//	llama3   <|begin_of_text|> then <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
//	plain    BOS, then "System: …\n\n", "User: …\n\n", "Assistant: …" + EOS:
//	         for tokenizers without chat tokens (stories260K's tok512)
//
// The EOS / end-of-turn after each assistant turn is always trained, even
// when the tokenizer's pad id equals it (the mask does not come from ids),
// and BOS is added once.
//
// FromTokenizerConfig (or New with the path of a tokenizer_config.json)
// renders a model's own Jinja chat_template instead, with package
// model/chat/jinja (checked against the Hugging Face engine); RenderText
// gives the rendered string of any template.
package chat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
)

// Names lists the shipped templates.
var Names = []string{"chatml", "llama3", "plain"}

// Template renders conversations for one tokenizer.
type Template struct {
	name string
	tok  tokenizer.Tokenizer
	ids  map[string]int // special tokens by spelling
	hf   *hfTemplate    // a tokenizer_config.json chat_template, or nil
}

// New returns the named template for tok, or an error naming the special
// token the tokenizer lacks. A name ending in ".json" is the path of a
// tokenizer_config.json whose chat_template is used (FromTokenizerConfig).
func New(name string, tok tokenizer.Tokenizer) (*Template, error) {
	if strings.HasSuffix(name, ".json") {
		return FromTokenizerConfig(name, tok)
	}
	t := &Template{name: name, tok: tok, ids: map[string]int{}}
	var need []string
	switch name {
	case "chatml":
		need = []string{"<|im_start|>", "<|im_end|>"}
	case "llama3":
		need = []string{"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}
	case "plain":
		if tok.EOS() < 0 {
			return nil, fmt.Errorf("chat: template plain needs a tokenizer with an EOS token")
		}
	default:
		return nil, fmt.Errorf("chat: unknown template %q (one of %s, or the path of a tokenizer_config.json)", name, strings.Join(Names, ", "))
	}
	for _, s := range need {
		id, ok := tok.TokenID(s)
		if !ok {
			return nil, fmt.Errorf("chat: template %s needs the special token %s, which the tokenizer does not have", name, s)
		}
		t.ids[s] = id
	}
	return t, nil
}

// Name is the template's name.
func (t *Template) Name() string { return t.name }

// StopIDs are the ids that end an assistant turn, where generation of an
// answer stops: the template's end-of-turn token (<|im_end|>, <|eot_id|>)
// and the tokenizer's EOS, when it has one.
func (t *Template) StopIDs() []int32 {
	var ids []int32
	switch t.name {
	case "chatml":
		ids = append(ids, int32(t.ids["<|im_end|>"]))
	case "llama3":
		ids = append(ids, int32(t.ids["<|eot_id|>"]))
	}
	if t.hf != nil {
		// A Jinja template's end of turn is the last trained id of an
		// assistant turn (its mask covers the turn and its end-of-turn
		// token) when that id is a special token.
		probe := []tasks.Message{{Role: "user", Content: "Hi"}, {Role: "assistant", Content: "Hello"}}
		if pids, tr, err := t.hf.render(t.tok, probe, false); err == nil {
			last := -1
			for i := range pids {
				if tr[i] {
					last = i
				}
			}
			if last >= 0 {
				if s, ok := t.tok.Token(int(pids[last])); ok && t.hf.isSpecial(s) {
					ids = append(ids, pids[last])
				}
			}
		}
	}
	if eos := t.tok.EOS(); eos >= 0 && !slices.Contains(ids, int32(eos)) {
		ids = append(ids, int32(eos))
	}
	return ids
}

// builder accumulates ids and the trained mask, or (textOnly) the
// rendered string with special tokens spelled out.
type builder struct {
	tok      tokenizer.Tokenizer
	ids      []int32
	trained  []bool
	textOnly bool
	str      strings.Builder
}

func (b *builder) text(s string, trained bool) {
	if s == "" {
		return
	}
	if b.textOnly {
		b.str.WriteString(s)
		return
	}
	for _, id := range b.tok.Encode(s) {
		b.ids = append(b.ids, int32(id))
		b.trained = append(b.trained, trained)
	}
}

func (b *builder) id(id int, trained bool) {
	if b.textOnly {
		tok, _ := b.tok.Token(id)
		b.str.WriteString(tok)
		return
	}
	b.ids = append(b.ids, int32(id))
	b.trained = append(b.trained, trained)
}

var plainRole = map[string]string{"system": "System", "user": "User", "assistant": "Assistant"}

// Render renders msgs; with generation true it ends with the prompt of a
// new assistant turn (nothing trained), for generating the answer.
func (t *Template) Render(msgs []tasks.Message, generation bool) (ids []int32, trained []bool, err error) {
	if t.hf != nil {
		return t.hf.render(t.tok, msgs, generation)
	}
	b := &builder{tok: t.tok}
	if err := t.build(b, msgs, generation); err != nil {
		return nil, nil, err
	}
	return b.ids, b.trained, nil
}

// RenderText is the rendered string (what Render tokenizes), special tokens
// spelled out; for the shipped templates it is what their Jinja equivalent
// renders with Hugging Face's engine.
func (t *Template) RenderText(msgs []tasks.Message, generation bool) (string, error) {
	if t.hf != nil {
		return t.hf.text(msgs, generation)
	}
	b := &builder{tok: t.tok, textOnly: true}
	if err := t.build(b, msgs, generation); err != nil {
		return "", err
	}
	return b.str.String(), nil
}

func (t *Template) build(b *builder, msgs []tasks.Message, generation bool) error {
	for i, m := range msgs {
		if _, ok := plainRole[m.Role]; !ok {
			return fmt.Errorf("chat: message %d has role %q (system, user or assistant)", i, m.Role)
		}
	}
	switch t.name {
	case "chatml":
		for _, m := range msgs {
			a := m.Role == "assistant"
			b.id(t.ids["<|im_start|>"], false)
			b.text(m.Role+"\n", false)
			b.text(m.Content, a)
			b.id(t.ids["<|im_end|>"], a)
			b.text("\n", false)
		}
		if generation {
			b.id(t.ids["<|im_start|>"], false)
			b.text("assistant\n", false)
		}
	case "llama3":
		b.id(t.ids["<|begin_of_text|>"], false)
		header := func(role string) {
			b.id(t.ids["<|start_header_id|>"], false)
			b.text(role, false)
			b.id(t.ids["<|end_header_id|>"], false)
			b.text("\n\n", false)
		}
		for _, m := range msgs {
			a := m.Role == "assistant"
			header(m.Role)
			b.text(m.Content, a)
			b.id(t.ids["<|eot_id|>"], a)
		}
		if generation {
			header("assistant")
		}
	case "plain":
		if bos := t.tok.BOS(); bos >= 0 {
			b.id(bos, false)
		}
		for _, m := range msgs {
			if m.Role == "assistant" {
				b.text("Assistant:", false)
				b.text(" "+m.Content, true)
				b.id(t.tok.EOS(), true)
				continue
			}
			b.text(plainRole[m.Role]+": "+m.Content+"\n\n", false)
		}
		if generation {
			b.text("Assistant:", false)
		}
	}
	return nil
}

// Renderer adapts a Template to trainer/data.Renderer: samples render
// without a generation prompt.
type Renderer struct{ T *Template }

// Render renders a training sample.
func (r Renderer) Render(s tasks.Sample) ([]int32, []bool, error) {
	return r.T.Render(s.Messages, false)
}

// TrainSpecials are the special tokens of a tokenizer trained for humanllm
// (TrainTokenizer): "<|endoftext|>" first (id 0: the EOS, which the plain
// template ends assistant turns with, and the default data.pad_id), then
// the tokens of the chatml and llama3 templates, so that one trained
// tokenizer serves every template. "<|begin_of_text|>" is its BOS (the
// plain template starts with it, as llama3 does).
var TrainSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>",
	"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}

// Texts yields the content of every message of samples, in order: what a
// tokenizer for them is trained on.
func Texts(samples []tasks.Sample) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, s := range samples {
			for _, m := range s.Messages {
				if m.Content != "" && !yield(m.Content) {
					return
				}
			}
		}
	}
}

// TrainTokenizer trains a byte-level BPE tokenizer of at most vocabSize ids
// (tokenizer.Train: Hugging Face's BpeTrainer algorithm) on the message
// contents of samples, with TrainSpecials, "<|endoftext|>" as EOS and
// "<|begin_of_text|>" as BOS (also prepended by the tokenizer.json
// post-processor, as Llama-3's is, so that a reader gets it back). o's
// Pattern, MinFrequency, MaxTokenLength and Progress are used; its special
// tokens, BOS and EOS are set here. The result is deterministic.
func TrainTokenizer(samples []tasks.Sample, vocabSize int, o tokenizer.TrainOptions) (*tokenizer.HF, error) {
	o.SpecialTokens, o.BOS, o.EOS = TrainSpecials, TrainSpecials[3], TrainSpecials[0]
	return tokenizer.Train(Texts(samples), vocabSize, o)
}
