package kernelstest

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// The float64 oracles of the fused operations: the formulas of package
// kernels evaluated in float64, each with the tolerance of a float32
// implementation (see fused.go). Oracles that run under finite differences
// take float64 inputs so that perturbations are not rounded away.

// tolOf returns Tiny + k·u·mag.
func tolOf(k, mag float64) float64 { return Tiny + k*u32*mag }

type normOut struct {
	y, mean, rstd          []float64
	tolY, tolMean, tolRstd []float64
}

// rmsNorm64 is RMSNorm in float64.
func rmsNorm64(x, w []float64, rows, n int, eps float64) normOut {
	o := normOut{y: make([]float64, rows*n), tolY: make([]float64, rows*n), rstd: make([]float64, rows), tolRstd: make([]float64, rows)}
	k := float64(n + 16)
	for r := range rows {
		xr := x[r*n : r*n+n]
		rs := 1 / math.Sqrt(dot64(xr, xr)/float64(n)+eps)
		for j := range n {
			y := xr[j] * rs * w[j]
			o.y[r*n+j], o.tolY[r*n+j] = y, tolOf(k, math.Abs(y))
		}
		o.rstd[r], o.tolRstd[r] = rs, tolOf(k, rs)
	}
	return o
}

// layerNorm64 is LayerNorm in float64; b may be nil.
func layerNorm64(x, w, b []float64, rows, n int, eps float64) normOut {
	o := normOut{y: make([]float64, rows*n), tolY: make([]float64, rows*n),
		mean: make([]float64, rows), tolMean: make([]float64, rows), rstd: make([]float64, rows), tolRstd: make([]float64, rows)}
	k := float64(n + 16)
	for r := range rows {
		xr := x[r*n : r*n+n]
		var s, sa float64
		for _, v := range xr {
			s += v
			sa += math.Abs(v)
		}
		mu, ma := s/float64(n), sa/float64(n)
		var ss float64
		for _, v := range xr {
			ss += (v - mu) * (v - mu)
		}
		rs := 1 / math.Sqrt(ss/float64(n)+eps)
		for j := range n {
			y := (xr[j] - mu) * rs * w[j]
			mag := (math.Abs(xr[j]-mu) + ma) * rs * math.Abs(w[j])
			if b != nil {
				y += b[j]
				mag += math.Abs(b[j])
			}
			o.y[r*n+j], o.tolY[r*n+j] = y, tolOf(k, mag)
		}
		o.mean[r], o.tolMean[r] = mu, tolOf(k, ma)
		o.rstd[r], o.tolRstd[r] = rs, tolOf(k, rs)
	}
	return o
}

type normGrad struct {
	dx, dw, db          []float64
	tolDx, tolDw, tolDb []float64
}

// normBack64 is the backward of RMSNorm (mean nil) or LayerNorm with the
// given statistics: x̂ = (x−mean)·rstd, g = dy·w,
// dx = rstd·(g − [mean(g)] − x̂·mean(g·x̂)), dw = dw0 + Σ dy·x̂,
// db = db0 + Σ dy.
func normBack64(dy, x, w, mean, rstd, dw0, db0 []float64, rows, n int) normGrad {
	o := normGrad{dx: make([]float64, rows*n), tolDx: make([]float64, rows*n),
		dw: make([]float64, n), tolDw: make([]float64, n), db: make([]float64, n), tolDb: make([]float64, n)}
	magW, magB := make([]float64, n), make([]float64, n)
	for j := range n {
		o.dw[j], magW[j] = dw0[j], math.Abs(dw0[j])
		if db0 != nil {
			o.db[j], magB[j] = db0[j], math.Abs(db0[j])
		}
	}
	k := float64(n + 16)
	xh := make([]float64, n)
	for r := range rows {
		rs, mu := rstd[r], 0.0
		if mean != nil {
			mu = mean[r]
		}
		var sg, sgx, ag, agx float64
		for j := range n {
			i := r*n + j
			xh[j] = (x[i] - mu) * rs
			g := dy[i] * w[j]
			sg, sgx = sg+g, sgx+g*xh[j]
			ag, agx = ag+math.Abs(g), agx+math.Abs(g*xh[j])
			o.dw[j] += dy[i] * xh[j]
			magW[j] += math.Abs(dy[i] * xh[j])
			o.db[j] += dy[i]
			magB[j] += math.Abs(dy[i])
		}
		mg, mgx, mag, magx := sg/float64(n), sgx/float64(n), ag/float64(n), agx/float64(n)
		if mean == nil {
			mg, mag = 0, 0
		}
		for j := range n {
			i := r*n + j
			g := dy[i] * w[j]
			o.dx[i] = rs * (g - mg - xh[j]*mgx)
			o.tolDx[i] = tolOf(k, rs*(math.Abs(g)+mag+math.Abs(xh[j])*magx))
		}
	}
	kr := float64(rows + 16)
	for j := range n {
		o.tolDw[j], o.tolDb[j] = tolOf(kr, magW[j]), tolOf(kr, magB[j])
	}
	return o
}

