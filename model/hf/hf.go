// Package hf reads and writes Hugging Face model directories of the Llama
// family (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM without
// sliding windows; SmolLM and TinyLlama are LlamaForCausalLM):
//
//	config.json                       the shape (hidden_size, num_key_value_heads, rope_theta, …)
//	model.safetensors                 weights, f32 / f16 / bf16
//	model.safetensors.index.json      or shards listed by this index
//	generation_config.json            bos/eos ids (optional)
//	tokenizer.json, tokenizer_config.json   the tokenizer and chat template (read by the caller)
//
// Tensor names are Hugging Face's, which are also model.Config.ParamSpecs'
// names, and q/k rows are in the rotate-half RoPE layout (model.RopeHalf)
// as transformers stores them. Every field and tensor is validated before
// it is trusted: an unsupported feature (rope_scaling, a head_dim other
// than hidden_size/num_attention_heads, an activation other than SiLU) is a
// clear error, never a silently different model.
package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/safetensors"
)

// Config is the part of a transformers config.json that shapes a
// Llama-family model. Pointer fields distinguish "absent" (take
// transformers' default) from zero.
type Config struct {
	Architectures    []string        `json:"architectures"`
	ModelType        string          `json:"model_type"`
	HiddenSize       int             `json:"hidden_size"`
	Intermediate     int             `json:"intermediate_size"`
	Layers           int             `json:"num_hidden_layers"`
	Heads            int             `json:"num_attention_heads"`
	KVHeads          *int            `json:"num_key_value_heads"`
	HeadDim          *int            `json:"head_dim"`
	Vocab            int             `json:"vocab_size"`
	MaxPositions     int             `json:"max_position_embeddings"`
	RopeTheta        *float64        `json:"rope_theta"`
	RMSEps           *float64        `json:"rms_norm_eps"`
	Tie              *bool           `json:"tie_word_embeddings"`
	AttentionBias    *bool           `json:"attention_bias"`
	MLPBias          *bool           `json:"mlp_bias"`
	HiddenAct        string          `json:"hidden_act"`
	RopeScaling      json.RawMessage `json:"rope_scaling"`
	SlidingWindow    json.RawMessage `json:"sliding_window"`
	UseSlidingWindow *bool           `json:"use_sliding_window"`
	TorchDtype       string          `json:"torch_dtype"`
}

