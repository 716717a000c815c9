package hf

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/safetensors"
)

// randomWeights returns weights of cfg with values from a fixed seed.
func randomWeights(t testing.TB, cfg model.Config) *model.Weights {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	w := &model.Weights{Config: cfg}
	for _, s := range cfg.ParamSpecs() {
		d := make([]float32, s.Size())
		for i := range d {
			d[i] = float32(r.NormFloat64() * 0.05)
		}
		if err := w.Add(&model.Tensor{Name: s.Name, Shape: s.Shape, Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func smallConfig() model.Config {
	return model.Config{Dim: 16, HiddenDim: 24, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 40, MaxSeqLen: 32,
		RopeTheta: 500000, RMSEps: 1e-5, RopeLayout: model.RopeHalf}
}

func TestParseConfigDefaultsAndKinds(t *testing.T) {
	// SmolLM2-135M's config.json (huggingface.co/HuggingFaceTB/SmolLM2-135M), trimmed of
	// keys that do not shape the model.
	smol := `{"architectures":["LlamaForCausalLM"],"attention_bias":false,"bos_token_id":0,"eos_token_id":0,
	"hidden_act":"silu","hidden_size":576,"initializer_range":0.041666666666666664,"intermediate_size":1536,
	"max_position_embeddings":8192,"mlp_bias":false,"model_type":"llama","num_attention_heads":9,
	"num_hidden_layers":30,"num_key_value_heads":3,"pretraining_tp":1,"rms_norm_eps":1e-05,"rope_scaling":null,
	"rope_theta":100000,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":49152}`
	c, err := ParseConfig([]byte(smol), "config.json")
	if err != nil {
		t.Fatal(err)
	}
	want := model.Config{Dim: 576, HiddenDim: 1536, NLayers: 30, NHeads: 9, NKVHeads: 3, Vocab: 49152, MaxSeqLen: 8192,
		RopeTheta: 100000, RMSEps: 1e-5, TiedEmbeddings: true, RopeLayout: model.RopeHalf}
	if c != want {
		t.Fatalf("SmolLM2 config:\n got %+v\nwant %+v", c, want)
	}
	if n := c.ParamCount(); n != 134515008 {
		t.Errorf("SmolLM2-135M parameter count %d, want 134515008", n)
	}
	// Qwen2.5-0.5B: q/k/v biases implied by model_type.
	qwen := `{"architectures":["Qwen2ForCausalLM"],"hidden_act":"silu","hidden_size":896,"intermediate_size":4864,
	"max_position_embeddings":32768,"model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,
	"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":32768,
	"tie_word_embeddings":true,"use_sliding_window":false,"vocab_size":151936}`
	c, err = ParseConfig([]byte(qwen), "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if !c.QKVBias || c.NKVHeads != 2 || c.RopeTheta != 1e6 || !c.TiedEmbeddings {
		t.Fatalf("Qwen2.5 config: %+v", c)
	}
	if n := c.ParamCount(); n != 494032768 {
		t.Errorf("Qwen2.5-0.5B parameter count %d, want 494032768", n)
	}
	// Absent fields take transformers' defaults.
	c, err = ParseConfig([]byte(`{"model_type":"llama","hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
	"num_attention_heads":2,"vocab_size":10,"max_position_embeddings":4}`), "c.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.NKVHeads != 2 || c.RopeTheta != 10000 || c.RMSEps != 1e-6 || c.TiedEmbeddings {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := map[string]any{"model_type": "llama", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
		"num_attention_heads": 2, "vocab_size": 10, "max_position_embeddings": 4}
	cases := []struct {
		set  map[string]any
		want string
	}{
		{map[string]any{"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8}}, "rope_scaling"},
		{map[string]any{"head_dim": 8}, "head_dim 8"},
		{map[string]any{"hidden_act": "gelu"}, `hidden_act "gelu"`},
		{map[string]any{"model_type": "gemma"}, `model_type "gemma"`},
		{map[string]any{"attention_bias": true}, "attention_bias"},
		{map[string]any{"num_key_value_heads": 3}, "n_kv_heads 3"},
		{map[string]any{"hidden_size": 0}, "dim = 0"},
		{map[string]any{"model_type": "mistral", "sliding_window": 4096}, "sliding_window"},
	}
	for _, tc := range cases {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range tc.set {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		_, err := ParseConfig(b, "x/config.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x/config.json") {
			t.Errorf("%v: error %v, want one naming the file and %q", tc.set, err, tc.want)
		}
	}
	_, err := ParseConfig([]byte("{\n \"model_type\": \"llama\",\n \"hidden_size\": 8,,\n}"), "bad.json")
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("syntax error without its line: %v", err)
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*model.Config)
	}{
		{"llama-gqa-untied", func(*model.Config) {}},
		{"llama-tied", func(c *model.Config) { c.TiedEmbeddings = true }},
		{"qwen2-bias", func(c *model.Config) { c.QKVBias = true; c.TiedEmbeddings = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig()
			tc.mod(&cfg)
			w := randomWeights(t, cfg)
			dir := t.TempDir()
			if err := Write(dir, w, WriteOptions{BOS: 1, EOS: 2}); err != nil {
				t.Fatal(err)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Config != cfg {
				t.Fatalf("config %+v, want %+v", got.Config, cfg)
			}
			for _, s := range cfg.ParamSpecs() {
				if !slices.Equal(got.Get(s.Name).Data, w.Get(s.Name).Data) {
					t.Fatalf("%s differs after an f32 round trip", s.Name)
				}
			}
			if bos, eos, _ := TokenIDs(dir); bos != 1 || eos != 2 {
				t.Errorf("bos/eos %d/%d, want 1/2", bos, eos)
			}
			// bf16 and f16 round to the nearest representable value.
			for _, dt := range []string{"F16", "BF16"} {
				d2 := t.TempDir()
				if err := Write(d2, w, WriteOptions{DType: dt, BOS: -1, EOS: -1}); err != nil {
					t.Fatal(err)
				}
				g2, err := Load(d2)
				if err != nil {
					t.Fatal(err)
				}
				tol := map[string]float64{"F16": 1.0 / 1024, "BF16": 1.0 / 128}[dt]
				for _, s := range cfg.ParamSpecs() {
					a, b := w.Get(s.Name).Data, g2.Get(s.Name).Data
					for i := range a {
						if d := float64(a[i] - b[i]); d > tol*abs(float64(a[i]))+1e-7 || -d > tol*abs(float64(a[i]))+1e-7 {
							t.Fatalf("%s %s[%d]: %g vs %g", dt, s.Name, i, a[i], b[i])
						}
					}
				}
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestLoadSharded splits a model over two shards with an index, as
// transformers' save_pretrained does for large models.
func TestLoadSharded(t *testing.T) {
	cfg := smallConfig()
	w := randomWeights(t, cfg)
	dir := t.TempDir()
	if err := Write(dir, w, WriteOptions{BOS: -1, EOS: -1}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	specs := cfg.ParamSpecs()
	idx := safetensors.Index{WeightMap: map[string]string{}}
	for i, part := range [][]model.TensorSpec{specs[:len(specs)/2], specs[len(specs)/2:]} {
		name := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		var ts []safetensors.Tensor
		for _, s := range part {
			ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: s.Shape, Data: w.Get(s.Name).Data, DType: "BF16"})
			idx.WeightMap[s.Name] = name
		}
		if err := safetensors.WriteFile(filepath.Join(dir, name), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != len(specs) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(specs))
	}
}

func TestLoadRejects(t *testing.T) {
	cfg := smallConfig()
	w := randomWeights(t, cfg)
	write := func(t *testing.T, ts []safetensors.Tensor) string {
		dir := t.TempDir()
		if err := Write(dir, w, WriteOptions{BOS: -1, EOS: -1}); err != nil {
			t.Fatal(err)
		}
		if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	all := func() []safetensors.Tensor {
		var ts []safetensors.Tensor
		for _, s := range cfg.ParamSpecs() {
			ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: s.Shape, Data: w.Get(s.Name).Data})
		}
		return ts
	}
	t.Run("missing", func(t *testing.T) {
		ts := all()
		dir := write(t, ts[:len(ts)-1])
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `missing tensor "lm_head.weight"`) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("shape", func(t *testing.T) {
		ts := all()
		ts[1].Shape = []int{ts[1].Shape[0] / 2, 2}
		ts[1].Data = ts[1].Data[:ts[1].Shape[0]*2]
		dir := write(t, ts)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), ts[1].Name) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("extra", func(t *testing.T) {
		ts := append(all(), safetensors.Tensor{Name: "model.layers.0.self_attn.o_proj.bias", Shape: []int{16}, Data: make([]float32, 16)})
		dir := write(t, ts)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "o_proj.bias") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		dir := write(t, all())
		p := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(p)
		if err := os.WriteFile(p, b[:len(b)-10], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil {
			t.Fatal("a truncated model.safetensors loaded")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"llama","hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10,"max_position_embeddings":4}`))
	f.Add([]byte(`{"model_type":"qwen2","hidden_size":8,"num_key_value_heads":0,"rope_scaling":{}}`))
	f.Add([]byte(`{"model_type":"llama","hidden_size":-8,"head_dim":3,"rope_theta":-1}`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, "fuzz.json")
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("ParseConfig accepted an invalid config: %v", verr)
			}
		}
	})
}
