//go:build cuda

package cuda

import (
	"math"
	"slices"

	"github.com/humanllm/humanllm/kernels"
)

// The fused ops: each checks its arguments on the host (the shared checks
// of package kernels, so misuse panics exactly as in kernels/ref), copies
// its inputs to device memory, launches the kernels of kernels.cu, and
// copies the outputs back. See doc.go for what that costs.

const (
	elemThreads = 256
	maxElemGrid = 1 << 20 // grid-stride loops cover the rest
	attnQ       = 64      // ATT_Q in kernels.cu
	attnMaxSmem = 48 << 10
	normChunk   = 64 // rows per partial column sum
)

// rowThreads is the block size of a one-block-per-row kernel over n
// columns: a multiple of 32 (block reductions), at most 1024.
func rowThreads(n int) int {
	switch {
	case n >= 8192:
		return 1024
	case n >= 2048:
		return 512
	}
	return min(256, max(32, (n+31)/32*32))
}

func elemGrid(n int) int { return min(maxElemGrid, (n+elemThreads-1)/elemThreads) }

// RMSNorm implements kernels.Normer.
func (impl *Implementation) RMSNorm(y, rstd, x, w []float32, rows, n int, eps float32) {
	kernels.CheckRMSNorm(y, rstd, x, w, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	px, pw := s.up(x[:rows*n]), s.up(w[:n])
	py, pr := s.alloc(rows*n), s.alloc(rows)
	s.launch("rmsnorm_fwd", rows, 1, rowThreads(n), 0, py, pr, px, pw, i32(n), eps)
	s.down(y[:rows*n], py)
	s.down(rstd[:rows], pr)
}

// RMSNormBackward implements kernels.Normer.
func (impl *Implementation) RMSNormBackward(dx, dw, dy, x, w, rstd []float32, rows, n int) {
	kernels.CheckRMSNormBackward(dx, dw, dy, x, w, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	pdy, px, pw, pr := s.up(dy[:rows*n]), s.up(x[:rows*n]), s.up(w[:n]), s.up(rstd[:rows])
	pdw := s.up(dw[:n])
	pdx := s.alloc(rows * n)
	s.launch("rmsnorm_bwd_dx", rows, 1, rowThreads(n), 0, pdx, pdy, px, pw, pr, i32(n))
	s.colSums(pdw, 0, pdy, px, 0, pr, rows, n)
	s.down(dx[:rows*n], pdx)
	s.down(dw[:n], pdw)
}

// colSums adds the column sums of dy·(x−mean)·rstd to dw and of dy to db
// (db 0: none; mean 0: RMSNorm), in a fixed order: partial sums over chunks
// of rows, then the chunks in order.
func (s session) colSums(dw, db, dy, x, mean, rstd uintptr, rows, n int) {
	chunk := max(normChunk, (rows+65534)/65535)
	chunks := (rows + chunk - 1) / chunk
	pw := s.alloc(chunks * n)
	var pb uintptr
	if db != 0 {
		pb = s.alloc(chunks * n)
	}
	gx := (n + elemThreads - 1) / elemThreads
	s.launch("norm_dw_partial", gx, chunks, elemThreads, 0, pw, pb, dy, x, mean, rstd, i32(rows), i32(n), i32(chunk))
	s.launch("col_accumulate", gx, 1, elemThreads, 0, dw, pw, i32(chunks), i32(n))
	if db != 0 {
		s.launch("col_accumulate", gx, 1, elemThreads, 0, db, pb, i32(chunks), i32(n))
	}
}

// LayerNorm implements kernels.Normer.
func (impl *Implementation) LayerNorm(y, mean, rstd, x, w, b []float32, rows, n int, eps float32) {
	kernels.CheckLayerNorm(y, mean, rstd, x, w, b, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	px, pw := s.up(x[:rows*n]), s.up(w[:n])
	var pb uintptr
	if b != nil {
		pb = s.up(b[:n])
	}
	py, pm, pr := s.alloc(rows*n), s.alloc(rows), s.alloc(rows)
	s.launch("layernorm_fwd", rows, 1, rowThreads(n), 0, py, pm, pr, px, pw, pb, i32(n), eps)
	s.down(y[:rows*n], py)
	s.down(mean[:rows], pm)
	s.down(rstd[:rows], pr)
}

// LayerNormBackward implements kernels.Normer.
func (impl *Implementation) LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd []float32, rows, n int) {
	kernels.CheckLayerNormBackward(dx, dw, db, dy, x, w, mean, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	pdy, px, pw := s.up(dy[:rows*n]), s.up(x[:rows*n]), s.up(w[:n])
	pm, pr := s.up(mean[:rows]), s.up(rstd[:rows])
	pdw := s.up(dw[:n])
	var pdb uintptr
	if db != nil {
		pdb = s.up(db[:n])
	}
	pdx := s.alloc(rows * n)
	s.launch("layernorm_bwd_dx", rows, 1, rowThreads(n), 0, pdx, pdy, px, pw, pm, pr, i32(n))
	s.colSums(pdw, pdb, pdy, px, pm, pr, rows, n)
	s.down(dx[:rows*n], pdx)
	s.down(dw[:n], pdw)
	if db != nil {
		s.down(db[:n], pdb)
	}
}

// unary runs an elementwise kernel of the form f(out, in..., n).
func (impl *Implementation) unary(name string, out []float32, n int, in ...[]float32) {
	s := impl.begin(true)
	defer s.end()
	args := []any{s.alloc(n)}
	for _, x := range in {
		args = append(args, s.up(x[:n]))
	}
	args = append(args, int64(n))
	s.launch(name, elemGrid(n), 1, elemThreads, 0, args...)
	s.down(out[:n], args[0].(uintptr))
}

// GELU implements kernels.Activator.
func (impl *Implementation) GELU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	if n > 0 {
		impl.unary("gelu_fwd", y, n, x)
	}
}

// GELUBackward implements kernels.Activator.
func (impl *Implementation) GELUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	if n > 0 {
		impl.unary("gelu_bwd", dx, n, dy, x)
	}
}

// SiLU implements kernels.Activator.
func (impl *Implementation) SiLU(y, x []float32, n int) {
	kernels.CheckUnary(y, x, n)
	if n > 0 {
		impl.unary("silu_fwd", y, n, x)
	}
}

// SiLUBackward implements kernels.Activator.
func (impl *Implementation) SiLUBackward(dx, dy, x []float32, n int) {
	kernels.CheckUnaryBackward(dx, dy, x, n)
	if n > 0 {
		impl.unary("silu_bwd", dx, n, dy, x)
	}
}

// SwiGLU implements kernels.Activator.
func (impl *Implementation) SwiGLU(y, g, u []float32, n int) {
	kernels.CheckSwiGLU(y, g, u, n)
	if n > 0 {
		impl.unary("swiglu_fwd", y, n, g, u)
	}
}

// SwiGLUBackward implements kernels.Activator.
func (impl *Implementation) SwiGLUBackward(dg, du, dy, g, u []float32, n int) {
	kernels.CheckSwiGLUBackward(dg, du, dy, g, u, n)
	if n == 0 {
		return
	}
	s := impl.begin(true)
	defer s.end()
	pdg, pdu := s.alloc(n), s.alloc(n)
	s.launch("swiglu_bwd", elemGrid(n), 1, elemThreads, 0, pdg, pdu, s.up(dy[:n]), s.up(g[:n]), s.up(u[:n]), int64(n))
	s.down(dg[:n], pdg)
	s.down(du[:n], pdu)
}

// RoPE implements kernels.Roper.
func (impl *Implementation) RoPE(y, x []float32, p kernels.RoPEParams) {
	kernels.CheckRoPE(y, x, p)
	impl.rope(y, x, p, 1)
}

// RoPEBackward implements kernels.Roper.
func (impl *Implementation) RoPEBackward(dx, dy []float32, p kernels.RoPEParams) {
	kernels.CheckRoPEBackward(dx, dy, p)
	impl.rope(dx, dy, p, -1)
}

func (impl *Implementation) rope(y, x []float32, p kernels.RoPEParams, sign float32) {
	n := p.Tokens * p.Heads * p.HeadDim
	if n == 0 {
		return
	}
	half := p.HeadDim / 2
	maxPos := int(slices.Max(p.Pos[:p.Tokens]))
	tab := (maxPos + 1) * half // the table entries the positions use
	s := impl.begin(true)
	defer s.end()
	px, py := s.up(x[:n]), s.alloc(n)
	pp, pc, ps := s.upInt(p.Pos[:p.Tokens]), s.up(p.Cos[:tab]), s.up(p.Sin[:tab])
	il := int32(0)
	if p.Layout == kernels.RoPEInterleaved {
		il = 1
	}
	s.launch("rope", elemGrid(n/2), 1, elemThreads, 0, py, px, pp, pc, ps,
		i32(p.Tokens), i32(p.Heads), i32(p.HeadDim), il, sign)
	s.down(y[:n], py)
}

// Softmax implements kernels.Softmaxer.
func (impl *Implementation) Softmax(y, x []float32, rows, n int) {
	kernels.CheckSoftmax(y, x, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	px, py := s.up(x[:rows*n]), s.alloc(rows*n)
	s.launch("softmax_fwd", rows, 1, rowThreads(n), 0, py, px, i32(n))
	s.down(y[:rows*n], py)
}

// SoftmaxBackward implements kernels.Softmaxer.
func (impl *Implementation) SoftmaxBackward(dx, dy, y []float32, rows, n int) {
	kernels.CheckSoftmaxBackward(dx, dy, y, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	i32(rows)
	s := impl.begin(true)
	defer s.end()
	pdy, py, pdx := s.up(dy[:rows*n]), s.up(y[:rows*n]), s.alloc(rows*n)
	s.launch("softmax_bwd", rows, 1, rowThreads(n), 0, pdx, pdy, py, i32(n))
	s.down(dx[:rows*n], pdx)
}

// CrossEntropy implements kernels.Losser.
func (impl *Implementation) CrossEntropy(losses, logits []float32, targets []int32, n, v int) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	impl.crossEntropy(losses, logits, targets, n, v, 0, false)
}

// CrossEntropyGrad implements kernels.Losser.
func (impl *Implementation) CrossEntropyGrad(losses, logits []float32, targets []int32, n, v int, scale float32) {
	kernels.CheckCrossEntropy(losses, logits, targets, n, v)
	impl.crossEntropy(losses, logits, targets, n, v, scale, true)
}

func (impl *Implementation) crossEntropy(losses, logits []float32, targets []int32, n, v int, scale float32, grad bool) {
	if n == 0 {
		return
	}
	i32(n)
	s := impl.begin(true)
	defer s.end()
	pl, pt, pout := s.up(logits[:n*v]), s.upInt(targets[:n]), s.alloc(n)
	g := int32(0)
	if grad {
		g = 1
	}
	s.launch("cross_entropy", n, 1, rowThreads(v), 0, pout, pl, pt, i32(v), scale, g)
	s.down(losses[:n], pout)
	if grad {
		s.down(logits[:n*v], pl)
	}
}

// compactIDs returns the distinct ids in increasing order and, for each
// position i, the index of ids[i] among them.
func compactIDs(ids []int32) (uniq []int32, remap []int32) {
	uniq = slices.Clone(ids)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	remap = make([]int32, len(ids))
	for i, id := range ids {
		j, _ := slices.BinarySearch(uniq, id)
		remap[i] = int32(j)
	}
	return uniq, remap
}

// Embedding implements kernels.Embedder. Only the table rows the ids use
// are copied to the device (a table is often far larger than a batch).
func (impl *Implementation) Embedding(out, table []float32, ids []int32, n, dim int) {
	kernels.CheckEmbedding(out, table, ids, n, dim)
	if n == 0 || dim == 0 {
		return
	}
	uniq, remap := compactIDs(ids[:n])
	rows := make([]float32, len(uniq)*dim)
	for u, id := range uniq {
		copy(rows[u*dim:(u+1)*dim], table[int(id)*dim:])
	}
	i32(n)
	i32(dim)
	s := impl.begin(true)
	defer s.end()
	po := s.alloc(n * dim)
	s.launch("embedding_fwd", elemGrid(n*dim), 1, elemThreads, 0, po, s.up(rows), s.upInt(remap), i32(n), i32(dim))
	s.down(out[:n*dim], po)
}

// EmbeddingBackward implements kernels.Embedder. Each distinct id's row is
// owned by one block that adds its positions' gradients in increasing i,
// one float32 addition each: the same sums, bit for bit, as the sequential
// loop of kernels/ref. Only the rows the ids use travel.
func (impl *Implementation) EmbeddingBackward(dtable, dout []float32, ids []int32, n, dim int) {
	kernels.CheckEmbeddingBackward(dtable, dout, ids, n, dim)
	if n == 0 || dim == 0 {
		return
	}
	uniq, remap := compactIDs(ids[:n])
	// order: positions sorted by (compact id, i); seg[u]..seg[u+1] is id u.
	order := make([]int32, n)
	seg := make([]int32, len(uniq)+1)
	for _, u := range remap {
		seg[u+1]++
	}
	for u := range uniq {
		seg[u+1] += seg[u]
	}
	fill := slices.Clone(seg[:len(uniq)])
	for i, u := range remap {
		order[fill[u]] = int32(i)
		fill[u]++
	}
	rows := make([]float32, len(uniq)*dim)
	for u, id := range uniq {
		copy(rows[u*dim:(u+1)*dim], dtable[int(id)*dim:])
	}
	i32(n)
	i32(dim)
	s := impl.begin(true)
	defer s.end()
	pr := s.up(rows)
	gy := (dim + elemThreads - 1) / elemThreads
	s.launch("embedding_bwd", len(uniq), gy, elemThreads, 0, pr, s.up(dout[:n*dim]), s.upInt(order), s.upInt(seg), i32(dim))
	s.down(rows, pr)
	for u, id := range uniq {
		copy(dtable[int(id)*dim:int(id)*dim+dim], rows[u*dim:(u+1)*dim])
	}
}

// AdamW implements kernels.Optimizer, in double precision per element like
// kernels/ref.
func (impl *Implementation) AdamW(param, grad, m, v []float32, n int, p kernels.AdamWParams) {
	kernels.CheckAdamW(param, grad, m, v, n, p)
	if n == 0 {
		return
	}
	bc1 := 1 - math.Pow(float64(p.Beta1), float64(p.Step))
	bc2 := 1 - math.Pow(float64(p.Beta2), float64(p.Step))
	s := impl.begin(true)
	defer s.end()
	pp, pg, pm, pv := s.up(param[:n]), s.up(grad[:n]), s.up(m[:n]), s.up(v[:n])
	s.launch("adamw", elemGrid(n), 1, elemThreads, 0, pp, pg, pm, pv, int64(n),
		p.LR, p.Beta1, p.Beta2, p.Eps, p.WeightDecay, bc1, bc2)
	s.down(param[:n], pp)
	s.down(m[:n], pm)
	s.down(v[:n], pv)
}

// attnTile is the key (or query) tile KT of the attention kernels for head
// size d, given the floats of shared memory per tile row (perRow) and per
// tile (fixed): at most 32, and within 48 KiB.
func attnTile(d, perRow, fixed int) int {
	kt := min(32, attnMaxSmem/4/(perRow*d+fixed))
	if kt < 1 {
		panic("cuda: attention head size too large for 48 KiB of shared memory")
	}
	return kt
}

// attnUp copies q, k, v and Start (when set) to the device. q, k and v
// may have a row stride (p.Stride: the column blocks of a fused QKV
// projection); their device copies are contiguous [B,T,H,D] and
// [B,T,KVH,D], as the kernels read them.
func (s session) attnUp(q, k, v []float32, p kernels.AttentionParams) (pq, pk, pv, pst uintptr) {
	rows := p.B * p.T
	ldq, ldkv := p.Strides()
	up := func(x []float32, cols, ld int) uintptr {
		d := s.alloc(rows * cols)
		s.impl.drv.htod2D(d, x, rows, cols, ld)
		return d
	}
	pq, pk, pv = up(q, p.H*p.D, ldq), up(k, p.KVH*p.D, ldkv), up(v, p.KVH*p.D, ldkv)
	if p.Start != nil {
		pst = s.upInt(p.Start[:p.B*p.T])
	}
	return pq, pk, pv, pst
}

func attnEmpty(p kernels.AttentionParams) bool { return p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 }

// CausalAttention implements kernels.Attender: one thread per query, key
// tiles in shared memory, online softmax (kernels.cu, attn_fwd).
func (impl *Implementation) CausalAttention(out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttention(out, lse, q, k, v, p)
	if attnEmpty(p) {
		return
	}
	nq := p.B * p.T * p.H * p.D
	i32(nq)
	kt := attnTile(p.D, 2, 0)
	s := impl.begin(true)
	defer s.end()
	pq, pk, pv, pst := s.attnUp(q, k, v, p)
	po, pl := s.alloc(nq), s.alloc(p.B*p.H*p.T)
	s.launch("attn_fwd", p.B*p.H, (p.T+attnQ-1)/attnQ, attnQ, 4*2*kt*p.D,
		po, pl, pq, pk, pv, pst, i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(kt))
	s.down(out[:nq], po)
	s.down(lse[:p.B*p.H*p.T], pl)
}

// CausalAttentionBackward implements kernels.Attender: delta = Σ dout·out
// per query, then dq with one thread per query and dk, dv with one thread
// per key (each summing over the queries and heads that attend it in a
// fixed order: no atomics, deterministic).
func (impl *Implementation) CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, p)
	if attnEmpty(p) {
		return
	}
	nq, nkv, nl := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D, p.B*p.H*p.T
	i32(nq)
	ktQ := attnTile(p.D, 2, 0)
	ktKV := attnTile(p.D, 2, 3)
	s := impl.begin(true)
	defer s.end()
	pq, pk, pv, pst := s.attnUp(q, k, v, p)
	pdo, po, pl := s.up(dout[:nq]), s.up(out[:nq]), s.up(lse[:nl])
	pdelta, pdq, pdk, pdv := s.alloc(nl), s.alloc(nq), s.alloc(nkv), s.alloc(nkv)
	s.launch("attn_rowdot", elemGrid(nl), 1, elemThreads, 0, pdelta, pdo, po, i32(p.B), i32(p.T), i32(p.H), i32(p.D))
	gy := (p.T + attnQ - 1) / attnQ
	s.launch("attn_bwd_dq", p.B*p.H, gy, attnQ, 4*2*ktQ*p.D,
		pdq, pdo, pl, pdelta, pq, pk, pv, pst, i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(ktQ))
	s.launch("attn_bwd_dkv", p.B*p.KVH, gy, attnQ, 4*(2*ktKV*p.D+3*ktKV),
		pdk, pdv, pdo, pl, pdelta, pq, pk, pv, pst, i32(p.B), i32(p.T), i32(p.H), i32(p.KVH), i32(p.D), p.Scale, int32(ktKV))
	// With a row stride only the rows' elements are written, never the
	// gaps between them (the other blocks of a fused QKV gradient).
	rows := p.B * p.T
	ldq, ldkv := p.Strides()
	s.impl.drv.dtoh2D(dq, pdq, rows, p.H*p.D, ldq)
	s.impl.drv.dtoh2D(dk, pdk, rows, p.KVH*p.D, ldkv)
	s.impl.drv.dtoh2D(dv, pdv, rows, p.KVH*p.D, ldkv)
}
