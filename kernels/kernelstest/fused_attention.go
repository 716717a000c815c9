package kernelstest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// attnCase is one attention call.
type attnCase struct {
	b, t, h, kvh, d int
	scale           float32 // 0: 1/√d
	start           string  // "", "packed", "window"
	nanQuery        bool    // a NaN in one query
}

func (c attnCase) params(rng *rand.Rand) kernels.AttentionParams {
	p := kernels.AttentionParams{B: c.b, T: c.t, H: c.h, KVH: c.kvh, D: c.d, Scale: c.scale}
	if p.Scale == 0 {
		p.Scale = float32(1 / math.Sqrt(float64(c.d)))
	}
	switch c.start {
	case "packed":
		// Samples of random lengths packed back to back in each row.
		p.Start = make([]int32, c.b*c.t)
		for b := range c.b {
			s0 := 0
			for t := range c.t {
				if t > s0 && rng.IntN(6) == 0 {
					s0 = t
				}
				p.Start[b*c.t+t] = int32(s0)
			}
		}
	case "window":
		// Sliding-window attention: not a packing, but valid Start.
		p.Start = make([]int32, c.b*c.t+3)
		for b := range c.b {
			for t := range c.t {
				p.Start[b*c.t+t] = int32(max(0, t-5-b))
			}
		}
	}
	return p
}

// attnCases are the shapes TestCausalAttention runs.
func attnCases() []attnCase {
	var cs []attnCase
	gqa := [][2]int{{1, 1}, {2, 1}, {4, 1}, {4, 2}, {3, 3}}
	ds := []int{16, 7, 64, 8}
	starts := []string{"", "packed", "window"}
	i := 0
	for _, t := range []int{1, 3, 17, 64, 65, 130} {
		for _, g := range gqa {
			d := ds[i%len(ds)]
			if t == 130 && d == 64 {
				d = 32
			}
			cs = append(cs, attnCase{b: 1 + i%2, t: t, h: g[0], kvh: g[1], d: d, start: starts[i%3]})
			i++
		}
	}
	cs = append(cs,
		attnCase{b: 2, t: 70, h: 2, kvh: 1, d: 16, scale: 1.5},    // peaky softmax
		attnCase{b: 1, t: 40, h: 2, kvh: 2, d: 8, scale: -0.3},    // negative scale
		attnCase{b: 2, t: 33, h: 4, kvh: 2, d: 9, nanQuery: true}, // NaN stays in its query
		attnCase{b: 1, t: 200, h: 1, kvh: 1, d: 4, start: "packed"},
		// Long rows: several key tiles per query in tiled implementations
		// (online softmax rescaling), several query tiles per key.
		attnCase{b: 1, t: 600, h: 2, kvh: 1, d: 8, start: "packed"},
		attnCase{b: 1, t: 520, h: 1, kvh: 1, d: 16},
		attnCase{b: 2, t: 300, h: 2, kvh: 2, d: 5, start: "window"},
		attnCase{b: 1, t: 1100, h: 1, kvh: 1, d: 3, scale: 2},
		// Many (batch, KV head) pairs: implementations may pick another
		// strategy for those.
		attnCase{b: 4, t: 300, h: 8, kvh: 8, d: 8, start: "packed"},
		attnCase{b: 8, t: 70, h: 8, kvh: 4, d: 4, start: "window"},
		attnCase{b: 16, t: 20, h: 4, kvh: 2, d: 16},
	)
	return cs
}

// TestCausalAttention checks Attender.CausalAttention and
// CausalAttentionBackward against float64 attention (see the package
// documentation for the tolerance), including GQA, packed samples and
// sliding windows through Start, and finite differences on small shapes.
func TestCausalAttention(t *testing.T, impl kernels.Attender) {
	rng := seeded(t.Name())
	for i, c := range attnCases() {
		if !runAttnCase(t, impl, c, extraFor(i), rng) {
			return
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		for _, c := range []attnCase{
			{b: 1, t: 5, h: 2, kvh: 1, d: 4, start: "packed"},
			{b: 2, t: 4, h: 4, kvh: 2, d: 3},
			{b: 1, t: 9, h: 1, kvh: 1, d: 5, start: "window", scale: 0.8},
		} {
			attnFD(t, impl, c, rng)
		}
	})
	t.Run("Stride", func(t *testing.T) {
		for i, c := range []attnCase{
			{b: 2, t: 17, h: 2, kvh: 1, d: 8, start: "packed"},
			{b: 1, t: 130, h: 4, kvh: 2, d: 16, start: "window"},
			{b: 8, t: 70, h: 4, kvh: 4, d: 8}, // many (batch, KV head) pairs
			{b: 2, t: 300, h: 3, kvh: 3, d: 5},
		} {
			if !attnStride(t, impl, c, i%3, rng) {
				return
			}
		}
	})
	t.Run("Empty", func(t *testing.T) {
		impl.CausalAttention(nil, nil, nil, nil, nil, kernels.AttentionParams{B: 0, T: 5, H: 2, KVH: 1, D: 4})
		impl.CausalAttention(nil, nil, nil, nil, nil, kernels.AttentionParams{B: 2, T: 0, H: 2, KVH: 1, D: 4})
		impl.CausalAttentionBackward(nil, nil, nil, nil, nil, nil, nil, nil, nil, kernels.AttentionParams{B: 2, T: 3, H: 2, KVH: 1, D: 0})
	})
}

