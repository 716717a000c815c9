package ggops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/ref"
)

// The unfused references below use only gorgonia primitives whose gradients
// are right (checked by finite differences in runCase): elementwise ops,
// and matrix products with constant matrices of ones for row sums and
// broadcasts, avoiding Reshape of input nodes (gorgonia's in-place
// gradient ops then write through the reshaped view into the input).

func must(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(err)
	}
	return n
}

// rowSum returns x (rows×n) · ones(n×1).
func rowSum(g *G.ExprGraph, dt tensor.Dtype, x *G.Node) *G.Node {
	return must(G.Mul(x, ones(g, dt, x.Shape()[1], 1)))
}

// bcastCol returns v (rows×1) · ones(1×n).
func bcastCol(g *G.ExprGraph, dt tensor.Dtype, v *G.Node, n int) *G.Node {
	return must(G.Mul(v, ones(g, dt, 1, n)))
}

// bcastRow returns ones(rows×1) · w (1×n).
func bcastRow(g *G.ExprGraph, dt tensor.Dtype, w *G.Node, rows int) *G.Node {
	return must(G.Mul(ones(g, dt, rows, 1), w))
}

func refRMSNorm(eps float64) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		x, w := in[0], in[1]
		rows, n := x.Shape()[0], x.Shape()[1]
		ms := must(G.Mul(rowSum(g, dt, must(G.Square(x))), scalarConst(dt, 1/float64(n))))
		rstd := must(G.Inverse(must(G.Sqrt(must(G.Add(ms, scalarConst(dt, eps)))))))
		xh := must(G.HadamardProd(x, bcastCol(g, dt, rstd, n)))
		return G.HadamardProd(xh, bcastRow(g, dt, w, rows))
	}
}

func refLayerNorm(eps float64, bias bool) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		x, w := in[0], in[1]
		rows, n := x.Shape()[0], x.Shape()[1]
		mu := must(G.Mul(rowSum(g, dt, x), scalarConst(dt, 1/float64(n))))
		xc := must(G.Sub(x, bcastCol(g, dt, mu, n)))
		v := must(G.Mul(rowSum(g, dt, must(G.Square(xc))), scalarConst(dt, 1/float64(n))))
		rstd := must(G.Inverse(must(G.Sqrt(must(G.Add(v, scalarConst(dt, eps)))))))
		y := must(G.HadamardProd(must(G.HadamardProd(xc, bcastCol(g, dt, rstd, n))), bcastRow(g, dt, w, rows)))
		if bias {
			return G.Add(y, bcastRow(g, dt, in[2], rows))
		}
		return y, nil
	}
}

func refGELU(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
	x := in[0]
	inner := must(G.Mul(must(G.Add(x, must(G.Mul(must(G.Cube(x)), scalarConst(dt, 0.044715))))), scalarConst(dt, math.Sqrt(2/math.Pi))))
	return G.Mul(must(G.HadamardProd(x, must(G.Add(must(G.Tanh(inner)), scalarConst(dt, 1))))), scalarConst(dt, 0.5))
}

func refSiLU(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
	return G.HadamardProd(in[0], must(G.Sigmoid(in[0])))
}

func refSwiGLU(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
	return G.HadamardProd(must(G.HadamardProd(in[0], must(G.Sigmoid(in[0])))), in[1])
}

func refSoftmax(g *G.ExprGraph, dt tensor.Dtype, x *G.Node) *G.Node {
	e := must(G.Exp(x))
	return must(G.HadamardProd(e, bcastCol(g, dt, must(G.Inverse(rowSum(g, dt, e))), x.Shape()[1])))
}

// refRoPE multiplies x (N×1, the flattened [tokens, heads, d]) by the
// block-diagonal rotation matrix built from the definition.
func refRoPE(tokens, heads, d int, c RoPEConfig) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		n := tokens * heads * d
		m := make([]float64, n*n)
		half := d / 2
		for t := range tokens {
			tab := int(c.Pos[t]) * half
			for h := range heads {
				off := (t*heads + h) * d
				for i := range half {
					cs, sn := float64(c.Cos[tab+i]), float64(c.Sin[tab+i])
					i0, i1 := off+i, off+i+half
					if c.Layout == kernels.RoPEInterleaved {
						i0, i1 = off+2*i, off+2*i+1
					}
					// y0 = x0·cos − x1·sin, y1 = x1·cos + x0·sin
					m[i0*n+i0], m[i0*n+i1] = cs, -sn
					m[i1*n+i1], m[i1*n+i0] = cs, sn
				}
			}
		}
		return G.Mul(constant(g, dt, "rot", tensor.Shape{n, n}, m), in[0])
	}
}

