package kernelstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

var transposes = []kernels.Transpose{kernels.NoTrans, kernels.Trans}

// gemmCase is one call of Sgemm or SgemmStridedBatched.
type gemmCase struct {
	tA, tB           kernels.Transpose
	m, n, k          int
	padA, padB, padC int // leading dimension beyond the minimum
	alpha, beta      float32

	// Batched calls only.
	batch            int
	gapA, gapB, gapC int // stride beyond one matrix; -1 for A or B: stride 0

	fillC float32         // if not 0, C's elements start as this value
	prep  func(a, b *mat) // adjusts inputs after the random fill
	exact [][]float32     // if set, the expected C (batch 1), compared exactly
	setAB func(a, b *mat) // if set, replaces the random fill of A and B
	note  string
}

// stride returns the batch stride for a matrix of one-matrix extent one.
func stride(one, gap int) int {
	if gap < 0 {
		return 0
	}
	return one + gap
}

func extent(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// run executes c on impl (an Sgemmer when batched is false, an
// SgemmStridedBatcher otherwise) and reports mismatches; it returns false on
// failure.
func (c gemmCase) run(t testing.TB, impl any, batched bool, rng *rand.Rand) bool {
	t.Helper()
	batch := 1
	if batched {
		batch = c.batch
	}
	ra, ca := storedDims(c.tA, c.m, c.k)
	rb, cb := storedDims(c.tB, c.k, c.n)
	lda, ldb, ldc := max(1, ca)+c.padA, max(1, cb)+c.padB, max(1, c.n)+c.padC
	sA, sB, sC := 0, 0, 0
	if batched {
		sA = stride(extent(ra, ca, lda), c.gapA)
		sB = stride(extent(rb, cb, ldb), c.gapB)
		sC = stride(extent(c.m, c.n, ldc), c.gapC)
	}
	a := newMat(ra, ca, lda, sA, batch)
	b := newMat(rb, cb, ldb, sB, batch)
	cm := newMat(c.m, c.n, ldc, sC, batch)
	if c.setAB != nil {
		c.setAB(a, b)
	} else {
		a.fillRand(rng)
		b.fillRand(rng)
	}
	if c.prep != nil {
		c.prep(a, b)
	}
	if c.fillC != 0 {
		cm.fill(c.fillC)
	} else {
		cm.fillRand(rng)
	}
	a.snapshot()
	b.snapshot()
	cm.snapshot()

	if batched {
		impl.(kernels.SgemmStridedBatcher).SgemmStridedBatched(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a.data, lda, sA, b.data, ldb, sB, c.beta, cm.data, ldc, sC, batch)
	} else {
		impl.(kernels.Sgemmer).Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a.data, lda, b.data, ldb, c.beta, cm.data, ldc)
	}

	name := c.String()
	if batched {
		name += fmt.Sprintf("/batch%d_gap%d,%d,%d", batch, c.gapA, c.gapB, c.gapC)
	}
	if c.note != "" {
		name += " (" + c.note + ")"
	}
	ok := a.checkUnchanged(t, name+": A") && b.checkUnchanged(t, name+": B") && cm.checkGuards(t, name+": C")
	if !ok {
		return false
	}
	if c.exact != nil {
		for i := range c.m {
			for j := range c.n {
				if got := cm.at(0, i, j); got != c.exact[i][j] {
					t.Errorf("%s: C[%d,%d] = %v, want exactly %v", name, i, j, got, c.exact[i][j])
					return false
				}
			}
		}
		return true
	}
	bad := 0
	for bi := range batch {
		opA := dense(c.tA, a, bi, c.m, c.k, false)
		opBt := dense(c.tB, b, bi, c.k, c.n, true)
		for i := range c.m {
			for j := range c.n {
				idx := bi*sC + i*ldc + j
				c0 := cm.orig[guard+idx]
				want, mag := expect(opA[i*c.k:(i+1)*c.k], opBt[j*c.k:(j+1)*c.k], c.alpha, c.beta, c0)
				got := cm.data[idx]
				if !within(got, want, mag, c.k) {
					if bad < 5 {
						tol := Abs + float64(c.k+2)*Rel*mag
						t.Errorf("%s: C[%d][%d,%d] = %v, want %v (|diff| %.3g, tol %.3g)", name, bi, i, j, got, want, math.Abs(float64(got)-want), tol)
					}
					bad++
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d mismatches in all", name, bad)
	}
	return bad == 0
}

// dense returns op(X) of batch entry bi as an r×c float64 matrix, or its
// transpose (c×r) when transposed is set.
func dense(tr kernels.Transpose, x *mat, bi, r, c int, transposed bool) []float64 {
	d := make([]float64, r*c)
	for i := range r {
		for j := range c {
			v := float64(opAt(tr, x, bi, i, j))
			if transposed {
				d[j*r+i] = v
			} else {
				d[i*c+j] = v
			}
		}
	}
	return d
}

// expect is the float64 oracle for one element: the BLAS semantics of
// alpha*row·col + beta*c0, and the magnitude of the terms.
func expect(row, col []float64, alpha, beta, c0 float32) (want, mag float64) {
	if beta != 0 {
		want = float64(beta) * float64(c0)
		mag = math.Abs(want)
	}
	if alpha == 0 || len(row) == 0 {
		return want, mag
	}
	var sum, abs float64
	for p, x := range row {
		prod := x * col[p]
		sum += prod
		abs += math.Abs(prod)
	}
	return want + float64(alpha)*sum, mag + math.Abs(float64(alpha))*abs
}

// runAll runs cases, stopping after a few failures.
func runAll(t *testing.T, impl any, batched bool, cases []gemmCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(len(cases))))
	failed := 0
	for _, c := range cases {
		if !c.run(t, impl, batched, rng) {
			failed++
			if failed >= 5 {
				t.Fatalf("stopping after %d failing cases", failed)
			}
		}
	}
}

// alphaBetas are the scalar pairs cycled through by the shape sweeps.
var alphaBetas = [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, -0.5}}

