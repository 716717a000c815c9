package kernels

import "math"

// The fused operations a transformer step spends its non-matmul time in.
// Conventions shared by every method below:
//
//   - All tensors are dense, row-major float32 slices (ids and targets are
//     int32). Sizes are given explicitly; a slice shorter than its size
//     panics (checked with the helpers in check_fused.go, with the messages
//     in errors_fused.go). Slices may be longer; elements past the sizes are
//     neither read nor written. An operation with nothing to compute (a
//     zero size) does nothing and checks only that sizes are not negative.
//   - Forward outputs are overwritten. A forward op may save small
//     statistics (rstd, mean, lse) for its backward; the caller owns them.
//   - Backward ops OVERWRITE the input gradient (dx, dq, ...) and
//     ACCUMULATE (+=) into parameter gradients (dw, db, dtable), the way a
//     training step sums parameter gradients over uses and micro-batches.
//   - An output may alias an input only where the method says so.
//   - Results are deterministic: the same inputs give bit-identical outputs
//     whatever the number of threads (exact resume depends on it).
//   - Every op is fp32 storage with fp32 (or wider) accumulation. bf16
//     storage will come as new methods on new interfaces (see the package
//     documentation), not as changes to these.

// Normer computes RMSNorm and LayerNorm over the last axis of a rows×n
// matrix.
type Normer interface {
	// RMSNorm: y[r,:] = x[r,:] * rstd[r] * w, rstd[r] = 1/sqrt(mean(x[r,:]²)+eps).
	// rstd has rows elements. y may alias x.
	RMSNorm(y, rstd, x, w []float32, rows, n int, eps float32)
	// RMSNormBackward: dx overwritten, dw accumulated. dx may alias dy.
	RMSNormBackward(dx, dw, dy, x, w, rstd []float32, rows, n int)
	// LayerNorm: y = (x-mean)*rstd*w + b, population variance. b may be nil
	// (no bias). mean and rstd have rows elements. y may alias x.
	LayerNorm(y, mean, rstd, x, w, b []float32, rows, n int, eps float32)
	// LayerNormBackward: dx overwritten, dw and db (nil when there is no
	// bias) accumulated. dx may alias dy.
	LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd []float32, rows, n int)
}

// Activator computes the elementwise activations over n elements. Every
// method is elementwise, so any output may alias any input exactly (the same
// slice start: y may alias x, g or u; dx may alias dy or x; dg and du may
// alias dy, g or u), but dg and du must not alias each other.
type Activator interface {
	// GELU, tanh approximation: 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
	GELU(y, x []float32, n int)
	GELUBackward(dx, dy, x []float32, n int)
	// SiLU: x·σ(x).
	SiLU(y, x []float32, n int)
	SiLUBackward(dx, dy, x []float32, n int)
	// SwiGLU: y = SiLU(g) ⊙ u (Llama's MLP gate). dg and du overwritten.
	SwiGLU(y, g, u []float32, n int)
	SwiGLUBackward(dg, du, dy, g, u []float32, n int)
}

// RoPELayout says which elements of a head form a rotated pair.
type RoPELayout uint8

const (
	// RoPEHalf is Hugging Face's rotate-half layout: element i pairs with
	// element i+d/2.
	RoPEHalf RoPELayout = iota
	// RoPEInterleaved is Meta's / llama2.c's layout: element 2i pairs with
	// element 2i+1.
	RoPEInterleaved
)

// RoPEParams describes x of shape [tokens, heads, headDim] (contiguous) and
// the rotation tables: pair i of a token at position p is rotated by the
// angle whose cosine is Cos[p*headDim/2+i] and sine Sin[p*headDim/2+i]
// (tables from RoPETables). Pos has tokens entries.
type RoPEParams struct {
	Tokens, Heads, HeadDim int
	Pos                    []int32
	Cos, Sin               []float32
	Layout                 RoPELayout
}

// Roper applies rotary position embeddings.
type Roper interface {
	// RoPE rotates x into y; y may alias x.
	RoPE(y, x []float32, p RoPEParams)
	// RoPEBackward rotates dy back (by the negative angle) into dx; dx may
	// alias dy.
	RoPEBackward(dx, dy []float32, p RoPEParams)
}

// RoPETables returns the cos and sin tables for positions [0, maxPos) and a
// head size headDim (even): angle(p, i) = p · theta^(-2i/headDim), computed in
// float64 and rounded once.
func RoPETables(maxPos, headDim int, theta float64) (cos, sin []float32) {
	half := headDim / 2
	cos = make([]float32, maxPos*half)
	sin = make([]float32, maxPos*half)
	for p := range maxPos {
		for i := range half {
			a := float64(p) * math.Pow(theta, -2*float64(i)/float64(headDim))
			cos[p*half+i] = float32(math.Cos(a))
			sin[p*half+i] = float32(math.Sin(a))
		}
	}
	return cos, sin
}