const (
	geluC = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
)

func sigmoid64(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// gelu64 returns GELU(x) = x·σ(z), z = 2√(2/π)(x+0.044715x³) (the same as
// 0.5x(1+tanh(z/2)), without its cancellation for negative x), GELU'(x) with
// the magnitude of its terms, and z.
func gelu64(x float64) (y, d, magD, z float64) {
	z = 2 * geluC * (x + geluA*x*x*x)
	s := sigmoid64(z)
	dz := 2 * geluC * (1 + 3*geluA*x*x)
	return x * s, s + x*s*(1-s)*dz, s + math.Abs(x)*s*dz, z
}

// silu64 returns SiLU(x) = x·σ(x), its derivative and magnitude.
func silu64(x float64) (y, d, magD float64) {
	s := sigmoid64(x)
	return x * s, s + x*s*(1-s), s + math.Abs(x)*s
}

// rope64 rotates x (float64, [tokens, heads, headDim]) by the table angles
// times sign and returns the result and the magnitude of each output's
// terms.
func rope64(x []float64, p kernels.RoPEParams, sign float64) (y, mag []float64) {
	y, mag = make([]float64, len(x)), make([]float64, len(x))
	d, half := p.HeadDim, p.HeadDim/2
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
				a, b := x[i0], x[i1]
				y[i0], y[i1] = a*c-b*s, b*c+a*s
				mag[i0], mag[i1] = math.Abs(a*c)+math.Abs(b*s), math.Abs(b*c)+math.Abs(a*s)
			}
		}
	}
	return y, mag
}

// softmax64 is the row softmax of x with its tolerance.
func softmax64(x []float64, rows, n int) (y, tol []float64) {
	y, tol = make([]float64, rows*n), make([]float64, rows*n)
	k := float64(2*n + 32)
	for r := range rows {
		xr := x[r*n : r*n+n]
		m := math.Inf(-1)
		for _, v := range xr {
			m = math.Max(m, v)
		}
		var sum float64
		for j, v := range xr {
			y[r*n+j] = math.Exp(v - m)
			sum += y[r*n+j]
		}
		for j, v := range xr {
			i := r*n + j
			y[i] /= sum
			tol[i] = Tiny
			if y[i] > 0 {
				tol[i] = tolOf(k+2*math.Abs(v-m), y[i])
			}
		}
	}
	return y, tol
}

// softmaxBack64 is dx = y·(dy − Σ dy·y) per row.
func softmaxBack64(dy, y []float64, rows, n int) (dx, tol []float64) {
	dx, tol = make([]float64, rows*n), make([]float64, rows*n)
	k := float64(2*n + 32)
	for r := range rows {
		dyr, yr := dy[r*n:r*n+n], y[r*n:r*n+n]
		var s, sa float64
		for j := range n {
			s += dyr[j] * yr[j]
			sa += math.Abs(dyr[j] * yr[j])
		}
		for j := range n {
			dx[r*n+j] = yr[j] * (dyr[j] - s)
			tol[r*n+j] = tolOf(k, math.Abs(yr[j])*(math.Abs(dyr[j])+sa))
		}
	}
	return dx, tol
}