// ParseConfig reads config.json bytes (name is used in errors) into a
// model.Config, applying transformers' defaults for absent fields.
func ParseConfig(b []byte, name string) (model.Config, error) {
	var hc Config
	if err := json.Unmarshal(b, &hc); err != nil {
		return model.Config{}, fmt.Errorf("%s: %w", name, jsonErr(b, err))
	}
	c, err := hc.ModelConfig()
	if err != nil {
		return model.Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// jsonErr adds the line and column to a JSON syntax error.
func jsonErr(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(b[:se.Offset], []byte("\n"))
		col := int(se.Offset) - bytes.LastIndexByte(b[:se.Offset], '\n') - 1
		return fmt.Errorf("line %d column %d: %w", line, col, err)
	}
	return err
}

// ModelConfig converts to model.Config, rejecting what the llama graph
// does not compute.
func (hc Config) ModelConfig() (model.Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	mt := hc.ModelType
	switch mt {
	case "llama", "qwen2", "mistral":
	case "":
		bad("model_type is missing")
	default:
		bad("model_type %q is not supported (llama, qwen2, mistral)", mt)
	}
	c := model.Config{
		Dim: hc.HiddenSize, HiddenDim: hc.Intermediate, NLayers: hc.Layers, NHeads: hc.Heads,
		NKVHeads: hc.Heads, Vocab: hc.Vocab, MaxSeqLen: hc.MaxPositions,
		RopeTheta: 10000, RMSEps: 1e-6, RopeLayout: model.RopeHalf,
	}
	if hc.KVHeads != nil {
		c.NKVHeads = *hc.KVHeads
	}
	if hc.RopeTheta != nil {
		c.RopeTheta = *hc.RopeTheta
	}
	if hc.RMSEps != nil {
		c.RMSEps = *hc.RMSEps
	}
	// transformers: LlamaConfig and MistralConfig default
	// tie_word_embeddings to false, Qwen2Config to false as well (the small
	// Qwen2 checkpoints set it explicitly).
	if hc.Tie != nil {
		c.TiedEmbeddings = *hc.Tie
	}
	switch {
	case mt == "qwen2":
		c.QKVBias = true // Qwen2 always has q/k/v biases and no o bias
	case hc.AttentionBias != nil && *hc.AttentionBias:
		bad("attention_bias = true (biases on q, k, v and o) is not supported")
	}
	if hc.MLPBias != nil && *hc.MLPBias {
		bad("mlp_bias = true is not supported")
	}
	if hc.HiddenAct != "" && hc.HiddenAct != "silu" {
		bad("hidden_act %q is not supported (silu)", hc.HiddenAct)
	}
	if len(hc.RopeScaling) > 0 && string(hc.RopeScaling) != "null" {
		bad("rope_scaling %s is not supported (plain RoPE only)", hc.RopeScaling)
	}
	if mt == "mistral" && len(hc.SlidingWindow) > 0 && string(hc.SlidingWindow) != "null" {
		bad("sliding_window %s is not supported", hc.SlidingWindow)
	}
	if mt == "qwen2" && hc.UseSlidingWindow != nil && *hc.UseSlidingWindow {
		bad("use_sliding_window = true is not supported")
	}
	if hc.HeadDim != nil && hc.Heads > 0 && *hc.HeadDim != hc.HiddenSize/hc.Heads {
		bad("head_dim %d differs from hidden_size/num_attention_heads = %d, which is not supported", *hc.HeadDim, hc.HiddenSize/hc.Heads)
	}
	if math.IsNaN(c.RopeTheta) || math.IsNaN(c.RMSEps) {
		bad("rope_theta or rms_norm_eps is NaN")
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return model.Config{}, errors.Join(errs...)
	}
	return c, nil
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (model.Config, error) {
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return model.Config{}, err
	}
	return ParseConfig(b, p)
}

// Load reads a model directory's config and weights (dequantised to
// float32). Tensors the config does not call for are an error, except a
// redundant lm_head.weight of a tied model (transformers ignores it too)
// and rotary inv_freq buffers.
func Load(dir string) (*model.Weights, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	w := &model.Weights{Config: cfg}
	want := map[string]bool{}
	var errs []error
	for _, s := range cfg.ParamSpecs() {
		want[s.Name] = true
		if _, ok := st.Info(s.Name); !ok {
			errs = append(errs, fmt.Errorf("missing tensor %q (shape %v)", s.Name, s.Shape))
			continue
		}
		data, shape, err := st.Float32(s.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := w.Add(&model.Tensor{Name: s.Name, Shape: shape, Data: data}); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range st.Names() {
		switch {
		case want[n]:
		case n == model.NameLMHead && cfg.TiedEmbeddings:
		case filepath.Ext(n) == ".inv_freq":
		default:
			errs = append(errs, fmt.Errorf("tensor %q is not part of a %s model with this config", n, "Llama-family"))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, w.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hf: %s: %w", dir, err)
	}
	return w, nil
}

// WriteOptions says how Write stores a model.
type WriteOptions struct {
	// DType of every tensor: "F32" (default), "F16" or "BF16".
	DType string
	// BOS and EOS token ids for config.json and generation_config.json;
	// -1 leaves them out.
	BOS, EOS int
}

// Write stores w as a transformers LlamaForCausalLM (or Qwen2ForCausalLM
// when it has q/k/v biases) directory: config.json,
// generation_config.json and model.safetensors, each written atomically.
// The caller adds tokenizer files.
func Write(dir string, w *model.Weights, o WriteOptions) error {
	if err := w.Validate(); err != nil {
		return err
	}
	c := w.Config
	if c.RopeLayout != model.RopeHalf {
		return fmt.Errorf("hf: weights are in the %s RoPE layout; transformers needs the rotate-half layout", c.RopeLayout)
	}
	dt := o.DType
	if dt == "" {
		dt = "F32"
	}
	torchDtype, ok := map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dt]
	if !ok {
		return fmt.Errorf("hf: dtype %q: write F32, F16 or BF16", o.DType)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, s := range c.ParamSpecs() {
		t := w.Get(s.Name)
		ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: t.Shape, Data: t.Data, DType: dt})
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	arch, mt := "LlamaForCausalLM", "llama"
	if c.QKVBias {
		arch, mt = "Qwen2ForCausalLM", "qwen2"
	}
	hc := map[string]any{
		"architectures": []string{arch}, "model_type": mt,
		"hidden_size": c.Dim, "intermediate_size": c.HiddenDim, "num_hidden_layers": c.NLayers,
		"num_attention_heads": c.NHeads, "num_key_value_heads": c.NKVHeads, "head_dim": c.HeadDim(),
		"vocab_size": c.Vocab, "max_position_embeddings": c.MaxSeqLen, "rope_theta": c.RopeTheta,
		"rms_norm_eps": c.RMSEps, "tie_word_embeddings": c.TiedEmbeddings,
		"hidden_act": "silu", "torch_dtype": torchDtype, "rope_scaling": nil,
	}
	if mt == "llama" {
		hc["attention_bias"] = false
		hc["mlp_bias"] = false
	}
	gen := map[string]any{"do_sample": false}
	if o.BOS >= 0 {
		hc["bos_token_id"], gen["bos_token_id"] = o.BOS, o.BOS
	}
	if o.EOS >= 0 {
		hc["eos_token_id"], gen["eos_token_id"] = o.EOS, o.EOS
	}
	for name, v := range map[string]any{"config.json": hc, "generation_config.json": gen} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := safetensors.WriteAtomic(filepath.Join(dir, name), append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// TokenIDs reads bos_token_id and eos_token_id from dir's
// generation_config.json, else config.json; -1 where absent. An
// eos_token_id list (Llama 3 lists several) gives its first entry and the
// whole list in eosAll.
func TokenIDs(dir string) (bos, eos int, eosAll []int) {
	bos, eos = -1, -1
	for _, name := range []string{"config.json", "generation_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var v struct {
			BOS json.RawMessage `json:"bos_token_id"`
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		if ids := intOrList(v.BOS); len(ids) > 0 {
			bos = ids[0]
		}
		if ids := intOrList(v.EOS); len(ids) > 0 {
			eos, eosAll = ids[0], ids
		}
	}
	return bos, eos, eosAll
}

func intOrList(raw json.RawMessage) []int {
	var one int
	if json.Unmarshal(raw, &one) == nil && len(raw) > 0 && string(raw) != "null" {
		return []int{one}
	}
	var many []int
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}
