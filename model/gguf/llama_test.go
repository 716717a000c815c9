package gguf

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/dtype"
	"github.com/humanllm/humanllm/model/llama2c"
)

const (
	storiesBin = "models/stories260K/stories260K.bin"
	storiesTok = "models/stories260K/tok512.bin"
)

func loadStories(t testing.TB) (*model.Weights, *Vocab) {
	t.Helper()
	w, err := llama2c.Read(sharedtest.Path(t, storiesBin))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Llama2cVocab(sharedtest.Path(t, storiesTok), w.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	return w, v
}

func TestLlama2cVocab(t *testing.T) {
	path := sharedtest.Path(t, storiesTok)
	v, err := Llama2cVocab(path, 512)
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != "llama" || v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddBOS || v.AddEOS {
		t.Fatalf("%+v", v)
	}
	for id, want := range map[int]string{0: "<unk>", 1: "<s>", 2: "</s>", 3: "<0x00>", 13: "<0x0A>", 258: "<0xFF>", 259: "▁t", 260: "he", 410: "▁"} {
		if v.Tokens[id] != want {
			t.Errorf("token %d = %q, want %q", id, v.Tokens[id], want)
		}
	}
	count := map[int32]int{}
	seen := map[string]bool{}
	for id, tok := range v.Tokens {
		count[v.Types[id]]++
		if seen[tok] {
			t.Errorf("token %q appears twice", tok)
		}
		seen[tok] = true
		if strings.Contains(tok, " ") {
			t.Errorf("token %d %q keeps a space", id, tok)
		}
		if v.Types[id] == TokenByte && tok != "<0x"+strings.ToUpper(tok[3:5])+">" {
			t.Errorf("byte token %q", tok)
		}
	}
	if !reflect.DeepEqual(count, map[int32]int{TokenUnknown: 1, TokenControl: 2, TokenByte: 256, TokenNormal: 253}) {
		t.Fatalf("token types %v", count)
	}
	if v.Scores[259] != 0 || v.Scores[260] != -1 || v.Scores[511] != -252 {
		t.Fatalf("scores %v %v %v", v.Scores[259], v.Scores[260], v.Scores[511])
	}
	b, _ := os.ReadFile(path)
	if _, err := DecodeLlama2cVocab(b, 511); err == nil {
		t.Fatal("trailing token accepted")
	}
	if _, err := DecodeLlama2cVocab(b, 513); err == nil {
		t.Fatal("missing token accepted")
	}
	for n := range len(b) - 1 {
		if _, err := DecodeLlama2cVocab(b[:n], 512); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
	bad := slices.Clone(b)
	binary.LittleEndian.PutUint32(bad[8:], 0xffffffff) // length of token 0
	if _, err := DecodeLlama2cVocab(bad, 512); err == nil {
		t.Fatal("negative length accepted")
	}
}

// exportRead writes w to a temporary GGUF file of type typ and reads it.
func exportRead(t *testing.T, w *model.Weights, v *Vocab, typ TensorType) (*File, *model.Weights, *Vocab) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := WriteLlama(path, w, Options{Type: typ, Name: "stories260K", Vocab: v}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, gv, err := DecodeLlama(f, model.RopeHalf)
	if err != nil {
		t.Fatal(err)
	}
	return f, got, gv
}

func TestStories260KRoundTrip(t *testing.T) {
	w, v := loadStories(t)
	cfg := w.Config
	for _, typ := range []TensorType{F32, F16, Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			f, got, gv := exportRead(t, w, v, typ)
			if got.Config != cfg {
				t.Fatalf("config %+v, want %+v", got.Config, cfg)
			}
			if !reflect.DeepEqual(gv, v) {
				t.Fatal("vocab differs after the round trip")
			}
			// Metadata as llama.cpp reads it.
			for key, want := range map[string]any{
				KeyArchitecture: "llama", KeyName: "stories260K", KeyAlignment: uint32(32),
				KeyContextLength: uint32(512), KeyEmbeddingLength: uint32(64), KeyBlockCount: uint32(5),
				KeyFeedForward: uint32(172), KeyHeadCount: uint32(8), KeyHeadCountKV: uint32(4),
				KeyRopeDims: uint32(8), KeyVocabSize: uint32(512), KeyRopeFreqBase: float32(10000),
				KeyRMSEps: float32(1e-5), KeyTokenizerModel: "llama", KeyBOS: uint32(1), KeyEOS: uint32(2),
				KeyUNK: uint32(0), KeyFileType: map[TensorType]uint32{F32: 0, F16: 1, Q8_0: 7}[typ],
			} {
				if got, _ := f.Value(key); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", key, got, want)
				}
			}
			// 1 + 5·9 + 1 tensors: tied, so no output.weight.
			if len(f.Tensors) != 47 {
				t.Fatalf("%d tensors", len(f.Tensors))
			}
			if _, ok := f.Tensor(TensorOutput); ok {
				t.Fatal("output.weight written for tied embeddings")
			}
			if ti, _ := f.Tensor("blk.0.ffn_down.weight"); !reflect.DeepEqual(ti.Dims, []uint64{172, 64}) {
				t.Fatalf("ffn_down dims %v", ti.Dims)
			}
			for _, ti := range f.Tensors {
				want := typ
				switch {
				case len(ti.Dims) == 1:
					want = F32
				case typ == Q8_0 && strings.HasSuffix(ti.Name, "ffn_down.weight"):
					want = F16 // 172-value rows
				}
				if ti.Type != want {
					t.Errorf("%s is %v, want %v", ti.Name, ti.Type, want)
				}
			}
			for _, s := range cfg.ParamSpecs() {
				a, b := w.Get(s.Name).Data, got.Get(s.Name).Data
				name, _ := TensorName(s.Name)
				ti, _ := f.Tensor(name)
				switch ti.Type {
				case F32:
					if !slices.Equal(a, b) {
						t.Fatalf("%s differs", s.Name)
					}
				case F16:
					for i, x := range a {
						if b[i] != dtype.F16ToF32(dtype.F32ToF16(x)) {
							t.Fatalf("%s[%d] = %v, f16 of %v", s.Name, i, b[i], x)
						}
					}
				case Q8_0:
					if msg := q8Within(a, b); msg != "" {
						t.Fatalf("%s: %s", s.Name, msg)
					}
				}
			}
		})
	}
}

