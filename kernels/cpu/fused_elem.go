package cpu

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// Elementwise and row-wise fused ops: activations, RoPE, softmax,
// cross-entropy, embedding, AdamW.

// elemAlign is the chunk alignment of elementwise loops (parRange).
const elemAlign = 64

const (
	geluC2 = 2 * 0.7978845608028654 // 2√(2/π): GELU(x) = x·σ(geluC2·(x+0.044715x³))
	geluA  = 0.044715
)

// GELU implements kernels.Activator as x·σ(2√(2/π)(x+0.044715x³)), the
// tanh form without its cancellation for negative x.
func (impl Implementation) GELU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	f := impl.geluRow()
	parRange(n, elemAlign, 4*n, func(lo, hi int) { f(y[lo:hi], x[lo:hi]) })
}

// geluRow returns the variant's GELU over a slice: y[i] = GELU(x[i]),
// each element computed the same way wherever the slice starts or ends.
func (impl Implementation) geluRow() func(y, x []float32) {
	if f := impl.asmElem().gelu; f != nil {
		return f
	}
	return geluGo
}

func geluGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		z := geluC2 * (v + geluA*v*v*v)
		y[i] = v / (1 + expf(-z))
	}
}

// GELUBackward implements kernels.Activator: with s = σ(z),
// GELU' = s + x·s·(1−s)·dz/dx.
func (impl Implementation) GELUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	f := impl.geluBwdRow()
	parRange(n, elemAlign, 4*n, func(lo, hi int) { f(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// geluBwdRow returns the variant's GELU backward over a slice, each
// element computed the same way wherever the slice starts or ends.
func (impl Implementation) geluBwdRow() func(dx, dy, x []float32) {
	if f := impl.asmElem().geluBwd; f != nil {
		return f
	}
	return geluBwdGo
}

func geluBwdGo(dx, dy, x []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		v2 := v * v
		s := 1 / (1 + expf(-geluC2*(v+geluA*v2*v)))
		d := s + v*s*(1-s)*(geluC2*(1+3*geluA*v2))
		dx[i] = dy[i] * d
	}
}

// SiLU implements kernels.Activator.
func (impl Implementation) SiLU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	if f := impl.asmElem().silu; f != nil {
		parRange(n, elemAlign, 4*n, func(lo, hi int) { f(y[lo:hi], x[lo:hi]) })
		return
	}
	parRange(n, elemAlign, 4*n, func(lo, hi int) {
		xs, ys := x[lo:hi], y[lo:hi]
		ys = ys[:len(xs)]
		for i, v := range xs {
			ys[i] = v / (1 + expf(-v))
		}
	})
}

// SiLUBackward implements kernels.Activator: SiLU' = s·(1 + x·(1−s)).
func (impl Implementation) SiLUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	if f := impl.asmElem().siluBwd; f != nil {
		parRange(n, elemAlign, 4*n, func(lo, hi int) { f(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
		return
	}
	parRange(n, elemAlign, 4*n, func(lo, hi int) {
		xs, dys, dxs := x[lo:hi], dy[lo:hi], dx[lo:hi]
		dys, dxs = dys[:len(xs)], dxs[:len(xs)]
		for i, v := range xs {
			s := 1 / (1 + expf(-v))
			dxs[i] = dys[i] * (s * (1 + v*(1-s)))
		}
	})
}

// SwiGLU implements kernels.Activator.
func (impl Implementation) SwiGLU(y, g, u []float32, n int) {
	kernels.CheckSwiGLU(y, g, u, n)
	if f := impl.asmElem().swiglu; f != nil {
		parRange(n, elemAlign, 4*n, func(lo, hi int) { f(y[lo:hi], g[lo:hi], u[lo:hi]) })
		return
	}
	parRange(n, elemAlign, 4*n, func(lo, hi int) {
		gs, us, ys := g[lo:hi], u[lo:hi], y[lo:hi]
		us, ys = us[:len(gs)], ys[:len(gs)]
		for i, v := range gs {
			ys[i] = v / (1 + expf(-v)) * us[i]
		}
	})
}

// SwiGLUBackward implements kernels.Activator: dg = dy·u·SiLU'(g),
// du = dy·SiLU(g).
func (impl Implementation) SwiGLUBackward(dg, du, dy, g, u []float32, n int) {
	kernels.CheckSwiGLUBackward(dg, du, dy, g, u, n)
	if f := impl.asmElem().swigluBwd; f != nil {
		parRange(n, elemAlign, 5*n, func(lo, hi int) { f(dg[lo:hi], du[lo:hi], dy[lo:hi], g[lo:hi], u[lo:hi]) })
		return
	}
	parRange(n, elemAlign, 5*n, func(lo, hi int) {
		gs, us, dys, dgs, dus := g[lo:hi], u[lo:hi], dy[lo:hi], dg[lo:hi], du[lo:hi]
		us, dys, dgs, dus = us[:len(gs)], dys[:len(gs)], dgs[:len(gs)], dus[:len(gs)]
		for i, v := range gs {
			uv, d := us[i], dys[i]
			s := 1 / (1 + expf(-v))
			dgs[i], dus[i] = d*uv*(s*(1+v*(1-s))), d*(v*s)
		}
	})
}

// RoPE implements kernels.Roper.
func (impl Implementation) RoPE(y, x []float32, p kernels.RoPEParams) {
	kernels.CheckRoPE(y, x, p)
	rope(impl.ops(), y, x, p, false)
}

// RoPEBackward implements kernels.Roper.
func (impl Implementation) RoPEBackward(dx, dy []float32, p kernels.RoPEParams) {
	kernels.CheckRoPEBackward(dx, dy, p)
	rope(impl.ops(), dx, dy, p, true)
}

// rope rotates every pair (a, b) of x into y: (a·c − b·s, b·c + a·s), or by
// the negative angle when back is set.
func rope(o *vecOps, y, x []float32, p kernels.RoPEParams, back bool) {
	d, half := p.HeadDim, p.HeadDim/2
	if p.Tokens*p.Heads*d == 0 {
		return
	}
	parRange(p.Tokens, 1, 2*p.Tokens*p.Heads*d, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			tab := int(p.Pos[t]) * half
			cs, sn := p.Cos[tab:tab+half], p.Sin[tab:tab+half]
			for h := range p.Heads {
				off := (t*p.Heads + h) * d
				xs, ys := x[off:off+d], y[off:off+d]
				if p.Layout == kernels.RoPEHalf {
					o.rotate(ys[:half], ys[half:], xs[:half], xs[half:], cs, sn, back)
					continue
				}
				if back {
					for i, c := range cs {
						a, b, s := xs[2*i], xs[2*i+1], sn[i]
						ys[2*i], ys[2*i+1] = a*c+b*s, b*c-a*s
					}
				} else {
					for i, c := range cs {
						a, b, s := xs[2*i], xs[2*i+1], sn[i]
						ys[2*i], ys[2*i+1] = a*c-b*s, b*c+a*s
					}
				}
			}
		}
	})
}

// Softmax implements kernels.Softmaxer.
func (impl Implementation) Softmax(y, x []float32, rows, n int) {
	kernels.CheckSoftmax(y, x, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	parRange(rows, 1, 4*rows*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
			s := o.expSum(yr, xr, o.max(xr))
			o.scale(yr, yr, 1/s)
		}
	})
}

