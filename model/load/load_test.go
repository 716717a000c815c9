package load

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/demodata"
	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/gguf"
	"github.com/humanllm/humanllm/model/hf"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama2c"
)

type fixture struct {
	PromptLogits struct {
		IDs    []int32     `json:"ids"`
		Logits [][]float64 `json:"logits"`
	} `json:"prompt_logits"`
	Encode struct {
		Cases []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids_with_bos"`
		} `json:"cases"`
	} `json:"encode_cases"`
}

func stories(t *testing.T) (string, *fixture) {
	bin := sharedtest.Path(t, "models/stories260K/stories260K.bin")
	b, err := os.ReadFile(sharedtest.Path(t, "models/stories260K/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return bin, &f
}

// TestEveryFormatSameModel writes stories260K in every format humanllm
// writes (Hugging Face f32, GGUF F32, llama2.c), opens each through Open,
// and checks that the weights are bit-identical to the original and that
// the logits of the fixture prompt match llama2.c's reference outputs
// (expected.json) within 1e-3, as the original does.
func TestEveryFormatSameModel(t *testing.T) {
	bin, fx := stories(t)
	orig, err := Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Format != Llama2c || orig.TokenizerSpec != "" {
		t.Fatalf("stories260K.bin opened as %q with tokenizer %q", orig.Format, orig.TokenizerSpec)
	}
	w := orig.Weights
	dir := t.TempDir()
	hfDir := filepath.Join(dir, "hf")
	if err := hf.Write(hfDir, w, hf.WriteOptions{BOS: 1, EOS: 2}); err != nil {
		t.Fatal(err)
	}
	vocab, err := gguf.DecodeLlama2cVocab(demodata.Tok512(), w.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	gg := filepath.Join(dir, "m.gguf")
	if err := gguf.WriteLlama(gg, w, gguf.Options{Vocab: vocab}); err != nil {
		t.Fatal(err)
	}
	l2c := filepath.Join(dir, "m.bin")
	if err := llama2c.Write(l2c, w); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		format Format
	}{{hfDir, HF}, {gg, GGUF}, {l2c, Llama2c}} {
		m, err := Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if m.Format != tc.format {
			t.Fatalf("%s opened as %s, want %s", tc.path, m.Format, tc.format)
		}
		if m.Weights.Config != w.Config {
			t.Fatalf("%s: config %+v, want %+v", tc.format, m.Weights.Config, w.Config)
		}
		for _, s := range w.Config.ParamSpecs() {
			if !slices.Equal(m.Weights.Get(s.Name).Data, w.Get(s.Name).Data) {
				t.Fatalf("%s: %s differs from the original", tc.format, s.Name)
			}
		}
		ref, err := llama.NewReference(m.Weights)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := ref.Logits(fx.PromptLogits.IDs)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, row := range fx.PromptLogits.Logits {
			for j, want := range row {
				worst = math.Max(worst, math.Abs(logits[i][j]-want))
			}
		}
		if worst > 1e-3 {
			t.Fatalf("%s: logits differ from expected.json by %g (> 1e-3)", tc.format, worst)
		}
		t.Logf("%s: weights bit-identical, max |logit - expected.json| = %.2g", tc.format, worst)
	}
}

// TestGGUFTokenizerIsTok512 checks that the vocabulary a GGUF export
// embeds reads back as the llama2.c tokenizer it came from: same pieces,
// scores and encodings of expected.json's cases.
func TestGGUFTokenizerIsTok512(t *testing.T) {
	bin, fx := stories(t)
	m, err := Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := gguf.DecodeLlama2cVocab(demodata.Tok512(), 512)
	if err != nil {
		t.Fatal(err)
	}
	gg := filepath.Join(t.TempDir(), "m.gguf")
	if err := gguf.WriteLlama(gg, m.Weights, gguf.Options{Type: gguf.TensorType(1), Vocab: vocab}); err != nil {
		t.Fatal(err)
	}
	gm, err := Open(gg)
	if err != nil {
		t.Fatal(err)
	}
	if gm.TokenizerSpec != gg {
		t.Fatalf("GGUF tokenizer spec %q", gm.TokenizerSpec)
	}
	fromGGUF, err := Tokenizer(gm.TokenizerSpec, 512)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := Tokenizer("builtin:tok512", 512)
	if err != nil {
		t.Fatal(err)
	}
	for id := range 512 {
		a, _ := fromGGUF.Token(id)
		b, _ := builtin.Token(id)
		if a != b {
			t.Fatalf("piece %d: %q from GGUF, %q in tok512.bin", id, a, b)
		}
	}
	texts := []string{"Once upon a time, there was a little girl named Lily.", "  tabs\tand\nnewlines ", "émoji 🙂 and 漢字", "\xff\xfe bad bytes"}
	for _, c := range fx.Encode.Cases {
		texts = append(texts, c.Text)
		got := append([]int{fromGGUF.BOS()}, fromGGUF.Encode(c.Text)...)
		if !slices.Equal(got, c.IDs) {
			t.Errorf("%q: %v, want %v", c.Text, got, c.IDs)
		}
	}
	for _, s := range texts {
		a, b := fromGGUF.Encode(s), builtin.Encode(s)
		if !slices.Equal(a, b) {
			t.Errorf("%q: %v from GGUF, %v from tok512.bin", s, a, b)
		}
		if d := fromGGUF.Decode(a); d != s && !strings.HasPrefix(s, " ") {
			t.Errorf("%q decodes to %q", s, d)
		}
	}
}

func TestDetectRejects(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty.bin": {},
		"text.txt":  []byte("hello, this is not a model at all"),
		// A llama2.c header whose size disagrees with the file.
		"short.bin": func() []byte {
			b := make([]byte, 28+8)
			for i, v := range []uint32{8, 16, 1, 2, 2, 10, 4} {
				b[4*i] = byte(v)
			}
			return b
		}(),
	}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("a plain directory: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "absent")); err == nil {
		t.Error("a missing path opened")
	}
}

func TestHFDirTokenizerAndTemplate(t *testing.T) {
	cfg := model.Config{Dim: 8, HiddenDim: 16, NLayers: 1, NHeads: 2, NKVHeads: 2, Vocab: 300, MaxSeqLen: 8,
		RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true}
	w := &model.Weights{Config: cfg}
	for _, s := range cfg.ParamSpecs() {
		if err := w.Add(&model.Tensor{Name: s.Name, Shape: s.Shape, Data: make([]float32, s.Size())}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := hf.Write(dir, w, hf.WriteOptions{BOS: -1, EOS: -1}); err != nil {
		t.Fatal(err)
	}
	tpl := "{% for m in messages %}{{ m['content'] }}{% endfor %}"
	b, _ := json.Marshal(map[string]any{"chat_template": []map[string]string{{"name": "tool_use", "template": "x"}, {"name": "default", "template": tpl}}})
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.ChatTemplate != tpl || m.TokenizerSpec != "" || m.TemplateSpec != filepath.Join(dir, "tokenizer_config.json") {
		t.Fatalf("template %q, tokenizer %q", m.ChatTemplate, m.TokenizerSpec)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Fatalf("bad chat_template: %v", err)
	}
}

func TestPeekMatchesOpen(t *testing.T) {
	bin, _ := stories(t)
	m, err := Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := hf.Write(dir, m.Weights, hf.WriteOptions{BOS: -1, EOS: -1}); err != nil {
		t.Fatal(err)
	}
	vocab, err := gguf.DecodeLlama2cVocab(demodata.Tok512(), m.Weights.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	gg := filepath.Join(t.TempDir(), "m.gguf")
	if err := gguf.WriteLlama(gg, m.Weights, gguf.Options{Vocab: vocab}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bin, dir, gg} {
		c, err := Peek(p)
		if err != nil {
			t.Fatal(err)
		}
		if c != m.Weights.Config {
			t.Errorf("Peek(%s) = %+v, Open gives %+v", p, c, m.Weights.Config)
		}
	}
}
