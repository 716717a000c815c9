package kernelstest

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// BenchmarkFused benchmarks impl's fused ops at GPT-2-small training shapes
// (2048 tokens of width 768, vocabulary 8192, head size 64). Each reports
// MB/s for the bytes an op must read and write at least once (b.SetBytes), to
// be compared with BenchmarkBandwidth; attention also reports GFLOP/s (the
// causal half of the products: 4·T(T+1)/2·D per (batch, head) forward, 10·
// backward, since the backward recomputes the scores).
func BenchmarkFused(b *testing.B, impl kernels.Fused) {
	rng := rand.New(rand.NewPCG(7, 8))
	rnd := func(n int, s float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(s * (2*rng.Float64() - 1))
		}
		return x
	}
	const rows, n, f = 2048, 768, 4
	shape := "/2048x768"
	{
		x, w, bias, dy := rnd(rows*n, 1), rnd(n, 1), rnd(n, 1), rnd(rows*n, 1)
		y, mean, rstd, dx, dw, db := make([]float32, rows*n), make([]float32, rows), make([]float32, rows), make([]float32, rows*n), make([]float32, n), make([]float32, n)
		bench(b, "RMSNorm"+shape, f*2*rows*n, func() { impl.RMSNorm(y, rstd, x, w, rows, n, 1e-5) })
		bench(b, "RMSNormBackward"+shape, f*3*rows*n, func() { impl.RMSNormBackward(dx, dw, dy, x, w, rstd, rows, n) })
		bench(b, "LayerNorm"+shape, f*2*rows*n, func() { impl.LayerNorm(y, mean, rstd, x, w, bias, rows, n, 1e-5) })
		bench(b, "LayerNormBackward"+shape, f*3*rows*n, func() { impl.LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd, rows, n) })
	}
	{
		const m = rows * n
		x, g, u, dy := rnd(m, 4), rnd(m, 4), rnd(m, 2), rnd(m, 1)
		y, dx, du := make([]float32, m), make([]float32, m), make([]float32, m)
		bench(b, "GELU"+shape, f*2*m, func() { impl.GELU(y, x, m) })
		bench(b, "GELUBackward"+shape, f*3*m, func() { impl.GELUBackward(dx, dy, x, m) })
		bench(b, "SiLU"+shape, f*2*m, func() { impl.SiLU(y, x, m) })
		bench(b, "SiLUBackward"+shape, f*3*m, func() { impl.SiLUBackward(dx, dy, x, m) })
		bench(b, "SwiGLU"+shape, f*3*m, func() { impl.SwiGLU(y, g, u, m) })
		bench(b, "SwiGLUBackward"+shape, f*5*m, func() { impl.SwiGLUBackward(dx, du, dy, g, u, m) })
		bench(b, "Softmax"+shape, f*2*m, func() { impl.Softmax(y, x, rows, n) })
		bench(b, "SoftmaxBackward"+shape, f*3*m, func() { impl.SoftmaxBackward(dx, dy, y, rows, n) })
	}
	{
		const heads, hd = 12, 64
		cos, sin := kernels.RoPETables(rows, hd, 10000)
		pos := make([]int32, rows)
		for i := range pos {
			pos[i] = int32(i)
		}
		p := kernels.RoPEParams{Tokens: rows, Heads: heads, HeadDim: hd, Pos: pos, Cos: cos, Sin: sin}
		x, y := rnd(rows*heads*hd, 1), make([]float32, rows*heads*hd)
		bench(b, "RoPE/2048x12x64", f*2*rows*heads*hd, func() { impl.RoPE(y, x, p) })
		p.Layout = kernels.RoPEInterleaved
		bench(b, "RoPEBackward/interleaved/2048x12x64", f*2*rows*heads*hd, func() { impl.RoPEBackward(y, x, p) })
	}
	{
		const v = 8192
		logits, losses, g := rnd(rows*v, 8), make([]float32, rows), make([]float32, rows*v)
		targets := make([]int32, rows)
		for i := range targets {
			targets[i] = int32(rng.IntN(v))
		}
		bench(b, "CrossEntropy/2048x8192", f*rows*v, func() { impl.CrossEntropy(losses, logits, targets, rows, v) })
		bench(b, "CrossEntropyGrad/2048x8192", f*2*rows*v, func() {
			b.StopTimer()
			copy(g, logits)
			b.StartTimer()
			impl.CrossEntropyGrad(losses, g, targets, rows, v, 1.0/rows)
		})
	}
	for _, p := range []kernels.AttentionParams{
		{B: 8, T: 256, H: 4, KVH: 4, D: 64, Scale: 0.125},
		{B: 8, T: 1024, H: 12, KVH: 12, D: 64, Scale: 0.125},
	} {
		nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
		q, k, v, dout := rnd(nq, 1), rnd(nkv, 1), rnd(nkv, 1), rnd(nq, 1)
		out, lse := make([]float32, nq), make([]float32, p.B*p.H*p.T)
		dq, dk, dv := make([]float32, nq), make([]float32, nkv), make([]float32, nkv)
		name := shapeName("B%d_T%d_H%d_D%d", p.B, p.T, p.H, p.D)
		flops := float64(p.B*p.H) * float64(p.T*(p.T+1)/2) * float64(p.D)
		impl.CausalAttention(out, lse, q, k, v, p)
		benchFlops(b, "CausalAttention/"+name, f*(2*nq+2*nkv), 4*flops, func() { impl.CausalAttention(out, lse, q, k, v, p) })
		benchFlops(b, "CausalAttentionBackward/"+name, f*(4*nq+4*nkv), 10*flops, func() {
			impl.CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, p)
		})
	}
	{
		const vocab = 8192
		table, dout, out := rnd(vocab*n, 1), rnd(rows*n, 1), make([]float32, rows*n)
		ids := make([]int32, rows)
		for i := range ids {
			ids[i] = int32(rng.IntN(vocab))
		}
		bench(b, "Embedding/2048x768", f*2*rows*n, func() { impl.Embedding(out, table, ids, rows, n) })
		bench(b, "EmbeddingBackward/2048x768", f*3*rows*n, func() { impl.EmbeddingBackward(table, dout, ids, rows, n) })
	}
	{
		const np = 10_000_000
		param, grad, m, v := rnd(np, 1), rnd(np, 1), make([]float32, np), make([]float32, np)
		step := 0
		bench(b, "AdamW/10M", f*7*np, func() {
			step++
			impl.AdamW(param, grad, m, v, np, kernels.AdamWParams{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, Step: step})
		})
	}
}

