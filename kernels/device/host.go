package device

import (
	"fmt"

	"github.com/humanllm/humanllm/kernels"
)

// Host is a Device whose buffers are Go slices and whose operations are
// those of K (kernels/cpu, kernels/ref, ...); the extra operations are
// plain loops. It runs a device-resident step on the CPU, with the same
// code path as a GPU, which is how that path is tested without a GPU.
type Host struct {
	K kernels.Kernels
}

var _ Device = Host{}

// HostF32 is Host's float32 buffer.
type HostF32 []float32

// Len implements F32.
func (b HostF32) Len() int { return len(b) }

// Slice implements F32 (a full slice expression: the view's length is
// exactly n).
func (b HostF32) Slice(off, n int) F32 {
	if off < 0 || n < 0 || off+n > len(b) {
		panic(fmt.Sprintf("device: slice [%d, %d) of a buffer of %d", off, off+n, len(b)))
	}
	return b[off : off+n : off+n]
}

// HostI32 is Host's int32 buffer.
type HostI32 []int32

// Len implements I32.
func (b HostI32) Len() int { return len(b) }

// f and i unwrap Host buffers (nil stays nil).
func f(b F32) []float32 {
	if b == nil {
		return nil
	}
	return b.(HostF32)
}

func i(b I32) []int32 {
	if b == nil {
		return nil
	}
	return b.(HostI32)
}

// Name implements Device.
func (h Host) Name() string { return fmt.Sprintf("host (%T)", h.K) }

// AllocF32 implements Device.
func (Host) AllocF32(n int) F32 { return HostF32(make([]float32, n)) }

// AllocI32 implements Device.
func (Host) AllocI32(n int) I32 { return HostI32(make([]int32, n)) }

// Free implements Device (the garbage collector frees Go memory).
func (Host) Free(any) {}

// Upload implements Device.
func (Host) Upload(dst F32, src []float32) {
	Need(dst, len(src), "device: upload of more values than the buffer holds")
	copy(f(dst), src)
}

// UploadI32 implements Device.
func (Host) UploadI32(dst I32, src []int32) {
	NeedI32(dst, len(src), "device: upload of more values than the buffer holds")
	copy(i(dst), src)
}

// Download implements Device.
func (Host) Download(dst []float32, src F32) {
	Need(src, len(dst), "device: download of more values than the buffer holds")
	copy(dst, f(src))
}

// Copy implements Device.
func (Host) Copy(dst, src F32, n int) {
	Need(dst, n, kernels.ShortY)
	Need(src, n, kernels.ShortX)
	copy(f(dst)[:n], f(src)[:n])
}

// Sgemm implements Device.
func (h Host) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a F32, lda int, b F32, ldb int, beta float32, c F32, ldc int) {
	h.K.Sgemm(tA, tB, m, n, k, alpha, f(a), lda, f(b), ldb, beta, f(c), ldc)
}

// SgemmStridedBatched implements Device.
func (h Host) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a F32, lda, strideA int, b F32, ldb, strideB int, beta float32, c F32, ldc, strideC int, batch int) {
	h.K.SgemmStridedBatched(tA, tB, m, n, k, alpha, f(a), lda, strideA, f(b), ldb, strideB, beta, f(c), ldc, strideC, batch)
}

// RMSNorm implements Device.
func (h Host) RMSNorm(y, rstd, x, w F32, rows, n int, eps float32) {
	h.K.RMSNorm(f(y), f(rstd), f(x), f(w), rows, n, eps)
}

// RMSNormBackward implements Device.
func (h Host) RMSNormBackward(dx, dw, dy, x, w, rstd F32, rows, n int) {
	h.K.RMSNormBackward(f(dx), f(dw), f(dy), f(x), f(w), f(rstd), rows, n)
}

func (p RoPEParams) host() kernels.RoPEParams {
	return kernels.RoPEParams{Tokens: p.Tokens, Heads: p.Heads, HeadDim: p.HeadDim,
		Pos: i(p.Pos), Cos: f(p.Cos), Sin: f(p.Sin), Layout: p.Layout}
}

