//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/device"
)

// The device-buffer layer (kernels/device.Device) on the GPU: buffers are
// cuMemAlloc device memory that stays allocated until Free, and every
// operation launches the kernels of kernels.cu or cuBLAS on the device
// pointers directly, with no copy between host and device. Only Upload,
// UploadI32 and Download move data, and Sum and SumSquares bring one
// double down. Work is queued on the legacy default stream, in call
// order; host-visible results (Download, the reductions) wait for it.
// Scratch (column-sum partials, attention's delta, reduction partials)
// comes from the Implementation's arena for the duration of one call.

// Device is the device-buffer layer of impl's GPU.
type Device struct{ impl *Implementation }

var _ device.Device = (*Device)(nil)

// Device returns the device-buffer layer of impl (kernels/device.Device).
// Its buffers belong to impl and must be freed before impl is closed.
func (impl *Implementation) Device() device.Device { return &Device{impl} }

// Buf is a float32 buffer (or a view into one) in device memory.
type Buf struct {
	ptr uintptr
	n   int
}

// Len implements device.F32.
func (b Buf) Len() int { return b.n }

// Slice implements device.F32.
func (b Buf) Slice(off, n int) device.F32 {
	if off < 0 || n < 0 || off+n > b.n {
		panic(fmt.Sprintf("cuda: slice [%d, %d) of a buffer of %d", off, off+n, b.n))
	}
	return Buf{b.ptr + uintptr(4*off), n}
}

// BufI32 is an int32 buffer in device memory.
type BufI32 struct {
	ptr uintptr
	n   int
}

// Len implements device.I32.
func (b BufI32) Len() int { return b.n }

func pf(b device.F32) uintptr {
	if b == nil {
		return 0
	}
	return b.(Buf).ptr
}

func pi(b device.I32) uintptr {
	if b == nil {
		return 0
	}
	return b.(BufI32).ptr
}

func lenF(b device.F32) int {
	if b == nil {
		return 0
	}
	return b.Len()
}

// Name implements device.Device.
func (d *Device) Name() string { return d.impl.Name() + " (device-resident)" }

func (d *Device) alloc(n int) uintptr {
	s := d.impl.begin(false)
	defer s.end()
	var p uintptr
	bytes := 4 * max(n, 1)
	if r := call(d.impl.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(bytes)); r != 0 {
		panic(fmt.Errorf("%w (allocating %d MiB of device memory)", d.impl.drv.check("cuMemAlloc", r), bytes>>20))
	}
	d.impl.drv.memset32(p, 0, max(n, 1))
	return p
}

// AllocF32 implements device.Device: n zeroed floats of cuMemAlloc memory.
func (d *Device) AllocF32(n int) device.F32 { return Buf{d.alloc(n), n} }

// AllocI32 implements device.Device.
func (d *Device) AllocI32(n int) device.I32 { return BufI32{d.alloc(n), n} }

// Free implements device.Device.
func (d *Device) Free(b any) {
	var p uintptr
	switch v := b.(type) {
	case Buf:
		p = v.ptr
	case BufI32:
		p = v.ptr
	default:
		panic(fmt.Sprintf("cuda: Free of a %T", b))
	}
	s := d.impl.begin(false)
	defer s.end()
	call(d.impl.drv.cuMemFree, p)
}

// Upload implements device.Device.
func (d *Device) Upload(dst device.F32, src []float32) {
	device.Need(dst, len(src), "cuda: upload of more values than the buffer holds")
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.htod(pf(dst), src)
}

// UploadI32 implements device.Device.
func (d *Device) UploadI32(dst device.I32, src []int32) {
	device.NeedI32(dst, len(src), "cuda: upload of more values than the buffer holds")
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.htodInt(pi(dst), src)
}

// Download implements device.Device.
func (d *Device) Download(dst []float32, src device.F32) {
	device.Need(src, len(dst), "cuda: download of more values than the buffer holds")
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.dtoh(dst, pf(src))
}

// Copy implements device.Device.
func (d *Device) Copy(dst, src device.F32, n int) {
	device.Need(dst, n, kernels.ShortY)
	device.Need(src, n, kernels.ShortX)
	if n <= 0 {
		return
	}
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.must("cuMemcpyDtoD", call(d.impl.drv.cuMemcpyDtoD, pf(dst), pf(src), uintptr(4*n)))
}

