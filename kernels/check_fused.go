package kernels

// Argument checks of the fused operations. Each takes exactly the arguments
// of the method it is named after and panics with one of the messages in
// errors_fused.go on the first violation, in the order: sizes (negative),
// structure (GQA ratio, RoPE head size and layout, AdamW step), slice lengths
// in argument order, then the contents of index arguments (targets, ids,
// positions, Start). An empty operation (a zero size that leaves nothing to
// compute) needs no slice elements and has its lengths and indices
// unchecked. Implementations call the check first, so they all reject misuse
// identically and before writing anything.

func checkLen(s []float32, n int, msg string) {
	if len(s) < n {
		panic(msg)
	}
}

func checkRowsN(rows, n int) bool {
	if rows < 0 {
		panic(RowsLT0)
	}
	if n < 0 {
		panic(NLT0)
	}
	return rows > 0 && n > 0
}

// CheckRMSNorm checks the arguments of Normer.RMSNorm.
func CheckRMSNorm(y, rstd, x, w []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(y, rows*n, ShortY)
	checkLen(rstd, rows, ShortRstd)
	checkLen(x, rows*n, ShortX)
	checkLen(w, n, ShortW)
}

// CheckRMSNormBackward checks the arguments of Normer.RMSNormBackward.
func CheckRMSNormBackward(dx, dw, dy, x, w, rstd []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(dx, rows*n, ShortDX)
	checkLen(dw, n, ShortDW)
	checkLen(dy, rows*n, ShortDY)
	checkLen(x, rows*n, ShortX)
	checkLen(w, n, ShortW)
	checkLen(rstd, rows, ShortRstd)
}

// CheckLayerNorm checks the arguments of Normer.LayerNorm; b may be nil.
func CheckLayerNorm(y, mean, rstd, x, w, b []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(y, rows*n, ShortY)
	checkLen(mean, rows, ShortMean)
	checkLen(rstd, rows, ShortRstd)
	checkLen(x, rows*n, ShortX)
	checkLen(w, n, ShortW)
	if b != nil {
		checkLen(b, n, ShortBias)
	}
}

// CheckLayerNormBackward checks the arguments of Normer.LayerNormBackward;
// db may be nil.
func CheckLayerNormBackward(dx, dw, db, dy, x, w, mean, rstd []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(dx, rows*n, ShortDX)
	checkLen(dw, n, ShortDW)
	if db != nil {
		checkLen(db, n, ShortDB)
	}
	checkLen(dy, rows*n, ShortDY)
	checkLen(x, rows*n, ShortX)
	checkLen(w, n, ShortW)
	checkLen(mean, rows, ShortMean)
	checkLen(rstd, rows, ShortRstd)
}

// CheckUnary checks the arguments of Activator.GELU and Activator.SiLU.
func CheckUnary(y, x []float32, n int) {
	if n < 0 {
		panic(NLT0)
	}
	checkLen(y, n, ShortY)
	checkLen(x, n, ShortX)
}

// CheckUnaryBackward checks the arguments of Activator.GELUBackward and
// Activator.SiLUBackward.
func CheckUnaryBackward(dx, dy, x []float32, n int) {
	if n < 0 {
		panic(NLT0)
	}
	checkLen(dx, n, ShortDX)
	checkLen(dy, n, ShortDY)
	checkLen(x, n, ShortX)
}

// CheckSwiGLU checks the arguments of Activator.SwiGLU.
func CheckSwiGLU(y, g, u []float32, n int) {
	if n < 0 {
		panic(NLT0)
	}
	checkLen(y, n, ShortY)
	checkLen(g, n, ShortG)
	checkLen(u, n, ShortU)
}

// CheckSwiGLUBackward checks the arguments of Activator.SwiGLUBackward.
func CheckSwiGLUBackward(dg, du, dy, g, u []float32, n int) {
	if n < 0 {
		panic(NLT0)
	}
	checkLen(dg, n, ShortDG)
	checkLen(du, n, ShortDU)
	checkLen(dy, n, ShortDY)
	checkLen(g, n, ShortG)
	checkLen(u, n, ShortU)
}

