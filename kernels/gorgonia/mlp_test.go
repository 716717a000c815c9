package ggops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/ref"
)

// MLP against gorgonia's float64 primitives (and finite differences), with
// and without biases and residual.
func TestMLP(t *testing.T) {
	const rows, in, hid, out = 6, 5, 11, 4
	for _, c := range []struct{ b1, b2, r bool }{{true, true, true}, {false, true, false}, {true, false, true}} {
		t.Run(fmt.Sprintf("b1=%t,b2=%t,r=%t", c.b1, c.b2, c.r), func(t *testing.T) {
			inputs := []fin{{name: "h", shape: tensor.Shape{rows, in}, scale: 1}, {name: "w1", shape: tensor.Shape{in, hid}, scale: 0.8}}
			if c.b1 {
				inputs = append(inputs, fin{name: "b1", shape: tensor.Shape{1, hid}, scale: 0.5})
			}
			inputs = append(inputs, fin{name: "w2", shape: tensor.Shape{hid, out}, scale: 0.8})
			if c.b2 {
				inputs = append(inputs, fin{name: "b2", shape: tensor.Shape{1, out}, scale: 0.5})
			}
			if c.r {
				inputs = append(inputs, fin{name: "r", shape: tensor.Shape{rows, out}, scale: 1})
			}
			split := func(in []*G.Node) (h, w1, b1, w2, b2, r *G.Node) {
				i := 2
				h, w1 = in[0], in[1]
				if c.b1 {
					b1, i = in[i], i+1
				}
				w2, i = in[i], i+1
				if c.b2 {
					b2, i = in[i], i+1
				}
				if c.r {
					r = in[i]
				}
				return
			}
			runCase(t, opCase{
				name:   "MLP",
				inputs: inputs,
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					h, w1, b1, w2, b2, r := split(in)
					return MLP(h, w1, b1, w2, b2, r, k.(kernels.Kernels))
				},
				ref: func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
					h, w1, b1, w2, b2, r := split(in)
					u := must(G.Mul(h, w1))
					if b1 != nil {
						u = must(G.Add(u, bcastRow(g, dt, b1, rows)))
					}
					f := must(refGELU(g, []*G.Node{u}, dt))
					y := must(G.Mul(f, w2))
					if b2 != nil {
						y = must(G.Add(y, bcastRow(g, dt, b2, rows)))
					}
					if r != nil {
						y = must(G.Add(y, r))
					}
					return y, nil
				},
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
}

// noGELULinear hides kernels.GELULinearer (MLP's fallback with
// Linearer); noLinear hides both (plain Sgemm and loops).
type noGELULinear struct {
	kernels.Linearer
	kernels.Kernels
}

type noLinear struct{ kernels.Kernels }

// MLP's value and every gradient are bit for bit those of Linear, GELU and
// LinearResidual composed on the same kernels, over two runs, with the
// fused GELU products, without them, and without Linearer.
func TestMLPMatchesComposition(t *testing.T) {
	const rows, in, hid, out = 37, 20, 70, 24
	rng := rand.New(rand.NewPCG(21, 22))
	vals := map[string]*tensor.Dense{"h": randT(rng, rows, in), "w1": randT(rng, in, hid), "b1": randT(rng, 1, hid),
		"w2": randT(rng, hid, out), "b2": randT(rng, 1, out), "r": randT(rng, rows, out), "R": randT(rng, rows, out)}
	impls := map[string]kernels.Kernels{
		"ref": ref.Implementation{}, "cpu": cpu.Implementation{},
		"cpu-no-gelu-linear": noGELULinear{cpu.Implementation{}, cpu.Implementation{}}, "cpu-no-linear": noLinear{cpu.Implementation{}},
	}
	for name, k := range impls {
		run := func(fused bool) [][]float32 {
			g := G.NewGraph()
			n := map[string]*G.Node{}
			for _, s := range []string{"h", "w1", "b1", "w2", "b2", "r", "R"} {
				v := to32(vals[s])
				n[s] = G.NewMatrix(g, tensor.Float32, G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(s))
			}
			var y *G.Node
			if fused {
				y = must(MLP(n["h"], n["w1"], n["b1"], n["w2"], n["b2"], n["r"], k))
			} else {
				f := must(GELU(must(Linear(n["h"], n["w1"], n["b1"], false, k)), k))
				y = must(LinearResidual(f, n["w2"], n["b2"], n["r"], false, k))
			}
			loss := must(G.Sum(must(G.HadamardProd(y, n["R"]))))
			wrt := G.Nodes{n["h"], n["w1"], n["b1"], n["w2"], n["b2"], n["r"]}
			if _, err := G.Grad(loss, wrt...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			var res [][]float32
			for i := range 2 {
				if i > 0 {
					vm.Reset()
				}
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				res = append(res, append([]float32(nil), y.Value().Data().([]float32)...))
				for _, w := range wrt {
					gv, _ := w.Grad()
					res = append(res, append([]float32(nil), gv.Data().([]float32)...))
				}
			}
			return res
		}
		want, got := run(false), run(true)
		what := []string{"y", "dh", "dW1", "db1", "dW2", "db2", "dr"}
		for i := range want {
			if !bits32Equal(got[i], want[i]) {
				t.Errorf("%s: %s (run %d) differs from the composition", name, what[i%len(what)], i/len(what))
			}
		}
	}
}

func TestMLPShapeErrors(t *testing.T) {
	g := G.NewGraph()
	m := func(name string, s ...int) *G.Node {
		return G.NewMatrix(g, tensor.Float32, G.WithShape(s...), G.WithName(name))
	}
	h, w1, w2 := m("h", 3, 4), m("w1", 4, 8), m("w2", 8, 5)
	k := cpu.Implementation{}
	if _, err := MLP(h, w1, nil, w2, nil, nil, k); err != nil {
		t.Errorf("valid MLP: %v", err)
	}
	for name, f := range map[string]func() (*G.Node, error){
		"W1 not [in, hid]":  func() (*G.Node, error) { return MLP(h, m("w1b", 5, 8), nil, w2, nil, nil, k) },
		"W2 not [hid, out]": func() (*G.Node, error) { return MLP(h, w1, nil, m("w2b", 7, 5), nil, nil, k) },
		"b1 size":           func() (*G.Node, error) { return MLP(h, w1, m("b1", 1, 7), w2, nil, nil, k) },
		"b2 size":           func() (*G.Node, error) { return MLP(h, w1, nil, w2, m("b2", 1, 4), nil, k) },
		"residual shape":    func() (*G.Node, error) { return MLP(h, w1, nil, w2, nil, m("r", 3, 4), k) },
		"nil kernels":       func() (*G.Node, error) { return MLP(h, w1, nil, w2, nil, nil, nil) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