// scaleRows does C = beta·C for the products with nothing to multiply
// (alpha 0 or k 0), on the device.
func (d *Device) scaleRows(beta float32, c uintptr, m, n, ldc int) {
	s := d.impl.begin(true)
	defer s.end()
	rows, cols := m, n
	if ldc == n {
		rows, cols = 1, m*n
	}
	for r := range rows {
		p := c + uintptr(4*r*ldc)
		if beta == 0 {
			d.impl.drv.memset32(p, 0, cols)
		} else {
			s.launch("scale", elemGrid(cols), 1, elemThreads, 0, p, int64(cols), beta)
		}
	}
}

// Sgemm implements device.Device with cublasSgemm (cublasGemmEx with TF32
// when the Implementation was opened with Options.TF32).
func (d *Device) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a device.F32, lda int, b device.F32, ldb int, beta float32, c device.F32, ldc int) {
	d.SgemmStridedBatched(tA, tB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1)
}

// SgemmStridedBatched implements device.Device with
// cublasSgemmStridedBatched (one product: cublasSgemm).
func (d *Device) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a device.F32, lda, strideA int, b device.F32, ldb, strideB int, beta float32, c device.F32, ldc, strideC int, batch int) {
	kernels.CheckSgemmStridedBatched(tA, tB, m, n, k, lenF(a), lda, strideA, lenF(b), ldb, strideB, lenF(c), ldc, strideC, batch)
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		for i := range batch {
			d.scaleRows(beta, pf(c)+uintptr(4*i*strideC), m, n, ldc)
		}
		return
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc, batch} {
		i32(v)
	}
	impl := d.impl
	s := impl.begin(impl.bf16) // bf16 converts operands with a kernel
	defer s.end()
	s.gemm(gemm{
		tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: pf(a), b: pf(b), c: pf(c), lda: lda, ldb: ldb, ldc: ldc,
		sA: strideA, sB: strideB, sC: strideC, batch: batch,
		batched: batch > 1,
	})
}

// RMSNorm implements device.Device.
func (d *Device) RMSNorm(y, rstd, x, w device.F32, rows, n int, eps float32) {
	if !rowsN(rows, n) {
		return
	}
	device.Need(y, rows*n, kernels.ShortY)
	device.Need(rstd, rows, kernels.ShortRstd)
	device.Need(x, rows*n, kernels.ShortX)
	device.Need(w, n, kernels.ShortW)
	i32(rows)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("rmsnorm_fwd", rows, 1, rowThreads(n), 0, pf(y), pf(rstd), pf(x), pf(w), i32(n), eps)
}

// RMSNormBackward implements device.Device: dw's column sums first, then
// dx, so that dx may alias dy.
func (d *Device) RMSNormBackward(dx, dw, dy, x, w, rstd device.F32, rows, n int) {
	if !rowsN(rows, n) {
		return
	}
	device.Need(dx, rows*n, kernels.ShortDX)
	device.Need(dw, n, kernels.ShortDW)
	device.Need(dy, rows*n, kernels.ShortDY)
	device.Need(x, rows*n, kernels.ShortX)
	device.Need(w, n, kernels.ShortW)
	device.Need(rstd, rows, kernels.ShortRstd)
	i32(rows)
	s := d.impl.begin(true)
	defer s.end()
	s.colSums(pf(dw), 0, pf(dy), pf(x), 0, pf(rstd), rows, n)
	s.launch("rmsnorm_bwd_dx", rows, 1, rowThreads(n), 0, pf(dx), pf(dy), pf(x), pf(w), pf(rstd), i32(n))
}

// elems panics on a negative element count and says whether there is
// anything to do.
func elems(n int) bool {
	if n < 0 {
		panic(kernels.NLT0)
	}
	return n > 0
}

func rowsN(rows, n int) bool {
	if rows < 0 {
		panic(kernels.RowsLT0)
	}
	if n < 0 {
		panic(kernels.NLT0)
	}
	return rows > 0 && n > 0
}

