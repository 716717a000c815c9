package llama

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/model"
)

// Ops builds the pieces of the training graph. BuiltinOps composes them
// from gorgonia's built-in operations; an implementation backed by fused
// custom ops (kernels/gorgonia) can replace any of them. Shapes use N =
// B·T rows (row n is batch n/T, position n%T), D = Dim, H = NHeads, KVH =
// NKVHeads, hd = HeadDim.
type Ops interface {
	// Embedding gathers table [V, D] rows by ids (Int, [N]) into [N, D].
	Embedding(c *Ctx, table, ids *G.Node) (*G.Node, error)
	// Linear is x [N, in] times wᵀ for w [out, in], giving [N, out].
	Linear(c *Ctx, x, w *G.Node) (*G.Node, error)
	// RMSNorm normalises each row of x [N, D] and scales it by w [D]
	// (epsilon c.Config.RMSEps).
	RMSNorm(c *Ctx, x, w *G.Node) (*G.Node, error)
	// RoPE rotates x [N, heads·hd] by each row's position in
	// c.Config.RopeLayout.
	RoPE(c *Ctx, x *G.Node, heads int) (*G.Node, error)
	// Attention is causal grouped-query attention: q [N, H·hd], k and v
	// [N, KVH·hd] → [N, H·hd], scores scaled by 1/√hd, within each sequence
	// of the batch.
	Attention(c *Ctx, q, k, v *G.Node) (*G.Node, error)
	// SwiGLU is silu(g) ⊙ u for g, u [N, HiddenDim].
	SwiGLU(c *Ctx, g, u *G.Node) (*G.Node, error)
	// CrossEntropy is the mean of −log softmax(logits[n])[targets[n]] over
	// the rows whose target is not IgnoreIndex (0 when all are ignored);
	// logits [N, V], targets Int [N]. Returns a scalar.
	CrossEntropy(c *Ctx, logits, targets *G.Node) (*G.Node, error)
}

// Feeder is called before every run with the batch's ids and targets
// ([B·T] each, targets may hold IgnoreIndex) so that an op can fill input
// tensors it derives from them.
type Feeder func(ids, targets []int32) error

// Ctx is what an Ops implementation sees of the graph under construction.
type Ctx struct {
	G      *G.ExprGraph
	Config model.Config
	B, T   int
	Dtype  tensor.Dtype // tensor.Float32 or tensor.Float64

	// Pos and Start ([B·T] each) are the position of every token and the
	// row offset of the first token of its sample (what it may attend
	// from). Graph.Run sets the plain layout (Pos = t, Start = 0);
	// Graph.RunPacked sets those of packed samples. Ops read them at run
	// time and must keep the slices, not copies.
	Pos, Start []int32
	packed     bool // the current batch is not the plain layout

	feeders []Feeder
}

// N is the number of token rows, B·T.
func (c *Ctx) N() int { return c.B * c.T }

// OnFeed registers f to run before every graph run.
func (c *Ctx) OnFeed(f Feeder) { c.feeders = append(c.feeders, f) }

// Scalar is a constant of the graph's dtype.
func (c *Ctx) Scalar(v float64) *G.Node {
	if c.Dtype == tensor.Float64 {
		return G.NewConstant(v)
	}
	return G.NewConstant(float32(v))
}

