package kernels

// Transpose says whether a matrix operand is used as stored or transposed.
type Transpose byte

const (
	NoTrans Transpose = 'N' // op(X) = X
	Trans   Transpose = 'T' // op(X) = Xᵀ
)

// Sgemmer computes one single-precision general matrix product,
//
//	C = alpha * op(A) * op(B) + beta * C,
//
// on row-major matrices; op(A) is m×k, op(B) is k×n and C is m×n. The full
// contract (leading dimensions, slice lengths, alpha and beta special cases,
// panics) is in the package documentation.
type Sgemmer interface {
	Sgemm(tA, tB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// SgemmStridedBatcher computes batch independent products of the Sgemm form:
// for i in [0, batch), the i-th A, B and C start at a[i*strideA:],
// b[i*strideB:] and c[i*strideC:]. A stride of 0 for A or B shares one
// matrix across the batch (a broadcast); C matrices must not overlap.
type SgemmStridedBatcher interface {
	SgemmStridedBatched(tA, tB Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int)
}

// Float32 is the float32 kernel set an implementation provides.
type Float32 interface {
	Sgemmer
	SgemmStridedBatcher
}
