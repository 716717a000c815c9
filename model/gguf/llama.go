package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/humanllm/humanllm/model"
)

// Metadata keys of the "llama" architecture (gguf-py's Keys.LLM and
// Keys.Attention/Rope with {arch} = llama) and general keys.
const (
	KeyArchitecture    = "general.architecture"
	KeyName            = "general.name"
	KeyFileType        = "general.file_type"
	KeyQuantVersion    = "general.quantization_version"
	KeyVocabSize       = "llama.vocab_size"
	KeyContextLength   = "llama.context_length"
	KeyEmbeddingLength = "llama.embedding_length"
	KeyBlockCount      = "llama.block_count"
	KeyFeedForward     = "llama.feed_forward_length"
	KeyHeadCount       = "llama.attention.head_count"
	KeyHeadCountKV     = "llama.attention.head_count_kv"
	KeyRMSEps          = "llama.attention.layer_norm_rms_epsilon"
	KeyRopeFreqBase    = "llama.rope.freq_base"
	KeyRopeDims        = "llama.rope.dimension_count"
)

// Llama tensor names (llama.cpp's LLM_TENSOR names for the llama
// architecture). Per-layer tensors are "blk.N." + a layer suffix.
const (
	TensorTokenEmbd  = "token_embd.weight"
	TensorOutputNorm = "output_norm.weight"
	TensorOutput     = "output.weight"
)

// layerTensors maps the per-layer Hugging Face suffixes to GGUF suffixes.
var layerTensors = []struct{ hf, gguf string }{
	{model.SuffixAttnNorm, "attn_norm.weight"},
	{model.SuffixWq, "attn_q.weight"},
	{model.SuffixBq, "attn_q.bias"},
	{model.SuffixWk, "attn_k.weight"},
	{model.SuffixBk, "attn_k.bias"},
	{model.SuffixWv, "attn_v.weight"},
	{model.SuffixBv, "attn_v.bias"},
	{model.SuffixWo, "attn_output.weight"},
	{model.SuffixFFNNorm, "ffn_norm.weight"},
	{model.SuffixGate, "ffn_gate.weight"},
	{model.SuffixUp, "ffn_up.weight"},
	{model.SuffixDown, "ffn_down.weight"},
}

// TensorName maps a Hugging Face Llama parameter name to its GGUF name.
func TensorName(hf string) (string, bool) {
	switch hf {
	case model.NameEmbed:
		return TensorTokenEmbd, true
	case model.NameFinalNorm:
		return TensorOutputNorm, true
	case model.NameLMHead:
		return TensorOutput, true
	}
	var l int
	if _, err := fmt.Sscanf(hf, "model.layers.%d.", &l); err != nil || l < 0 {
		return "", false
	}
	suffix := strings.TrimPrefix(hf, model.LayerName(l, ""))
	if model.LayerName(l, suffix) != hf {
		return "", false
	}
	for _, m := range layerTensors {
		if m.hf == suffix {
			return fmt.Sprintf("blk.%d.%s", l, m.gguf), true
		}
	}
	return "", false
}

// Options control a Llama export.
type Options struct {
	// Type of the 2-D weight matrices: F32 (the zero value), F16, BF16 or
	// Q8_0. 1-D tensors (norms, biases) are always F32, and with Q8_0 a
	// matrix whose rows are not a multiple of 32 values falls back to F16,
	// as llama.cpp's converter does.
	Type TensorType
	// Name is general.name ("humanllm" when empty).
	Name string
	// Vocab is the tokenizer metadata; llama.cpp needs one to load a model.
	Vocab *Vocab
	// Metadata is appended after the exporter's own keys, which it may
	// not repeat.
	Metadata []KV
}