// refAttention computes causal attention per (b, h) with BatchedMatMul:
// q, k, v come flattened (N×1) and are gathered into [B·H, T, D] by
// constant matrices (which also repeat the KV heads for GQA).
func refAttention(p kernels.AttentionParams) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		B, T, H, KVH, D := p.B, p.T, p.H, p.KVH, p.D
		nq, nkv := B*T*H*D, B*T*KVH*D
		pq := make([]float64, nq*nq)  // [B,H,T,D] row ← [B,T,H,D] column
		pqT := make([]float64, nq*nq) // its transpose
		gk := make([]float64, nq*nkv) // [B,H,T,D] row ← [B,T,KVH,D] column
		mask := make([]float64, B*H*T*T)
		for b := range B {
			for h := range H {
				for t := range T {
					for dd := range D {
						row := ((b*H+h)*T+t)*D + dd
						cq := ((b*T+t)*H+h)*D + dd
						ck := ((b*T+t)*KVH+h/(H/KVH))*D + dd
						pq[row*nq+cq], pqT[cq*nq+row] = 1, 1
						gk[row*nkv+ck] = 1
					}
					lo := 0
					if p.Start != nil {
						lo = int(p.Start[b*T+t])
					}
					for s := range T {
						if s < lo || s > t {
							mask[((b*H+h)*T+t)*T+s] = -1e4
						}
					}
				}
			}
		}
		gather := func(m []float64, cols int, x *G.Node) *G.Node {
			c := constant(g, dt, "gather", tensor.Shape{nq, cols}, m)
			return must(G.Reshape(must(G.Mul(c, x)), tensor.Shape{B * H, T, D}))
		}
		qh, kh, vh := gather(pq, nq, in[0]), gather(gk, nkv, in[1]), gather(gk, nkv, in[2])
		s := must(G.Reshape(must(G.BatchedMatMul(qh, kh, false, true)), tensor.Shape{B * H * T, T}))
		s = must(G.Add(must(G.Mul(s, scalarConst(dt, float64(p.Scale)))), constant(g, dt, "mask", tensor.Shape{B * H * T, T}, mask)))
		pr := refSoftmax(g, dt, s)
		o := must(G.BatchedMatMul(must(G.Reshape(pr, tensor.Shape{B * H, T, T})), vh))
		return G.Mul(constant(g, dt, "scatter", tensor.Shape{nq, nq}, pqT), must(G.Reshape(o, tensor.Shape{nq, 1})))
	}
}

// refCrossEntropy: −Σ onehot⊙log softmax / count, the one-hot rows of
// ignored targets zero.
func refCrossEntropy(targets []int32, v int) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		x := in[0]
		n := len(targets)
		oh := make([]float64, n*v)
		count := 0
		for i, t := range targets {
			if t != kernels.IgnoreIndex {
				oh[i*v+int(t)] = 1
				count++
			}
		}
		lse := must(G.Log(rowSum(g, dt, must(G.Exp(x)))))
		logp := must(G.Sub(x, bcastCol(g, dt, lse, v)))
		s := must(G.Sum(must(G.HadamardProd(logp, constant(g, dt, "onehot", tensor.Shape{n, v}, oh)))))
		return G.Mul(s, scalarConst(dt, -1/float64(count)))
	}
}

func refEmbedding(ids []int32, v int) func(*G.ExprGraph, []*G.Node, tensor.Dtype) (*G.Node, error) {
	return func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
		oh := make([]float64, len(ids)*v)
		for i, id := range ids {
			oh[i*v+int(id)] = 1
		}
		return G.Mul(constant(g, dt, "onehot", tensor.Shape{len(ids), v}, oh), in[0])
	}
}

