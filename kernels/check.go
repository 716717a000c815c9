package kernels

// CheckSgemm validates the arguments of Sgemm (given the slice lengths) and
// panics with one of the messages in errors.go on the first violation, in
// the order: transposes, m, n, k, leading dimensions of A, B, C, then the
// lengths of a, b, c. Implementations call it first so they all reject
// misuse identically. Slice lengths are only checked when m, n and k are all
// positive for A and B, and when m and n are positive for C.
func CheckSgemm(tA, tB Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	checkShape(tA, tB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k > 0 {
		ra, ca := opDims(tA, m, k)
		if lenA < need(ra, ca, lda) {
			panic(ShortA)
		}
		rb, cb := opDims(tB, k, n)
		if lenB < need(rb, cb, ldb) {
			panic(ShortB)
		}
	}
	if lenC < need(m, n, ldc) {
		panic(ShortC)
	}
}

// CheckSgemmStridedBatched is CheckSgemm for SgemmStridedBatched. Strides
// must be >= 0; strideC must also be >= the extent of one C matrix,
// (m-1)*ldc+n, when batch > 1 so that C matrices do not overlap. Lengths
// must cover the last matrix of the batch: (batch-1)*stride + extent.
func CheckSgemmStridedBatched(tA, tB Transpose, m, n, k, lenA, lda, strideA, lenB, ldb, strideB, lenC, ldc, strideC, batch int) {
	checkShape(tA, tB, m, n, k, lda, ldb, ldc)
	if batch < 0 {
		panic(BatchLT0)
	}
	if strideA < 0 {
		panic(BadStrideA)
	}
	if strideB < 0 {
		panic(BadStrideB)
	}
	if strideC < 0 || (batch > 1 && m > 0 && n > 0 && strideC < need(m, n, ldc)) {
		panic(BadStrideC)
	}
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	if k > 0 {
		ra, ca := opDims(tA, m, k)
		if lenA < (batch-1)*strideA+need(ra, ca, lda) {
			panic(ShortA)
		}
		rb, cb := opDims(tB, k, n)
		if lenB < (batch-1)*strideB+need(rb, cb, ldb) {
			panic(ShortB)
		}
	}
	if lenC < (batch-1)*strideC+need(m, n, ldc) {
		panic(ShortC)
	}
}

func checkShape(tA, tB Transpose, m, n, k, lda, ldb, ldc int) {
	if tA != NoTrans && tA != Trans {
		panic(BadTransA)
	}
	if tB != NoTrans && tB != Trans {
		panic(BadTransB)
	}
	if m < 0 {
		panic(MLT0)
	}
	if n < 0 {
		panic(NLT0)
	}
	if k < 0 {
		panic(KLT0)
	}
	_, ca := opDims(tA, m, k)
	if lda < max(1, ca) {
		panic(BadLdA)
	}
	_, cb := opDims(tB, k, n)
	if ldb < max(1, cb) {
		panic(BadLdB)
	}
	if ldc < max(1, n) {
		panic(BadLdC)
	}
}

// opDims returns the stored rows and columns of a matrix X whose op(X) is
// r×c.
func opDims(t Transpose, r, c int) (rows, cols int) {
	if t == Trans {
		return c, r
	}
	return r, c
}

// need is the minimal slice length holding a rows×cols matrix with leading
// dimension ld: (rows-1)*ld + cols, or 0 if it is empty.
func need(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// CheckSgemmBias validates the arguments of Linearer.SgemmBias: those of
// Sgemm (alpha 1, beta 1; the lengths of a and b are checked when m, n and
// k are positive, c's when m and n are), then, when m and n are positive,
// ldr (>= max(1, n)) and the length of r when r is not nil, and the
// length of bias when it is not nil.
func CheckSgemmBias(tA, tB Transpose, m, n, k, lenA, lda, lenB, ldb int, bias, r []float32, ldr, lenC, ldc int) {
	CheckSgemm(tA, tB, m, n, k, lenA, lda, lenB, ldb, lenC, ldc)
	if m == 0 || n == 0 {
		return
	}
	if r != nil {
		if ldr < max(1, n) {
			panic(BadLdR)
		}
		if len(r) < need(m, n, ldr) {
			panic(ShortR)
		}
	}
	if bias != nil && len(bias) < n {
		panic(ShortBias)
	}
}

// CheckBiasGrad validates the arguments of Linearer.BiasGrad.
func CheckBiasGrad(db, dy []float32, rows, n int) {
	if rows < 0 {
		panic(RowsLT0)
	}
	if n < 0 {
		panic(NLT0)
	}
	if n == 0 {
		return
	}
	if len(db) < n {
		panic(ShortDB)
	}
	if len(dy) < rows*n {
		panic(ShortDY)
	}
}

// CheckSgemmGELU validates the arguments of GELULinearer's methods: those
// of Sgemm (the lengths of a and b checked when m, n and k are positive,
// c's when m and n are), then, when m and n are positive, ldu (>= max(1,
// n)) and the length of u, and the length of bias when it is not nil.
func CheckSgemmGELU(tA, tB Transpose, m, n, k, lenA, lda, lenB, ldb int, bias, u []float32, ldu, lenC, ldc int) {
	CheckSgemm(tA, tB, m, n, k, lenA, lda, lenB, ldb, lenC, ldc)
	if m == 0 || n == 0 {
		return
	}
	if ldu < max(1, n) {
		panic(BadLdU)
	}
	if len(u) < need(m, n, ldu) {
		panic(ShortU)
	}
	if bias != nil && len(bias) < n {
		panic(ShortBias)
	}
}