// fileType is general.file_type (llama_ftype) for a matrix type.
func fileType(t TensorType) (uint32, error) {
	switch t {
	case F32:
		return 0, nil
	case F16:
		return 1, nil
	case Q8_0:
		return 7, nil
	case BF16:
		return 32, nil
	}
	return 0, fmt.Errorf("gguf: cannot export Llama matrices as %v (F32, F16, BF16, Q8_0)", t)
}

func u32(what string, v int) (uint32, error) {
	if v < 0 || v > math.MaxUint32 {
		return 0, fmt.Errorf("gguf: %s = %d does not fit a uint32", what, v)
	}
	return uint32(v), nil
}

// LlamaMetadata is the metadata EncodeLlama writes for cfg: general keys,
// the llama hyperparameters and, when opt.Vocab is set, the tokenizer.
func LlamaMetadata(cfg model.Config, opt Options) ([]KV, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ft, err := fileType(opt.Type)
	if err != nil {
		return nil, err
	}
	name := opt.Name
	if name == "" {
		name = "humanllm"
	}
	kvs := []KV{
		{KeyArchitecture, "llama"},
		{KeyName, name},
		{KeyFileType, ft},
		{KeyQuantVersion, uint32(2)},
		{KeyAlignment, uint32(DefaultAlignment)},
	}
	for _, p := range []struct {
		key string
		v   int
	}{
		{KeyVocabSize, cfg.Vocab}, {KeyContextLength, cfg.MaxSeqLen}, {KeyEmbeddingLength, cfg.Dim},
		{KeyBlockCount, cfg.NLayers}, {KeyFeedForward, cfg.HiddenDim}, {KeyHeadCount, cfg.NHeads},
		{KeyHeadCountKV, cfg.NKVHeads}, {KeyRopeDims, cfg.HeadDim()},
	} {
		v, err := u32(p.key, p.v)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, KV{p.key, v})
	}
	kvs = append(kvs, KV{KeyRopeFreqBase, float32(cfg.RopeTheta)}, KV{KeyRMSEps, float32(cfg.RMSEps)})
	if opt.Vocab != nil {
		if err := opt.Vocab.Validate(); err != nil {
			return nil, err
		}
		if len(opt.Vocab.Tokens) != cfg.Vocab {
			return nil, fmt.Errorf("gguf: vocab has %d tokens, the model %d", len(opt.Vocab.Tokens), cfg.Vocab)
		}
		kvs = append(kvs, opt.Vocab.KVs()...)
	}
	own := map[string]bool{}
	for _, kv := range kvs {
		own[kv.Key] = true
	}
	for _, kv := range opt.Metadata {
		if own[kv.Key] {
			return nil, fmt.Errorf("gguf: Options.Metadata repeats %q, which the exporter writes", kv.Key)
		}
	}
	return append(kvs, opt.Metadata...), nil
}

// LlamaTensors converts w's parameters to GGUF tensors: llama.cpp names,
// q/k rows (and biases) permuted to the interleaved RoPE layout, types as
// Options.Type says. Extra tensors of w (not parameters of its config) are
// left out; with tied embeddings there is no output.weight, and llama.cpp
// reuses token_embd.
func LlamaTensors(w *model.Weights, t TensorType) ([]Tensor, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if _, err := fileType(t); err != nil {
		return nil, err
	}
	cfg := w.Config
	hd := cfg.HeadDim()
	var out []Tensor
	for _, spec := range cfg.ParamSpecs() {
		name, ok := TensorName(spec.Name)
		if !ok {
			return nil, fmt.Errorf("gguf: no GGUF name for %q", spec.Name)
		}
		if len(name) > MaxNameLen {
			return nil, fmt.Errorf("gguf: tensor name %q is longer than %d bytes", name, MaxNameLen)
		}
		src := w.Get(spec.Name)
		data := src.Data
		switch {
		case strings.HasSuffix(spec.Name, model.SuffixWq):
			data = model.PermuteRopeRows(data, cfg.NHeads, hd, cfg.Dim, cfg.RopeLayout, model.RopeInterleaved)
		case strings.HasSuffix(spec.Name, model.SuffixWk):
			data = model.PermuteRopeRows(data, cfg.NKVHeads, hd, cfg.Dim, cfg.RopeLayout, model.RopeInterleaved)
		case strings.HasSuffix(spec.Name, model.SuffixBq):
			data = model.PermuteRopeRows(data, cfg.NHeads, hd, 1, cfg.RopeLayout, model.RopeInterleaved)
		case strings.HasSuffix(spec.Name, model.SuffixBk):
			data = model.PermuteRopeRows(data, cfg.NKVHeads, hd, 1, cfg.RopeLayout, model.RopeInterleaved)
		}
		typ := t
		switch {
		case len(spec.Shape) <= 1 || strings.HasSuffix(name, "_norm.weight"):
			typ = F32
		case typ == Q8_0 && spec.Shape[len(spec.Shape)-1]%Q8_0.BlockSize() != 0:
			typ = F16
		}
		out = append(out, Tensor{Name: name, Shape: slices.Clone(spec.Shape), Type: typ, Data: data})
	}
	return out, nil
}

