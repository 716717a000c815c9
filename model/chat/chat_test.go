package chat

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
)

var conv = []tasks.Message{
	{Role: "system", Content: "You simulate a real person."},
	{Role: "user", Content: "Write your next post about guitars."},
	{Role: "assistant", Content: "My new Fender sounds great, honestly."},
	{Role: "user", Content: "And another?"},
	{Role: "assistant", Content: "Strings matter more than you think."},
}

// trainedText decodes the trained tokens, turn by turn.
func trainedText(tok tokenizer.Tokenizer, ids []int32, tr []bool) []string {
	var out []string
	var cur []int
	for i, id := range ids {
		if tr[i] {
			cur = append(cur, int(id))
		} else if cur != nil {
			out = append(out, tok.Decode(cur))
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, tok.Decode(cur))
	}
	return out
}

func trainedTokenizer(t *testing.T, specials ...string) tokenizer.Tokenizer {
	return trainedTokenizerOpts(t, 400, tokenizer.TrainOptions{SpecialTokens: specials, EOS: "<|endoftext|>"})
}

// trainedTokenizerOpts is a byte-level tokenizer trained on conv.
func trainedTokenizerOpts(t *testing.T, vocab int, o tokenizer.TrainOptions) tokenizer.Tokenizer {
	texts := func(yield func(string) bool) {
		for _, m := range conv {
			for range 20 {
				if !yield(m.Content + " " + m.Role) {
					return
				}
			}
		}
	}
	tok, err := tokenizer.Train(texts, vocab, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Only the assistant contents and their end-of-turn token are trained;
// the rendered ids equal the tokenizer's encoding of the whole rendered
// string with special tokens recognised (segment-wise encoding loses
// nothing); BOS appears once.
func TestChatMLAndLlama3MaskAndWholeStringParity(t *testing.T) {
	cases := []struct {
		name     string
		specials []string
		render   func([]tasks.Message) string
		eot      string
	}{
		{"chatml", []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, func(ms []tasks.Message) string {
			var b strings.Builder
			for _, m := range ms {
				b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
			}
			return b.String()
		}, "<|im_end|>"},
		{"llama3", []string{"<|endoftext|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}, func(ms []tasks.Message) string {
			b := "<|begin_of_text|>"
			for _, m := range ms {
				b += "<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + m.Content + "<|eot_id|>"
			}
			return b
		}, "<|eot_id|>"},
	}
	for _, c := range cases {
		tok := trainedTokenizer(t, c.specials...)
		tpl, err := New(c.name, tok)
		if err != nil {
			t.Fatal(err)
		}
		ids, tr, err := tpl.Render(conv, false)
		if err != nil {
			t.Fatal(err)
		}
		want := tok.EncodeWithSpecial(c.render(conv))
		got := make([]int, len(ids))
		for i, id := range ids {
			got[i] = int(id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: segment-wise ids differ from the whole string's\n got %v\nwant %v", c.name, got, want)
		}
		turns := trainedText(tok, ids, tr)
		wantTurns := []string{conv[2].Content + c.eot, conv[4].Content + c.eot}
		checkStopIDs(t, tpl, tok, ids, tr)
		if !slices.Equal(turns, wantTurns) {
			t.Errorf("%s: trained %q, want %q", c.name, turns, wantTurns)
		}
		gen, gtr, _ := tpl.Render(conv[:2], true)
		if slices.Contains(gtr, true) || len(gen) == 0 {
			t.Errorf("%s: generation prompt trains something", c.name)
		}
	}
	// A tokenizer without the chat tokens is refused by name.
	if _, err := New("chatml", trainedTokenizer(t, "<|endoftext|>")); err == nil || !strings.Contains(err.Error(), "<|im_start|>") {
		t.Errorf("missing special token: %v", err)
	}
	if _, err := New("alpaca", trainedTokenizer(t, "<|endoftext|>")); err == nil {
		t.Error("unknown template accepted")
	}
}

// The plain template on stories260K's tokenizer: one BOS, assistant text
// and EOS trained, decodes back to the conversation.
func TestPlainWithSentencePiece(t *testing.T) {
	tok, err := tokenizer.LoadSentencePiece(sharedtest.Path(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := New("plain", tok)
	if err != nil {
		t.Fatal(err)
	}
	ids, tr, err := tpl.Render(conv, false)
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != int32(tok.BOS()) || slices.Index(ids[1:], int32(tok.BOS())) >= 0 {
		t.Errorf("BOS not exactly once at the start: %v", ids[:5])
	}
	turns := trainedText(tok, ids, tr)
	checkStopIDs(t, tpl, tok, ids, tr)
	if len(turns) != 2 || !strings.Contains(turns[0], conv[2].Content) || !strings.Contains(turns[1], conv[4].Content) {
		t.Errorf("trained turns %q", turns)
	}
	n := 0
	for i, id := range ids {
		if id == int32(tok.EOS()) {
			n++
			if !tr[i] {
				t.Error("EOS after an assistant turn is not trained")
			}
		}
	}
	if n != 2 {
		t.Errorf("%d EOS tokens, want one per assistant turn", n)
	}
	r := Renderer{T: tpl}
	if _, _, err := r.Render(tasks.Sample{Messages: []tasks.Message{{Role: "robot", Content: "x"}}}); err == nil {
		t.Error("unknown role accepted")
	}
}

// A tokenizer from TrainTokenizer, saved as tokenizer.json and read back,
// has EOS "<|endoftext|>" at id 0, BOS "<|begin_of_text|>", the special tokens at the ids
// of TrainSpecials, and serves every template: the trained tokens decode
// to the assistant turns and their end-of-turn token.
func TestTrainTokenizerServesEveryTemplate(t *testing.T) {
	var samples []tasks.Sample
	for range 30 {
		samples = append(samples, tasks.Sample{Messages: conv})
	}
	var merges int
	h, err := TrainTokenizer(samples, 320, tokenizer.TrainOptions{Progress: func(done, total int) { merges = done }})
	if err != nil {
		t.Fatal(err)
	}
	if merges == 0 || h.VocabSize() != 320 {
		t.Fatalf("trained %d merges, vocabulary %d (want 320)", merges, h.VocabSize())
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.LoadHF(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok.EOS() != 0 || tok.BOS() != 3 || tok.VocabSize() != 320 || h.BOS() != 3 || h.EOS() != 0 {
		t.Errorf("reloaded: EOS %d BOS %d vocabulary %d (trained: EOS %d BOS %d), want 0, 3, 320", tok.EOS(), tok.BOS(), tok.VocabSize(), h.EOS(), h.BOS())
	}
	for i, s := range TrainSpecials {
		if id, ok := tok.TokenID(s); !ok || id != i {
			t.Errorf("special %s has id %d (%v), want %d", s, id, ok, i)
		}
	}
	// It learned the corpus: fewer than half as many tokens as bytes.
	if text := conv[2].Content; len(tok.Encode(text))*2 > len(text) {
		t.Errorf("%q is %d tokens for %d bytes", text, len(tok.Encode(text)), len(text))
	}
	eot := map[string]string{"chatml": "<|im_end|>", "llama3": "<|eot_id|>", "plain": "<|endoftext|>"}
	for _, name := range Names {
		tpl, err := New(name, tok)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids, tr, err := tpl.Render(conv, false)
		if err != nil {
			t.Fatal(err)
		}
		lead := ""
		if name == "plain" {
			lead = " " // "Assistant:" then " content", trained
		}
		want := []string{lead + conv[2].Content + eot[name], lead + conv[4].Content + eot[name]}
		if got := trainedText(tok, ids, tr); !slices.Equal(got, want) {
			t.Errorf("%s: trained %q, want %q", name, got, want)
		}
	}
	if _, err := TrainTokenizer(samples, 200, tokenizer.TrainOptions{}); err == nil {
		t.Error("a vocabulary below 256 bytes + the special tokens was accepted")
	}
}

// checkStopIDs: every assistant turn ends (its last trained token) with one
// of the template's stop ids, which include EOS.
func checkStopIDs(t *testing.T, tpl *Template, tok tokenizer.Tokenizer, ids []int32, tr []bool) {
	t.Helper()
	stop := tpl.StopIDs()
	if eos := tok.EOS(); eos >= 0 && !slices.Contains(stop, int32(eos)) {
		t.Errorf("%s: stop ids %v lack EOS %d", tpl.Name(), stop, eos)
	}
	ends := 0
	for i := range ids {
		if tr[i] && (i+1 == len(ids) || !tr[i+1]) {
			ends++
			if !slices.Contains(stop, ids[i]) {
				t.Errorf("%s: assistant turn ends with %d, not a stop id %v", tpl.Name(), ids[i], stop)
			}
		}
	}
	if ends != 2 {
		t.Errorf("%s: %d assistant turn ends, want 2", tpl.Name(), ends)
	}
}
