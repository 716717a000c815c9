package model

import (
	"errors"
	"fmt"
)

// RopeLayout says which two elements of an attention head a rotary position
// embedding rotates together. It describes how the rows of the q and k
// projections are ordered inside each head.
type RopeLayout uint8

const (
	// RopeHalf is Hugging Face's "rotate-half" layout: element i of a head
	// pairs with element i+headDim/2, rotated by the angle of frequency i.
	// This is the layout every loader in this project converts to.
	RopeHalf RopeLayout = iota
	// RopeInterleaved is Meta's and llama2.c's layout: elements 2i and 2i+1
	// of a head form the pair of frequency i.
	RopeInterleaved
)

func (l RopeLayout) String() string {
	switch l {
	case RopeHalf:
		return "half"
	case RopeInterleaved:
		return "interleaved"
	}
	return fmt.Sprintf("RopeLayout(%d)", uint8(l))
}

// Config is the shape of a Llama-family decoder-only transformer: pre-norm
// RMSNorm blocks, rotary attention with grouped-query heads, SwiGLU MLP.
type Config struct {
	Dim       int `json:"dim"`         // hidden size
	HiddenDim int `json:"hidden_dim"`  // MLP inner size
	NLayers   int `json:"n_layers"`    // transformer blocks
	NHeads    int `json:"n_heads"`     // query heads
	NKVHeads  int `json:"n_kv_heads"`  // key/value heads; NHeads must be a multiple
	Vocab     int `json:"vocab_size"`  // token embedding rows
	MaxSeqLen int `json:"max_seq_len"` // longest sequence (positions 0..MaxSeqLen-1)

	RopeTheta float64 `json:"rope_theta"` // RoPE base, 10000 for Llama 2
	RMSEps    float64 `json:"rms_eps"`    // RMSNorm epsilon

	// TiedEmbeddings: the output classifier reuses the token embedding
	// table (no lm_head.weight).
	TiedEmbeddings bool `json:"tied_embeddings"`
	// QKVBias adds biases to the q, k and v projections (Qwen 2 style).
	QKVBias bool `json:"qkv_bias"`
	// RopeLayout of the q/k projection rows.
	RopeLayout RopeLayout `json:"rope_layout"`
}

// HeadDim is the size of one attention head.
func (c Config) HeadDim() int {
	if c.NHeads == 0 {
		return 0
	}
	return c.Dim / c.NHeads
}

// KVDim is the output size of the k and v projections.
func (c Config) KVDim() int { return c.NKVHeads * c.HeadDim() }

// Validate checks that the sizes are positive and consistent.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s = %d, must be > 0", name, v))
		}
	}
	pos("dim", c.Dim)
	pos("hidden_dim", c.HiddenDim)
	pos("n_layers", c.NLayers)
	pos("n_heads", c.NHeads)
	pos("n_kv_heads", c.NKVHeads)
	pos("vocab_size", c.Vocab)
	pos("max_seq_len", c.MaxSeqLen)
	if c.NHeads > 0 && c.Dim%c.NHeads != 0 {
		errs = append(errs, fmt.Errorf("dim %d is not a multiple of n_heads %d", c.Dim, c.NHeads))
	}
	if c.NKVHeads > 0 && c.NHeads%c.NKVHeads != 0 {
		errs = append(errs, fmt.Errorf("n_heads %d is not a multiple of n_kv_heads %d", c.NHeads, c.NKVHeads))
	}
	if c.NHeads > 0 && c.Dim%c.NHeads == 0 && c.HeadDim()%2 != 0 {
		errs = append(errs, fmt.Errorf("head size %d is odd; RoPE needs an even head size", c.HeadDim()))
	}
	if !(c.RopeTheta > 0) {
		errs = append(errs, fmt.Errorf("rope_theta = %g, must be > 0", c.RopeTheta))
	}
	if !(c.RMSEps > 0) {
		errs = append(errs, fmt.Errorf("rms_eps = %g, must be > 0", c.RMSEps))
	}
	if c.RopeLayout > RopeInterleaved {
		errs = append(errs, fmt.Errorf("unknown rope layout %d", c.RopeLayout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("model config: %w", errors.Join(errs...))
	}
	return nil
}

// Parameter names (Hugging Face Llama layout).
const (
	NameEmbed     = "model.embed_tokens.weight"
	NameFinalNorm = "model.norm.weight"
	NameLMHead    = "lm_head.weight"

	SuffixAttnNorm = "input_layernorm.weight"
	SuffixWq       = "self_attn.q_proj.weight"
	SuffixWk       = "self_attn.k_proj.weight"
	SuffixWv       = "self_attn.v_proj.weight"
	SuffixBq       = "self_attn.q_proj.bias"
	SuffixBk       = "self_attn.k_proj.bias"
	SuffixBv       = "self_attn.v_proj.bias"
	SuffixWo       = "self_attn.o_proj.weight"
	SuffixFFNNorm  = "post_attention_layernorm.weight"
	SuffixGate     = "mlp.gate_proj.weight" // llama2.c w1
	SuffixUp       = "mlp.up_proj.weight"   // llama2.c w3
	SuffixDown     = "mlp.down_proj.weight" // llama2.c w2
)

// LayerName is the name of a per-layer tensor, e.g.
// LayerName(0, SuffixWq) = "model.layers.0.self_attn.q_proj.weight".
func LayerName(layer int, suffix string) string {
	return fmt.Sprintf("model.layers.%d.%s", layer, suffix)
}

// TensorSpec names a parameter tensor and gives its shape ([out, in] for
// projection matrices: y = W·x).
type TensorSpec struct {
	Name  string
	Shape []int
}

// Size is the number of elements.
func (s TensorSpec) Size() int { return shapeSize(s.Shape) }

// ParamSpecs lists every trainable tensor of the model in a fixed order:
// embedding, then per layer (attention norm, q, [q bias], k, [k bias], v,
// [v bias], o, MLP norm, gate, up, down), final norm, [lm_head].
func (c Config) ParamSpecs() []TensorSpec {
	d, kv, h := c.Dim, c.KVDim(), c.HiddenDim
	specs := []TensorSpec{{NameEmbed, []int{c.Vocab, d}}}
	for l := range c.NLayers {
		ln := func(s string, shape ...int) {
			specs = append(specs, TensorSpec{LayerName(l, s), shape})
		}
		ln(SuffixAttnNorm, d)
		ln(SuffixWq, d, d)
		if c.QKVBias {
			ln(SuffixBq, d)
		}
		ln(SuffixWk, kv, d)
		if c.QKVBias {
			ln(SuffixBk, kv)
		}
		ln(SuffixWv, kv, d)
		if c.QKVBias {
			ln(SuffixBv, kv)
		}
		ln(SuffixWo, d, d)
		ln(SuffixFFNNorm, d)
		ln(SuffixGate, h, d)
		ln(SuffixUp, h, d)
		ln(SuffixDown, d, h)
	}
	specs = append(specs, TensorSpec{NameFinalNorm, []int{d}})
	if !c.TiedEmbeddings {
		specs = append(specs, TensorSpec{NameLMHead, []int{c.Vocab, d}})
	}
	return specs
}

// ParamCount is the number of trainable parameters (a tied classifier is
// counted once).
func (c Config) ParamCount() int64 {
	var n int64
	for _, s := range c.ParamSpecs() {
		n += int64(s.Size())
	}
	return n
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
