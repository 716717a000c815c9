package chat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model/chat/jinja/jinjatest"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
)

// msgList is a named conversation.
type msgList struct {
	name string
	msgs []tasks.Message
}

func m(role, content string) tasks.Message { return tasks.Message{Role: role, Content: content} }

// messageLists are varied conversations: with and without a system
// message, one to several turns, ending with the user or the assistant,
// unicode, quotes, braces and Jinja-looking text in content, surrounding
// whitespace, newlines, empty content; and a few that some templates
// refuse (roles not alternating, a system message).
func messageLists() []msgList {
	return []msgList{
		{"user", []tasks.Message{m("user", "Hello, how are you?")}},
		{"system user", []tasks.Message{m("system", "You simulate a real person."), m("user", "Write your next post.")}},
		{"user assistant", []tasks.Message{m("user", "Hi"), m("assistant", "Hello! How can I help?")}},
		{"system user assistant", conv[:3]},
		{"two turns", conv[1:]},
		{"system two turns", conv},
		{"three turns then user", []tasks.Message{m("user", "a"), m("assistant", "b"), m("user", "c"), m("assistant", "d"), m("user", "e"), m("assistant", "f"), m("user", "g")}},
		{"unicode", []tasks.Message{m("system", "Réponds en français 🇫🇷"), m("user", "日本語で答えて 😀 — ok?"), m("assistant", "はい、わかりました。e\u0301 ǅ ß")}},
		{"quotes braces", []tasks.Message{m("user", `He said "hi" and 'bye' \ {{ not a tag }} {% if x %} {# c #}`), m("assistant", `{"json": [1, 2], "a": "b"} }} {%- -%}`)}},
		{"whitespace", []tasks.Message{m("user", "  padded question  "), m("assistant", "   I am an assistant   "), m("user", "\ttabs\nand\n\nnewlines\n")}},
		{"empty content", []tasks.Message{m("user", ""), m("assistant", "")}},
		{"special tokens in content", []tasks.Message{m("user", "what is <|im_end|> or </s>?"), m("assistant", "They are <s> markers <|eot_id|>.")}},
		{"long", []tasks.Message{m("system", strings.Repeat("Context line.\n", 20)), m("user", strings.Repeat("question ", 50)), m("assistant", strings.Repeat("answer ", 80))}},
		{"not alternating", []tasks.Message{m("user", "a"), m("user", "b")}},
		{"assistant first", []tasks.Message{m("assistant", "I start."), m("user", "ok")}},
		{"system only", []tasks.Message{m("system", "Just a system prompt.")}},
	}
}

// hfTemplateFile is an entry of testdata/hf_chat_templates.json.
type hfTemplateFile struct {
	Name         string `json:"name"`
	Model        string `json:"model"`
	Source       string `json:"source"`
	BOS          string `json:"bos_token"`
	EOS          string `json:"eos_token"`
	ChatTemplate string `json:"chat_template"`
}

