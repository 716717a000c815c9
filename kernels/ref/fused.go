package ref

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// The fused operations, written as the formulas in package kernels say, one
// element at a time. Reductions (norm statistics, softmax and log-sum-exp
// sums, dot products of the backward passes) accumulate in float64 and each
// result is rounded to float32 once.

var _ kernels.Kernels = Implementation{}

// RMSNorm implements kernels.Normer.
func (Implementation) RMSNorm(y, rstd, x, w []float32, rows, n int, eps float32) {
	kernels.CheckRMSNorm(y, rstd, x, w, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	for r := range rows {
		xr := x[r*n : r*n+n]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		rs := 1 / math.Sqrt(ss/float64(n)+float64(eps))
		yr := y[r*n : r*n+n]
		for j, v := range xr {
			yr[j] = float32(float64(v) * rs * float64(w[j]))
		}
		rstd[r] = float32(rs)
	}
}

// RMSNormBackward implements kernels.Normer. With x̂ = x·rstd and
// g = dy ⊙ w: dx = rstd·(g − x̂·mean(g ⊙ x̂)), dw += Σ_rows dy ⊙ x̂.
func (Implementation) RMSNormBackward(dx, dw, dy, x, w, rstd []float32, rows, n int) {
	kernels.CheckRMSNormBackward(dx, dw, dy, x, w, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	acc := make([]float64, n)
	for r := range rows {
		xr, dyr, dxr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		rs := float64(rstd[r])
		var dot float64 // Σ g·x̂
		for j := range n {
			xh := float64(xr[j]) * rs
			dot += float64(dyr[j]) * float64(w[j]) * xh
			acc[j] += float64(dyr[j]) * xh
		}
		mean := dot / float64(n)
		for j := range n {
			xh := float64(xr[j]) * rs
			dxr[j] = float32(rs * (float64(dyr[j])*float64(w[j]) - xh*mean))
		}
	}
	for j := range n {
		dw[j] = float32(float64(dw[j]) + acc[j])
	}
}

// LayerNorm implements kernels.Normer: two-pass mean and population
// variance.
func (Implementation) LayerNorm(y, mean, rstd, x, w, b []float32, rows, n int, eps float32) {
	kernels.CheckLayerNorm(y, mean, rstd, x, w, b, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	for r := range rows {
		xr := x[r*n : r*n+n]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(n)
		var ss float64
		for _, v := range xr {
			d := float64(v) - mu
			ss += d * d
		}
		rs := 1 / math.Sqrt(ss/float64(n)+float64(eps))
		yr := y[r*n : r*n+n]
		for j, v := range xr {
			o := (float64(v) - mu) * rs * float64(w[j])
			if b != nil {
				o += float64(b[j])
			}
			yr[j] = float32(o)
		}
		mean[r], rstd[r] = float32(mu), float32(rs)
	}
}

// LayerNormBackward implements kernels.Normer. With x̂ = (x−mean)·rstd and
// g = dy ⊙ w: dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)), dw += Σ dy ⊙ x̂,
// db += Σ dy.
func (Implementation) LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd []float32, rows, n int) {
	kernels.CheckLayerNormBackward(dx, dw, db, dy, x, w, mean, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	accW, accB := make([]float64, n), make([]float64, n)
	for r := range rows {
		xr, dyr, dxr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		mu, rs := float64(mean[r]), float64(rstd[r])
		var sg, sgx float64
		for j := range n {
			xh := (float64(xr[j]) - mu) * rs
			g := float64(dyr[j]) * float64(w[j])
			sg += g
			sgx += g * xh
			accW[j] += float64(dyr[j]) * xh
			accB[j] += float64(dyr[j])
		}
		mg, mgx := sg/float64(n), sgx/float64(n)
		for j := range n {
			xh := (float64(xr[j]) - mu) * rs
			g := float64(dyr[j]) * float64(w[j])
			dxr[j] = float32(rs * (g - mg - xh*mgx))
		}
	}
	for j := range n {
		dw[j] = float32(float64(dw[j]) + accW[j])
		if db != nil {
			db[j] = float32(float64(db[j]) + accB[j])
		}
	}
}

const (
	geluC = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// GELU implements kernels.Activator, as x·σ(z) with z = 2√(2/π)(x+0.044715x³):
// 0.5(1+tanh(z/2)) = σ(z), and the sigmoid form does not cancel for
// negative x the way 1+tanh does.
func (Implementation) GELU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	for i := range n {
		v := float64(x[i])
		y[i] = float32(v * sigmoid(2*geluC*(v+geluA*v*v*v)))
	}
}

// GELUBackward implements kernels.Activator: with s = σ(z),
// y' = s + x·s(1−s)·dz/dx.
func (Implementation) GELUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	for i := range n {
		v := float64(x[i])
		s := sigmoid(2 * geluC * (v + geluA*v*v*v))
		d := s + v*s*(1-s)*2*geluC*(1+3*geluA*v*v)
		dx[i] = float32(float64(dy[i]) * d)
	}
}

// SiLU implements kernels.Activator.
func (Implementation) SiLU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	for i := range n {
		v := float64(x[i])
		y[i] = float32(v * sigmoid(v))
	}
}

func siluGrad(v float64) float64 {
	s := sigmoid(v)
	return s * (1 + v*(1-s))
}

// SiLUBackward implements kernels.Activator.
func (Implementation) SiLUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	for i := range n {
		dx[i] = float32(float64(dy[i]) * siluGrad(float64(x[i])))
	}
}