func (d *Device) rope(y, x device.F32, p device.RoPEParams, sign float32, shortY, shortX string) {
	if p.Tokens < 0 || p.Heads < 0 || p.HeadDim < 0 {
		panic(kernels.BadRoPEShape)
	}
	if p.HeadDim%2 != 0 {
		panic(kernels.OddHeadDim)
	}
	if p.Layout != kernels.RoPEHalf && p.Layout != kernels.RoPEInterleaved {
		panic(kernels.BadRoPELayout)
	}
	n := p.Tokens * p.Heads * p.HeadDim
	if n == 0 {
		return
	}
	device.Need(y, n, shortY)
	device.Need(x, n, shortX)
	device.NeedI32(p.Pos, p.Tokens, kernels.ShortPos)
	device.Need(p.Cos, p.HeadDim/2, kernels.BadPos)
	device.Need(p.Sin, p.HeadDim/2, kernels.BadPos)
	il := int32(0)
	if p.Layout == kernels.RoPEInterleaved {
		il = 1
	}
	s := d.impl.begin(true)
	defer s.end()
	s.launch("rope", elemGrid(n/2), 1, elemThreads, 0, pf(y), pf(x), pi(p.Pos), pf(p.Cos), pf(p.Sin),
		i32(p.Tokens), i32(p.Heads), i32(p.HeadDim), il, sign)
}

// RoPE implements device.Device. Positions are not range-checked (they
// are on the device); the caller validates them before Upload.
func (d *Device) RoPE(y, x device.F32, p device.RoPEParams) {
	d.rope(y, x, p, 1, kernels.ShortY, kernels.ShortX)
}

// RoPEBackward implements device.Device.
func (d *Device) RoPEBackward(dx, dy device.F32, p device.RoPEParams) {
	d.rope(dx, dy, p, -1, kernels.ShortDX, kernels.ShortDY)
}

// attnCheck checks the shape and returns false when there is nothing to do.
func attnCheck(p device.AttentionParams) bool {
	if p.B < 0 || p.T < 0 || p.H < 0 || p.KVH < 0 || p.D < 0 {
		panic(kernels.BadAttnShape)
	}
	if p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 {
		return false
	}
	if p.KVH == 0 || p.H%p.KVH != 0 {
		panic(kernels.BadGQA)
	}
	if p.Start != nil {
		device.NeedI32(p.Start, p.B*p.T, kernels.ShortStart)
	}
	i32(p.B * p.T * p.H * p.D)
	return true
}

// CausalAttention implements device.Device (kernels.cu attn_fwd).
func (d *Device) CausalAttention(out, lse, q, k, v device.F32, p device.AttentionParams) {
	if !attnCheck(p) {
		return
	}
	nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
	device.Need(out, nq, kernels.ShortOut)
	device.Need(lse, p.B*p.H*p.T, kernels.ShortLse)
	device.Need(q, nq, kernels.ShortQ)
	device.Need(k, nkv, kernels.ShortK)
	device.Need(v, nkv, kernels.ShortV)
	kt := attnTile(p.D, 2, 0)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("attn_fwd", p.B*p.H, (p.T+attnQ-1)/attnQ, attnQ, 4*2*kt*p.D,
		pf(out), pf(lse), pf(q), pf(k), pf(v), pi(p.Start), i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(kt))
}

// CausalAttentionBackward implements device.Device (attn_rowdot,
// attn_bwd_dq, attn_bwd_dkv: deterministic, no atomics).
func (d *Device) CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v device.F32, p device.AttentionParams) {
	if !attnCheck(p) {
		return
	}
	nq, nkv, nl := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D, p.B*p.H*p.T
	device.Need(dq, nq, kernels.ShortDQ)
	device.Need(dk, nkv, kernels.ShortDK)
	device.Need(dv, nkv, kernels.ShortDV)
	device.Need(dout, nq, kernels.ShortDOut)
	device.Need(out, nq, kernels.ShortOut)
	device.Need(lse, nl, kernels.ShortLse)
	device.Need(q, nq, kernels.ShortQ)
	device.Need(k, nkv, kernels.ShortK)
	device.Need(v, nkv, kernels.ShortV)
	ktQ := attnTile(p.D, 2, 0)
	ktKV := attnTile(p.D, 2, 3)
	s := d.impl.begin(true)
	defer s.end()
	pdelta := s.alloc(nl)
	pst := pi(p.Start)
	s.launch("attn_rowdot", elemGrid(nl), 1, elemThreads, 0, pdelta, pf(dout), pf(out), i32(p.B), i32(p.T), i32(p.H), i32(p.D))
	gy := (p.T + attnQ - 1) / attnQ
	s.launch("attn_bwd_dq", p.B*p.H, gy, attnQ, 4*2*ktQ*p.D,
		pf(dq), pf(dout), pf(lse), pdelta, pf(q), pf(k), pf(v), pst, i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(ktQ))
	s.launch("attn_bwd_dkv", p.B*p.KVH, gy, attnQ, 4*(2*ktKV*p.D+3*ktKV),
		pf(dk), pf(dv), pf(dout), pf(lse), pdelta, pf(q), pf(k), pf(v), pst, i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(ktKV))
}