// RoPE implements Device.
func (h Host) RoPE(y, x F32, p RoPEParams) { h.K.RoPE(f(y), f(x), p.host()) }

// RoPEBackward implements Device.
func (h Host) RoPEBackward(dx, dy F32, p RoPEParams) { h.K.RoPEBackward(f(dx), f(dy), p.host()) }

func (p AttentionParams) hostStart() kernels.AttentionParams {
	hp := p.Host()
	hp.Start = i(p.Start)
	return hp
}

// CausalAttention implements Device.
func (h Host) CausalAttention(out, lse, q, k, v F32, p AttentionParams) {
	h.K.CausalAttention(f(out), f(lse), f(q), f(k), f(v), p.hostStart())
}

// CausalAttentionBackward implements Device.
func (h Host) CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v F32, p AttentionParams) {
	h.K.CausalAttentionBackward(f(dq), f(dk), f(dv), f(dout), f(out), f(lse), f(q), f(k), f(v), p.hostStart())
}

// SwiGLU implements Device.
func (h Host) SwiGLU(y, g, u F32, n int) { h.K.SwiGLU(f(y), f(g), f(u), n) }

// SwiGLUBackward implements Device.
func (h Host) SwiGLUBackward(dg, du, dy, g, u F32, n int) {
	h.K.SwiGLUBackward(f(dg), f(du), f(dy), f(g), f(u), n)
}

// Embedding implements Device.
func (h Host) Embedding(out, table F32, ids I32, n, dim int) {
	h.K.Embedding(f(out), f(table), i(ids), n, dim)
}

// EmbeddingBackward implements Device.
func (h Host) EmbeddingBackward(dtable, dout F32, ids I32, n, dim int) {
	h.K.EmbeddingBackward(f(dtable), f(dout), i(ids), n, dim)
}

// CrossEntropy implements Device.
func (h Host) CrossEntropy(losses, logits F32, targets I32, n, v int) {
	h.K.CrossEntropy(f(losses), f(logits), i(targets), n, v)
}

// CrossEntropyGrad implements Device.
func (h Host) CrossEntropyGrad(losses, logits F32, targets I32, n, v int, scale float32) {
	h.K.CrossEntropyGrad(f(losses), f(logits), i(targets), n, v, scale)
}

// AdamW implements Device.
func (h Host) AdamW(param, grad, m, v F32, n int, p kernels.AdamWParams) {
	h.K.AdamW(f(param), f(grad), f(m), f(v), n, p)
}

// Axpy implements Device.
func (Host) Axpy(y, x F32, n int, alpha float32) {
	Need(y, n, kernels.ShortY)
	Need(x, n, kernels.ShortX)
	ys, xs := f(y)[:max(n, 0)], f(x)[:max(n, 0)]
	for j, v := range xs {
		ys[j] += float32(alpha * v) // explicit rounding: no fused multiply-add
	}
}

// Scale implements Device.
func (Host) Scale(x F32, n int, alpha float32) {
	Need(x, n, kernels.ShortX)
	xs := f(x)[:max(n, 0)]
	for j := range xs {
		xs[j] *= alpha
	}
}

// Zero implements Device.
func (Host) Zero(x F32, n int) {
	Need(x, n, kernels.ShortX)
	clear(f(x)[:max(n, 0)])
}

// Sum implements Device: sequential, in float64.
func (Host) Sum(x F32, n int) float64 {
	Need(x, n, kernels.ShortX)
	var s float64
	for _, v := range f(x)[:max(n, 0)] {
		s += float64(v)
	}
	return s
}

// SumSquares implements Device: sequential, in float64 (the order of
// trainer.GlobalNorm over one flat buffer).
func (Host) SumSquares(x F32, n int) float64 {
	Need(x, n, kernels.ShortX)
	var s float64
	for _, v := range f(x)[:max(n, 0)] {
		s += float64(v) * float64(v)
	}
	return s
}

// Sync implements Device (host operations are synchronous).
func (Host) Sync() {}