func runAttnCase(t *testing.T, impl kernels.Attender, c attnCase, ex int, rng *rand.Rand) bool {
	t.Helper()
	p := c.params(rng)
	name := shapeName("B%d_T%d_H%d_KVH%d_D%d_scale%g_%s", c.b, c.t, c.h, c.kvh, c.d, p.Scale, c.start)
	nq, nkv, nl := c.b*c.t*c.h*c.d, c.b*c.t*c.kvh*c.d, c.b*c.h*c.t
	q, k, v := newVec(nq, ex).uniform(rng, -1, 1), newVec(nkv, ex).uniform(rng, -1, 1), newVec(nkv, ex).uniform(rng, -1, 1)
	if c.nanQuery {
		q.data[((1*c.t+7)*c.h+1)*c.d+2] = nanF32()
		name += "_nan"
	}
	out, lse := newVec(nq, ex).fill(nanF32()), newVec(nl, ex).fill(nanF32())
	for _, x := range []*vec{q, k, v, out, lse} {
		x.snap()
	}
	want := attention64(q.f64(), k.f64(), v.f64(), p)
	impl.CausalAttention(out.data, lse.data, q.data, k.data, v.data, p)
	if !q.unchanged(t, name+": q") || !k.unchanged(t, name+": k") || !v.unchanged(t, name+": v") ||
		!out.guards(t, name+": out") || !lse.guards(t, name+": lse") ||
		!compare(t, name+": out", out.el(), want.out, want.tolOut) || !compare(t, name+": lse", lse.el(), want.lse, want.tolLse) {
		return false
	}
	if c.nanQuery {
		return true
	}
	dout := newVec(nq, ex).uniform(rng, -1, 1)
	dq, dk, dv := newVec(nq, ex).fill(nanF32()), newVec(nkv, ex).fill(nanF32()), newVec(nkv, ex).fill(nanF32())
	for _, x := range []*vec{dout, out, lse, dq, dk, dv} {
		x.snap()
	}
	g := attentionBack64(dout.f64(), q.f64(), k.f64(), v.f64(), p)
	impl.CausalAttentionBackward(dq.data, dk.data, dv.data, dout.data, out.data, lse.data, q.data, k.data, v.data, p)
	return q.unchanged(t, name+": bwd q") && k.unchanged(t, name+": bwd k") && v.unchanged(t, name+": bwd v") &&
		dout.unchanged(t, name+": dout") && out.unchanged(t, name+": bwd out") && lse.unchanged(t, name+": bwd lse") &&
		dq.guards(t, name+": dq") && dk.guards(t, name+": dk") && dv.guards(t, name+": dv") &&
		compare(t, name+": dq", dq.el(), g.dq, g.tolDq) && compare(t, name+": dk", dk.el(), g.dk, g.tolDk) &&
		compare(t, name+": dv", dv.el(), g.dv, g.tolDv)
}

