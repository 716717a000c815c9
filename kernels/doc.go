// Package kernels defines the numeric kernels humanllm's tensor core runs on,
// as small interfaces in the manner of gonum's blas package.
//
// The package holds the interfaces (Sgemmer, SgemmStridedBatcher, Float32;
// the fused operations of fused.go; the optional Linearer and GELULinearer,
// which fold a linear layer's bias, residual and GELU into its products),
// the Transpose enum, the panic messages (errors.go) and the shared argument
// checks (CheckSgemm, CheckSgemmStridedBatched, ...). Implementations live in
// sub-packages:
//
//	kernels/ref          plain Go triple loops: the specification, never tuned
//	kernels/cpu          cache-blocked, packed, multithreaded; AVX-512 / AVX2
//	                     assembly micro-kernels chosen at run time, pure-Go
//	                     fallback (build tag purego, or non-amd64)
//	kernels/kernelstest  the conformance suite and benchmarks every
//	                     implementation runs
//
// # Sgemm contract
//
// All matrices are row-major: element (i, j) of a matrix X with leading
// dimension ldx is x[i*ldx+j]. Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X for NoTrans and Xᵀ for Trans, op(A) is m×k, op(B) is k×n
// and C is m×n. Stored shapes and minimal leading dimensions:
//
//	A: tA == NoTrans: m×k, lda >= max(1, k);  tA == Trans: k×m, lda >= max(1, m)
//	B: tB == NoTrans: k×n, ldb >= max(1, n);  tB == Trans: n×k, ldb >= max(1, k)
//	C: m×n, ldc >= max(1, n)
//
// A slice must hold at least (rows-1)*ld + cols elements of its stored shape
// (0 for an empty matrix); elements outside the matrix (the gap between
// a row's end and the next row's start, and anything past the last row) are
// never read for A and B and never written for C. A and B are never
// modified. C must not overlap A or B.
//
// Special values follow the reference BLAS:
//
//   - m == 0 or n == 0: nothing is done.
//   - alpha == 0 or k == 0: A and B are not read; C = beta*C.
//   - beta == 0: C is not read, only written, so NaN or Inf already in C do
//     not propagate (C = alpha*op(A)*op(B) exactly as if C held zeros).
//   - otherwise NaN and Inf in A, B or C propagate as IEEE arithmetic says;
//     the summation order over k is unspecified, so results may differ from
//     the reference in the last bits (see kernelstest for the tolerance).
//
// Misuse (a bad Transpose, negative sizes, too small leading dimensions or
// strides, short slices) panics with one of the constant messages in
// errors.go, checked in that order.
//
// # Strided batched contract
//
// SgemmStridedBatched performs, for i in [0, batch),
//
//	Sgemm(tA, tB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
//
// in unspecified order (possibly concurrently). Strides are >= 0; a zero
// strideA or strideB broadcasts one matrix to every batch entry; strideC must
// be at least (m-1)*ldc+n when batch > 1 so the C matrices are disjoint.
// The slices must hold (batch-1)*stride plus one matrix. This is the shape of
// attention: Q·Kᵀ per (batch, head) is (tA, tB) = (NoTrans, Trans).
//
// # Concurrency
//
// Implementations are safe for concurrent use by multiple goroutines on
// disjoint C. Implementations may run a call on several threads (kernels/cpu
// uses one persistent worker pool sized by GOMAXPROCS); the call returns
// only when C is complete.
//
// # Adding bf16 storage later
//
// Callers program against the method set they use (Sgemmer etc.), so new
// element types are new interfaces beside the fp32 ones, not changes to them.
// The plan for bf16 storage with fp32 accumulation (AVX512-BF16's
// VDPBF16PS) is:
//
//   - a storage type `type BF16 uint16` (upper half of an IEEE float32, round
//     to nearest even on conversion) in this package, with conversions;
//   - an interface `BF16Gemmer { GemmBF16(tA, tB, m, n, k, alpha float32,
//     a []BF16, lda, b []BF16, ldb, beta float32, c []float32, ldc) }` and
//     its strided batched twin: the same contract as Sgemm, bf16 operands,
//     fp32 C, alpha and beta; a variant writing bf16 C can follow;
//   - kernels/ref implements it by widening to float32 and running the same
//     triple loop; kernels/cpu adds bf16 packing routines (the packed panels
//     become pairs of bf16 along k, the layout VDPBF16PS consumes) and a
//     micro-kernel, reusing the blocking, pool and dispatch unchanged;
//   - kernelstest gets TestGemmBF16 with a tolerance scaled by bf16's
//     epsilon (2^-8) on the inputs.
//
// Code that wants "whatever the backend offers" uses a type assertion
// (impl.(kernels.BF16Gemmer)) and falls back to Sgemm, so existing callers
// keep compiling and running unchanged.
package kernels