// scalars are the values the alpha/beta grid takes.
var scalars = []float32{0, 1, -0.5, 2}

// TestSgemm is the conformance suite for Sgemm.
func TestSgemm(t *testing.T, impl kernels.Sgemmer) {
	t.Run("HandChecked", func(t *testing.T) { runAll(t, impl, false, handChecked()) })
	t.Run("Shapes", func(t *testing.T) {
		var cases []gemmCase
		sizes := []int{1, 3, 17, 63, 64, 65}
		i := 0
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, m := range sizes {
					for _, n := range sizes {
						for _, k := range sizes {
							ab := alphaBetas[i%len(alphaBetas)]
							pad := []int{0, 5, 16}[i%3]
							cases = append(cases, gemmCase{tA: tA, tB: tB, m: m, n: n, k: k,
								padA: pad, padB: (pad * 3) % 17, padC: (pad * 7) % 19, alpha: ab[0], beta: ab[1]})
							i++
						}
					}
				}
			}
		}
		runAll(t, impl, false, cases)
	})
	t.Run("Large", func(t *testing.T) {
		var cases []gemmCase
		for _, tA := range transposes {
			for _, tB := range transposes {
				for i, s := range [][3]int{{257, 257, 257}, {257, 65, 3}, {3, 257, 65}, {65, 3, 257}, {1, 257, 257}, {257, 1, 64}} {
					ab := alphaBetas[i%len(alphaBetas)]
					cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padA: i % 2, padB: 3 * (i % 3), padC: 1, alpha: ab[0], beta: ab[1]})
				}
			}
		}
		runAll(t, impl, false, cases)
	})
	t.Run("Blocking", func(t *testing.T) {
		// Shapes that cross typical cache-block sizes in each dimension.
		var cases []gemmCase
		for i, s := range [][3]int{{700, 40, 300}, {20, 3300, 40}, {100, 90, 1100}, {530, 530, 20}} {
			tA, tB := transposes[i%2], transposes[(i/2)%2]
			cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padA: 3, padB: 1, padC: 2, alpha: 1, beta: 1})
			cases = append(cases, gemmCase{tA: tB, tB: tA, m: s[0], n: s[1], k: s[2], alpha: -0.5, beta: 0})
		}
		runAll(t, impl, false, cases)
	})
	t.Run("AlphaBeta", func(t *testing.T) {
		var cases []gemmCase
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, s := range [][3]int{{17, 65, 63}, {64, 3, 257}} {
					for _, alpha := range scalars {
						for _, beta := range scalars {
							cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padA: 2, padB: 1, padC: 3, alpha: alpha, beta: beta})
						}
					}
				}
			}
		}
		runAll(t, impl, false, cases)
	})
	t.Run("BetaZeroNaNC", func(t *testing.T) {
		var cases []gemmCase
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, s := range [][3]int{{1, 1, 1}, {17, 63, 65}, {65, 64, 3}} {
					for _, alpha := range scalars {
						cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padC: 4, alpha: alpha, beta: 0, fillC: float32(math.NaN()), note: "C holds NaN"})
						cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], alpha: alpha, beta: 0, fillC: float32(math.Inf(-1)), note: "C holds -Inf"})
					}
				}
			}
		}
		runAll(t, impl, false, cases)
	})
	t.Run("NaNInf", func(t *testing.T) { runAll(t, impl, false, nanInfCases(1)) })
	t.Run("AlphaZeroOrKZero", func(t *testing.T) { runAll(t, impl, false, alphaZeroCases()) })
	t.Run("Empty", func(t *testing.T) {
		c := []float32{1, 2}
		impl.Sgemm(kernels.NoTrans, kernels.NoTrans, 0, 2, 3, 1, nil, 3, make([]float32, 6), 2, 0, nil, 2)
		impl.Sgemm(kernels.NoTrans, kernels.NoTrans, 1, 0, 3, 1, make([]float32, 3), 3, nil, 1, 0, nil, 1)
		impl.Sgemm(kernels.Trans, kernels.Trans, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 1)
		impl.Sgemm(kernels.NoTrans, kernels.NoTrans, 1, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
		if c[0] != 0.5 || c[1] != 1 {
			t.Errorf("k == 0: C = %v, want [0.5 1]", c)
		}
	})
	t.Run("Panics", func(t *testing.T) { testSgemmPanics(t, impl) })
	t.Run("Concurrent", func(t *testing.T) {
		// Several goroutines share the implementation (and any worker pool).
		var wg sync.WaitGroup
		errs := make([]string, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				for i := range 6 {
					c := gemmCase{tA: transposes[i%2], tB: transposes[g%2], m: 50 + 31*g, n: 120 - 7*i, k: 90 + g, alpha: 1, beta: 0.5}
					rec := &recorder{}
					if !c.run(rec, impl, false, rng) {
						errs[g] = rec.msg()
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Error(e)
			}
		}
	})
}

// handChecked are small products worked out by hand and compared exactly:
// [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154].
func handChecked() []gemmCase {
	av := [2][3]float32{{1, 2, 3}, {4, 5, 6}}
	bv := [3][2]float32{{7, 8}, {9, 10}, {11, 12}}
	var cases []gemmCase
	for _, tA := range transposes {
		for _, tB := range transposes {
			set := func(a, b *mat) {
				for i := range 2 {
					for p := range 3 {
						setOp(tA, a, 0, i, p, av[i][p])
					}
				}
				for p := range 3 {
					for j := range 2 {
						setOp(tB, b, 0, p, j, bv[p][j])
					}
				}
			}
			cases = append(cases,
				gemmCase{tA: tA, tB: tB, m: 2, n: 2, k: 3, alpha: 1, beta: 0, setAB: set,
					exact: [][]float32{{58, 64}, {139, 154}}, fillC: float32(math.NaN())},
				gemmCase{tA: tA, tB: tB, m: 2, n: 2, k: 3, padA: 1, padB: 2, padC: 3, alpha: 2, beta: -0.5, fillC: 2, setAB: set,
					exact: [][]float32{{115, 127}, {277, 307}}},
			)
		}
	}
	return cases
}

// setOp sets op(X)[i,j] of batch entry bi.
func setOp(tr kernels.Transpose, x *mat, bi, i, j int, v float32) {
	if tr == kernels.Trans {
		i, j = j, i
	}
	x.data[bi*x.stride+i*x.ld+j] = v
}

// nanInfCases put NaN and ±Inf into A, B and C of shapes with edge tiles;
// the oracle's IEEE float64 arithmetic says which outputs are NaN or Inf.
func nanInfCases(batch int) []gemmCase {
	var cases []gemmCase
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, s := range [][3]int{{5, 33, 19}, {65, 65, 65}, {17, 1, 300}} {
				m, n, k := s[0], s[1], s[2]
				last := batch - 1
				prepA := func(a, b *mat) {
					setOp(tA, a, last, 2, min(3, k-1), nan)
					setOp(tA, a, last, m-1, 0, -inf)
				}
				prepB := func(a, b *mat) {
					setOp(tB, b, last, min(4, k-1), n-1, inf)
					setOp(tB, b, last, k-1, 0, nan)
				}
				both := func(a, b *mat) { prepA(a, b); prepB(a, b) }
				for _, p := range []func(a, b *mat){prepA, prepB, both} {
					cases = append(cases, gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, padA: 1, padB: 2, padC: 3, alpha: 1, beta: 0, prep: p, note: "NaN/Inf in inputs"})
				}
				cases = append(cases, gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: -0.5, beta: 1, fillC: inf, note: "C holds +Inf, beta 1"})
				cases = append(cases, gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 2, beta: -0.5, fillC: nan, note: "C holds NaN, beta -0.5"})
			}
		}
	}
	for i := range cases {
		cases[i].batch = batch
	}
	return cases
}

