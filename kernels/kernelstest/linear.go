package kernelstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestLinearer is the conformance suite for kernels.Linearer.
//
// SgemmBias is checked against the float64 oracle of Sgemm with alpha 1,
// beta 1 and C starting as the float32 sum R + bias (the tolerance of
// TestSgemm), over both transposes, shapes with edges and several k
// slabs, padded leading dimensions, bias and R each present or nil, and C
// aliasing R; every operand's guard band and the inputs are checked, and
// with k = 0 C must be exactly R + bias. The same call run with
// GOMAXPROCS 1 and 2 must agree bit for bit. BiasGrad must equal, bit for
// bit, the blocked float32 summation its contract defines. Misuse panics
// with the messages of package kernels.
func TestLinearer(t *testing.T, impl kernels.Linearer) {
	rng := rand.New(rand.NewPCG(7, 11))
	shapes := [][3]int{{1, 1, 1}, {3, 5, 2}, {14, 32, 8}, {15, 33, 17}, {29, 65, 300}, {150, 70, 600}, {40, 1100, 64}, {7, 9, 0}}
	failed := 0
	for si, s := range shapes {
		for _, tA := range transposes {
			for _, tB := range transposes {
				for form := range 4 { // bias and R: both, bias only, R only, R aliased by C
					pad := si % 3
					if !linearCase(t, impl, rng, tA, tB, s[0], s[1], s[2], pad, form) {
						if failed++; failed >= 5 {
							t.Fatalf("stopping after %d failing cases", failed)
						}
					}
				}
			}
		}
	}
	linearThreads(t, impl, rng)
	testBiasGrad(t, impl, rng)
	testLinearPanics(t, impl)
}

func linearCase(t *testing.T, impl kernels.Linearer, rng *rand.Rand, tA, tB kernels.Transpose, m, n, k, pad, form int) bool {
	t.Helper()
	useBias, useR, alias := form != 2, form != 1, form == 3
	name := fmt.Sprintf("SgemmBias %c%c m%d n%d k%d pad%d bias=%t r=%t alias=%t", tA, tB, m, n, k, pad, useBias, useR, alias)
	ra, ca := storedDims(tA, m, k)
	rb, cb := storedDims(tB, k, n)
	lda, ldb, ldc := max(1, ca)+pad, max(1, cb)+pad, max(1, n)+pad
	a := newMat(ra, ca, lda, 0, 1).fillRand(rng)
	b := newMat(rb, cb, ldb, 0, 1).fillRand(rng)
	cm := newMat(m, n, ldc, 0, 1).fill(nanF32()) // C is not read
	var bias, r *mat
	var biasD, rD []float32
	ldr := ldc
	if useBias {
		bias = newMat(1, n, n, 0, 1).fillRand(rng)
		biasD = bias.data
	}
	if useR {
		if alias {
			cm.fillRand(rng)
			r, rD = cm, cm.data
		} else {
			ldr = max(1, n) + (pad+1)%3
			r = newMat(m, n, ldr, 0, 1).fillRand(rng)
			rD = r.data
		}
	}
	// The initial C the contract defines, rounded to float32.
	init := make([]float32, m*n)
	for i := range m {
		for j := range n {
			switch {
			case useR && useBias:
				init[i*n+j] = r.at(0, i, j) + bias.at(0, 0, j)
			case useR:
				init[i*n+j] = r.at(0, i, j)
			case useBias:
				init[i*n+j] = bias.at(0, 0, j)
			}
		}
	}
	for _, x := range []*mat{a, b, bias, r, cm} {
		if x != nil {
			x.snapshot()
		}
	}
	impl.SgemmBias(tA, tB, m, n, k, a.data, lda, b.data, ldb, biasD, rD, ldr, cm.data, ldc)
	ok := a.checkUnchanged(t, name+": A") && b.checkUnchanged(t, name+": B") && cm.checkGuards(t, name+": C")
	if bias != nil {
		ok = ok && bias.checkUnchanged(t, name+": bias")
	}
	if r != nil && !alias {
		ok = ok && r.checkUnchanged(t, name+": R")
	}
	if !ok {
		return false
	}
	opA := dense(tA, a, 0, m, k, false)
	opBt := dense(tB, b, 0, k, n, true)
	bad := 0
	for i := range m {
		for j := range n {
			got := cm.at(0, i, j)
			if k == 0 {
				if math.Float32bits(got) != math.Float32bits(init[i*n+j]) {
					t.Errorf("%s: C[%d,%d] = %v, want exactly R + bias = %v", name, i, j, got, init[i*n+j])
					return false
				}
				continue
			}
			want, mag := expect(opA[i*k:(i+1)*k], opBt[j*k:(j+1)*k], 1, 1, init[i*n+j])
			if !within(got, want, mag, k) {
				if bad < 5 {
					t.Errorf("%s: C[%d,%d] = %v, want %v (tol %.3g)", name, i, j, got, want, Abs+float64(k+2)*Rel*mag)
				}
				bad++
			}
		}
	}
	return bad == 0
}