// EncodeLlama writes w as a GGUF file for llama.cpp's "llama"
// architecture to out.
func EncodeLlama(out io.Writer, w *model.Weights, opt Options) error {
	kvs, err := LlamaMetadata(w.Config, opt)
	if err != nil {
		return err
	}
	ts, err := LlamaTensors(w, opt.Type)
	if err != nil {
		return err
	}
	return Encode(out, kvs, ts)
}

// WriteLlama writes w to path atomically (see EncodeLlama).
func WriteLlama(path string, w *model.Weights, opt Options) error {
	kvs, err := LlamaMetadata(w.Config, opt)
	if err != nil {
		return err
	}
	ts, err := LlamaTensors(w, opt.Type)
	if err != nil {
		return err
	}
	return WriteAtomic(path, func(out io.Writer) error { return Encode(out, kvs, ts) })
}

// ReadLlama reads a "llama" GGUF file into model.Weights in the
// rotate-half RoPE layout, with its tokenizer (nil if it has none).
func ReadLlama(path string) (*model.Weights, *Vocab, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return DecodeLlama(f, model.RopeHalf)
}

// shortFloat returns the float64 with the shortest decimal form that
// rounds to x as a float32, so that 1e-5 written as a float32 reads back
// as 1e-5.
func shortFloat(x float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return v
}