// SwiGLU implements kernels.Activator.
func (Implementation) SwiGLU(y, g, u []float32, n int) {
	kernels.CheckSwiGLU(y, g, u, n)
	for i := range n {
		gv := float64(g[i])
		y[i] = float32(gv * sigmoid(gv) * float64(u[i]))
	}
}

// SwiGLUBackward implements kernels.Activator.
func (Implementation) SwiGLUBackward(dg, du, dy, g, u []float32, n int) {
	kernels.CheckSwiGLUBackward(dg, du, dy, g, u, n)
	for i := range n {
		gv, uv, d := float64(g[i]), float64(u[i]), float64(dy[i])
		dg[i], du[i] = float32(d*uv*siluGrad(gv)), float32(d*gv*sigmoid(gv))
	}
}

// RoPE implements kernels.Roper.
func (Implementation) RoPE(y, x []float32, p kernels.RoPEParams) {
	kernels.CheckRoPE(y, x, p)
	rope(y, x, p, 1)
}

// RoPEBackward implements kernels.Roper: the rotation by the negative angle.
func (Implementation) RoPEBackward(dx, dy []float32, p kernels.RoPEParams) {
	kernels.CheckRoPEBackward(dx, dy, p)
	rope(dx, dy, p, -1)
}

// rope rotates each pair (a, b) of x by the table angle with its sine
// multiplied by sign: (a·cos − b·sin, b·cos + a·sin).
func rope(y, x []float32, p kernels.RoPEParams, sign float64) {
	d, half := p.HeadDim, p.HeadDim/2
	if p.Tokens*p.Heads*d == 0 {
		return
	}
	for t := range p.Tokens {
		tab := int(p.Pos[t]) * half
		for h := range p.Heads {
			off := (t*p.Heads + h) * d
			for i := range half {
				c, s := float64(p.Cos[tab+i]), sign*float64(p.Sin[tab+i])
				i0, i1 := off+i, off+i+half
				if p.Layout == kernels.RoPEInterleaved {
					i0, i1 = off+2*i, off+2*i+1
				}
				a, b := float64(x[i0]), float64(x[i1])
				y[i0], y[i1] = float32(a*c-b*s), float32(b*c+a*s)
			}
		}
	}
}