// The q/k rows in the file are in llama2.c's own (interleaved) order —
// what llama.cpp's convert-llama2c-to-ggml writes without any permutation
// and what convert_hf_to_gguf.py's permute gives from the HF layout.
func TestStories260KRopeOrder(t *testing.T) {
	w, v := loadStories(t)
	orig, err := llama2c.ReadLayout(sharedtest.Path(t, storiesBin), model.RopeInterleaved)
	if err != nil {
		t.Fatal(err)
	}
	f, _, _ := exportRead(t, w, v, F32)
	for l := range w.Config.NLayers {
		for _, p := range []struct{ hf, gg string }{{model.SuffixWq, "attn_q.weight"}, {model.SuffixWk, "attn_k.weight"}} {
			data, shape, err := f.Float32("blk." + strconv.Itoa(l) + "." + p.gg)
			if err != nil {
				t.Fatal(err)
			}
			want := orig.Get(model.LayerName(l, p.hf))
			if !slices.Equal(shape, want.Shape) || !slices.Equal(data, want.Data) {
				t.Fatalf("layer %d %s: not llama2.c's interleaved rows", l, p.gg)
			}
		}
	}
	// An interleaved model exports the same bytes as its half-layout twin.
	var a, b bytes.Buffer
	if err := EncodeLlama(&a, w, Options{Vocab: v}); err != nil {
		t.Fatal(err)
	}
	if err := EncodeLlama(&b, orig, Options{Vocab: v}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("RopeHalf and RopeInterleaved weights export differently")
	}
	// DecodeLlama can keep the file's layout.
	w2, _, err := DecodeLlama(f, model.RopeInterleaved)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range orig.Tensors {
		if g := w2.Get(tt.Name); g != nil && !slices.Equal(g.Data, tt.Data) {
			t.Fatalf("%s differs", tt.Name)
		}
	}
}

// An untied model with q/k/v biases round-trips exactly in F32, and its
// q/k biases are permuted like the rows.
func TestUntiedBiasRoundTrip(t *testing.T) {
	cfg := model.Config{Dim: 64, HiddenDim: 96, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 40, MaxSeqLen: 128,
		RopeTheta: 500000, RMSEps: 1e-6, QKVBias: true}
	w := model.NewWeights(cfg)
	r := rand.New(rand.NewPCG(5, 6))
	for _, tt := range w.Tensors {
		tt.Data = randFloats(r, len(tt.Data), 0.5)
	}
	path := filepath.Join(t.TempDir(), "u.gguf")
	if err := WriteLlama(path, w, Options{Type: F32}); err != nil {
		t.Fatal(err)
	}
	got, v, err := ReadLlama(path)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		t.Fatal("vocab from nowhere")
	}
	if got.Config != cfg {
		t.Fatalf("config %+v", got.Config)
	}
	for _, tt := range w.Tensors {
		if !slices.Equal(got.Get(tt.Name).Data, tt.Data) {
			t.Fatalf("%s differs", tt.Name)
		}
	}
	f, _ := ReadFile(path)
	bq, _, _ := f.Float32("blk.0.attn_q.bias")
	want := model.PermuteRopeRows(w.Get(model.LayerName(0, model.SuffixBq)).Data, 4, 16, 1, model.RopeHalf, model.RopeInterleaved)
	if !slices.Equal(bq, want) {
		t.Fatal("q bias not permuted")
	}
	if _, ok := f.Tensor(TensorOutput); !ok {
		t.Fatal("no output.weight for an untied model")
	}
	// BF16 export works too (all matrices BF16, norms F32).
	if err := WriteLlama(path, w, Options{Type: BF16}); err != nil {
		t.Fatal(err)
	}
	if f, _ := ReadFile(path); f == nil || f.Tensors[0].Type != BF16 {
		t.Fatal("bf16 export")
	}
}

