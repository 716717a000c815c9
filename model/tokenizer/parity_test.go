package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

type gpt2Case struct {
	Name string `json:"name"`
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

func loadGPT2Cases(t testing.TB) (upstream, cross []gpt2Case) {
	t.Helper()
	p := sharedtest.Path(t, "models/gpt2-bpe/test_cases.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Upstream struct {
			Cases []gpt2Case `json:"cases"`
		} `json:"upstream_cases"`
		Cross struct {
			Cases []gpt2Case `json:"cases"`
		} `json:"cross_checked_cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Upstream.Cases) != 6 || len(f.Cross.Cases) != 15 {
		t.Fatalf("test_cases.json: %d upstream and %d cross-checked cases, want 6 and 15", len(f.Upstream.Cases), len(f.Cross.Cases))
	}
	return f.Upstream.Cases, f.Cross.Cases
}

var (
	gpt2Once sync.Once
	gpt2Tok  *HF
	gpt2Err  error
)

// loadGPT2 loads ../shared/models/gpt2-bpe once per test binary.
func loadGPT2(t testing.TB) *HF {
	t.Helper()
	dir := filepath.Dir(sharedtest.Path(t, "models/gpt2-bpe/encoder.json"))
	sharedtest.Path(t, "models/gpt2-bpe/vocab.bpe")
	gpt2Once.Do(func() { gpt2Tok, gpt2Err = LoadGPT2Dir(dir) })
	if gpt2Err != nil {
		t.Fatal(gpt2Err)
	}
	return gpt2Tok
}

func checkGPT2Cases(t *testing.T, tok Tokenizer, cases []gpt2Case) {
	t.Helper()
	for _, c := range cases {
		got := tok.Encode(c.Text)
		if len(got) == 0 && len(c.IDs) == 0 {
			got = c.IDs
		}
		if !reflect.DeepEqual(got, c.IDs) {
			t.Errorf("Encode(%q) = %v, want %v", c.Text, got, c.IDs)
		}
		if d := tok.Decode(c.IDs); d != c.Text {
			t.Errorf("Decode(%v) = %q, want %q", c.IDs, d, c.Text)
		}
	}
}

func TestGPT2Parity(t *testing.T) {
	tok := loadGPT2(t)
	up, cross := loadGPT2Cases(t)
	if tok.VocabSize() != 50257 || tok.BOS() != 50256 || tok.EOS() != 50256 {
		t.Fatalf("vocab %d BOS %d EOS %d, want 50257 50256 50256", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	t.Run("upstream", func(t *testing.T) { checkGPT2Cases(t, tok, up) })
	t.Run("cross_checked", func(t *testing.T) { checkGPT2Cases(t, tok, cross) })
}

func TestGPT2SpecialTokens(t *testing.T) {
	tok := loadGPT2(t)
	text := "a<|endoftext|>b"
	plain := tok.Encode(text)
	special := tok.EncodeWithSpecial(text)
	if want := []int{64, 27, 91, 437, 1659, 5239, 91, 29, 65}; !reflect.DeepEqual(plain, want) {
		t.Errorf("Encode(%q) = %v, want %v", text, plain, want)
	}
	if want := []int{64, 50256, 65}; !reflect.DeepEqual(special, want) {
		t.Errorf("EncodeWithSpecial(%q) = %v, want %v", text, special, want)
	}
	if d := tok.Decode(special); d != text {
		t.Errorf("Decode = %q", d)
	}
	if d := tok.DecodeOpts(special, DecodeOptions{SkipSpecial: true}); d != "ab" {
		t.Errorf("Decode skipping special = %q, want \"ab\"", d)
	}
	got := tok.EncodeOpts("hi", EncodeOptions{AddBOS: true, AddEOS: true, AddSpecialTokens: true})
	if want := []int{50256, 5303, 50256}; !reflect.DeepEqual(got, want) {
		t.Errorf("EncodeOpts with BOS/EOS = %v, want %v", got, want)
	}
}

type spCase struct {
	Text       string `json:"text"`
	IDsWithBOS []int  `json:"ids_with_bos"`
}

func loadStories(t testing.TB) (*SentencePiece, map[string]json.RawMessage) {
	t.Helper()
	tok, err := LoadSentencePiece(sharedtest.Path(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sharedtest.Path(t, "models/stories260K/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]json.RawMessage
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	return tok, exp
}

func TestStories260KEncodeParity(t *testing.T) {
	tok, exp := loadStories(t)
	var ec struct {
		Cases []spCase `json:"cases"`
	}
	if err := json.Unmarshal(exp["encode_cases"], &ec); err != nil {
		t.Fatal(err)
	}
	if len(ec.Cases) != 7 {
		t.Fatalf("%d encode cases, want 7", len(ec.Cases))
	}
	if tok.VocabSize() != 512 || tok.BOS() != 1 || tok.EOS() != 2 || tok.MaxTokenLength != 7 {
		t.Fatalf("vocab %d BOS %d EOS %d max len %d", tok.VocabSize(), tok.BOS(), tok.EOS(), tok.MaxTokenLength)
	}
	for _, c := range ec.Cases {
		got := tok.EncodeOpts(c.Text, EncodeOptions{AddBOS: true})
		if !reflect.DeepEqual(got, c.IDsWithBOS) {
			t.Errorf("encode(%q) = %v, want %v", c.Text, got, c.IDsWithBOS)
		}
		if got2 := tok.EncodeOpts(c.Text, EncodeOptions{AddSpecialTokens: true}); !reflect.DeepEqual(got2, c.IDsWithBOS) {
			t.Errorf("encode(%q) with AddSpecialTokens = %v", c.Text, got2)
		}
		if d := tok.Decode(c.IDsWithBOS); d != c.Text {
			t.Errorf("decode(%v) = %q, want %q", c.IDsWithBOS, d, c.Text)
		}
		if d := tok.Decode(tok.Encode(c.Text)); d != c.Text {
			t.Errorf("decode(encode(%q)) = %q", c.Text, d)
		}
	}
}

func TestStories260KGreedyText(t *testing.T) {
	tok, exp := loadStories(t)
	var g struct {
		IDs  []int  `json:"ids"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(exp["greedy_from_bos"], &g); err != nil {
		t.Fatal(err)
	}
	if d := tok.Decode(g.IDs); d != g.Text {
		t.Errorf("decode(greedy ids) = %q\nwant %q", d, g.Text)
	}
	if d := tok.Decode(append([]int{1}, g.IDs...)); d != g.Text {
		t.Errorf("decode(BOS + greedy ids) differs")
	}
}

func TestLoadByPath(t *testing.T) {
	gdir := filepath.Dir(sharedtest.Path(t, "models/gpt2-bpe/encoder.json"))
	tok, err := Load(gdir)
	if err != nil || tok.VocabSize() != 50257 {
		t.Fatalf("Load(gpt2 dir): %v", err)
	}
	sp, err := Load(sharedtest.Path(t, "models/stories260K/tok512.bin"))
	if err != nil || sp.VocabSize() != 512 {
		t.Fatalf("Load(tok512.bin): %v", err)
	}
	dir := t.TempDir()
	if err := tok.(*HF).Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil || !reflect.DeepEqual(back.Encode("Hello, world!"), []int{15496, 11, 995, 0}) {
		t.Fatalf("Load(dir with tokenizer.json): %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}