// alphaZeroCases check that A and B (filled with NaN) are not read when
// alpha == 0, and that k == 0 means C = beta*C.
func alphaZeroCases() []gemmCase {
	var cases []gemmCase
	nanAB := func(a, b *mat) { a.fill(float32(math.NaN())); b.fill(float32(math.NaN())) }
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, s := range [][3]int{{1, 1, 1}, {17, 65, 63}, {65, 3, 300}} {
				for _, beta := range scalars {
					cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padA: 1, padC: 2, alpha: 0, beta: beta, prep: nanAB, note: "alpha 0, A and B hold NaN"})
					cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: 0, padC: 1, alpha: 2, beta: beta, note: "k 0"})
				}
			}
		}
	}
	return cases
}

// recorder is a testing.TB that only records errors, for goroutines.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}
func (r *recorder) msg() string { return strings.Join(r.msgs, "\n") }

// expectPanic runs f and reports whether it panicked with message want.
func expectPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic, want %q", name, want)
			return
		}
		if s, ok := r.(string); !ok || s != want {
			t.Errorf("%s: panic %v, want %q", name, r, want)
		}
	}()
	f()
}

func testSgemmPanics(t *testing.T, impl kernels.Sgemmer) {
	N, T := kernels.NoTrans, kernels.Trans
	a, b, c := make([]float32, 100), make([]float32, 100), make([]float32, 100)
	type call struct {
		name                   string
		tA, tB                 kernels.Transpose
		m, n, k, lda, ldb, ldc int
		la, lb, lc             int
		want                   string
	}
	calls := []call{
		{"bad tA", 'X', N, 2, 3, 4, 4, 3, 3, 100, 100, 100, kernels.BadTransA},
		{"bad tB", N, 0, 2, 3, 4, 4, 3, 3, 100, 100, 100, kernels.BadTransB},
		{"m<0", N, N, -1, 3, 4, 4, 3, 3, 100, 100, 100, kernels.MLT0},
		{"n<0", N, N, 2, -1, 4, 4, 3, 3, 100, 100, 100, kernels.NLT0},
		{"k<0", N, N, 2, 3, -1, 4, 3, 3, 100, 100, 100, kernels.KLT0},
		{"lda<k", N, N, 2, 3, 4, 3, 3, 3, 100, 100, 100, kernels.BadLdA},
		{"lda<m (Trans)", T, N, 5, 3, 4, 4, 3, 3, 100, 100, 100, kernels.BadLdA},
		{"lda 0 for empty", N, N, 2, 3, 0, 0, 3, 3, 100, 100, 100, kernels.BadLdA},
		{"ldb<n", N, N, 2, 3, 4, 4, 2, 3, 100, 100, 100, kernels.BadLdB},
		{"ldb<k (Trans)", N, T, 2, 3, 4, 4, 3, 3, 100, 100, 100, kernels.BadLdB},
		{"ldc<n", N, N, 2, 3, 4, 4, 3, 2, 100, 100, 100, kernels.BadLdC},
		{"short a", N, N, 2, 3, 4, 5, 3, 3, 8, 100, 100, kernels.ShortA},
		{"short a (Trans)", T, N, 2, 3, 4, 2, 3, 3, 7, 100, 100, kernels.ShortA},
		{"short b", N, N, 2, 3, 4, 4, 3, 3, 100, 11, 100, kernels.ShortB},
		{"short b (Trans)", N, T, 2, 3, 4, 4, 4, 3, 100, 11, 100, kernels.ShortB},
		{"short c", N, N, 2, 3, 4, 4, 3, 4, 100, 100, 6, kernels.ShortC},
	}
	for _, cl := range calls {
		expectPanic(t, cl.name, cl.want, func() {
			impl.Sgemm(cl.tA, cl.tB, cl.m, cl.n, cl.k, 1, a[:cl.la], cl.lda, b[:cl.lb], cl.ldb, 0, c[:cl.lc], cl.ldc)
		})
	}
	if t.Failed() {
		return
	}
	// Exactly minimal lengths must not panic.
	impl.Sgemm(N, N, 2, 3, 4, 1, a[:9], 5, b[:12], 3, 0, c[:7], 4)
	impl.Sgemm(T, T, 2, 3, 4, 1, a[:8], 2, b[:12], 4, 0, c[:6], 3)
}
