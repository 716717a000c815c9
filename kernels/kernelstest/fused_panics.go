package kernelstest

import (
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestFusedPanics checks that misuse of every fused op panics with the
// message in kernels/errors_fused.go, before writing any output, and that
// slices of exactly the minimal length do not panic.
func TestFusedPanics(t *testing.T, impl kernels.Fused) {
	z := func(n int) []float32 { return make([]float32, n) }
	ids := func(v ...int32) []int32 { return v }
	cos, sin := kernels.RoPETables(4, 4, 10000) // 4 positions, 2 pairs
	rp := func(tok, heads, d int, pos []int32, layout kernels.RoPELayout) kernels.RoPEParams {
		return kernels.RoPEParams{Tokens: tok, Heads: heads, HeadDim: d, Pos: pos, Cos: cos, Sin: sin, Layout: layout}
	}
	ap := kernels.AttentionParams{B: 2, T: 3, H: 4, KVH: 2, D: 5, Scale: 0.5}
	with := func(f func(p *kernels.AttentionParams)) kernels.AttentionParams {
		p := ap
		f(&p)
		return p
	}
	nq, nkv, nl := 2*3*4*5, 2*3*2*5, 2*4*3
	adam := kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 1}

	calls := []struct {
		name, want string
		f          func()
	}{
		{"RMSNorm rows<0", kernels.RowsLT0, func() { impl.RMSNorm(z(6), z(2), z(6), z(3), -1, 3, 1e-5) }},
		{"RMSNorm n<0", kernels.NLT0, func() { impl.RMSNorm(z(6), z(2), z(6), z(3), 2, -3, 1e-5) }},
		{"RMSNorm short y", kernels.ShortY, func() { impl.RMSNorm(z(5), z(2), z(6), z(3), 2, 3, 1e-5) }},
		{"RMSNorm short rstd", kernels.ShortRstd, func() { impl.RMSNorm(z(6), z(1), z(6), z(3), 2, 3, 1e-5) }},
		{"RMSNorm short x", kernels.ShortX, func() { impl.RMSNorm(z(6), z(2), z(5), z(3), 2, 3, 1e-5) }},
		{"RMSNorm short w", kernels.ShortW, func() { impl.RMSNorm(z(6), z(2), z(6), z(2), 2, 3, 1e-5) }},
		{"RMSNormBackward short dx", kernels.ShortDX, func() { impl.RMSNormBackward(z(5), z(3), z(6), z(6), z(3), z(2), 2, 3) }},
		{"RMSNormBackward short dw", kernels.ShortDW, func() { impl.RMSNormBackward(z(6), z(2), z(6), z(6), z(3), z(2), 2, 3) }},
		{"RMSNormBackward short dy", kernels.ShortDY, func() { impl.RMSNormBackward(z(6), z(3), z(5), z(6), z(3), z(2), 2, 3) }},
		{"RMSNormBackward short x", kernels.ShortX, func() { impl.RMSNormBackward(z(6), z(3), z(6), z(5), z(3), z(2), 2, 3) }},
		{"RMSNormBackward short w", kernels.ShortW, func() { impl.RMSNormBackward(z(6), z(3), z(6), z(6), z(2), z(2), 2, 3) }},
		{"RMSNormBackward short rstd", kernels.ShortRstd, func() { impl.RMSNormBackward(z(6), z(3), z(6), z(6), z(3), z(1), 2, 3) }},
		{"LayerNorm rows<0", kernels.RowsLT0, func() { impl.LayerNorm(z(6), z(2), z(2), z(6), z(3), nil, -2, 3, 1e-5) }},
		{"LayerNorm short mean", kernels.ShortMean, func() { impl.LayerNorm(z(6), z(1), z(2), z(6), z(3), nil, 2, 3, 1e-5) }},
		{"LayerNorm short bias", kernels.ShortBias, func() { impl.LayerNorm(z(6), z(2), z(2), z(6), z(3), z(2), 2, 3, 1e-5) }},
		{"LayerNorm empty non-nil bias", kernels.ShortBias, func() { impl.LayerNorm(z(6), z(2), z(2), z(6), z(3), z(0), 2, 3, 1e-5) }},
		{"LayerNormBackward short db", kernels.ShortDB, func() { impl.LayerNormBackward(z(6), z(3), z(2), z(6), z(6), z(3), z(2), z(2), 2, 3) }},
		{"LayerNormBackward short mean", kernels.ShortMean, func() { impl.LayerNormBackward(z(6), z(3), nil, z(6), z(6), z(3), z(1), z(2), 2, 3) }},
		{"LayerNormBackward short rstd", kernels.ShortRstd, func() { impl.LayerNormBackward(z(6), z(3), nil, z(6), z(6), z(3), z(2), z(1), 2, 3) }},

		{"GELU n<0", kernels.NLT0, func() { impl.GELU(z(3), z(3), -1) }},
		{"GELU short y", kernels.ShortY, func() { impl.GELU(z(2), z(3), 3) }},
		{"GELU short x", kernels.ShortX, func() { impl.GELU(z(3), z(2), 3) }},
		{"GELUBackward short dx", kernels.ShortDX, func() { impl.GELUBackward(z(2), z(3), z(3), 3) }},
		{"GELUBackward short dy", kernels.ShortDY, func() { impl.GELUBackward(z(3), z(2), z(3), 3) }},
		{"GELUBackward short x", kernels.ShortX, func() { impl.GELUBackward(z(3), z(3), z(2), 3) }},
		{"SiLU short x", kernels.ShortX, func() { impl.SiLU(z(3), z(2), 3) }},
		{"SiLUBackward short dy", kernels.ShortDY, func() { impl.SiLUBackward(z(3), z(2), z(3), 3) }},
		{"SwiGLU short y", kernels.ShortY, func() { impl.SwiGLU(z(2), z(3), z(3), 3) }},
		{"SwiGLU short g", kernels.ShortG, func() { impl.SwiGLU(z(3), z(2), z(3), 3) }},
		{"SwiGLU short u", kernels.ShortU, func() { impl.SwiGLU(z(3), z(3), z(2), 3) }},
		{"SwiGLUBackward short dg", kernels.ShortDG, func() { impl.SwiGLUBackward(z(2), z(3), z(3), z(3), z(3), 3) }},
		{"SwiGLUBackward short du", kernels.ShortDU, func() { impl.SwiGLUBackward(z(3), z(2), z(3), z(3), z(3), 3) }},
		{"SwiGLUBackward short dy", kernels.ShortDY, func() { impl.SwiGLUBackward(z(3), z(3), z(2), z(3), z(3), 3) }},

		{"RoPE negative", kernels.BadRoPEShape, func() { impl.RoPE(z(8), z(8), rp(-1, 2, 4, ids(0, 1), 0)) }},
		{"RoPE odd head", kernels.OddHeadDim, func() { impl.RoPE(z(6), z(6), rp(2, 1, 3, ids(0, 1), 0)) }},
		{"RoPE layout", kernels.BadRoPELayout, func() { impl.RoPE(z(8), z(8), rp(2, 1, 4, ids(0, 1), 7)) }},
		{"RoPE short y", kernels.ShortY, func() { impl.RoPE(z(15), z(16), rp(2, 2, 4, ids(0, 1), 0)) }},
		{"RoPE short x", kernels.ShortX, func() { impl.RoPE(z(16), z(15), rp(2, 2, 4, ids(0, 1), 0)) }},
		{"RoPE short Pos", kernels.ShortPos, func() { impl.RoPE(z(16), z(16), rp(2, 2, 4, ids(0), 0)) }},
		{"RoPE pos<0", kernels.BadPos, func() { impl.RoPE(z(16), z(16), rp(2, 2, 4, ids(0, -1), 1)) }},
		{"RoPE pos past tables", kernels.BadPos, func() { impl.RoPE(z(16), z(16), rp(2, 2, 4, ids(4, 0), 1)) }},
		{"RoPEBackward short dx", kernels.ShortDX, func() { impl.RoPEBackward(z(15), z(16), rp(2, 2, 4, ids(0, 1), 0)) }},
		{"RoPEBackward short dy", kernels.ShortDY, func() { impl.RoPEBackward(z(16), z(15), rp(2, 2, 4, ids(0, 1), 0)) }},

		{"Softmax rows<0", kernels.RowsLT0, func() { impl.Softmax(z(6), z(6), -2, 3) }},
		{"Softmax n<0", kernels.NLT0, func() { impl.Softmax(z(6), z(6), 2, -3) }},
		{"Softmax short y", kernels.ShortY, func() { impl.Softmax(z(5), z(6), 2, 3) }},
		{"Softmax short x", kernels.ShortX, func() { impl.Softmax(z(6), z(5), 2, 3) }},
		{"SoftmaxBackward short dx", kernels.ShortDX, func() { impl.SoftmaxBackward(z(5), z(6), z(6), 2, 3) }},
		{"SoftmaxBackward short dy", kernels.ShortDY, func() { impl.SoftmaxBackward(z(6), z(5), z(6), 2, 3) }},
		{"SoftmaxBackward short y", kernels.ShortY, func() { impl.SoftmaxBackward(z(6), z(6), z(5), 2, 3) }},

		{"Attention negative", kernels.BadAttnShape, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.D = -1 }))
		}},
		{"Attention KVH 0", kernels.BadGQA, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.KVH = 0 }))
		}},
		{"Attention H%KVH", kernels.BadGQA, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.KVH = 3 }))
		}},
		{"Attention Stride < H*D", kernels.BadAttnStride, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.Stride = p.H*p.D - 1 }))
		}},
		{"Attention Stride < 0", kernels.BadAttnStride, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.Stride = -1 }))
		}},
		{"Attention strided short q", kernels.ShortQ, func() {
			// rows 0..4 of a [6, 2·H·D] matrix: the last row's q ends at 5·2·H·D + H·D.
			impl.CausalAttention(z(nq), z(nl), z(5*2*20+20-1), z(2*nq), z(2*nq), with(func(p *kernels.AttentionParams) { p.Stride = 2 * p.H * p.D }))
		}},
		{"Attention short out", kernels.ShortOut, func() { impl.CausalAttention(z(nq-1), z(nl), z(nq), z(nkv), z(nkv), ap) }},
		{"Attention short lse", kernels.ShortLse, func() { impl.CausalAttention(z(nq), z(nl-1), z(nq), z(nkv), z(nkv), ap) }},
		{"Attention short q", kernels.ShortQ, func() { impl.CausalAttention(z(nq), z(nl), z(nq-1), z(nkv), z(nkv), ap) }},
		{"Attention short k", kernels.ShortK, func() { impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv-1), z(nkv), ap) }},
		{"Attention short v", kernels.ShortV, func() { impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv-1), ap) }},
		{"Attention short Start", kernels.ShortStart, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.Start = ids(0, 0, 0, 0, 0) }))
		}},
		{"Attention Start>t", kernels.BadStart, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.Start = ids(0, 0, 0, 0, 2, 1) }))
		}},
		{"Attention Start<0", kernels.BadStart, func() {
			impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), with(func(p *kernels.AttentionParams) { p.Start = ids(0, 0, 0, 0, 0, -1) }))
		}},
		{"AttentionBackward short dq", kernels.ShortDQ, func() {
			impl.CausalAttentionBackward(z(nq-1), z(nkv), z(nkv), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short dk", kernels.ShortDK, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv-1), z(nkv), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short dv", kernels.ShortDV, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv-1), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short dout", kernels.ShortDOut, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq-1), z(nq), z(nl), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short out", kernels.ShortOut, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq), z(nq-1), z(nl), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short lse", kernels.ShortLse, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq), z(nq), z(nl-1), z(nq), z(nkv), z(nkv), ap)
		}},
		{"AttentionBackward short v", kernels.ShortV, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv-1), ap)
		}},
		{"AttentionBackward Start>t", kernels.BadStart, func() {
			impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv),
				with(func(p *kernels.AttentionParams) { p.Start = ids(0, 1, 1, 0, 2, 3) }))
		}},

		{"CrossEntropy n<0", kernels.NLT0, func() { impl.CrossEntropy(z(2), z(6), ids(0, 1), -2, 3) }},
		{"CrossEntropy v<0", kernels.VLT0, func() { impl.CrossEntropy(z(2), z(6), ids(0, 1), 2, -3) }},
		{"CrossEntropy short losses", kernels.ShortLosses, func() { impl.CrossEntropy(z(1), z(6), ids(0, 1), 2, 3) }},
		{"CrossEntropy short logits", kernels.ShortLogits, func() { impl.CrossEntropy(z(2), z(5), ids(0, 1), 2, 3) }},
		{"CrossEntropy short targets", kernels.ShortTargets, func() { impl.CrossEntropy(z(2), z(6), ids(0), 2, 3) }},
		{"CrossEntropy target v", kernels.BadTarget, func() { impl.CrossEntropy(z(2), z(6), ids(0, 3), 2, 3) }},
		{"CrossEntropy target -1", kernels.BadTarget, func() { impl.CrossEntropy(z(2), z(6), ids(-1, 0), 2, 3) }},
		{"CrossEntropyGrad target v", kernels.BadTarget, func() { impl.CrossEntropyGrad(z(2), z(6), ids(kernels.IgnoreIndex, 3), 2, 3, 1) }},
		{"CrossEntropyGrad short logits", kernels.ShortLogits, func() { impl.CrossEntropyGrad(z(2), z(5), ids(0, 1), 2, 3, 1) }},

		{"Embedding n<0", kernels.NLT0, func() { impl.Embedding(z(6), z(9), ids(0, 1), -2, 3) }},
		{"Embedding dim<0", kernels.DimLT0, func() { impl.Embedding(z(6), z(9), ids(0, 1), 2, -3) }},
		{"Embedding short out", kernels.ShortOut, func() { impl.Embedding(z(5), z(9), ids(0, 1), 2, 3) }},
		{"Embedding short table", kernels.ShortTable, func() { impl.Embedding(z(6), z(2), ids(0, 1), 2, 3) }},
		{"Embedding short ids", kernels.ShortIDs, func() { impl.Embedding(z(6), z(9), ids(0), 2, 3) }},
		{"Embedding id past table", kernels.BadID, func() { impl.Embedding(z(6), z(11), ids(0, 3), 2, 3) }},
		{"Embedding id<0", kernels.BadID, func() { impl.Embedding(z(6), z(9), ids(-1, 0), 2, 3) }},
		{"EmbeddingBackward short dtable", kernels.ShortDTable, func() { impl.EmbeddingBackward(z(2), z(6), ids(0, 1), 2, 3) }},
		{"EmbeddingBackward short dout", kernels.ShortDOut, func() { impl.EmbeddingBackward(z(9), z(5), ids(0, 1), 2, 3) }},
		{"EmbeddingBackward short ids", kernels.ShortIDs, func() { impl.EmbeddingBackward(z(9), z(6), ids(0), 2, 3) }},
		{"EmbeddingBackward id past table", kernels.BadID, func() { impl.EmbeddingBackward(z(9), z(6), ids(0, 3), 2, 3) }},

		{"AdamW n<0", kernels.NLT0, func() { impl.AdamW(z(3), z(3), z(3), z(3), -1, adam) }},
		{"AdamW step 0", kernels.BadStep, func() {
			impl.AdamW(z(3), z(3), z(3), z(3), 3, kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
		}},
		{"AdamW short param", kernels.ShortParam, func() { impl.AdamW(z(2), z(3), z(3), z(3), 3, adam) }},
		{"AdamW short grad", kernels.ShortGrad, func() { impl.AdamW(z(3), z(2), z(3), z(3), 3, adam) }},
		{"AdamW short m", kernels.ShortM, func() { impl.AdamW(z(3), z(3), z(2), z(3), 3, adam) }},
		{"AdamW short v", kernels.ShortV, func() { impl.AdamW(z(3), z(3), z(3), z(2), 3, adam) }},
	}
	for _, c := range calls {
		expectPanic(t, c.name, c.want, c.f)
	}
	if t.Failed() {
		return
	}

	// Checks come before any write.
	losses := []float32{5, 5}
	expectPanic(t, "CrossEntropy bad last target", kernels.BadTarget, func() { impl.CrossEntropy(losses, z(6), ids(0, 7), 2, 3) })
	out := []float32{5, 5, 5, 5}
	expectPanic(t, "Embedding bad last id", kernels.BadID, func() { impl.Embedding(out, z(4), ids(0, 1, 2, 9), 4, 1) })
	if losses[0] != 5 || out[0] != 5 {
		t.Errorf("outputs written before the argument check panicked: losses %v, out %v", losses, out)
	}

	// Minimal lengths do not panic; zero sizes need no slices.
	impl.RMSNorm(z(6), z(2), z(6), z(3), 2, 3, 1e-5)
	impl.RMSNormBackward(z(6), z(3), z(6), z(6), z(3), []float32{1, 1}, 2, 3)
	impl.LayerNorm(z(6), z(2), z(2), z(6), z(3), z(3), 2, 3, 1e-5)
	impl.LayerNormBackward(z(6), z(3), z(3), z(6), z(6), z(3), z(2), z(2), 2, 3)
	impl.GELU(z(3), z(3), 3)
	impl.SwiGLUBackward(z(3), z(3), z(3), z(3), z(3), 3)
	impl.GELU(nil, nil, 0)
	impl.RoPE(z(16), z(16), rp(2, 2, 4, ids(3, 0), 1))
	impl.RoPE(nil, nil, rp(0, 2, 4, nil, 0))
	impl.RoPEBackward(nil, nil, rp(5, 0, 4, nil, 0))
	impl.Softmax(z(6), z(6), 2, 3)
	pp := with(func(p *kernels.AttentionParams) { p.Start = ids(0, 1, 1, 0, 0, 2) })
	impl.CausalAttention(z(nq), z(nl), z(nq), z(nkv), z(nkv), pp)
	impl.CausalAttentionBackward(z(nq), z(nkv), z(nkv), z(nq), z(nq), z(nl), z(nq), z(nkv), z(nkv), pp)
	impl.CrossEntropyGrad(z(2), z(6), ids(2, kernels.IgnoreIndex), 2, 3, 1)
	impl.CrossEntropy(nil, nil, nil, 0, 3)
	impl.Embedding(z(6), z(3), ids(0, 0), 2, 3)
	impl.EmbeddingBackward(z(3), z(6), ids(0, 0), 2, 3)
	impl.Embedding(nil, nil, nil, 0, 3)
	impl.AdamW(z(3), z(3), z(3), z(3), 3, adam)
	impl.AdamW(nil, nil, nil, nil, 0, adam)
}