// linearThreads runs one large SgemmBias and BiasGrad with 1 and 2
// threads and requires identical bits.
func linearThreads(t *testing.T, impl kernels.Linearer, rng *rand.Rand) {
	const m, n, k = 300, 200, 700
	a := randF32(rng, m*k)
	b := randF32(rng, k*n)
	bias := randF32(rng, n)
	r := randF32(rng, m*n)
	var out [2][]float32
	var db [2][]float32
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for i, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		out[i] = make([]float32, m*n)
		impl.SgemmBias(kernels.NoTrans, kernels.Trans, m, n, k, a, k, b, k, bias, r, n, out[i], n)
		db[i] = make([]float32, n)
		impl.BiasGrad(db[i], r, m, n)
	}
	for j := range out[0] {
		if math.Float32bits(out[0][j]) != math.Float32bits(out[1][j]) {
			t.Fatalf("SgemmBias: element %d is %v with 1 thread, %v with 2", j, out[0][j], out[1][j])
		}
	}
	for j := range db[0] {
		if math.Float32bits(db[0][j]) != math.Float32bits(db[1][j]) {
			t.Fatalf("BiasGrad: element %d is %v with 1 thread, %v with 2", j, db[0][j], db[1][j])
		}
	}
}

func testBiasGrad(t *testing.T, impl kernels.Linearer, rng *rand.Rand) {
	for _, s := range [][2]int{{0, 5}, {1, 1}, {3, 17}, {64, 33}, {65, 20}, {2048, 256}, {77, 1030}, {300, 7}} {
		rows, n := s[0], s[1]
		dy := newMat(1, rows*n, rows*n, 0, 1).fillRand(rng)
		db := newMat(1, n, n, 0, 1).fillRand(rng)
		// the order of the contract: blocks of rows summed from their first
		// row, block sums added in order, the total added to db
		want := make([]float32, n)
		for j := range n {
			var s float32
			for b0 := 0; b0 < rows; b0 += kernels.BiasGradBlock {
				t := dy.at(0, 0, b0*n+j)
				for i := b0 + 1; i < min(rows, b0+kernels.BiasGradBlock); i++ {
					t += dy.at(0, 0, i*n+j)
				}
				if b0 == 0 {
					s = t
				} else {
					s += t
				}
			}
			want[j] = db.at(0, 0, j)
			if rows > 0 {
				want[j] += s
			}
		}
		dy.snapshot()
		db.snapshot()
		impl.BiasGrad(db.data, dy.data, rows, n)
		name := fmt.Sprintf("BiasGrad rows%d n%d", rows, n)
		if !dy.checkUnchanged(t, name+": dy") || !db.checkGuards(t, name+": db") {
			continue
		}
		for j := range n {
			if got := db.at(0, 0, j); math.Float32bits(got) != math.Float32bits(want[j]) {
				t.Errorf("%s: db[%d] = %v, want exactly %v (the contract's summation order)", name, j, got, want[j])
				break
			}
		}
	}
}