// CheckRoPE checks the arguments of Roper.RoPE: sizes non-negative, HeadDim
// even, a known layout, y and x holding Tokens·Heads·HeadDim elements, Pos
// Tokens entries, and every position p with 0 <= p and
// (p+1)·HeadDim/2 <= len(Cos), len(Sin).
func CheckRoPE(y, x []float32, p RoPEParams) { checkRoPE(y, x, p, ShortY, ShortX) }

// CheckRoPEBackward checks the arguments of Roper.RoPEBackward, as
// CheckRoPE with dx and dy.
func CheckRoPEBackward(dx, dy []float32, p RoPEParams) { checkRoPE(dx, dy, p, ShortDX, ShortDY) }

func checkRoPE(out, in []float32, p RoPEParams, shortOut, shortIn string) {
	if p.Tokens < 0 || p.Heads < 0 || p.HeadDim < 0 {
		panic(BadRoPEShape)
	}
	if p.HeadDim%2 != 0 {
		panic(OddHeadDim)
	}
	if p.Layout != RoPEHalf && p.Layout != RoPEInterleaved {
		panic(BadRoPELayout)
	}
	size := p.Tokens * p.Heads * p.HeadDim
	if size == 0 {
		return
	}
	checkLen(out, size, shortOut)
	checkLen(in, size, shortIn)
	if len(p.Pos) < p.Tokens {
		panic(ShortPos)
	}
	half := p.HeadDim / 2
	maxPos := min(len(p.Cos), len(p.Sin)) / half
	for _, pos := range p.Pos[:p.Tokens] {
		if pos < 0 || int(pos) >= maxPos {
			panic(BadPos)
		}
	}
}

// CheckSoftmax checks the arguments of Softmaxer.Softmax.
func CheckSoftmax(y, x []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(y, rows*n, ShortY)
	checkLen(x, rows*n, ShortX)
}

// CheckSoftmaxBackward checks the arguments of Softmaxer.SoftmaxBackward.
func CheckSoftmaxBackward(dx, dy, y []float32, rows, n int) {
	if !checkRowsN(rows, n) {
		return
	}
	checkLen(dx, rows*n, ShortDX)
	checkLen(dy, rows*n, ShortDY)
	checkLen(y, rows*n, ShortY)
}

// checkAttnShape checks the sizes and returns false when there is nothing to
// compute (B, T, H or D zero).
func checkAttnShape(p AttentionParams) bool {
	if p.B < 0 || p.T < 0 || p.H < 0 || p.KVH < 0 || p.D < 0 {
		panic(BadAttnShape)
	}
	if p.H > 0 && (p.KVH == 0 || p.H%p.KVH != 0) {
		panic(BadGQA)
	}
	if p.Stride < 0 || (p.Stride > 0 && p.Stride < p.H*p.D) {
		panic(BadAttnStride)
	}
	return p.B > 0 && p.T > 0 && p.H > 0 && p.D > 0
}

// attnLens are the slice lengths attention needs: the output (and dout),
// Q (and dQ), K and V (and dK, dV).
func attnLens(p AttentionParams) (nOut, nq, nkv int) {
	ldq, ldkv := p.Strides()
	rows := p.B * p.T
	return rows * p.H * p.D, (rows-1)*ldq + p.H*p.D, (rows-1)*ldkv + p.KVH*p.D
}

func checkStart(p AttentionParams) {
	if p.Start == nil {
		return
	}
	if len(p.Start) < p.B*p.T {
		panic(ShortStart)
	}
	for i, s := range p.Start[:p.B*p.T] {
		if s < 0 || int(s) > i%p.T {
			panic(BadStart)
		}
	}
}

