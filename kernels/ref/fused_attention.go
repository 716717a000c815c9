package ref

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// attn holds the index arithmetic of AttentionParams.
type attn struct {
	kernels.AttentionParams
	ldq, ldkv int // row strides of q and of k, v
}

func newAttn(p kernels.AttentionParams) attn {
	a := attn{AttentionParams: p}
	a.ldq, a.ldkv = p.Strides()
	return a
}

func (a attn) oOff(b, t, h int) int   { return ((b*a.T+t)*a.H + h) * a.D } // out, dout
func (a attn) qOff(b, t, h int) int   { return (b*a.T+t)*a.ldq + h*a.D }
func (a attn) kvOff(b, t, h int) int  { return (b*a.T+t)*a.ldkv + h*a.D }
func (a attn) lseOff(b, h, t int) int { return (b*a.H+h)*a.T + t }
func (a attn) start(b, t int) int {
	if a.Start == nil {
		return 0
	}
	return int(a.Start[b*a.T+t])
}

func (a attn) dot(x []float32, i int, y []float32, j int) float64 {
	var s float64
	for d := range a.D {
		s += float64(x[i+d]) * float64(y[j+d])
	}
	return s
}

// CausalAttention implements kernels.Attender by materialising each query's
// row of scores: s_j = Scale·q·k_j for Start <= j <= t, p = softmax(s),
// out = Σ p_j v_j, lse = log Σ exp(s_j), all in float64.
func (Implementation) CausalAttention(out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttention(out, lse, q, k, v, p)
	if p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 {
		return
	}
	a := newAttn(p)
	group := p.H / p.KVH
	s := make([]float64, p.T)
	o := make([]float64, p.D)
	for b := range p.B {
		for h := range p.H {
			kh := h / group
			for t := range p.T {
				qi, lo := a.qOff(b, t, h), a.start(b, t)
				m := math.Inf(-1)
				for j := lo; j <= t; j++ {
					s[j] = float64(p.Scale) * a.dot(q, qi, k, a.kvOff(b, j, kh))
					m = math.Max(m, s[j])
				}
				var sum float64
				clear(o)
				for j := lo; j <= t; j++ {
					e := math.Exp(s[j] - m)
					sum += e
					vj := a.kvOff(b, j, kh)
					for d := range p.D {
						o[d] += e * float64(v[vj+d])
					}
				}
				oi := a.oOff(b, t, h)
				for d := range p.D {
					out[oi+d] = float32(o[d] / sum)
				}
				lse[a.lseOff(b, h, t)] = float32(m + math.Log(sum))
			}
		}
	}
}

// CausalAttentionBackward implements kernels.Attender: with p_j =
// exp(s_j − lse) recomputed from the saved lse, dP_j = dout·v_j and
// D = Σ p_j dP_j (out is not read), dS_j = p_j (dP_j − D), and
// dq = Scale Σ_j dS_j k_j, dk_j += Scale dS_j q, dv_j += p_j dout, summed
// in float64 over queries and the query heads sharing a KV head.
func (Implementation) CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, p)
	if p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 {
		return
	}
	a := newAttn(p)
	group := p.H / p.KVH
	// float64 accumulators in the contiguous layouts
	nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
	dq64, dk64, dv64 := make([]float64, nq), make([]float64, nkv), make([]float64, nkv)
	c := newAttn(kernels.AttentionParams{B: p.B, T: p.T, H: p.H, KVH: p.KVH, D: p.D})
	pr, dp := make([]float64, p.T), make([]float64, p.T)
	scale := float64(p.Scale)
	for b := range p.B {
		for h := range p.H {
			kh := h / group
			for t := range p.T {
				qi, oi, ci, lo := a.qOff(b, t, h), a.oOff(b, t, h), c.qOff(b, t, h), a.start(b, t)
				l := float64(lse[a.lseOff(b, h, t)])
				var dsum float64
				for j := lo; j <= t; j++ {
					kj := a.kvOff(b, j, kh)
					pr[j] = math.Exp(scale*a.dot(q, qi, k, kj) - l)
					dp[j] = a.dot(dout, oi, v, kj)
					dsum += pr[j] * dp[j]
				}
				for j := lo; j <= t; j++ {
					kj, cj := a.kvOff(b, j, kh), c.kvOff(b, j, kh)
					ds := scale * pr[j] * (dp[j] - dsum)
					for d := range p.D {
						dq64[ci+d] += ds * float64(k[kj+d])
						dk64[cj+d] += ds * float64(q[qi+d])
						dv64[cj+d] += pr[j] * float64(dout[oi+d])
					}
				}
			}
		}
	}
	for b := range p.B {
		for t := range p.T {
			for h := range p.H {
				for d := range p.D {
					dq[a.qOff(b, t, h)+d] = float32(dq64[c.qOff(b, t, h)+d])
				}
			}
			for h := range p.KVH {
				for d := range p.D {
					dk[a.kvOff(b, t, h)+d] = float32(dk64[c.kvOff(b, t, h)+d])
					dv[a.kvOff(b, t, h)+d] = float32(dv64[c.kvOff(b, t, h)+d])
				}
			}
		}
	}
}