// SwiGLU implements device.Device.
func (d *Device) SwiGLU(y, g, u device.F32, n int) {
	if !elems(n) {
		return
	}
	device.Need(y, n, kernels.ShortY)
	device.Need(g, n, kernels.ShortG)
	device.Need(u, n, kernels.ShortU)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("swiglu_fwd", elemGrid(n), 1, elemThreads, 0, pf(y), pf(g), pf(u), int64(n))
}

// SwiGLUBackward implements device.Device.
func (d *Device) SwiGLUBackward(dg, du, dy, g, u device.F32, n int) {
	if !elems(n) {
		return
	}
	device.Need(dg, n, kernels.ShortDG)
	device.Need(du, n, kernels.ShortDU)
	device.Need(dy, n, kernels.ShortDY)
	device.Need(g, n, kernels.ShortG)
	device.Need(u, n, kernels.ShortU)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("swiglu_bwd", elemGrid(n), 1, elemThreads, 0, pf(dg), pf(du), pf(dy), pf(g), pf(u), int64(n))
}

func embedCheck(n, dim int) bool {
	if n < 0 {
		panic(kernels.NLT0)
	}
	if dim < 0 {
		panic(kernels.DimLT0)
	}
	i32(n)
	i32(dim)
	return n > 0 && dim > 0
}

// Embedding implements device.Device: embedding_fwd with the whole table
// and the ids as its row map. Ids are not range-checked (they are on the
// device); the caller validates them before Upload.
func (d *Device) Embedding(out, table device.F32, ids device.I32, n, dim int) {
	if !embedCheck(n, dim) {
		return
	}
	device.Need(out, n*dim, kernels.ShortOut)
	device.Need(table, dim, kernels.ShortTable)
	device.NeedI32(ids, n, kernels.ShortIDs)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("embedding_fwd", elemGrid(n*dim), 1, elemThreads, 0, pf(out), pf(table), pi(ids), i32(n), i32(dim))
}

// embedSlots is the number of id classes (id mod embedSlots) the
// embedding backward walks in parallel per column.
const embedSlots = 64

// EmbeddingBackward implements device.Device (embedding_bwd_ids: each
// (id, column) summed in increasing i, bit-identical to kernels/ref).
func (d *Device) EmbeddingBackward(dtable, dout device.F32, ids device.I32, n, dim int) {
	if !embedCheck(n, dim) {
		return
	}
	device.Need(dtable, dim, kernels.ShortDTable)
	device.Need(dout, n*dim, kernels.ShortDOut)
	device.NeedI32(ids, n, kernels.ShortIDs)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("embedding_bwd_ids", (dim+elemThreads-1)/elemThreads, embedSlots, elemThreads, 0,
		pf(dtable), pf(dout), pi(ids), i32(n), i32(dim))
}

func (d *Device) crossEntropy(losses, logits device.F32, targets device.I32, n, v int, scale float32, grad int32) {
	if n < 0 {
		panic(kernels.NLT0)
	}
	if v < 0 {
		panic(kernels.VLT0)
	}
	if n == 0 {
		return
	}
	device.Need(losses, n, kernels.ShortLosses)
	device.Need(logits, n*v, kernels.ShortLogits)
	device.NeedI32(targets, n, kernels.ShortTargets)
	i32(n)
	s := d.impl.begin(true)
	defer s.end()
	s.launch("cross_entropy", n, 1, rowThreads(v), 0, pf(losses), pf(logits), pi(targets), i32(v), scale, grad)
}