func bench(b *testing.B, name string, bytes int, f func()) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(bytes))
		f()
		b.ResetTimer()
		for range b.N {
			f()
		}
	})
}

func benchFlops(b *testing.B, name string, bytes int, flops float64, f func()) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(bytes))
		f()
		b.ResetTimer()
		for range b.N {
			f()
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkBandwidth is the memory-bandwidth probe the fused ops are
// compared with: over 64 MB buffers, split among GOMAXPROCS goroutines
// (threads1: one goroutine), Copy (copy, 2 bytes moved per byte) and AXPY
// (a += s·b in plain Go, 3 bytes per byte). MB/s is the bound a
// memory-bound op can reach.
func BenchmarkBandwidth(b *testing.B) {
	const size = 64 << 20 / 4
	a, c := make([]float32, size), make([]float32, size)
	for i := range c {
		c[i] = float32(i % 7)
	}
	par := func(threads int, f func(lo, hi int)) {
		var wg sync.WaitGroup
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(t*size/threads, (t+1)*size/threads)
			}()
		}
		wg.Wait()
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		suffix := shapeName("/64MB/threads%d", threads)
		b.Run("Copy"+suffix, func(b *testing.B) {
			b.SetBytes(2 * 4 * size)
			for range b.N {
				par(threads, func(lo, hi int) { copy(a[lo:hi], c[lo:hi]) })
			}
		})
		b.Run("AXPY"+suffix, func(b *testing.B) {
			b.SetBytes(3 * 4 * size)
			for range b.N {
				par(threads, func(lo, hi int) {
					x, y := a[lo:hi], c[lo:hi]
					y = y[:len(x)]
					for i := range x {
						x[i] += 1e-3 * y[i]
					}
				})
			}
		})
	}
}