// CheckCausalAttention checks the arguments of Attender.CausalAttention:
// sizes non-negative, H a multiple of KVH (KVH > 0 when H > 0), Stride 0
// or at least H·D, the slice lengths of the [B,T,H,D], [B,T,KVH,D] (with
// their row strides) and [B,H,T] tensors, and when Start is not nil, B·T
// entries with 0 <= Start[b·T+t] <= t.
func CheckCausalAttention(out, lse, q, k, v []float32, p AttentionParams) {
	if !checkAttnShape(p) {
		return
	}
	no, nq, nkv := attnLens(p)
	checkLen(out, no, ShortOut)
	checkLen(lse, p.B*p.H*p.T, ShortLse)
	checkLen(q, nq, ShortQ)
	checkLen(k, nkv, ShortK)
	checkLen(v, nkv, ShortV)
	checkStart(p)
}

// CheckCausalAttentionBackward checks the arguments of
// Attender.CausalAttentionBackward, as CheckCausalAttention.
func CheckCausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, p AttentionParams) {
	if !checkAttnShape(p) {
		return
	}
	no, nq, nkv := attnLens(p)
	checkLen(dq, nq, ShortDQ)
	checkLen(dk, nkv, ShortDK)
	checkLen(dv, nkv, ShortDV)
	checkLen(dout, no, ShortDOut)
	checkLen(out, no, ShortOut)
	checkLen(lse, p.B*p.H*p.T, ShortLse)
	checkLen(q, nq, ShortQ)
	checkLen(k, nkv, ShortK)
	checkLen(v, nkv, ShortV)
	checkStart(p)
}

// CheckCrossEntropy checks the arguments of Losser.CrossEntropy and
// Losser.CrossEntropyGrad: every target is IgnoreIndex or in [0, v).
func CheckCrossEntropy(losses, logits []float32, targets []int32, n, v int) {
	if n < 0 {
		panic(NLT0)
	}
	if v < 0 {
		panic(VLT0)
	}
	if n == 0 {
		return
	}
	checkLen(losses, n, ShortLosses)
	checkLen(logits, n*v, ShortLogits)
	if len(targets) < n {
		panic(ShortTargets)
	}
	for _, t := range targets[:n] {
		if t != IgnoreIndex && (t < 0 || int(t) >= v) {
			panic(BadTarget)
		}
	}
}

// CheckEmbedding checks the arguments of Embedder.Embedding: table holds at
// least one row and every id is in [0, len(table)/dim).
func CheckEmbedding(out, table []float32, ids []int32, n, dim int) {
	if !checkEmbed(n, dim) {
		return
	}
	checkLen(out, n*dim, ShortOut)
	checkLen(table, dim, ShortTable)
	checkIDs(ids, n, len(table)/dim)
}

// CheckEmbeddingBackward checks the arguments of Embedder.EmbeddingBackward,
// as CheckEmbedding with dtable for table.
func CheckEmbeddingBackward(dtable, dout []float32, ids []int32, n, dim int) {
	if !checkEmbed(n, dim) {
		return
	}
	checkLen(dtable, dim, ShortDTable)
	checkLen(dout, n*dim, ShortDOut)
	checkIDs(ids, n, len(dtable)/dim)
}

func checkEmbed(n, dim int) bool {
	if n < 0 {
		panic(NLT0)
	}
	if dim < 0 {
		panic(DimLT0)
	}
	return n > 0 && dim > 0
}

func checkIDs(ids []int32, n, rows int) {
	if len(ids) < n {
		panic(ShortIDs)
	}
	for _, id := range ids[:n] {
		if id < 0 || int(id) >= rows {
			panic(BadID)
		}
	}
}

// CheckAdamW checks the arguments of Optimizer.AdamW.
func CheckAdamW(param, grad, m, v []float32, n int, p AdamWParams) {
	if n < 0 {
		panic(NLT0)
	}
	if p.Step < 1 {
		panic(BadStep)
	}
	checkLen(param, n, ShortParam)
	checkLen(grad, n, ShortGrad)
	checkLen(m, n, ShortM)
	checkLen(v, n, ShortV)
}