func testLinearPanics(t *testing.T, impl kernels.Linearer) {
	N := kernels.NoTrans
	a, b, c, r, bias := make([]float32, 100), make([]float32, 100), make([]float32, 100), make([]float32, 100), make([]float32, 100)
	expectPanic(t, "SgemmBias bad tA", kernels.BadTransA, func() { impl.SgemmBias('X', N, 2, 3, 4, a, 4, b, 3, bias, r, 3, c, 3) })
	expectPanic(t, "SgemmBias short c", kernels.ShortC, func() { impl.SgemmBias(N, N, 2, 3, 4, a, 4, b, 3, bias, r, 3, c[:5], 3) })
	expectPanic(t, "SgemmBias ldr<n", kernels.BadLdR, func() { impl.SgemmBias(N, N, 2, 3, 4, a, 4, b, 3, bias, r, 2, c, 3) })
	expectPanic(t, "SgemmBias short r", kernels.ShortR, func() { impl.SgemmBias(N, N, 2, 3, 4, a, 4, b, 3, bias, r[:6], 4, c, 3) })
	expectPanic(t, "SgemmBias short bias", kernels.ShortBias, func() { impl.SgemmBias(N, N, 2, 3, 4, a, 4, b, 3, bias[:2], r, 3, c, 3) })
	expectPanic(t, "BiasGrad rows<0", kernels.RowsLT0, func() { impl.BiasGrad(bias, r, -1, 3) })
	expectPanic(t, "BiasGrad n<0", kernels.NLT0, func() { impl.BiasGrad(bias, r, 2, -1) })
	expectPanic(t, "BiasGrad short db", kernels.ShortDB, func() { impl.BiasGrad(bias[:2], r, 2, 3) })
	expectPanic(t, "BiasGrad short dy", kernels.ShortDY, func() { impl.BiasGrad(bias, r[:5], 2, 3) })
	// Minimal lengths, nil bias and R, and empty calls do not panic.
	impl.SgemmBias(N, N, 2, 3, 4, a[:8], 4, b[:12], 3, nil, nil, 0, c[:6], 3)
	impl.SgemmBias(N, N, 2, 3, 4, a[:8], 4, b[:12], 3, bias[:3], r[:7], 4, c[:6], 3)
	impl.SgemmBias(N, N, 0, 3, 4, nil, 4, nil, 3, nil, nil, 0, nil, 3)
	impl.BiasGrad(bias[:3], r[:6], 2, 3)
	impl.BiasGrad(nil, nil, 5, 0)
}

func randF32(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

// GELUKernels is what TestGELULinearer needs: the fused methods and the
// unfused ones they must agree with.
type GELUKernels interface {
	kernels.GELULinearer
	kernels.Linearer
	kernels.Sgemmer
	kernels.Activator
}

// TestGELULinearer is the conformance suite for kernels.GELULinearer: the
// fused methods must give, bit for bit, what the implementation's own
// unfused calls give (SgemmBias then GELU; Sgemm then GELUBackward), which
// TestLinearer, TestSgemm and TestFused check against their oracles. Shapes
// cover both transposes, edges, several k slabs and column blocks, padded
// leading dimensions, a nil bias and k = 0; guard bands of U and C are
// checked, inputs must be unchanged, GOMAXPROCS 1 and 2 must agree, and
// misuse panics.
func TestGELULinearer(t *testing.T, impl GELUKernels) {
	rng := rand.New(rand.NewPCG(13, 17))
	shapes := [][3]int{{1, 1, 1}, {3, 5, 2}, {15, 33, 17}, {29, 65, 300}, {150, 70, 600}, {40, 3200, 64}, {7, 9, 0}}
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for si, s := range shapes {
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, withBias := range []bool{true, false} {
					runtime.GOMAXPROCS(1 + si%2)
					if !geluCase(t, impl, rng, tA, tB, s[0], s[1], s[2], si%3, withBias) {
						return
					}
				}
			}
		}
	}
	runtime.GOMAXPROCS(prev)
	// the same large call with 1 and 2 threads
	const m, n, k = 300, 200, 700
	a, b, bias := randF32(rng, m*k), randF32(rng, k*n), randF32(rng, n)
	var u, c, d [2][]float32
	for i, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		u[i], c[i], d[i] = make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
		impl.SgemmBiasGELU(kernels.NoTrans, kernels.NoTrans, m, n, k, a, k, b, n, bias, u[i], n, c[i], n)
		impl.SgemmGELUBackward(kernels.NoTrans, kernels.Trans, m, n, k, a, k, b, k, u[i], n, d[i], n)
	}
	runtime.GOMAXPROCS(prev)
	if !bitsEqual(t, "SgemmBiasGELU U, 1 vs 2 threads", u[1], u[0]) || !bitsEqual(t, "SgemmBiasGELU C, 1 vs 2 threads", c[1], c[0]) ||
		!bitsEqual(t, "SgemmGELUBackward, 1 vs 2 threads", d[1], d[0]) {
		return
	}
	N := kernels.NoTrans
	z := func(n int) []float32 { return make([]float32, n) }
	expectPanic(t, "SgemmBiasGELU ldu<n", kernels.BadLdU, func() { impl.SgemmBiasGELU(N, N, 2, 3, 4, z(8), 4, z(12), 3, nil, z(6), 2, z(6), 3) })
	expectPanic(t, "SgemmBiasGELU short u", kernels.ShortU, func() { impl.SgemmBiasGELU(N, N, 2, 3, 4, z(8), 4, z(12), 3, nil, z(5), 3, z(6), 3) })
	expectPanic(t, "SgemmBiasGELU short bias", kernels.ShortBias, func() { impl.SgemmBiasGELU(N, N, 2, 3, 4, z(8), 4, z(12), 3, z(2), z(6), 3, z(6), 3) })
	expectPanic(t, "SgemmBiasGELU short c", kernels.ShortC, func() { impl.SgemmBiasGELU(N, N, 2, 3, 4, z(8), 4, z(12), 3, nil, z(6), 3, z(5), 3) })
	expectPanic(t, "SgemmGELUBackward short u", kernels.ShortU, func() { impl.SgemmGELUBackward(N, N, 2, 3, 4, z(8), 4, z(12), 3, z(5), 3, z(6), 3) })
	expectPanic(t, "SgemmGELUBackward bad tB", kernels.BadTransB, func() { impl.SgemmGELUBackward(N, 'x', 2, 3, 4, z(8), 4, z(12), 3, z(6), 3, z(6), 3) })
}

