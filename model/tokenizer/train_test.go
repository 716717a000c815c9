package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// syntheticCorpus is a deterministic small corpus (no shared data needed).
func syntheticCorpus(n int) []string {
	r := rand.New(rand.NewPCG(7, 8))
	words := strings.Fields("the a user posted about their new guitar amp and said it's great " +
		"I'm not sure we'll buy another one today tomorrow 2019 42 100% café naïve 日本 東京 :) !!! " +
		"https://example.com/x?id=3 #music @friend")
	syllables := strings.Fields("ka ri to me su na lo pe vi do gu ra ze mo ti ha ne bu")
	var out []string
	for i := range n {
		var b strings.Builder
		for j := 3 + r.IntN(12); j > 0; j-- {
			if r.IntN(3) == 0 { // a pseudo-word from syllables
				for k := 1 + r.IntN(3); k > 0; k-- {
					b.WriteString(syllables[r.IntN(len(syllables))])
				}
			} else {
				// Zipf-like choice so that some words are frequent.
				b.WriteString(words[min(r.IntN(len(words)), r.IntN(len(words)), r.IntN(len(words)))])
			}
			switch r.IntN(8) {
			case 0:
				b.WriteString(",")
			case 1:
				b.WriteString("\n")
			}
			b.WriteByte(' ')
		}
		out = append(out, fmt.Sprintf("%d: %s", i%10, b.String()))
	}
	return out
}