// ce64 is cross-entropy in float64: losses and the gradient of
// scale·Σ losses, with tolerances.
func ce64(logits []float64, targets []int32, n, v int, scale float64) (loss, tolLoss, grad, tolGrad []float64) {
	loss, tolLoss = make([]float64, n), make([]float64, n)
	grad, tolGrad = make([]float64, n*v), make([]float64, n*v)
	k := float64(2*v + 32)
	as := math.Abs(scale)
	for r := range n {
		t := targets[r]
		tolLoss[r] = Tiny
		if t == kernels.IgnoreIndex {
			for j := range v {
				tolGrad[r*v+j] = Tiny
			}
			continue
		}
		row := logits[r*v : r*v+v]
		m := math.Inf(-1)
		for _, x := range row {
			m = math.Max(m, x)
		}
		var sum float64
		for _, x := range row {
			sum += math.Exp(x - m)
		}
		loss[r] = (m - row[t]) + math.Log(sum)
		tolLoss[r] = 1e-7 + u32*(k+4*math.Abs(m-row[t])+4*math.Abs(loss[r]))
		for j, x := range row {
			p := math.Exp(x-m) / sum
			i := r*v + j
			tolGrad[i] = Tiny
			if p > 0 {
				tolGrad[i] = tolOf(k+2*math.Abs(x-m), as*p)
			}
			if j == int(t) {
				p--
				tolGrad[i] += 2 * u32 * as
			}
			grad[i] = scale * p
		}
	}
	return loss, tolLoss, grad, tolGrad
}

// attnIdx is the index arithmetic of AttentionParams.
type attnIdx struct{ kernels.AttentionParams }

func (a attnIdx) q(b, t, h int) int   { return ((b*a.T+t)*a.H + h) * a.D }
func (a attnIdx) kv(b, t, h int) int  { return ((b*a.T+t)*a.KVH + h) * a.D }
func (a attnIdx) lse(b, h, t int) int { return (b*a.H+h)*a.T + t }
func (a attnIdx) start(b, t int) int {
	if a.Start == nil {
		return 0
	}
	return int(a.Start[b*a.T+t])
}

type attnOut struct {
	out, lse, tolOut, tolLse []float64
	e                        float64 // max score error bound E (units of u)
}

// attention64 is causal attention in float64.
func attention64(q, k, v []float64, p kernels.AttentionParams) attnOut {
	a := attnIdx{p}
	nq := p.B * p.T * p.H * p.D
	o := attnOut{out: make([]float64, nq), tolOut: make([]float64, nq), lse: make([]float64, p.B*p.H*p.T), tolLse: make([]float64, p.B*p.H*p.T)}
	g := max(1, p.H/max(1, p.KVH))
	sc := float64(p.Scale)
	s, pr := make([]float64, p.T), make([]float64, p.T)
	for b := range p.B {
		for h := range p.H {
			for t := range p.T {
				qi, lo := a.q(b, t, h), a.start(b, t)
				m, e := math.Inf(-1), 0.0
				for j := lo; j <= t; j++ {
					kj := a.kv(b, j, h/g)
					var dot, abs float64
					for d := range p.D {
						dot += q[qi+d] * k[kj+d]
						abs += math.Abs(q[qi+d] * k[kj+d])
					}
					s[j] = sc * dot
					m = math.Max(m, s[j])
					e = math.Max(e, float64(p.D+2)*math.Abs(sc)*abs)
				}
				o.e = math.Max(o.e, e)
				var sum float64
				for j := lo; j <= t; j++ {
					pr[j] = math.Exp(s[j] - m)
					sum += pr[j]
				}
				for d := range p.D {
					var acc, mag float64
					for j := lo; j <= t; j++ {
						vv := v[a.kv(b, j, h/g)+d]
						acc += pr[j] * vv
						mag += pr[j] * math.Abs(vv)
					}
					o.out[qi+d] = acc / sum
					o.tolOut[qi+d] = tolOf(4*e+4*float64(p.T)+64, mag/sum)
				}
				li := a.lse(b, h, t)
				o.lse[li] = m + math.Log(sum)
				o.tolLse[li] = tolOf(2*e+2*float64(p.T)+32+2*math.Abs(o.lse[li]), 1)
			}
		}
	}
	return o
}

type attnGrad struct {
	dq, dk, dv, tolDq, tolDk, tolDv []float64
}