// Input creates a named non-trainable input node holding data (float64
// values converted to the graph's dtype) with the given shape.
func (c *Ctx) Input(name string, shape []int, data []float64) *G.Node {
	var t *tensor.Dense
	if c.Dtype == tensor.Float64 {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	} else {
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return G.NewTensor(c.G, c.Dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// IntInput creates a named Int input node of length n and returns it with
// its backing slice (write into it to change the input between runs).
func (c *Ctx) IntInput(name string, n int) (*G.Node, []int) {
	data := make([]int, n)
	t := tensor.New(tensor.WithShape(n), tensor.WithBacking(data))
	return G.NewVector(c.G, tensor.Int, G.WithShape(n), G.WithName(name), G.WithValue(t)), data
}

// BuiltinOps implements Ops with gorgonia built-ins, avoiding the ones
// with wrong gradients in v0.9.18 (docs: shared/notes/engine.md):
//
//   - RMSNorm is x·Inverse(Sqrt(Mean(Square(x))+eps)), not InverseSqrt.
//   - Embedding is ByIndices along axis 0 of the 2-D table (the broken
//     scatter is the 1-D/innermost-axis path); the cross-entropy gather is
//     ByIndices on the log-probabilities reshaped to (N·V, 1).
//   - RoPE is x⊙cos + (x·R)⊙sin with precomputed [N·heads, hd] cos/sin
//     inputs and R the fixed signed permutation matrix of the layout
//     (rotate-half: (x·R)[j] = −x[j+hd/2], (x·R)[j+hd/2] = x[j]).
//   - Attention needs no K/V repetition: the G = H/KVH query heads sharing
//     a KV head are stacked along the query axis, so one batched matmul of
//     [B·KVH, G·T, hd] by [B·KVH, T, hd]ᵀ computes every score; a constant
//     [G·T, T] matrix adds −1e9 above the diagonal before SoftMax.
//
// A BuiltinOps caches per-graph inputs (RoPE tables, causal mask); it
// starts afresh when used with another Ctx.
type BuiltinOps struct {
	ctx  *Ctx
	rope map[int][2]*G.Node // heads → cos, sin inputs
	mask *G.Node
}

func (o *BuiltinOps) forCtx(c *Ctx) {
	if o.ctx != c {
		*o = BuiltinOps{ctx: c, rope: map[int][2]*G.Node{}}
		// The RoPE tables and the causal mask are built for the plain
		// layout only.
		c.OnFeed(func(_, _ []int32) error {
			if c.packed {
				return fmt.Errorf("llama: BuiltinOps cannot run packed batches (positions and attention starts per sample); use FusedOps")
			}
			return nil
		})
	}
}

var _ Ops = (*BuiltinOps)(nil)

// Embedding: ByIndices(table, ids, 0).
func (o *BuiltinOps) Embedding(c *Ctx, table, ids *G.Node) (*G.Node, error) {
	return G.ByIndices(table, ids, 0)
}

// Linear: x · Transpose(w).
func (o *BuiltinOps) Linear(c *Ctx, x, w *G.Node) (*G.Node, error) {
	wt, err := G.Transpose(w)
	if err != nil {
		return nil, err
	}
	return G.Mul(x, wt)
}

// RMSNorm: x · 1/sqrt(mean(x²)+eps) · w.
func (o *BuiltinOps) RMSNorm(c *Ctx, x, w *G.Node) (*G.Node, error) {
	n, d := x.Shape()[0], x.Shape()[1]
	var e errs
	sq := e.n(G.Square(x))
	ms := e.n(G.Mean(sq, 1))
	rs := e.n(G.Inverse(e.n(G.Sqrt(e.n(G.Add(ms, c.Scalar(c.Config.RMSEps)))))))
	rs = e.n(G.Reshape(rs, tensor.Shape{n, 1}))
	xn := e.n(G.BroadcastHadamardProd(x, rs, nil, []byte{1}))
	w2 := e.n(G.Reshape(w, tensor.Shape{1, d}))
	return e.ret(G.BroadcastHadamardProd(xn, w2, nil, []byte{0}))
}

// RoPE: x⊙cos + (x·R)⊙sin per head.
func (o *BuiltinOps) RoPE(c *Ctx, x *G.Node, heads int) (*G.Node, error) {
	cfg := c.Config
	hd := cfg.HeadDim()
	rows := c.N() * heads
	o.forCtx(c)
	cs, ok := o.rope[heads]
	if !ok {
		cos, sin := ropeTables64(c.T, hd, cfg.RopeTheta)
		half := hd / 2
		cd := make([]float64, rows*hd)
		sd := make([]float64, rows*hd)
		for r := range rows {
			pos := (r / heads) % c.T
			for i := range half {
				a, b := i, i+half
				if cfg.RopeLayout == model.RopeInterleaved {
					a, b = 2*i, 2*i+1
				}
				cv, sv := cos[pos*half+i], sin[pos*half+i]
				cd[r*hd+a], cd[r*hd+b] = cv, cv
				sd[r*hd+a], sd[r*hd+b] = sv, sv
			}
		}
		cs = [2]*G.Node{
			c.Input(fmt.Sprintf("rope_cos_%d", heads), []int{rows, hd}, cd),
			c.Input(fmt.Sprintf("rope_sin_%d", heads), []int{rows, hd}, sd),
		}
		o.rope[heads] = cs
	}
	var e errs
	xr := e.n(G.Reshape(x, tensor.Shape{rows, hd}))
	rot := e.n(G.Mul(xr, c.Input(fmt.Sprintf("rope_R_%d", heads), []int{hd, hd}, rotateMatrix(hd, cfg.RopeLayout))))
	y := e.n(G.Add(e.n(G.HadamardProd(xr, cs[0])), e.n(G.HadamardProd(rot, cs[1]))))
	return e.ret(G.Reshape(y, x.Shape().Clone()))
}

// rotateMatrix is R with (x·R) the partner of each element with the sign of
// the rotation: out[a] = −x[b], out[b] = x[a] for each pair (a, b).
func rotateMatrix(hd int, layout model.RopeLayout) []float64 {
	r := make([]float64, hd*hd)
	for i := range hd / 2 {
		a, b := i, i+hd/2
		if layout == model.RopeInterleaved {
			a, b = 2*i, 2*i+1
		}
		r[b*hd+a] = -1 // out[a] = -x[b]
		r[a*hd+b] = 1  // out[b] = x[a]
	}
	return r
}

// Attention: grouped heads stacked along the query axis, masked softmax.
func (o *BuiltinOps) Attention(c *Ctx, q, k, v *G.Node) (*G.Node, error) {
	cfg := c.Config
	B, T, hd := c.B, c.T, cfg.HeadDim()
	kvh := cfg.NKVHeads
	grp := cfg.NHeads / kvh
	o.forCtx(c)
	if o.mask == nil {
		m := make([]float64, grp*T*T)
		for g := range grp {
			for t := range T {
				for s := t + 1; s < T; s++ {
					m[(g*T+t)*T+s] = -1e9
				}
			}
		}
		o.mask = c.Input("causal_mask", []int{1, grp * T, T}, m)
	}
	var e errs
	// q [N, H·hd] = [B, T, KVH, G, hd] → [B, KVH, G, T, hd] → [B·KVH, G·T, hd]
	q5 := e.n(G.Reshape(q, tensor.Shape{B, T, kvh, grp, hd}))
	q3 := e.n(G.Reshape(e.n(G.Transpose(q5, 0, 2, 3, 1, 4)), tensor.Shape{B * kvh, grp * T, hd}))
	kv3 := func(x *G.Node) *G.Node {
		x4 := e.n(G.Reshape(x, tensor.Shape{B, T, kvh, hd}))
		return e.n(G.Reshape(e.n(G.Transpose(x4, 0, 2, 1, 3)), tensor.Shape{B * kvh, T, hd}))
	}
	k3, v3 := kv3(k), kv3(v)
	s := e.n(G.BatchedMatMul(q3, k3, false, true)) // [B·KVH, G·T, T]
	s = e.n(G.HadamardProd(s, c.Scalar(1/math.Sqrt(float64(hd)))))
	s = e.n(G.BroadcastAdd(s, o.mask, nil, []byte{0}))
	p := e.n(G.SoftMax(s))
	out := e.n(G.BatchedMatMul(p, v3)) // [B·KVH, G·T, hd]
	out = e.n(G.Reshape(out, tensor.Shape{B, kvh, grp, T, hd}))
	out = e.n(G.Transpose(out, 0, 3, 1, 2, 4)) // [B, T, KVH, G, hd]
	return e.ret(G.Reshape(out, tensor.Shape{B * T, cfg.NHeads * hd}))
}

// SwiGLU: g ⊙ sigmoid(g) ⊙ u.
func (o *BuiltinOps) SwiGLU(c *Ctx, g, u *G.Node) (*G.Node, error) {
	var e errs
	silu := e.n(G.HadamardProd(g, e.n(G.Sigmoid(g))))
	return e.ret(G.HadamardProd(silu, u))
}

// CrossEntropy: −Σ w_n · LogSoftMax(logits)[n, t_n] with w_n = 1/count for
// kept rows and 0 for ignored ones; the gather is ByIndices on the (N·V, 1)
// reshape at n·V + t_n (t_n = 0 for ignored rows).
func (o *BuiltinOps) CrossEntropy(c *Ctx, logits, targets *G.Node) (*G.Node, error) {
	n, v := logits.Shape()[0], logits.Shape()[1]
	idx, idxData := c.IntInput("ce_index", n)
	wts := c.Input("ce_weight", []int{n, 1}, make([]float64, n))
	wData := wts.Value().Data()
	c.OnFeed(func(_, tg []int32) error {
		count := 0
		for _, t := range tg {
			if t != IgnoreIndex {
				count++
			}
		}
		for i, t := range tg {
			w := 0.0
			idxData[i] = i * v
			if t != IgnoreIndex {
				if t < 0 || int(t) >= v {
					return fmt.Errorf("llama: target %d outside vocabulary [0, %d)", t, v)
				}
				idxData[i] += int(t)
				w = 1 / float64(count)
			}
			switch d := wData.(type) {
			case []float32:
				d[i] = float32(w)
			case []float64:
				d[i] = w
			}
		}
		return nil
	})
	var e errs
	lp := e.n(G.LogSoftMax(logits, 1))
	flat := e.n(G.Reshape(lp, tensor.Shape{n * v, 1}))
	picked := e.n(G.ByIndices(flat, idx, 0)) // [N, 1]
	return e.ret(G.Neg(e.n(G.Sum(e.n(G.HadamardProd(picked, wts))))))
}

// errs threads the first error through a chain of graph calls.
type errs struct{ err error }

func (e *errs) n(n *G.Node, err error) *G.Node {
	if e.err == nil && err != nil {
		e.err = err
	}
	return n
}

func (e *errs) ret(n *G.Node, err error) (*G.Node, error) {
	if e.err != nil {
		return nil, e.err
	}
	return n, err
}