func realTemplates(t *testing.T) []hfTemplateFile {
	data, err := os.ReadFile(filepath.Join("testdata", "hf_chat_templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []hfTemplateFile
	if err := json.Unmarshal(data, &ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// writeConfig writes a tokenizer_config.json with the template and tokens.
func writeConfig(t *testing.T, dir, name, tpl, bos, eos string) string {
	t.Helper()
	cfg := map[string]any{"chat_template": tpl, "bos_token": nil, "eos_token": nil,
		"added_tokens_decoder": map[string]any{"0": map[string]any{"content": "<|endoftext|>", "special": true}}}
	if bos != "" {
		cfg["bos_token"] = bos
	}
	if eos != "" {
		cfg["eos_token"] = map[string]any{"content": eos, "special": true} // the AddedToken form
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(name)+"_tokenizer_config.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	allSpecialsOnce sync.Once
	allSpecialsTok  tokenizer.Tokenizer
)

// chatTokenizer is a byte-level tokenizer trained on the conversations,
// with the special tokens of every template.
func chatTokenizer(t *testing.T) tokenizer.Tokenizer {
	allSpecialsOnce.Do(func() {
		allSpecialsTok = trainedTokenizer(t, "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>", "<|user|>", "<|assistant|>",
			"<|system|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|EOT|>", "<｜begin▁of▁sentence｜>")
	})
	return allSpecialsTok
}

// hfCase is the @huggingface/jinja rendering job of a template.
func hfCase(name, tpl string, msgs []tasks.Message, gen bool, bos, eos string) jinjatest.Case {
	ctx := map[string]any{"messages": msgs, "add_generation_prompt": gen}
	if bos != "" {
		ctx["bos_token"] = bos
	}
	if eos != "" {
		ctx["eos_token"] = eos
	}
	js, _ := json.Marshal(ctx)
	return jinjatest.Case{Name: name, Template: tpl, Context: string(js)}
}

// TestShippedTemplatesMatchHFJinja: the Jinja equivalents of the shipped
// templates render, with Hugging Face's engine and with ours, exactly the
// string of our native renderers, over every message list with and without
// the generation prompt.
func TestShippedTemplatesMatchHFJinja(t *testing.T) {
	toks := map[string]tokenizer.Tokenizer{"chatml": chatTokenizer(t), "llama3": chatTokenizer(t)}
	sp, err := tokenizer.LoadSentencePiece(sharedtest.Path(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	toks["plain"] = sp
	type job struct {
		name string
		text string
		err  error
		tpl  *Template
	}
	var jobs []job
	var cases []jinjatest.Case
	for _, name := range Names {
		tok := toks[name]
		tpl, err := New(name, tok)
		if err != nil {
			t.Fatal(err)
		}
		bos, _ := tok.Token(tok.BOS())
		eos, _ := tok.Token(tok.EOS())
		if name == "llama3" {
			bos = "<|begin_of_text|>"
		}
		for _, ml := range messageLists() {
			for _, gen := range []bool{false, true} {
				n := fmt.Sprintf("%s/%s/gen=%v", name, ml.name, gen)
				text, err := tpl.RenderText(ml.msgs, gen)
				jobs = append(jobs, job{n, text, err, tpl})
				cases = append(cases, hfCase(n, JinjaSource[name], ml.msgs, gen, bos, eos))
			}
		}
	}
	version, hf := jinjatest.RenderHF(t, cases)
	same := 0
	for i, j := range jobs {
		if j.err != nil {
			t.Fatalf("%s: native render: %v", j.name, j.err)
		}
		ok := jinjatest.Check(t, j.name+" (native vs HF)", j.text, nil, hf[i])
		got, err := jinjatest.Render(cases[i])
		if jinjatest.Check(t, j.name+" (our Jinja vs HF)", got, err, hf[i]) && ok {
			same++
		}
	}
	t.Logf("@huggingface/jinja %s: %d of %d renderings of the %d shipped templates agree (native, HF Jinja, our Jinja)", version, same, len(jobs), len(Names))
}

// TestRealChatTemplatesMatchHF: the chat templates of real models, loaded
// with FromTokenizerConfig, render every message list (with and without
// the generation prompt) exactly as Hugging Face's engine does, raising
// the same exceptions.
func TestRealChatTemplatesMatchHF(t *testing.T) {
	tok := chatTokenizer(t)
	dir := t.TempDir()
	type job struct {
		name string
		text string
		err  error
	}
	var jobs []job
	var cases []jinjatest.Case
	for _, rt := range realTemplates(t) {
		p := writeConfig(t, dir, rt.Name, rt.ChatTemplate, rt.BOS, rt.EOS)
		tpl, err := FromTokenizerConfig(p, tok)
		if err != nil {
			t.Fatalf("%s: %v", rt.Name, err)
		}
		for _, ml := range messageLists() {
			for _, gen := range []bool{false, true} {
				n := fmt.Sprintf("%s/%s/gen=%v", rt.Name, ml.name, gen)
				text, err := tpl.RenderText(ml.msgs, gen)
				jobs = append(jobs, job{n, text, err})
				cases = append(cases, hfCase(n, rt.ChatTemplate, ml.msgs, gen, rt.BOS, rt.EOS))
			}
		}
	}
	version, hf := jinjatest.RenderHF(t, cases)
	same, raised := 0, 0
	for i, j := range jobs {
		if jinjatest.Check(t, j.name, j.text, j.err, hf[i]) {
			same++
			if j.err != nil {
				raised++
			}
		}
	}
	t.Logf("@huggingface/jinja %s: %d of %d renderings of %d real chat templates agree (%d message lists x 2; %d raise the same exception on both sides)",
		version, same, len(jobs), len(realTemplates(t)), len(messageLists()), raised)
}

// TestFromTokenizerConfigMatchesNative: a tokenizer_config.json carrying a
// shipped template's Jinja gives the same ids and the same trained mask as
// the native renderer.
func TestFromTokenizerConfigMatchesNative(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		tok  tokenizer.Tokenizer
		bos  string
	}{
		{"chatml", chatTokenizer(t), ""},
		{"llama3", chatTokenizer(t), "<|begin_of_text|>"},
		{"plain", trainedTokenizerOpts(t, 500, tokenizer.TrainOptions{BOS: "<s>", EOS: "</s>"}), "<s>"},
	} {
		native, err := New(c.name, c.tok)
		if err != nil {
			t.Fatal(err)
		}
		eos, _ := c.tok.Token(c.tok.EOS())
		p := writeConfig(t, dir, c.name, JinjaSource[c.name], c.bos, eos)
		hf, err := New(p, c.tok) // New accepts a tokenizer_config.json path
		if err != nil {
			t.Fatal(err)
		}
		// Generation stops at the same ids: the Jinja template's end of
		// turn is found from what its assistant turns train.
		if a, b := native.StopIDs(), hf.StopIDs(); !slices.Equal(a, b) {
			t.Errorf("%s: stop ids %v natively, %v from the Jinja template", c.name, a, b)
		}
		n := 0
		for _, ml := range messageLists() {
			switch {
			case ml.name == "special tokens in content":
				// The native renderers encode content as plain text; the
				// Jinja path tokenizes the whole rendering as Hugging Face
				// does, with special tokens recognised even in content.
				continue
			}
			for _, gen := range []bool{false, true} {
				ids, tr, err := native.Render(ml.msgs, gen)
				if err != nil {
					t.Fatal(err)
				}
				hids, htr, err := hf.Render(ml.msgs, gen)
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, ml.name, err)
				}
				if !slices.Equal(ids, hids) || !slices.Equal(tr, htr) {
					t.Errorf("%s %s gen=%v: Jinja template differs from the native one\nnative ids %v\njinja  ids %v\nnative mask %v\njinja  mask %v", c.name, ml.name, gen, ids, hids, tr, htr)
				}
				n++
			}
		}
		t.Logf("%s: ids and mask identical on %d renderings", c.name, n)
	}
}

// TestRealTemplatesMask: with the templates of real models, the ids are
// the tokenizer's encoding of the whole rendered string (special tokens
// recognised, nothing added), and exactly each assistant turn and its
// end-of-turn token are trained.
func TestRealTemplatesMask(t *testing.T) {
	tok := chatTokenizer(t)
	dir := t.TempDir()
	// What each template trains of an assistant message with content c
	// (last: it is the conversation's last message, gen: a generation
	// prompt follows).
	expect := map[string]func(c string, last, gen bool) string{
		"SmolLM2": func(c string, _, _ bool) string { return c + "<|im_end|>" },
		"Qwen2.5": func(c string, _, _ bool) string { return c + "<|im_end|>" },
		"Qwen1.5/Qwen2": func(c string, last, gen bool) string {
			if last && !gen { // this template closes the last turn only before a generation prompt
				return c
			}
			return c + "<|im_end|>"
		},
		"TinyLlama/Zephyr":        func(c string, _, _ bool) string { return c + "</s>" },
		"Mistral-Instruct-v0.1":   func(c string, _, _ bool) string { return c + "</s>" },
		"Mistral-Instruct-v0.2":   func(c string, _, _ bool) string { return " " + c + "</s>" },
		"Llama-2-chat":            func(c string, _, _ bool) string { return " " + strings.TrimSpace(c) + " </s>" },
		"Llama-3-Instruct":        func(c string, _, _ bool) string { return strings.TrimSpace(c) + "<|eot_id|>" },
		"DeepSeek-Coder-Instruct": func(c string, _, _ bool) string { return c + "\n<|EOT|>" },
	}
	checked := 0
	for _, rt := range realTemplates(t) {
		p := writeConfig(t, dir, rt.Name, rt.ChatTemplate, rt.BOS, rt.EOS)
		tpl, err := FromTokenizerConfig(p, tok)
		if err != nil {
			t.Fatal(err)
		}
		want := expect[rt.Name]
		if want == nil {
			t.Fatalf("no expectation for %s", rt.Name)
		}
		for _, ml := range messageLists() {
			for _, gen := range []bool{false, true} {
				text, err := tpl.RenderText(ml.msgs, gen)
				if err != nil {
					continue // refused by the template (checked against HF above)
				}
				ids, tr, err := tpl.Render(ml.msgs, gen)
				if err != nil {
					t.Fatalf("%s %s: %v", rt.Name, ml.name, err)
				}
				whole := tok.EncodeWithSpecial(text)
				if !slices.Equal(toInts(ids), whole) {
					t.Errorf("%s %s: ids are not the encoding of the rendered text", rt.Name, ml.name)
				}
				var wantTurns []string
				for i, msg := range ml.msgs {
					if msg.Role == "assistant" {
						if w := want(msg.Content, i == len(ml.msgs)-1, gen); w != "" {
							wantTurns = append(wantTurns, w)
						}
					}
				}
				turns := trainedText(tok, ids, tr)
				if len(turns) != len(wantTurns) {
					t.Errorf("%s %s gen=%v: %d trained runs %q, want %q", rt.Name, ml.name, gen, len(turns), turns, wantTurns)
					continue
				}
				for k, w := range wantTurns {
					// A token may straddle the start of a turn (e.g. "]{"
					// after "[/INST]"): it is trained, with a few bytes of
					// the template before the turn.
					extra, ok := strings.CutSuffix(turns[k], w)
					if !ok || len(extra) > 4 || strings.ContainsFunc(extra, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
						t.Errorf("%s %s gen=%v: trained turn %d is %q, want %q", rt.Name, ml.name, gen, k, turns[k], w)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d renderings of real templates: ids = encoding of the text, trained = the assistant turns and their end-of-turn token", checked)
}

func toInts(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

func TestFromTokenizerConfigErrors(t *testing.T) {
	tok := chatTokenizer(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, content, want string
	}{
		{"none.json", `{"bos_token": "<s>"}`, "no chat template"},
		{"syntax.json", `{"chat_template": "{% for m in messages %}\n{{ m.content + }}{% endfor %}"}`, "line 2, column"},
		{"bad.json", `{"chat_template": `, "unexpected end of JSON"},
		{"tokens.json", `{"chat_template": "x", "eos_token": "<|not_a_token|>"}`, `eos_token "<|not_a_token|>" is not a token`},
		{"list.json", `{"chat_template": [{"name": "tool_use", "template": "x"}]}`, `no template named "default"`},
		{"type.json", `{"chat_template": 3}`, "want a string"},
	} {
		p := write(c.name, c.content)
		_, err := FromTokenizerConfig(p, tok)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", c.name, err, c.want)
		}
	}
	// A list of named templates: "default" is used.
	p := write("named.json", `{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "{{ messages | length }}"}]}`)
	tpl, err := FromTokenizerConfig(p, tok)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := tpl.RenderText(conv, false); err != nil || s != "5" {
		t.Errorf("default template rendered %q, %v", s, err)
	}
	// A template that raises: the error names the file, line and message.
	p = write("raise.json", `{"chat_template": "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}"}`)
	tpl, err = FromTokenizerConfig(p, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tpl.Render(conv, false); err == nil || !strings.Contains(err.Error(), "first must be user") || !strings.Contains(err.Error(), p) {
		t.Errorf("raise_exception: %v", err)
	}
}

// TestFromTokenizerConfigSentencePiece: with a tokenizer that does not
// decode token by token to the text (SentencePiece's dummy prefix), the
// rendering is encoded segment by segment, BOS/EOS placed by id: one BOS,
// each assistant answer and its EOS trained.
func TestFromTokenizerConfigSentencePiece(t *testing.T) {
	sp, err := tokenizer.LoadSentencePiece(sharedtest.Path(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	bos, _ := sp.Token(sp.BOS())
	eos, _ := sp.Token(sp.EOS())
	p := writeConfig(t, t.TempDir(), "plain", JinjaSource["plain"], bos, eos)
	tpl, err := FromTokenizerConfig(p, sp)
	if err != nil {
		t.Fatal(err)
	}
	ids, tr, err := tpl.Render(conv, false)
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != int32(sp.BOS()) || slices.Index(ids[1:], int32(sp.BOS())) >= 0 {
		t.Errorf("BOS not exactly once at the start: %v", ids[:4])
	}
	turns := trainedText(sp, ids, tr)
	if len(turns) != 2 || !strings.Contains(turns[0], conv[2].Content) || !strings.Contains(turns[1], conv[4].Content) {
		t.Errorf("trained turns %q", turns)
	}
	eosN := 0
	for i, id := range ids {
		if id == int32(sp.EOS()) {
			eosN++
			if !tr[i] {
				t.Error("EOS after an assistant turn is not trained")
			}
		}
	}
	if eosN != 2 {
		t.Errorf("%d EOS, want 2", eosN)
	}
}