func trainOn(t testing.TB, texts []string, vocab int, o TrainOptions) *HF {
	t.Helper()
	h, err := Train(slices.Values(texts), vocab, o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func jsonOf(t testing.TB, h *HF) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := h.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTrainSmallExample(t *testing.T) {
	h := trainOn(t, []string{"ab ab ab cd"}, 260, TrainOptions{})
	// words: "ab", " ab" ×2, " cd". (a,b) ×3 first; then (Ġ,ab) ×2; then the
	// count-1 pairs (Ġ,c) and (c,d) tie, and (c,d) has the smaller ids.
	want := [][2]string{{"a", "b"}, {"Ġ", "ab"}, {"c", "d"}, {"Ġ", "cd"}}
	if got := h.Model().Merges(); !reflect.DeepEqual(got, want) {
		t.Errorf("merges %q, want %q", got, want)
	}
	if h.VocabSize() != 260 {
		t.Errorf("vocab size %d", h.VocabSize())
	}
	id := func(s string) int { i, _ := h.TokenID(s); return i }
	if id("!") != 0 || id("ÿ") != 187 || id("Ā") != 188 || id("ab") != 256 {
		t.Errorf("alphabet ids: ! %d ÿ %d Ā %d ab %d", id("!"), id("ÿ"), id("Ā"), id("ab"))
	}
	eqIDs(t, "encode", h.Encode("ab cd"), []int{id("ab"), id("Ġcd")})
}

func TestTrainDeterministicAndOrderIndependent(t *testing.T) {
	texts := syntheticCorpus(400)
	a := jsonOf(t, trainOn(t, texts, 600, TrainOptions{SpecialTokens: []string{"<|endoftext|>"}}))
	b := jsonOf(t, trainOn(t, texts, 600, TrainOptions{SpecialTokens: []string{"<|endoftext|>"}}))
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings on the same texts differ")
	}
	rev := slices.Clone(texts)
	slices.Reverse(rev)
	c := jsonOf(t, trainOn(t, rev, 600, TrainOptions{SpecialTokens: []string{"<|endoftext|>"}}))
	if !bytes.Equal(a, c) {
		t.Fatal("training depends on the order of the texts")
	}
}

func TestTrainedTokenizerJSONRoundTrip(t *testing.T) {
	texts := syntheticCorpus(400)
	for _, pat := range []string{PatternGPT2, PatternLlama3} {
		h := trainOn(t, texts, 700, TrainOptions{Pattern: pat, SpecialTokens: []string{"<|im_start|>", "<|im_end|>"},
			BOS: "<|begin_of_text|>", EOS: "<|end_of_text|>", MaxTokenLength: 12})
		if h.VocabSize() != 700 || h.BOS() != 2 || h.EOS() != 3 {
			t.Fatalf("vocab %d BOS %d EOS %d", h.VocabSize(), h.BOS(), h.EOS())
		}
		for id := range h.VocabSize() {
			tok, _ := h.Token(id)
			if raw, ok := ByteLevelDecode(tok); ok && len(raw) > 12 && !h.IsSpecial(id) {
				t.Errorf("token %q longer than MaxTokenLength", tok)
			}
		}
		path := filepath.Join(t.TempDir(), "tokenizer.json")
		if err := h.Save(path); err != nil {
			t.Fatal(err)
		}
		back, err := LoadHF(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(jsonOf(t, h), jsonOf(t, back)) {
			t.Error("write → read → write differs")
		}
		if back.BOS() != h.BOS() || back.EOS() != h.EOS() || back.VocabSize() != h.VocabSize() {
			t.Errorf("reloaded BOS %d EOS %d vocab %d", back.BOS(), back.EOS(), back.VocabSize())
		}
		extra := []string{"<|im_start|>user\nhi<|im_end|>", "\xff\xfe\x00 bad utf8 \xe6", "", "  ", "unseen words: zyxw Ωμέγα 😀"}
		for _, s := range append(texts[:50:50], extra...) {
			for _, o := range []EncodeOptions{{}, {Special: true}, {Special: true, AddSpecialTokens: true, AddEOS: true}} {
				ids := h.EncodeOpts(s, o)
				eqIDs(t, fmt.Sprintf("reloaded %+v encode of %q", o, s), back.EncodeOpts(s, o), ids)
				for _, id := range ids {
					if id < 0 || id >= h.VocabSize() {
						t.Fatalf("id %d out of range", id)
					}
				}
				if !o.AddSpecialTokens {
					if d := h.Decode(ids); d != s {
						t.Errorf("decode(encode(%q)) = %q", s, d)
					}
				}
			}
		}
		ids := h.EncodeOpts("hi", EncodeOptions{AddSpecialTokens: true, AddEOS: true})
		if ids[0] != h.BOS() || ids[len(ids)-1] != h.EOS() {
			t.Errorf("BOS/EOS not added: %v", ids)
		}
		if got := h.EncodeWithSpecial("<|im_start|>"); !reflect.DeepEqual(got, []int{0}) {
			t.Errorf("special token: %v", got)
		}
		if got := h.Encode("<|im_start|>"); len(got) < 2 {
			t.Errorf("plain Encode recognised a special token: %v", got)
		}
	}
}

func TestTrainCompresses(t *testing.T) {
	texts := syntheticCorpus(400)
	h := trainOn(t, texts, 800, TrainOptions{})
	n, size := 0, 0
	for _, s := range texts {
		n += len(h.Encode(s))
		size += len(s)
	}
	if r := float64(size) / float64(n); r < 3 {
		t.Errorf("only %.2f bytes per token on the training texts", r)
	}
	// MinFrequency stops early.
	small := trainOn(t, texts, 5000, TrainOptions{MinFrequency: 50})
	if small.VocabSize() >= 5000 || small.VocabSize() <= 256 {
		t.Errorf("MinFrequency 50: vocabulary of %d", small.VocabSize())
	}
	if _, err := Train(slices.Values(texts), 100, TrainOptions{}); err == nil {
		t.Error("vocabulary below 256 accepted")
	}
	if _, err := Train(slices.Values(texts), 300, TrainOptions{Pattern: `\s+(?!\S)`}); err == nil {
		t.Error("look-ahead pattern accepted")
	}
}

// Training on the real logs (when present) reaches the vocabulary size and
// encodes them losslessly.
func TestTrainRealLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	lines := splitLines(realLogs(t, 1<<20))
	h := trainOn(t, lines, 2000, TrainOptions{SpecialTokens: []string{"<|endoftext|>"}, EOS: "<|endoftext|>"})
	if h.VocabSize() != 2000 {
		t.Fatalf("vocab %d", h.VocabSize())
	}
	n, size := 0, 0
	for _, l := range lines[:2000] {
		ids := h.Encode(l)
		n += len(ids)
		size += len(l)
		if d := h.Decode(ids); d != l {
			t.Fatalf("round trip of %q", l)
		}
	}
	t.Logf("%d-token tokenizer trained on 1 MB of logs: %.2f bytes/token", h.VocabSize(), float64(size)/float64(n))
}
