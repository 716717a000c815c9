package ggops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels/ref"
)

// viewHazard builds loss = Σ w⊙(reshape(softmax(x)) + 5)² and returns the
// softmax output and dloss/dx after one run. reshape is "none", "gorgonia"
// (a view) or "ggops" (a copy).
func viewHazard(t *testing.T, reshape string) (y, dx []float64) {
	t.Helper()
	g := G.NewGraph()
	x := constant(g, tensor.Float32, "x", tensor.Shape{2, 3}, []float64{1, 2, 3, -1, 0, 1})
	sm := must(Softmax(x, ref.Implementation{}))
	z := sm
	switch reshape {
	case "gorgonia":
		z = must(G.Reshape(sm, tensor.Shape{3, 2}))
	case "ggops":
		z = must(Reshape(sm, tensor.Shape{3, 2}))
	}
	c := constant(g, tensor.Float32, "c", z.Shape(), fill(6, 5))
	w := constant(g, tensor.Float32, "w", z.Shape(), []float64{1, -2, 3, 0.5, 2, -1})
	loss := must(G.Sum(must(G.HadamardProd(must(G.Square(must(G.Add(z, c)))), w))))
	gr, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return values(t, sm.Value()), values(t, gr[0].Value())
}

// TestReshapeCopyAvoidsViewHazard: gorgonia's Reshape returns a view, and
// in-place elementwise ops downstream overwrite the softmax output through
// it while the softmax gradient still needs it (the same happens with
// gorgonia's own SoftMax). Our copying Reshape gives the gradient of the
// graph without a reshape.
func TestReshapeCopyAvoidsViewHazard(t *testing.T) {
	y0, dx0 := viewHazard(t, "none")
	y1, dx1 := viewHazard(t, "ggops")
	if !bitEqual(y0, y1) || relErr(dx1, dx0) > 1e-6 {
		t.Errorf("ggops.Reshape: y %v dx %v, want y %v dx %v", y1, dx1, y0, dx0)
	}
	y2, dx2 := viewHazard(t, "gorgonia")
	t.Logf("gorgonia.Reshape (view): softmax output overwritten: %v, dx error %.3g (gorgonia v0.9.18 aliasing bug)", !bitEqual(y0, y2), relErr(dx2, dx0))
}

// TestReshapeCopyKeepsInputs: gorgonia's Reshape of an input node followed
// by an op whose gradient works in place writes the gradient into the
// input's value; our Reshape leaves it alone.
func TestReshapeCopyKeepsInputs(t *testing.T) {
	for _, ours := range []bool{true, false} {
		g := G.NewGraph()
		w := constant(g, tensor.Float32, "w", tensor.Shape{4}, []float64{1, 1, 1, 2})
		var w2 *G.Node
		if ours {
			w2 = must(Reshape(w, tensor.Shape{1, 4}))
		} else {
			w2 = must(G.Reshape(w, tensor.Shape{1, 4}))
		}
		loss := must(G.Sum(must(G.Square(w2))))
		gr, err := G.Grad(loss, w)
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		for range 2 {
			m.Reset()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
		}
		wv, dw := values(t, w.Value()), values(t, gr[0].Value())
		intact := bitEqual(wv, []float64{1, 1, 1, 2}) && bitEqual(dw, []float64{2, 2, 2, 4})
		if ours && !intact {
			t.Errorf("ggops.Reshape: w = %v, dw = %v after two runs, want [1 1 1 2], [2 2 2 4]", wv, dw)
		}
		if !ours {
			t.Logf("gorgonia.Reshape: w = %v, dw = %v after two runs (input intact: %v)", wv, dw, intact)
		}
	}
}