// LlamaConfig reads the model config of a parsed "llama" file from its
// metadata and tensor shapes, in the file's interleaved RoPE layout,
// without decoding any tensor data.
func LlamaConfig(f *File) (model.Config, error) {
	fail := func(err error) (model.Config, error) {
		return model.Config{}, fmt.Errorf("gguf: %s: %w", f.Path, err)
	}
	arch, err := f.String(KeyArchitecture)
	if err != nil {
		return fail(err)
	}
	if arch != "llama" {
		return fail(fmt.Errorf("architecture %q, want llama", arch))
	}
	geti := func(key string, def int) int {
		if _, ok := f.Value(key); !ok && def >= 0 {
			return def
		}
		v, e := f.Uint(key)
		if e != nil {
			err = errors.Join(err, e)
			return 0
		}
		if v > math.MaxInt32 {
			err = errors.Join(err, fmt.Errorf("%s = %d is too large", key, v))
			return 0
		}
		return int(v)
	}
	getf := func(key string, def float64) float64 {
		v, ok := f.Value(key)
		if !ok && def > 0 {
			return def
		}
		x, isF32 := v.(float32)
		if !isF32 {
			e := fmt.Errorf("%s is %T, want a float32", key, v)
			if !ok {
				e = fmt.Errorf("no key %q", key)
			}
			err = errors.Join(err, e)
			return 0
		}
		return shortFloat(x)
	}
	cfg := model.Config{
		Dim:        geti(KeyEmbeddingLength, -1),
		HiddenDim:  geti(KeyFeedForward, -1),
		NLayers:    geti(KeyBlockCount, -1),
		NHeads:     geti(KeyHeadCount, -1),
		MaxSeqLen:  geti(KeyContextLength, -1),
		RMSEps:     getf(KeyRMSEps, -1),
		RopeTheta:  getf(KeyRopeFreqBase, 10000),
		RopeLayout: model.RopeInterleaved,
	}
	cfg.NKVHeads = geti(KeyHeadCountKV, cfg.NHeads)
	emb, ok := f.Tensor(TensorTokenEmbd)
	if !ok {
		err = errors.Join(err, fmt.Errorf("no tensor %s", TensorTokenEmbd))
	} else if len(emb.Dims) == 2 && emb.Dims[1] <= math.MaxInt32 {
		cfg.Vocab = geti(KeyVocabSize, int(emb.Dims[1]))
	}
	if err != nil {
		return fail(err)
	}
	if err := cfg.Validate(); err != nil {
		return fail(err)
	}
	if cfg.NLayers > len(f.Tensors) { // before ParamSpecs allocates per layer
		return fail(fmt.Errorf("%s = %d, but the file has %d tensors", KeyBlockCount, cfg.NLayers, len(f.Tensors)))
	}
	if _, ok := f.Value(KeyRopeDims); ok {
		if n, e := f.Uint(KeyRopeDims); e != nil || n != uint64(cfg.HeadDim()) {
			return fail(fmt.Errorf("%s = %d (%v); only full rotary embeddings (head size %d) are supported", KeyRopeDims, n, e, cfg.HeadDim()))
		}
	}
	_, hasOut := f.Tensor(TensorOutput)
	_, hasBias := f.Tensor("blk.0.attn_q.bias")
	cfg.TiedEmbeddings, cfg.QKVBias = !hasOut, hasBias

	return cfg, nil
}

// DecodeLlama converts a parsed "llama" file into model.Weights with q/k
// in the given RoPE layout (model.RopeInterleaved keeps the file's
// order). Every tensor is dequantised to float32. Tensors other than the
// Llama parameters (rope_freqs, for instance, which would change the
// model) are an error, as are partial rotary dimensions.
func DecodeLlama(f *File, rope model.RopeLayout) (*model.Weights, *Vocab, error) {
	fail := func(err error) (*model.Weights, *Vocab, error) {
		return nil, nil, fmt.Errorf("gguf: %s: %w", f.Path, err)
	}
	cfg, err := LlamaConfig(f)
	if err != nil {
		return nil, nil, err
	}

	w := &model.Weights{Config: cfg}
	used := map[string]bool{}
	for _, spec := range cfg.ParamSpecs() {
		name, _ := TensorName(spec.Name)
		ti, ok := f.Tensor(name)
		if !ok {
			return fail(fmt.Errorf("missing tensor %s", name))
		}
		if got := ti.Shape(); !slices.Equal(got, spec.Shape) {
			return fail(fmt.Errorf("tensor %s has shape %v, the config implies %v", name, got, spec.Shape))
		}
		data, _, err := f.Float32(name)
		if err != nil {
			return nil, nil, err
		}
		used[name] = true
		if err := w.Add(&model.Tensor{Name: spec.Name, Shape: slices.Clone(spec.Shape), Data: data}); err != nil {
			return fail(err)
		}
	}
	for _, t := range f.Tensors {
		if !used[t.Name] {
			return fail(fmt.Errorf("unsupported tensor %s", t.Name))
		}
	}
	if err := w.ConvertRope(rope); err != nil {
		return fail(err)
	}
	v, err := VocabOf(f)
	if err != nil {
		return fail(err)
	}
	if v != nil && len(v.Tokens) != cfg.Vocab {
		return fail(fmt.Errorf("tokenizer has %d tokens, the model %d", len(v.Tokens), cfg.Vocab))
	}
	return w, v, nil
}