// SoftmaxBackward implements kernels.Softmaxer.
func (impl Implementation) SoftmaxBackward(dx, dy, y []float32, rows, n int) {
	kernels.CheckSoftmaxBackward(dx, dy, y, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	parRange(rows, 1, 3*rows*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dyr, yr, dxr := dy[r*n:r*n+n], y[r*n:r*n+n], dx[r*n:r*n+n]
			o.mulSub(dxr, dyr, yr, o.dot(dyr, yr))
		}
	})
}

// CrossEntropy implements kernels.Losser.
func (impl Implementation) CrossEntropy(losses, logits []float32, targets []int32, n, v int) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	impl.crossEntropy(losses, logits, targets, n, v, 0, false)
}

// CrossEntropyGrad implements kernels.Losser.
func (impl Implementation) CrossEntropyGrad(losses, logits []float32, targets []int32, n, v int, scale float32) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	impl.crossEntropy(losses, logits, targets, n, v, scale, true)
}

func (impl Implementation) crossEntropy(losses, logits []float32, targets []int32, n, v int, scale float32, grad bool) {
	if n == 0 {
		return
	}
	o := impl.ops()
	parRange(n, 1, 3*n*v, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row, t := logits[r*v:r*v+v], targets[r]
			if t == kernels.IgnoreIndex {
				losses[r] = 0
				if grad {
					clear(row)
				}
				continue
			}
			xt, m := row[t], o.max(row)
			var dst []float32
			if grad {
				dst = row
			}
			s := o.expSum(dst, row, m)
			// −log softmax[t] = (m − x_t) + log Σ e^(x−m): no large m + log Σ
			// to cancel against x_t.
			losses[r] = float32(float64(m-xt) + math.Log(float64(s)))
			if grad {
				et := row[t]
				o.scale(row, row, scale/s)
				row[t] = scale * (et/s - 1)
			}
		}
	})
}