// Softmaxer computes a numerically stable softmax over the last axis of a
// rows×n matrix.
type Softmaxer interface {
	// Softmax: y may alias x.
	Softmax(y, x []float32, rows, n int)
	// SoftmaxBackward: dx = y ⊙ (dy − Σ dy⊙y) per row; dx may alias dy.
	SoftmaxBackward(dx, dy, y []float32, rows, n int)
}

// AttentionParams describes causal multi-head attention with grouped-query
// heads. Q and the output are [B, T, H, D]; K and V are [B, T, KVH, D]
// (H is a multiple of KVH and query head h reads KV head h/(H/KVH)). The
// output and dout are contiguous; Q, K and V (and dQ, dK, dV) are too when
// Stride is 0, and otherwise the rows of consecutive tokens (b, t) are
// Stride elements apart in each of them: token (b, t)'s head h starts at
// (b·T+t)·Stride + h·D. That lets Q, K and V be the three column blocks of
// one fused projection [B·T, (H+2·KVH)·D] (q = qkv, k = qkv[H·D:],
// v = qkv[(H+KVH)·D:], Stride = (H+2·KVH)·D), and dQ, dK, dV those of its
// gradient; elements between the rows are neither read nor written.
// Stride, when not 0, must be at least H·D. Query t of a row attends keys s with Start[b*T+t] <= s <= t,
// where Start (nil: all 0) lets packed samples not see each other: for a
// sample packed at positions [s0, s1) of row b, Start[b*T+t] = s0 for t in
// [s0, s1). Only 0 <= Start[b*T+t] <= t is required (and checked), so every
// query sees at least itself. Scale is usually 1/√D. If any of B, T, H or D
// is 0 nothing is done. NaN or ±Inf in the keys or values of positions a
// query does not attend (the future, other packed samples) may still reach
// its output: tiled implementations multiply them by zero probabilities.
type AttentionParams struct {
	B, T, H, KVH, D int
	Scale           float32
	Start           []int32
	Stride          int // row stride of Q, K, V, dQ, dK, dV; 0: contiguous
}

// Strides returns the row strides of Q (and dQ) and of K and V (and dK,
// dV): Stride for both, or H·D and KVH·D when Stride is 0.
func (p AttentionParams) Strides() (q, kv int) {
	if p.Stride != 0 {
		return p.Stride, p.Stride
	}
	return p.H * p.D, p.KVH * p.D
}

// Attender computes causal attention without materialising the whole T×T
// score matrix (tiled, online softmax).
type Attender interface {
	// CausalAttention writes out and lse ([B, H, T]: the log-sum-exp of each
	// query's scaled scores, saved for the backward pass).
	CausalAttention(out, lse, q, k, v []float32, p AttentionParams)
	// CausalAttentionBackward overwrites dq, dk and dv.
	CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, p AttentionParams)
}

// IgnoreIndex is the target that contributes neither loss nor gradient
// (PyTorch's default ignore_index).
const IgnoreIndex int32 = -100

// Losser computes softmax cross-entropy over a vocabulary.
type Losser interface {
	// CrossEntropy writes each row's loss −log softmax(logits[r])[t_r] into
	// losses (0 for rows whose target is IgnoreIndex); logits, an n×v
	// matrix, is not modified. A target outside [0, v) other than
	// IgnoreIndex panics.
	CrossEntropy(losses, logits []float32, targets []int32, n, v int)
	// CrossEntropyGrad does the same and overwrites logits, in place, with
	// the gradient of scale·Σ losses: scale·(softmax − onehot), and zeros for
	// ignored rows.
	CrossEntropyGrad(losses, logits []float32, targets []int32, n, v int, scale float32)
}

// Embedder gathers rows of an embedding table and scatters gradients back.
type Embedder interface {
	// Embedding: out[i,:] = table[ids[i],:] for i < n; table has dim
	// columns. An id outside [0, rows) panics (rows = len(table)/dim).
	Embedding(out, table []float32, ids []int32, n, dim int)
	// EmbeddingBackward: dtable[ids[i],:] += dout[i,:], in a deterministic
	// order (kernels/ref and kernels/cpu: increasing i, one float32 addition
	// per i, so repeated ids sum exactly as a sequential loop would).
	EmbeddingBackward(dtable, dout []float32, ids []int32, n, dim int)
}

// AdamWParams are the hyper-parameters of one AdamW update. Step counts
// updates from 1 (bias correction uses Beta^Step).
type AdamWParams struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
}

// Optimizer updates flat parameter buffers.
type Optimizer interface {
	// AdamW updates n parameters in place with decoupled weight decay:
	// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
	// p −= LR·( m/(1−β1^t) / (√(v/(1−β2^t)) + Eps) + WeightDecay·p ).
	AdamW(param, grad, m, v []float32, n int, p AdamWParams)
}

// Fused is the set of fused operations an implementation provides.
type Fused interface {
	Normer
	Activator
	Roper
	Softmaxer
	Attender
	Losser
	Embedder
	Optimizer
}

// Kernels is a complete float32 implementation: the GEMMs and the fused ops.
type Kernels interface {
	Float32
	Fused
}
