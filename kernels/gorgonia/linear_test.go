package ggops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/ref"
)

func randT(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.Float64()*2 - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func to32(t *tensor.Dense) *tensor.Dense {
	src := t.Float64s()
	d := make([]float32, len(src))
	for i, v := range src {
		d[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d))
}

// sgemmOnly hides everything but Sgemm (no kernels.Linearer): Linear's
// fallback path.
type sgemmOnly struct{ k kernels.Sgemmer }

func (s sgemmOnly) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s.k.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Linear and LinearResidual compute what gorgonia's Mul (with Transpose),
// BroadcastAdd and Add compute, forward and backward, in both weight
// layouts, with and without a bias and a residual, on the reference and
// the CPU kernels (SgemmBias and BiasGrad) and on a bare Sgemmer (the
// fallback loops); gradients are checked against gorgonia's float64 graph.
func TestLinearMatchesGorgonia(t *testing.T) {
	const rows, in, out = 7, 5, 9
	rng := rand.New(rand.NewPCG(4, 5))
	for _, transW := range []bool{false, true} {
		for _, bias := range []bool{false, true} {
			for _, resid := range []bool{false, true} {
				xv := randT(rng, rows, in)
				wv := randT(rng, in, out)
				if transW {
					wv = randT(rng, out, in)
				}
				bv := randT(rng, 1, out)
				rv := randT(rng, rows, out)
				sv := randT(rng, rows, out)
				// float64 oracle with gorgonia built-ins
				g := G.NewGraph()
				x := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, in), G.WithValue(xv), G.WithName("x"))
				w := G.NewMatrix(g, tensor.Float64, G.WithShape(wv.Shape()...), G.WithValue(wv), G.WithName("w"))
				b := G.NewMatrix(g, tensor.Float64, G.WithShape(1, out), G.WithValue(bv), G.WithName("b"))
				r := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, out), G.WithValue(rv), G.WithName("r"))
				sres := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, out), G.WithValue(sv), G.WithName("s"))
				wm := w
				if transW {
					wm = G.Must(G.Transpose(w))
				}
				y := G.Must(G.Mul(x, wm))
				if bias {
					y = G.Must(G.BroadcastAdd(y, b, nil, []byte{0}))
				}
				if resid {
					y = G.Must(G.Add(sres, y))
				}
				loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
				wrt := G.Nodes{x, w}
				if bias {
					wrt = append(wrt, b)
				}
				if resid {
					wrt = append(wrt, sres)
				}
				if _, err := G.Grad(loss, wrt...); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(g)
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				wantY := y.Value().Data().([]float64)
				var wantG [][]float64
				for _, n := range wrt {
					gv, _ := n.Grad()
					wantG = append(wantG, gv.Data().([]float64))
				}
				vm.Close()
				for kname, k := range map[string]kernels.Sgemmer{"ref": ref.Implementation{}, "cpu": cpu.Implementation{}, "sgemm-only": sgemmOnly{cpu.Implementation{}}} {
					g := G.NewGraph()
					x := G.NewMatrix(g, tensor.Float32, G.WithShape(rows, in), G.WithValue(to32(xv)), G.WithName("x"))
					w := G.NewMatrix(g, tensor.Float32, G.WithShape(wv.Shape()...), G.WithValue(to32(wv)), G.WithName("w"))
					b := G.NewMatrix(g, tensor.Float32, G.WithShape(1, out), G.WithValue(to32(bv)), G.WithName("b"))
					r := G.NewMatrix(g, tensor.Float32, G.WithShape(rows, out), G.WithValue(to32(rv)), G.WithName("r"))
					sres := G.NewMatrix(g, tensor.Float32, G.WithShape(rows, out), G.WithValue(to32(sv)), G.WithName("s"))
					var bn *G.Node
					if bias {
						bn = b
					}
					var y *G.Node
					var err error
					if resid {
						y, err = LinearResidual(x, w, bn, sres, transW, k)
					} else {
						y, err = Linear(x, w, bn, transW, k)
					}
					if err != nil {
						t.Fatal(err)
					}
					loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
					wrt := G.Nodes{x, w}
					if bias {
						wrt = append(wrt, b)
					}
					if resid {
						wrt = append(wrt, sres)
					}
					if _, err := G.Grad(loss, wrt...); err != nil {
						t.Fatal(err)
					}
					vm := G.NewTapeMachine(g)
					for run := range 2 {
						if run > 0 {
							vm.Reset()
						}
						if err := vm.RunAll(); err != nil {
							t.Fatal(err)
						}
						check := func(what string, got []float32, want []float64) {
							var d, m float64
							for i := range want {
								d = max(d, math.Abs(float64(got[i])-want[i]))
								m = max(m, math.Abs(want[i]))
							}
							if d > 1e-5*max(m, 1) {
								t.Errorf("transW=%t bias=%t resid=%t %s run %d: %s differs by %g", transW, bias, resid, kname, run, what, d)
							}
						}
						check("y", y.Value().Data().([]float32), wantY)
						for i, n := range wrt {
							gv, _ := n.Grad()
							check("grad "+n.Name(), gv.Data().([]float32), wantG[i])
						}
					}
					vm.Close()
				}
			}
		}
	}
}

func TestLinearShapeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 4), G.WithName("x"))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(5, 4), G.WithName("w"))
	if _, err := Linear(x, w, nil, false, cpu.Implementation{}); err == nil {
		t.Error("x [3,4] · W [5,4] accepted without transW")
	}
	b := G.NewVector(g, tensor.Float32, G.WithShape(4), G.WithName("b"))
	if _, err := Linear(x, w, b, true, cpu.Implementation{}); err == nil {
		t.Error("bias of 4 for 5 outputs accepted")
	}
	if _, err := Linear(x, w, nil, true, nil); err == nil {
		t.Error("nil kernels accepted")
	}
	r := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 4), G.WithName("r"))
	if _, err := LinearResidual(x, w, nil, r, true, cpu.Implementation{}); err == nil {
		t.Error("residual [3,4] for output [3,5] accepted")
	}
	if _, err := LinearResidual(x, w, nil, nil, true, cpu.Implementation{}); err == nil {
		t.Error("nil residual accepted")
	}
}