// Embedding implements kernels.Embedder.
func (impl Implementation) Embedding(out, table []float32, ids []int32, n, dim int) {
	kernels.CheckEmbedding(out, table, ids, n, dim)
	if n == 0 || dim == 0 {
		return
	}
	parRange(n, 1, 2*n*dim, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			id := int(ids[i])
			copy(out[i*dim:i*dim+dim], table[id*dim:id*dim+dim])
		}
	})
}

// EmbeddingBackward implements kernels.Embedder. Threads split the columns,
// each adding every row in increasing i, so a repeated id sums exactly as a
// sequential loop would, whatever the number of threads.
func (impl Implementation) EmbeddingBackward(dtable, dout []float32, ids []int32, n, dim int) {
	kernels.CheckEmbeddingBackward(dtable, dout, ids, n, dim)
	if n == 0 || dim == 0 {
		return
	}
	o := impl.ops()
	parRange(dim, 16, 3*n*dim, func(lo, hi int) {
		for i, id := range ids[:n] {
			o.addTo(dtable[int(id)*dim+lo:int(id)*dim+hi], dout[i*dim+lo:i*dim+hi])
		}
	})
}

// AdamW implements kernels.Optimizer in float32, the bias corrections
// computed in float64 and rounded once.
func (impl Implementation) AdamW(param, grad, m, v []float32, n int, p kernels.AdamWParams) {
	kernels.CheckAdamW(param, grad, m, v, n, p)
	if n == 0 {
		return
	}
	a := adamConsts(p)
	if f := impl.asmElem().adamw; f != nil {
		parRange(n, elemAlign, 7*n, func(lo, hi int) { f(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], &a) })
		return
	}
	parRange(n, elemAlign, 7*n, func(lo, hi int) { adamWGo(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], &a) })
}

// adamArgs are AdamW's per-call constants, in the order the assembly
// expects.
type adamArgs struct {
	b1, c1, b2, c2 float32 // β1, 1−β1, β2, 1−β2
	ib1, ib2       float32 // 1/(1−β1^t), 1/(1−β2^t)
	lr, eps, wd    float32
}

func adamConsts(p kernels.AdamWParams) adamArgs {
	t := float64(p.Step)
	return adamArgs{
		b1: p.Beta1, c1: 1 - p.Beta1, b2: p.Beta2, c2: 1 - p.Beta2,
		ib1: float32(1 / (1 - math.Pow(float64(p.Beta1), t))),
		ib2: float32(1 / (1 - math.Pow(float64(p.Beta2), t))),
		lr:  p.LR, eps: p.Eps, wd: p.WeightDecay,
	}
}

func adamWGo(param, grad, m, v []float32, a *adamArgs) {
	grad, m, v = grad[:len(param)], m[:len(param)], v[:len(param)]
	for i, pv := range param {
		g := grad[i]
		mi := a.b1*m[i] + a.c1*g
		vi := a.b2*v[i] + a.c2*(g*g)
		m[i], v[i] = mi, vi
		den := float32(math.Sqrt(float64(vi*a.ib2))) + a.eps
		param[i] = pv - a.lr*((mi*a.ib1)/den+a.wd*pv)
	}
}