// Softmax implements kernels.Softmaxer.
func (Implementation) Softmax(y, x []float32, rows, n int) {
	kernels.CheckSoftmax(y, x, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	e := make([]float64, n)
	for r := range rows {
		xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
		_, sum := expRow(e, xr)
		for j := range n {
			yr[j] = float32(e[j] / sum)
		}
	}
}

// expRow sets e[j] = exp(x[j] − max x) and returns max x and Σ e.
func expRow(e []float64, x []float32) (m, sum float64) {
	m = math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v)) // NaN propagates
	}
	for j, v := range x {
		e[j] = math.Exp(float64(v) - m)
		sum += e[j]
	}
	return m, sum
}

// SoftmaxBackward implements kernels.Softmaxer.
func (Implementation) SoftmaxBackward(dx, dy, y []float32, rows, n int) {
	kernels.CheckSoftmaxBackward(dx, dy, y, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	for r := range rows {
		dyr, yr, dxr := dy[r*n:r*n+n], y[r*n:r*n+n], dx[r*n:r*n+n]
		var s float64
		for j := range n {
			s += float64(dyr[j]) * float64(yr[j])
		}
		for j := range n {
			dxr[j] = float32(float64(yr[j]) * (float64(dyr[j]) - s))
		}
	}
}

// CrossEntropy implements kernels.Losser.
func (Implementation) CrossEntropy(losses, logits []float32, targets []int32, n, v int) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	crossEntropy(losses, logits, targets, n, v, 0, false)
}

// CrossEntropyGrad implements kernels.Losser.
func (Implementation) CrossEntropyGrad(losses, logits []float32, targets []int32, n, v int, scale float32) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	crossEntropy(losses, logits, targets, n, v, scale, true)
}

func crossEntropy(losses, logits []float32, targets []int32, n, v int, scale float32, grad bool) {
	if n == 0 {
		return
	}
	e := make([]float64, v)
	for r := range n {
		row := logits[r*v : r*v+v]
		t := targets[r]
		if t == kernels.IgnoreIndex {
			losses[r] = 0
			if grad {
				clear(row)
			}
			continue
		}
		m, sum := expRow(e, row)
		// −log softmax[t] = m + log Σ − x[t], written (m − x[t]) + log Σ so
		// that large logits do not lose the loss to rounding.
		losses[r] = float32((m - float64(row[t])) + math.Log(sum))
		if grad {
			for j := range v {
				p := e[j] / sum
				if j == int(t) {
					p--
				}
				row[j] = float32(float64(scale) * p)
			}
		}
	}
}

// Embedding implements kernels.Embedder.
func (Implementation) Embedding(out, table []float32, ids []int32, n, dim int) {
	kernels.CheckEmbedding(out, table, ids, n, dim)
	for i := range n {
		if dim == 0 {
			break
		}
		id := int(ids[i])
		copy(out[i*dim:i*dim+dim], table[id*dim:id*dim+dim])
	}
}

// EmbeddingBackward implements kernels.Embedder, adding rows in increasing
// i.
func (Implementation) EmbeddingBackward(dtable, dout []float32, ids []int32, n, dim int) {
	kernels.CheckEmbeddingBackward(dtable, dout, ids, n, dim)
	for i := range n {
		if dim == 0 {
			break
		}
		id := int(ids[i])
		for j := range dim {
			dtable[id*dim+j] += dout[i*dim+j]
		}
	}
}

// AdamW implements kernels.Optimizer, in float64 per element.
func (Implementation) AdamW(param, grad, m, v []float32, n int, p kernels.AdamWParams) {
	kernels.CheckAdamW(param, grad, m, v, n, p)
	b1, b2 := float64(p.Beta1), float64(p.Beta2)
	bc1 := 1 - math.Pow(b1, float64(p.Step))
	bc2 := 1 - math.Pow(b2, float64(p.Step))
	for i := range n {
		g := float64(grad[i])
		mi := b1*float64(m[i]) + (1-b1)*g
		vi := b2*float64(v[i]) + (1-b2)*g*g
		m[i], v[i] = float32(mi), float32(vi)
		pi := float64(param[i])
		upd := (mi/bc1)/(math.Sqrt(vi/bc2)+float64(p.Eps)) + float64(p.WeightDecay)*pi
		param[i] = float32(pi - float64(p.LR)*upd)
	}
}