// CrossEntropy implements device.Device. Targets are not range-checked
// (they are on the device); the caller validates them before Upload.
func (d *Device) CrossEntropy(losses, logits device.F32, targets device.I32, n, v int) {
	d.crossEntropy(losses, logits, targets, n, v, 0, 0)
}

// CrossEntropyGrad implements device.Device.
func (d *Device) CrossEntropyGrad(losses, logits device.F32, targets device.I32, n, v int, scale float32) {
	d.crossEntropy(losses, logits, targets, n, v, scale, 1)
}

// AdamW implements device.Device (double arithmetic, like kernels/ref).
func (d *Device) AdamW(param, grad, m, v device.F32, n int, p kernels.AdamWParams) {
	if n < 0 {
		panic(kernels.NLT0)
	}
	if p.Step < 1 {
		panic(kernels.BadStep)
	}
	if n == 0 {
		return
	}
	device.Need(param, n, kernels.ShortParam)
	device.Need(grad, n, kernels.ShortGrad)
	device.Need(m, n, kernels.ShortM)
	device.Need(v, n, kernels.ShortV)
	bc1 := 1 - math.Pow(float64(p.Beta1), float64(p.Step))
	bc2 := 1 - math.Pow(float64(p.Beta2), float64(p.Step))
	s := d.impl.begin(true)
	defer s.end()
	s.launch("adamw", elemGrid(n), 1, elemThreads, 0, pf(param), pf(grad), pf(m), pf(v), int64(n),
		p.LR, p.Beta1, p.Beta2, p.Eps, p.WeightDecay, bc1, bc2)
}

// Axpy implements device.Device.
func (d *Device) Axpy(y, x device.F32, n int, alpha float32) {
	device.Need(y, n, kernels.ShortY)
	device.Need(x, n, kernels.ShortX)
	if n <= 0 {
		return
	}
	s := d.impl.begin(true)
	defer s.end()
	s.launch("axpy", elemGrid(n), 1, elemThreads, 0, pf(y), pf(x), int64(n), alpha)
}

// Scale implements device.Device.
func (d *Device) Scale(x device.F32, n int, alpha float32) {
	device.Need(x, n, kernels.ShortX)
	if n <= 0 {
		return
	}
	s := d.impl.begin(true)
	defer s.end()
	s.launch("scale", elemGrid(n), 1, elemThreads, 0, pf(x), int64(n), alpha)
}

// Zero implements device.Device.
func (d *Device) Zero(x device.F32, n int) {
	device.Need(x, n, kernels.ShortX)
	if n <= 0 {
		return
	}
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.memset32(pf(x), 0, n)
}

// reduceBlocks is the grid of reduce_partial for n values: fixed by n, so
// the summation order is too.
func reduceBlocks(n int) int { return max(1, min(1024, (n+elemThreads*16-1)/(elemThreads*16))) }

func (d *Device) reduce(x device.F32, n int, squares int32) float64 {
	device.Need(x, n, kernels.ShortX)
	if n <= 0 {
		return 0
	}
	s := d.impl.begin(true)
	defer s.end()
	g := reduceBlocks(n)
	part := s.alloc(2 * g) // doubles
	out := s.alloc(2)
	s.launch("reduce_partial", g, 1, elemThreads, 0, part, pf(x), int64(n), squares)
	s.launch("reduce_final", 1, 1, 32, 0, out, part, int32(g))
	var r float64
	d.impl.drv.must("cuMemcpyDtoH", call(d.impl.drv.cuMemcpyDtoH, uintptr(unsafe.Pointer(&r)), out, 8))
	runtime.KeepAlive(&r)
	return r
}

// Sum implements device.Device: per-block double sums over a grid fixed
// by n, then the blocks in order; one double comes down.
func (d *Device) Sum(x device.F32, n int) float64 { return d.reduce(x, n, 0) }

// SumSquares implements device.Device, as Sum.
func (d *Device) SumSquares(x device.F32, n int) float64 { return d.reduce(x, n, 1) }

// Sync implements device.Device.
func (d *Device) Sync() {
	s := d.impl.begin(false)
	defer s.end()
	d.impl.drv.must("cuCtxSynchronize", call(d.impl.drv.cuCtxSynchronize))
}