func intNode(g *G.ExprGraph, dt tensor.Dtype, name string, s tensor.Shape, v []int32) *G.Node {
	var backing any = append([]int32(nil), v...)
	switch dt {
	case tensor.Int:
		d := make([]int, len(v))
		for i, x := range v {
			d[i] = int(x)
		}
		backing = d
	case tensor.Int64:
		d := make([]int64, len(v))
		for i, x := range v {
			d[i] = int64(x)
		}
		backing = d
	}
	t := tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(backing))
	return G.NewTensor(g, dt, s.Dims(), G.WithShape(s.Clone()...), G.WithName(uniq(name)), G.WithValue(t))
}

func TestRMSNorm(t *testing.T) {
	const eps = 1e-5
	runCase(t, opCase{
		name: "RMSNorm",
		inputs: []fin{
			{name: "x", shape: tensor.Shape{6, 16}, scale: 1},
			{name: "w", shape: tensor.Shape{16}, rshape: tensor.Shape{1, 16}, offset: 1, scale: 0.5},
		},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return RMSNorm(in[0], in[1], eps, k)
		},
		ref:    refRMSNorm(eps),
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

func TestLayerNorm(t *testing.T) {
	const eps = 1e-5
	for _, bias := range []bool{true, false} {
		t.Run(map[bool]string{true: "bias", false: "nobias"}[bias], func(t *testing.T) {
			inputs := []fin{
				{name: "x", shape: tensor.Shape{6, 16}, offset: 0.3, scale: 1},
				{name: "w", shape: tensor.Shape{16}, rshape: tensor.Shape{1, 16}, offset: 1, scale: 0.5},
			}
			if bias {
				inputs = append(inputs, fin{name: "b", shape: tensor.Shape{16}, rshape: tensor.Shape{1, 16}, scale: 0.5})
			}
			runCase(t, opCase{
				name:   "LayerNorm",
				inputs: inputs,
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					var b *G.Node
					if bias {
						b = in[2]
					}
					return LayerNorm(in[0], in[1], b, eps, k)
				},
				ref:    refLayerNorm(eps, bias),
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
}

func TestGELU(t *testing.T) {
	runCase(t, opCase{
		name:   "GELU",
		inputs: []fin{{name: "x", shape: tensor.Shape{5, 12}, scale: 3}},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return GELU(in[0], k)
		},
		ref:    refGELU,
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

func TestSiLU(t *testing.T) {
	runCase(t, opCase{
		name:   "SiLU",
		inputs: []fin{{name: "x", shape: tensor.Shape{5, 12}, scale: 4}},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return SiLU(in[0], k)
		},
		ref:    refSiLU,
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

func TestSwiGLU(t *testing.T) {
	runCase(t, opCase{
		name: "SwiGLU",
		inputs: []fin{
			{name: "g", shape: tensor.Shape{5, 12}, scale: 4},
			{name: "u", shape: tensor.Shape{5, 12}, scale: 2},
		},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return SwiGLU(in[0], in[1], k)
		},
		ref:    refSwiGLU,
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

func TestSoftmax(t *testing.T) {
	runCase(t, opCase{
		name:   "Softmax",
		inputs: []fin{{name: "x", shape: tensor.Shape{6, 10}, scale: 3}},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return Softmax(in[0], k)
		},
		ref: func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
			return refSoftmax(g, dt, in[0]), nil
		},
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

func TestRoPE(t *testing.T) {
	const tokens, heads, d = 6, 2, 8
	cos, sin := kernels.RoPETables(16, d, 10000)
	for _, layout := range []kernels.RoPELayout{kernels.RoPEHalf, kernels.RoPEInterleaved} {
		t.Run([]string{"half", "interleaved"}[layout], func(t *testing.T) {
			c := RoPEConfig{Cos: cos, Sin: sin, Pos: []int32{0, 1, 2, 9, 3, 15}, Layout: layout}
			runCase(t, opCase{
				name: "RoPE",
				inputs: []fin{
					{name: "x", shape: tensor.Shape{2, tokens / 2, heads, d}, rshape: tensor.Shape{tokens * heads * d, 1}, scale: 1},
				},
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					return RoPE(in[0], c, k)
				},
				ref:    refRoPE(tokens, heads, d, c),
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
}

func TestCausalAttention(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    kernels.AttentionParams
	}{
		{"MHA", kernels.AttentionParams{B: 2, T: 5, H: 2, KVH: 2, D: 4, Scale: 0.5}},
		{"GQA+Start", kernels.AttentionParams{B: 2, T: 5, H: 4, KVH: 2, D: 4, Scale: 0.5,
			Start: []int32{0, 0, 0, 3, 3, 0, 1, 1, 1, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
			runCase(t, opCase{
				name: "CausalAttention",
				inputs: []fin{
					{name: "q", shape: tensor.Shape{p.B, p.T, p.H, p.D}, rshape: tensor.Shape{nq, 1}, scale: 1},
					{name: "k", shape: tensor.Shape{p.B, p.T, p.KVH, p.D}, rshape: tensor.Shape{nkv, 1}, scale: 1},
					{name: "v", shape: tensor.Shape{p.B, p.T, p.KVH, p.D}, rshape: tensor.Shape{nkv, 1}, scale: 1},
				},
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					return CausalAttention(in[0], in[1], in[2], p, k)
				},
				ref:    refAttention(p),
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
}

// CausalAttentionQKV equals the unfused reference on q, k and v selected
// from the fused input, and its gradient lands in the fused layout.
func TestCausalAttentionQKV(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    kernels.AttentionParams
	}{
		{"MHA", kernels.AttentionParams{B: 2, T: 5, H: 2, KVH: 2, D: 4, Scale: 0.5}},
		{"GQA+Start", kernels.AttentionParams{B: 2, T: 5, H: 4, KVH: 2, D: 3, Scale: 0.7,
			Start: []int32{0, 0, 0, 3, 3, 0, 1, 1, 1, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			rows, wq, wkv := p.B*p.T, p.H*p.D, p.KVH*p.D
			width := wq + 2*wkv
			n := rows * width
			// selection matrices: fused column -> q, k, v columns
			sel := func(off, w int) []float64 {
				m := make([]float64, rows*w*n)
				for r := range rows {
					for j := range w {
						m[(r*w+j)*n+r*width+off+j] = 1
					}
				}
				return m
			}
			runCase(t, opCase{
				name:   "CausalAttentionQKV",
				inputs: []fin{{name: "qkv", shape: tensor.Shape{rows, width}, rshape: tensor.Shape{n, 1}, scale: 1}},
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					return CausalAttentionQKV(in[0], p, k)
				},
				ref: func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
					pick := func(name string, off, w int) *G.Node {
						return must(G.Mul(constant(g, dt, name, tensor.Shape{rows * w, n}, sel(off, w)), in[0]))
					}
					return refAttention(p)(g, []*G.Node{pick("selq", 0, wq), pick("selk", wq, wkv), pick("selv", wq+wkv, wkv)}, dt)
				},
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(10, 24), G.WithName("x"))
	p := kernels.AttentionParams{B: 2, T: 5, H: 2, KVH: 2, D: 4, Scale: 0.5}
	if _, err := CausalAttentionQKV(x, p, ref.Implementation{}); err != nil {
		t.Errorf("fused [10, 24] for B2 T5 H2 KVH2 D4: %v", err)
	}
	for _, bad := range []kernels.AttentionParams{{B: 2, T: 5, H: 2, KVH: 2, D: 3}, {B: 2, T: 5, H: 3, KVH: 2, D: 4}, {B: 2, T: 5, H: 2, KVH: 2, D: 4, Stride: 30}} {
		if _, err := CausalAttentionQKV(x, bad, ref.Implementation{}); err == nil {
			t.Errorf("%+v accepted for qkv [10, 24]", bad)
		}
	}
}

func TestCrossEntropy(t *testing.T) {
	const n, v = 6, 11
	targets := []int32{3, kernels.IgnoreIndex, 0, 10, 7, 3}
	for _, dt := range []tensor.Dtype{tensor.Int32, tensor.Int, tensor.Int64} {
		t.Run(dt.String(), func(t *testing.T) {
			runCase(t, opCase{
				name:   "CrossEntropy",
				inputs: []fin{{name: "logits", shape: tensor.Shape{n, v}, scale: 3}},
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					return CrossEntropy(in[0], intNode(g, dt, "targets", tensor.Shape{n}, targets), k)
				},
				ref:    refCrossEntropy(targets, v),
				scalar: true,
				tolOut: 1e-6, tolGrad: 1e-5,
			})
		})
	}
}

func TestEmbedding(t *testing.T) {
	const v, d = 7, 5
	ids := []int32{3, 0, 6, 3, 3, 1, 6, 2}
	for _, dt := range []tensor.Dtype{tensor.Int32, tensor.Int} {
		t.Run(dt.String(), func(t *testing.T) {
			runCase(t, opCase{
				name:   "Embedding",
				inputs: []fin{{name: "table", shape: tensor.Shape{v, d}, scale: 1}},
				ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
					// ids shaped [2, 4]: the output is [2, 4, d], flattened as the reference's [8, d].
					return Embedding(in[0], intNode(g, dt, "ids", tensor.Shape{2, 4}, ids), k)
				},
				ref:    refEmbedding(ids, v),
				tolOut: 0, tolGrad: 1e-6,
			})
		})
	}
}

// CrossEntropyInPlace gives bit for bit the loss and gradients of
// CrossEntropy (run after run, with an incoming gradient other than 1),
// its gradient with respect to the logits is the logits' own value after
// the run, and it owns no second [n, v] buffer.
func TestCrossEntropyInPlace(t *testing.T) {
	const n, in, v = 6, 4, 11
	targets := []int32{3, kernels.IgnoreIndex, 0, 10, 7, 3}
	rng := rand.New(rand.NewPCG(8, 9))
	xv, wv := randT(rng, n, in), randT(rng, in, v)
	for _, f := range fusedImpls() {
		type result struct {
			loss         float32
			dx, dw, dlog []float32
			logitsAfter  []float32
			ownsGradCopy bool
		}
		run := func(inPlace bool) []result {
			g := G.NewGraph()
			x := G.NewMatrix(g, tensor.Float32, G.WithShape(n, in), G.WithValue(to32(xv)), G.WithName("x"))
			w := G.NewMatrix(g, tensor.Float32, G.WithShape(in, v), G.WithValue(to32(wv)), G.WithName("w"))
			tg := intNode(g, tensor.Int32, "targets", tensor.Shape{n}, targets)
			logits := must(Linear(x, w, nil, false, f.k.(kernels.Sgemmer)))
			ce := CrossEntropy
			if inPlace {
				ce = CrossEntropyInPlace
			}
			loss := must(ce(logits, tg, f.k))
			obj := G.Must(G.Mul(loss, scalarConst(tensor.Float32, scalarWeight)))
			gs, err := G.Grad(obj, x, w)
			if err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			var rs []result
			for i := range 2 {
				if i > 0 {
					vm.Reset()
				}
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				cp := func(nd *G.Node) []float32 { return append([]float32(nil), nd.Value().Data().([]float32)...) }
				op := loss.Op().(*crossEntropyOp)
				rs = append(rs, result{loss: loss.Value().Data().(float32), dx: cp(gs[0]), dw: cp(gs[1]),
					dlog: append([]float32(nil), op.gradT.Data().([]float32)...), logitsAfter: cp(logits), ownsGradCopy: op.grad.data != nil})
			}
			return rs
		}
		want, got := run(false), run(true)
		for i := range want {
			w, g := want[i], got[i]
			if math.Float32bits(w.loss) != math.Float32bits(g.loss) || !bits32Equal(w.dx, g.dx) || !bits32Equal(w.dw, g.dw) || !bits32Equal(w.dlog, g.dlog) {
				t.Errorf("%s run %d: in-place loss %v or gradients differ from CrossEntropy's (loss %v)", f.name, i, g.loss, w.loss)
			}
			if !bits32Equal(g.logitsAfter, g.dlog) || bits32Equal(w.logitsAfter, w.dlog) {
				t.Errorf("%s run %d: the logits' value after the run is the gradient in place (%t) / not with CrossEntropy (%t)",
					f.name, i, bits32Equal(g.logitsAfter, g.dlog), !bits32Equal(w.logitsAfter, w.dlog))
			}
			if g.ownsGradCopy || !w.ownsGradCopy {
				t.Errorf("%s: in place owns a gradient copy: %t; CrossEntropy: %t", f.name, g.ownsGradCopy, w.ownsGradCopy)
			}
		}
	}
}

func bits32Equal(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}