// attentionBack64 is the exact gradient of Σ dout·out with respect to q, k
// and v, in float64 (the softmax recomputed from q and k, not from a saved
// lse).
func attentionBack64(dout, q, k, v []float64, p kernels.AttentionParams) attnGrad {
	a := attnIdx{p}
	nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
	o := attnGrad{dq: make([]float64, nq), dk: make([]float64, nkv), dv: make([]float64, nkv)}
	mq, mk, mv := make([]float64, nq), make([]float64, nkv), make([]float64, nkv)
	g := max(1, p.H/max(1, p.KVH))
	sc := float64(p.Scale)
	pr, dp, adp := make([]float64, p.T), make([]float64, p.T), make([]float64, p.T)
	var emax, lmax float64
	for b := range p.B {
		for h := range p.H {
			for t := range p.T {
				qi, lo := a.q(b, t, h), a.start(b, t)
				m := math.Inf(-1)
				for j := lo; j <= t; j++ {
					kj := a.kv(b, j, h/g)
					var dot, abs, dd, ad float64
					for d := range p.D {
						dot += q[qi+d] * k[kj+d]
						abs += math.Abs(q[qi+d] * k[kj+d])
						dd += dout[qi+d] * v[kj+d]
						ad += math.Abs(dout[qi+d] * v[kj+d])
					}
					pr[j], dp[j], adp[j] = sc*dot, dd, ad
					m = math.Max(m, pr[j])
					emax = math.Max(emax, float64(p.D+2)*math.Abs(sc)*abs)
				}
				var sum float64
				for j := lo; j <= t; j++ {
					pr[j] = math.Exp(pr[j] - m)
					sum += pr[j]
				}
				lmax = math.Max(lmax, math.Abs(m+math.Log(sum)))
				var dsum, asum float64
				for j := lo; j <= t; j++ {
					pr[j] /= sum
					dsum += pr[j] * dp[j]
					asum += pr[j] * adp[j]
				}
				for j := lo; j <= t; j++ {
					kj := a.kv(b, j, h/g)
					ds := sc * pr[j] * (dp[j] - dsum)
					dsm := math.Abs(sc) * pr[j] * (adp[j] + asum)
					for d := range p.D {
						o.dq[qi+d] += ds * k[kj+d]
						mq[qi+d] += dsm * math.Abs(k[kj+d])
						o.dk[kj+d] += ds * q[qi+d]
						mk[kj+d] += dsm * math.Abs(q[qi+d])
						o.dv[kj+d] += pr[j] * dout[qi+d]
						mv[kj+d] += pr[j] * math.Abs(dout[qi+d])
					}
				}
			}
		}
	}
	kb := 8 * (emax + float64(p.T*g+p.D) + 32 + lmax)
	o.tolDq, o.tolDk, o.tolDv = make([]float64, nq), make([]float64, nkv), make([]float64, nkv)
	for i := range mq {
		o.tolDq[i] = tolOf(kb, mq[i])
	}
	for i := range mk {
		o.tolDk[i], o.tolDv[i] = tolOf(kb, mk[i]), tolOf(kb, mv[i])
	}
	return o
}

// adamW64 is one AdamW step in float64 from the float32 state, returning
// the new param, m and v and their tolerances.
func adamW64(param, grad, m, v []float32, p kernels.AdamWParams) (np, nm, nv, tp, tm, tv []float64) {
	n := len(param)
	np, nm, nv = make([]float64, n), make([]float64, n), make([]float64, n)
	tp, tm, tv = make([]float64, n), make([]float64, n), make([]float64, n)
	b1, b2 := float64(p.Beta1), float64(p.Beta2)
	bc1 := 1 - math.Pow(b1, float64(p.Step))
	bc2 := 1 - math.Pow(b2, float64(p.Step))
	lr, wd, eps := float64(p.LR), float64(p.WeightDecay), float64(p.Eps)
	for i := range n {
		g, pi := float64(grad[i]), float64(param[i])
		nm[i] = b1*float64(m[i]) + (1-b1)*g
		nv[i] = b2*float64(v[i]) + (1-b2)*g*g
		magM := b1*math.Abs(float64(m[i])) + (1-b1)*math.Abs(g)
		tm[i] = tolOf(8, magM)
		tv[i] = tolOf(8, b2*float64(v[i])+(1-b2)*g*g)
		den := math.Sqrt(nv[i]/bc2) + eps
		upd := (nm[i]/bc1)/den + wd*pi
		np[i] = pi - lr*upd
		tp[i] = tolOf(32, math.Abs(pi)+lr*((math.Abs(nm[i])+magM)/bc1/den+math.Abs(wd*pi)))
	}
	return
}
