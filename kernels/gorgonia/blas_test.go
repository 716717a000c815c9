package ggops

import (
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
)

// countingSgemmer counts the Sgemm calls by transpose mode.
type countingSgemmer struct {
	inner kernels.Sgemmer
	mu    sync.Mutex
	modes map[[2]kernels.Transpose]int
}

func (c *countingSgemmer) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	c.mu.Lock()
	c.modes[[2]kernels.Transpose{tA, tB}]++
	c.mu.Unlock()
	c.inner.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

func (c *countingSgemmer) total() int {
	n := 0
	for _, v := range c.modes {
		n += v
	}
	return n
}

// countingGonum is gonum's BLAS counting its float32 calls that gorgonia
// and tensor make.
type countingGonum struct {
	gonum.Implementation
	mu    *sync.Mutex
	calls map[string]int
}

func (c countingGonum) count(s string) {
	c.mu.Lock()
	c.calls[s]++
	c.mu.Unlock()
}

func (c countingGonum) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	c.count("Sgemm")
	c.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

func (c countingGonum) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	c.count("Sgemv")
	c.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
}

func (c countingGonum) Sger(m, n int, alpha float32, x []float32, incX int, y []float32, incY int, a []float32, lda int) {
	c.count("Sger")
	c.Implementation.Sger(m, n, alpha, x, incX, y, incY, a, lda)
}

func (c countingGonum) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	c.count("Sdot")
	return c.Implementation.Sdot(n, x, incX, y, incY)
}

