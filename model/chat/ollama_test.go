package chat

import (
	"bytes"
	"strings"
	"testing"
	"text/template"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
)

// TestOllamaTemplatesMatch executes each Modelfile TEMPLATE with Go's
// text/template (the engine Ollama runs them with) and checks that it gives
// the text our renderer produces for the same conversation with a
// generation prompt: the decoded ids, minus the BOS llama.cpp adds itself.
func TestOllamaTemplatesMatch(t *testing.T) {
	convs := [][]tasks.Message{
		{{Role: "user", Content: "Write a review of a guitar tuner."}},
		{{Role: "system", Content: "You are Ann, 34, a nurse."}, {Role: "user", Content: "How was your day?"},
			{Role: "assistant", Content: "Long. {{braces}} and \"quotes\" stay."}, {Role: "user", Content: "And now?"}},
	}
	for _, name := range Names {
		var tok tokenizer.Tokenizer
		switch name {
		case "chatml":
			tok = trainedTokenizer(t, "<|im_start|>", "<|im_end|>")
		case "llama3":
			tok = trainedTokenizer(t, "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
		default:
			tok = sentencePiece(t)
		}
		tpl, err := New(name, tok)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := Modelfile("./m.gguf", name)
		if err != nil {
			t.Fatal(err)
		}
		body := mf[strings.Index(mf, `TEMPLATE """`)+len(`TEMPLATE """`):]
		body = body[:strings.Index(body, `"""`)]
		gt, err := template.New(name).Parse(body)
		if err != nil {
			t.Fatalf("%s: Ollama template does not parse: %v", name, err)
		}
		for _, msgs := range convs {
			var got bytes.Buffer
			if err := gt.Execute(&got, map[string]any{"Messages": msgs}); err != nil {
				t.Fatal(err)
			}
			ids, _, err := tpl.Render(msgs, true)
			if err != nil {
				t.Fatal(err)
			}
			var rest []int
			for i, id := range ids {
				if i == 0 && (int(id) == tok.BOS() || name == "llama3") {
					continue // BOS / <|begin_of_text|>: llama.cpp adds it
				}
				rest = append(rest, int(id))
			}
			want := tok.DecodeOpts(rest, tokenizer.DecodeOptions{})
			g := got.String()
			if name == "plain" {
				// SentencePiece decodes EOS to nothing; the Modelfile spells it </s>.
				g = strings.ReplaceAll(g, "</s>", "")
			}
			if g != want {
				t.Errorf("%s:\nOllama %q\nours   %q", name, got.String(), want)
			}
		}
		if !strings.Contains(mf, "FROM ./m.gguf\n") || !strings.Contains(mf, "PARAMETER stop") {
			t.Errorf("%s Modelfile:\n%s", name, mf)
		}
	}
	if _, err := Modelfile("x", "vicuna"); err == nil {
		t.Error("an unknown template gave a Modelfile")
	}
}

func sentencePiece(t *testing.T) tokenizer.Tokenizer {
	tok, err := tokenizer.LoadSentencePiece(sharedtest.Path(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
