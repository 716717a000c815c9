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

// BiasGradBlock is the row block of Linearer.BiasGrad's summation order.
const BiasGradBlock = 64

// Linearer computes a linear layer around the Sgemm: the forward product
// with the bias and a residual folded in, and the bias gradient. It is
// optional: callers fall back to Sgemm and loops of their own.
type Linearer interface {
	// SgemmBias computes C = op(A)·op(B) + (R + bias): bias (n elements,
	// added to every row) and R (m×n, leading dimension ldr) may each be
	// nil; R + bias is rounded to float32 first, then the product is added
	// to it as Sgemm with alpha 1 and beta 1 would. A, B, m, n, k, lda, ldb
	// and ldc follow the Sgemm contract (C is not read, only written); C may
	// be R itself (the same slice start and leading dimension) but must not
	// otherwise overlap A, B, R or bias.
	SgemmBias(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, r []float32, ldr int, c []float32, ldc int)
	// BiasGrad accumulates the column sums of the rows×n matrix dy
	// (contiguous) into db, in float32 and in a fixed order, so that the
	// result is the same whatever the number of threads: the rows are cut
	// into blocks of BiasGradBlock (the last may be shorter); each block's
	// sum t_k[j] starts from its first row and adds the others in
	// increasing order; s[j] starts from t_0[j] and adds t_1[j], t_2[j], …
	// in order; then db[j] += s[j].
	BiasGrad(db, dy []float32, rows, n int)
}

// GELULinearer fuses the tanh-GELU of a transformer MLP into the products
// around it, so that the activation is applied to each block of the
// product while it is in cache instead of in passes of its own. It is
// optional, like Linearer.
type GELULinearer interface {
	// SgemmBiasGELU computes U = op(A)·op(B) + bias as Linearer.SgemmBias
	// does with R nil, and C = GELU(U) elementwise as Activator.GELU does.
	// U (m×n, leading dimension ldu) and C must not overlap each other or
	// the inputs.
	SgemmBiasGELU(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, u []float32, ldu int, c []float32, ldc int)
	// SgemmGELUBackward computes the product P = op(A)·op(B) as Sgemm does
	// with alpha 1 and beta 0, and C = GELU'(U) ⊙ P elementwise as
	// Activator.GELUBackward(C, P, U) does: the gradient through GELU of
	// the product (dy·Wᵀ in an MLP's backward). U must not overlap C or the
	// inputs.
	SgemmGELUBackward(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, u []float32, ldu int, c []float32, ldc int)
}