// attnFD checks the backward against finite differences of float64
// attention: L = Σ R·out, R the dout handed to the backward.
func attnFD(t *testing.T, impl kernels.Attender, c attnCase, rng *rand.Rand) {
	p := c.params(rng)
	nq, nkv := c.b*c.t*c.h*c.d, c.b*c.t*c.kvh*c.d
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(2*rng.Float64() - 1)
		}
		return x
	}
	q, k, v, r := rnd(nq), rnd(nkv), rnd(nkv), rnd(nq)
	out, lse := make([]float32, nq), make([]float32, c.b*c.h*c.t)
	impl.CausalAttention(out, lse, q, k, v, p)
	dq, dk, dv := make([]float32, nq), make([]float32, nkv), make([]float32, nkv)
	impl.CausalAttentionBackward(dq, dk, dv, r, out, lse, q, k, v, p)
	q64, k64, v64, r64 := f64s(q), f64s(k), f64s(v), f64s(r)
	L := func() float64 { return dot64(r64, attention64(q64, k64, v64, p).out) }
	g := attentionBack64(r64, q64, k64, v64, p)
	name := shapeName("B%d_T%d_H%d_KVH%d_D%d_%s", c.b, c.t, c.h, c.kvh, c.d, c.start)
	compareFD(t, name+": dq", dq, fdGrad(q64, L), g.tolDq)
	compareFD(t, name+": dk", dk, fdGrad(k64, L), g.tolDk)
	compareFD(t, name+": dv", dv, fdGrad(v64, L), g.tolDv)
}

// attnStride runs c with q, k and v as the column blocks of one fused
// [B·T, (H+2·KVH)·D+pad] matrix (Stride set), and dq, dk, dv likewise, and
// requires bit for bit the results of the contiguous call (checked against
// the oracle by TestCausalAttention's other cases) and untouched padding.
func attnStride(t *testing.T, impl kernels.Attender, c attnCase, pad int, rng *rand.Rand) bool {
	t.Helper()
	p := c.params(rng)
	name := shapeName("stride B%d_T%d_H%d_KVH%d_D%d_pad%d_%s", c.b, c.t, c.h, c.kvh, c.d, pad, c.start)
	rows, wq, wkv := c.b*c.t, c.h*c.d, c.kvh*c.d
	ld := wq + 2*wkv + pad
	nq, nkv, nl := rows*wq, rows*wkv, c.b*c.h*c.t
	q, k, v := newVec(nq, 0).uniform(rng, -1, 1), newVec(nkv, 0).uniform(rng, -1, 1), newVec(nkv, 0).uniform(rng, -1, 1)
	dout := newVec(nq, 0).uniform(rng, -1, 1)
	// The contiguous call.
	out, lse := make([]float32, nq), make([]float32, nl)
	dq, dk, dv := make([]float32, nq), make([]float32, nkv), make([]float32, nkv)
	impl.CausalAttention(out, lse, q.el(), k.el(), v.el(), p)
	impl.CausalAttentionBackward(dq, dk, dv, dout.el(), out, lse, q.el(), k.el(), v.el(), p)
	// The fused one: padding and the guard after the last row are NaN.
	fuse := func(parts ...[]float32) *vec {
		f := newVec(rows*ld, 5).fill(nanF32())
		for r := range rows {
			off := r * ld
			for i, x := range parts {
				w := []int{wq, wkv, wkv}[i]
				if x != nil {
					copy(f.data[off:off+w], x[r*w:(r+1)*w])
				}
				off += w
			}
		}
		return f
	}
	qkv := fuse(q.el(), k.el(), v.el())
	qkv.snap()
	ps := p
	ps.Stride = ld
	sout, slse := newVec(nq, 3).fill(nanF32()), newVec(nl, 3).fill(nanF32())
	sout.snap()
	slse.snap()
	impl.CausalAttention(sout.data, slse.data, qkv.data, qkv.data[wq:], qkv.data[wq+wkv:], ps)
	if !qkv.unchanged(t, name+": qkv") || !sout.guards(t, name+": out") || !slse.guards(t, name+": lse") ||
		!bitsEqual(t, name+": out", sout.el(), out) || !bitsEqual(t, name+": lse", slse.el(), lse) {
		return false
	}
	dqkv := fuse(nil, nil, nil)
	dqkv.snap()
	impl.CausalAttentionBackward(dqkv.data, dqkv.data[wq:], dqkv.data[wq+wkv:], dout.el(), sout.data, slse.data, qkv.data, qkv.data[wq:], qkv.data[wq+wkv:], ps)
	want := fuse(dq, dk, dv)
	return qkv.unchanged(t, name+": bwd qkv") && dqkv.guards(t, name+": dqkv") && bitsEqual(t, name+": dqkv", dqkv.data, want.data)
}

// bitsEqual reports, as an error, the first element where got and want
// differ in their bits (NaN padding included).
func bitsEqual(t testing.TB, name string, got, want []float32) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d elements, want %d", name, len(got), len(want))
		return false
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s: element %d is %v, want exactly %v", name, i, got[i], want[i])
			return false
		}
	}
	return true
}