func TestLlamaRejects(t *testing.T) {
	w, v := loadStories(t)
	if err := EncodeLlama(&bytes.Buffer{}, w, Options{Type: TensorType(2)}); err == nil {
		t.Fatal("Q4_0 export accepted")
	}
	short := *v
	short.Tokens = v.Tokens[:10]
	if err := EncodeLlama(&bytes.Buffer{}, w, Options{Vocab: &short}); err == nil {
		t.Fatal("short vocab accepted")
	}
	if err := EncodeLlama(&bytes.Buffer{}, w, Options{Metadata: []KV{{KeyName, "x"}}}); err == nil {
		t.Fatal("repeated key accepted")
	}
	if err := EncodeLlama(&bytes.Buffer{}, w, Options{Metadata: []KV{{"general.description", "ok"}}}); err != nil {
		t.Fatal(err)
	}
	// Files that are not this package's Llama layout.
	var buf bytes.Buffer
	if err := EncodeLlama(&buf, w, Options{Vocab: v}); err != nil {
		t.Fatal(err)
	}
	f, _ := Parse(buf.Bytes())
	mutate := func(edit func(kvs []KV, ts []Tensor) ([]KV, []Tensor)) error {
		kvs := slices.Clone(f.KV)
		var ts []Tensor
		for _, ti := range f.Tensors {
			raw, _, _ := f.Raw(ti.Name)
			ts = append(ts, Tensor{Name: ti.Name, Shape: ti.Shape(), Type: ti.Type, Raw: raw})
		}
		kvs, ts = edit(kvs, ts)
		g, err := Parse(encode(t, kvs, ts))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = DecodeLlama(g, model.RopeHalf)
		return err
	}
	setKV := func(key string, val any) func([]KV, []Tensor) ([]KV, []Tensor) {
		return func(kvs []KV, ts []Tensor) ([]KV, []Tensor) {
			for i := range kvs {
				if kvs[i].Key == key {
					kvs[i].Value = val
				}
			}
			return kvs, ts
		}
	}
	if err := mutate(setKV(KeyArchitecture, "gpt2")); err == nil {
		t.Error("gpt2 architecture accepted")
	}
	if err := mutate(setKV(KeyRopeDims, uint32(4))); err == nil {
		t.Error("partial rotary accepted")
	}
	if err := mutate(setKV(KeyRMSEps, float64(1e-5))); err == nil {
		t.Error("f64 epsilon accepted")
	}
	if err := mutate(setKV(KeyHeadCount, uint32(3))); err == nil {
		t.Error("inconsistent head count accepted")
	}
	if err := mutate(setKV(KeyFeedForward, uint32(100))); err == nil {
		t.Error("wrong ffn size accepted")
	}
	if err := mutate(func(kvs []KV, ts []Tensor) ([]KV, []Tensor) {
		return kvs, append(ts, Tensor{Name: "rope_freqs.weight", Shape: []int{4}, Type: F32, Data: make([]float32, 4)})
	}); err == nil {
		t.Error("extra tensor accepted")
	}
	if err := mutate(func(kvs []KV, ts []Tensor) ([]KV, []Tensor) { return kvs, ts[1:] }); err == nil {
		t.Error("missing token_embd accepted")
	}
	if err := mutate(func(kvs []KV, ts []Tensor) ([]KV, []Tensor) { return kvs, ts[:len(ts)-1] }); err == nil {
		t.Error("missing output_norm accepted")
	}
	// The unmodified file decodes.
	if err := mutate(func(kvs []KV, ts []Tensor) ([]KV, []Tensor) { return kvs, ts }); err != nil {
		t.Fatal(err)
	}
}

func TestTensorName(t *testing.T) {
	for hf, want := range map[string]string{
		model.NameEmbed: "token_embd.weight", model.NameFinalNorm: "output_norm.weight", model.NameLMHead: "output.weight",
		"model.layers.0.input_layernorm.weight":          "blk.0.attn_norm.weight",
		"model.layers.12.self_attn.q_proj.weight":        "blk.12.attn_q.weight",
		"model.layers.3.self_attn.k_proj.bias":           "blk.3.attn_k.bias",
		"model.layers.3.self_attn.o_proj.weight":         "blk.3.attn_output.weight",
		"model.layers.1.post_attention_layernorm.weight": "blk.1.ffn_norm.weight",
		"model.layers.1.mlp.gate_proj.weight":            "blk.1.ffn_gate.weight",
		"model.layers.1.mlp.up_proj.weight":              "blk.1.ffn_up.weight",
		"model.layers.1.mlp.down_proj.weight":            "blk.1.ffn_down.weight",
	} {
		if got, ok := TensorName(hf); !ok || got != want {
			t.Errorf("%s -> %q %v, want %q", hf, got, ok, want)
		}
	}
	for _, bad := range []string{"model.layers.-1.mlp.up_proj.weight", "model.layers.01.mlp.up_proj.weight", "model.layers.1.mlp.foo", "x", llama2c.NameFreqCos} {
		if got, ok := TensorName(bad); ok {
			t.Errorf("%s -> %q", bad, got)
		}
	}
}