func geluCase(t *testing.T, impl GELUKernels, rng *rand.Rand, tA, tB kernels.Transpose, m, n, k, pad int, withBias bool) bool {
	t.Helper()
	name := fmt.Sprintf("GELU linear %c%c m%d n%d k%d pad%d bias=%t", tA, tB, m, n, k, pad, withBias)
	ra, ca := storedDims(tA, m, k)
	rb, cb := storedDims(tB, k, n)
	lda, ldb, ldu, ldc := max(1, ca)+pad, max(1, cb)+pad, max(1, n)+(pad+1)%3, max(1, n)+pad
	a := newMat(ra, ca, lda, 0, 1).fillRand(rng)
	b := newMat(rb, cb, ldb, 0, 1).fillRand(rng)
	// scale the products into GELU's curved range
	for i := range a.data {
		a.data[i] *= 3 / float32(math.Sqrt(float64(max(k, 1))))
	}
	var bias []float32
	bm := newMat(1, n, n, 0, 1).fillRand(rng)
	if withBias {
		bias = bm.data
	}
	u := newMat(m, n, ldu, 0, 1).fill(nanF32())
	c := newMat(m, n, ldc, 0, 1).fill(nanF32())
	for _, x := range []*mat{a, b, bm, u, c} {
		x.snapshot()
	}
	impl.SgemmBiasGELU(tA, tB, m, n, k, a.data, lda, b.data, ldb, bias, u.data, ldu, c.data, ldc)
	if !a.checkUnchanged(t, name+": A") || !b.checkUnchanged(t, name+": B") || !bm.checkUnchanged(t, name+": bias") ||
		!u.checkGuards(t, name+": U") || !c.checkGuards(t, name+": C") {
		return false
	}
	// unfused: U = SgemmBias, C = GELU(U) row by row
	wu := make([]float32, m*n)
	wc := make([]float32, m*n)
	impl.SgemmBias(tA, tB, m, n, k, a.data, lda, b.data, ldb, bias, nil, 0, wu, n)
	if m > 0 && n > 0 {
		impl.GELU(wc, wu, m*n)
	}
	gu, gc := make([]float32, m*n), make([]float32, m*n)
	for i := range m {
		for j := range n {
			gu[i*n+j], gc[i*n+j] = u.at(0, i, j), c.at(0, i, j)
		}
	}
	if !bitsEqual(t, name+": U vs SgemmBias", gu, wu) || !bitsEqual(t, name+": C vs GELU(SgemmBias)", gc, wc) {
		return false
	}
	// backward: C = GELU'(U) ⊙ op(A)op(B), U the forward's
	d := newMat(m, n, ldc, 0, 1).fill(nanF32())
	u.snapshot()
	d.snapshot()
	impl.SgemmGELUBackward(tA, tB, m, n, k, a.data, lda, b.data, ldb, u.data, ldu, d.data, ldc)
	if !u.checkUnchanged(t, name+": bwd U") || !d.checkGuards(t, name+": bwd C") {
		return false
	}
	wd := make([]float32, m*n)
	impl.Sgemm(tA, tB, m, n, k, 1, a.data, lda, b.data, ldb, 0, wd, n)
	if m > 0 && n > 0 {
		impl.GELUBackward(wd, wd, wu, m*n)
	}
	gd := make([]float32, m*n)
	for i := range m {
		for j := range n {
			gd[i*n+j] = d.at(0, i, j)
		}
	}
	return bitsEqual(t, name+": backward vs GELUBackward(Sgemm)", gd, wd)
}