// linalgGraph builds a loss over every float32 product gorgonia has: Mul of
// two matrices, of a matrix and a vector, of two vectors, and
// BatchedMatMul without and with transposes, and runs it once with its
// gradients.
func linalgGraph(t *testing.T) (loss float64, outs, grads [][]float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	rnd := func(n int) []float64 {
		d := make([]float64, n)
		for i := range d {
			d[i] = 2*rng.Float64() - 1
		}
		return d
	}
	g := G.NewGraph()
	in := func(name string, s ...int) *G.Node {
		return constant(g, tensor.Float32, name, s, rnd(tensor.Shape(s).TotalSize()))
	}
	a, b := in("a", 4, 5), in("b", 5, 3)
	m, v, u := in("m", 4, 5), in("v", 5), in("u", 5)
	x, y := in("x", 2, 3, 4), in("y", 2, 4, 5)
	xt, yt := in("xt", 2, 4, 3), in("yt", 2, 5, 4)
	prods := []*G.Node{
		must(G.Mul(a, b)),
		must(G.Mul(m, v)),
		must(G.Mul(v, u)),
		must(G.BatchedMatMul(x, y)),
		must(G.BatchedMatMul(xt, yt, true, true)),
		must(G.BatchedMatMul(x, yt, false, true)),
	}
	var sum *G.Node
	for _, p := range prods {
		var term *G.Node
		if p.IsScalar() {
			term = p
		} else {
			r := constant(g, tensor.Float32, "r", p.Shape(), rnd(p.Shape().TotalSize()))
			term = must(G.Sum(must(G.HadamardProd(p, r))))
		}
		if sum == nil {
			sum = term
		} else {
			sum = must(G.Add(sum, term))
		}
	}
	wrt := []*G.Node{a, b, m, v, u, x, y, xt, yt}
	gs, err := G.Grad(sum, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, p := range prods {
		outs = append(outs, values(t, p.Value()))
	}
	for _, gn := range gs {
		grads = append(grads, values(t, gn.Value()))
	}
	return values(t, sum.Value())[0], outs, grads
}

// TestBLASRoutesGorgonia: with Use, every float32 BLAS call gorgonia makes
// for products, forward and backward, reaches our Sgemmer (as many calls as
// gonum's BLAS receives in the same graph, all four transpose modes), and
// the values match gonum's within 1e-5 (normalised max error).
func TestBLASRoutesGorgonia(t *testing.T) {
	t.Cleanup(UseGonum)

	cg := countingGonum{mu: new(sync.Mutex), calls: map[string]int{}}
	G.Use(cg)
	loss0, outs0, grads0 := linalgGraph(t)
	t.Logf("float32 BLAS calls through gonum: %v", cg.calls)
	for _, r := range []string{"Sgemm", "Sgemv", "Sger", "Sdot"} {
		if cg.calls[r] == 0 {
			t.Errorf("the graph made no %s call; the test no longer covers it", r)
		}
	}

	cs := &countingSgemmer{inner: cpu.Implementation{}, modes: map[[2]kernels.Transpose]int{}}
	Use(cs)
	loss1, outs1, grads1 := linalgGraph(t)
	want := 0
	for _, n := range cg.calls {
		want += n
	}
	if cs.total() != want {
		t.Errorf("our Sgemmer got %d calls (%v), gonum got %d (%v)", cs.total(), cs.modes, want, cg.calls)
	}
	for _, tA := range []kernels.Transpose{kernels.NoTrans, kernels.Trans} {
		for _, tB := range []kernels.Transpose{kernels.NoTrans, kernels.Trans} {
			if cs.modes[[2]kernels.Transpose{tA, tB}] == 0 {
				t.Errorf("no Sgemm call in mode %c%c: %v", tA, tB, cs.modes)
			}
		}
	}
	if e := relErr([]float64{loss1}, []float64{loss0}); e > 1e-5 {
		t.Errorf("loss %v, gonum %v", loss1, loss0)
	}
	for i := range outs0 {
		if e := relErr(outs1[i], outs0[i]); e > 1e-5 {
			t.Errorf("product %d: error %.3g vs gonum", i, e)
		}
	}
	for i := range grads0 {
		if e := relErr(grads1[i], grads0[i]); e > 1e-5 {
			t.Errorf("gradient %d: error %.3g vs gonum", i, e)
		}
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(2*rng.Float64() - 1)
	}
	return d
}

func f32to64(d []float32) []float64 {
	o := make([]float64, len(d))
	for i, v := range d {
		o[i] = float64(v)
	}
	return o
}

// TestBLASMethods compares BLAS's float32 methods with gonum's on random
// data: every transpose (ConjTrans as Trans), padded leading dimensions,
// beta ≠ 0, and the strided increments that fall back to gonum. Tolerance
// 1e-5 (normalised max error).
func TestBLASMethods(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ours, gn := BLAS{K: cpu.Implementation{}}, gonum.Implementation{}
	check := func(what string, got, want []float32) {
		t.Helper()
		if e := relErr(f32to64(got), f32to64(want)); e > 1e-5 {
			t.Errorf("%s: error %.3g", what, e)
		}
	}
	const m, n, k, pad = 7, 5, 9, 3
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans} {
			ar, ac := m, k
			if tA != blas.NoTrans {
				ar, ac = k, m
			}
			br, bc := k, n
			if tB != blas.NoTrans {
				br, bc = n, k
			}
			a, b := randF32(rng, ar*(ac+pad)), randF32(rng, br*(bc+pad))
			c0 := randF32(rng, m*(n+pad))
			c1 := append([]float32(nil), c0...)
			ours.Sgemm(tA, tB, m, n, k, 0.7, a, ac+pad, b, bc+pad, 0.3, c0, n+pad)
			gn.Sgemm(tA, tB, m, n, k, 0.7, a, ac+pad, b, bc+pad, 0.3, c1, n+pad)
			check("Sgemm "+string(rune(tA))+string(rune(tB)), c0, c1)
		}
	}
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		a := randF32(rng, m*(n+pad))
		lx, ly := n, m
		if tA == blas.Trans {
			lx, ly = m, n
		}
		for _, inc := range []int{1, 2} {
			x := randF32(rng, lx*inc)
			y0 := randF32(rng, ly*inc)
			y1 := append([]float32(nil), y0...)
			ours.Sgemv(tA, m, n, 0.9, a, n+pad, x, inc, 0.5, y0, inc)
			gn.Sgemv(tA, m, n, 0.9, a, n+pad, x, inc, 0.5, y1, inc)
			check("Sgemv "+string(rune(tA)), y0, y1)
		}
	}
	for _, inc := range []int{1, 2} {
		x, y := randF32(rng, m*inc), randF32(rng, n*inc)
		a0 := randF32(rng, m*(n+pad))
		a1 := append([]float32(nil), a0...)
		ours.Sger(m, n, 1.3, x, inc, y, inc, a0, n+pad)
		gn.Sger(m, n, 1.3, x, inc, y, inc, a1, n+pad)
		check("Sger", a0, a1)

		d0 := ours.Sdot(k, randF32(rand.New(rand.NewPCG(1, 1)), k*inc), inc, randF32(rand.New(rand.NewPCG(2, 2)), k*inc), inc)
		d1 := gn.Sdot(k, randF32(rand.New(rand.NewPCG(1, 1)), k*inc), inc, randF32(rand.New(rand.NewPCG(2, 2)), k*inc), inc)
		check("Sdot", []float32{d0}, []float32{d1})
	}
}
