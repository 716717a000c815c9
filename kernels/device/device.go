// Package device is the kernel layer of a device-resident training step:
// the operations of package kernels over buffers that live on a device
// (GPU memory for kernels/cuda's Device, Go slices for Host) instead of
// over host []float32 slices. A step built on it keeps weights,
// activations, gradients and optimizer state in device buffers for its
// whole life; only the batch goes up (Upload of ids, targets, positions,
// attention starts) and scalars come down (Sum, SumSquares), plus whatever
// the caller downloads explicitly (parameters for a checkpoint).
//
// Every operation has the name, argument order and semantics of its
// kernels counterpart (kernels.Float32, kernels.Fused), with F32 and I32
// buffers in place of []float32 and []int32; sizes are given explicitly
// and a buffer may be longer than its size. Parameter gradients are
// accumulated (+=) and input gradients overwritten, as there. The extra
// operations a step needs (Copy, Axpy, Scale, Zero, Sum, SumSquares) are
// deterministic: the same inputs give the same bits on the same device.
//
// Buffer lengths are checked (a short buffer panics with the message of
// package kernels); the contents of index buffers (ids, targets,
// positions, starts) are not, since on a GPU that would mean copying them
// back: callers validate them on the host before Upload.
package device

import (
	"github.com/humanllm/humanllm/kernels"
)

// F32 is a float32 buffer of one Device, or a view into one (Slice). It is
// only meaningful to the Device that allocated it.
type F32 interface {
	// Len is the number of elements.
	Len() int
	// Slice is the view of elements [off, off+n); it panics when that is
	// out of range. A view shares the buffer's memory and is not freed on
	// its own.
	Slice(off, n int) F32
}

// I32 is an int32 buffer of one Device.
type I32 interface {
	Len() int
}

// RoPEParams is kernels.RoPEParams with the positions and tables in device
// buffers.
type RoPEParams struct {
	Tokens, Heads, HeadDim int
	Pos                    I32
	Cos, Sin               F32
	Layout                 kernels.RoPELayout
}

// AttentionParams is kernels.AttentionParams with Start in a device buffer
// (nil: every query attends from 0). Q, K, V and their gradients are
// contiguous (no Stride).
type AttentionParams struct {
	B, T, H, KVH, D int
	Scale           float32
	Start           I32
}

// Host is the kernels.AttentionParams of p without Start.
func (p AttentionParams) Host() kernels.AttentionParams {
	return kernels.AttentionParams{B: p.B, T: p.T, H: p.H, KVH: p.KVH, D: p.D, Scale: p.Scale}
}

// Device allocates buffers and runs the kernels on them. Operations are
// ordered: each sees the results of the ones called before it (a GPU
// implementation queues them on one stream and waits only where a result
// comes down to the host).
type Device interface {
	// Name describes the device.
	Name() string

	// AllocF32 and AllocI32 return n zeroed elements; Free releases a
	// buffer they returned (not a view).
	AllocF32(n int) F32
	AllocI32(n int) I32
	Free(b any)

	// Upload copies len(src) host values to the start of dst; Download
	// copies the first len(dst) values of src to the host.
	Upload(dst F32, src []float32)
	UploadI32(dst I32, src []int32)
	Download(dst []float32, src F32)
	// Copy copies n values from src to dst on the device; they must not
	// overlap.
	Copy(dst, src F32, n int)

	// The GEMMs of kernels.Float32.
	Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a F32, lda int, b F32, ldb int, beta float32, c F32, ldc int)
	SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a F32, lda, strideA int, b F32, ldb, strideB int, beta float32, c F32, ldc, strideC int, batch int)

	// The fused ops of kernels.Fused a Llama step uses.
	RMSNorm(y, rstd, x, w F32, rows, n int, eps float32)
	RMSNormBackward(dx, dw, dy, x, w, rstd F32, rows, n int)
	RoPE(y, x F32, p RoPEParams)
	RoPEBackward(dx, dy F32, p RoPEParams)
	CausalAttention(out, lse, q, k, v F32, p AttentionParams)
	CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v F32, p AttentionParams)
	SwiGLU(y, g, u F32, n int)
	SwiGLUBackward(dg, du, dy, g, u F32, n int)
	Embedding(out, table F32, ids I32, n, dim int)
	EmbeddingBackward(dtable, dout F32, ids I32, n, dim int)
	CrossEntropy(losses, logits F32, targets I32, n, v int)
	CrossEntropyGrad(losses, logits F32, targets I32, n, v int, scale float32)
	AdamW(param, grad, m, v F32, n int, p kernels.AdamWParams)

	// Axpy: y[i] += alpha·x[i] for i < n (one float32 multiply and one
	// add, each rounded). y and x must not overlap unless equal.
	Axpy(y, x F32, n int, alpha float32)
	// Scale: x[i] *= alpha.
	Scale(x F32, n int, alpha float32)
	// Zero: x[i] = 0.
	Zero(x F32, n int)
	// Sum and SumSquares reduce n values in float64 and return the scalar
	// (the only data that comes down). The order is fixed for a given n
	// on a given implementation; Host sums sequentially.
	Sum(x F32, n int) float64
	SumSquares(x F32, n int) float64

	// Sync waits until every queued operation is done (for timing).
	Sync()
}

// Need panics with msg when b (nil allowed only for n == 0) has fewer
// than n elements: the length checks every implementation shares.
func Need(b F32, n int, msg string) {
	if n <= 0 {
		return
	}
	if b == nil || b.Len() < n {
		panic(msg)
	}
}

// NeedI32 is Need for int32 buffers.
func NeedI32(b I32, n int, msg string) {
	if n <= 0 {
		return
	}
	if b == nil || b.Len() < n {
		panic(msg)
	}
}
