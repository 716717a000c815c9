package cpu

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// Tiled causal attention (FlashAttention's algorithm on the CPU).
//
// Forward: one work item per (batch, head, block of attnBlock queries),
// heaviest (last) blocks first. The item walks the key blocks its queries
// can see; for each it computes the score tile S = Scale·Q·Kᵀ with the
// variant's SGEMM micro-kernel, masks it (keys past the query or before its
// Start), updates each row's running maximum m and sum l of the online
// softmax (rescaling the output accumulator by e^(m_old−m_new)), and
// accumulates P·V. At the end out = O/l and lse = m + log l. Only one
// attnBlock² tile of scores exists per item at a time.
//
// Backward, from lse (so no softmax statistics are recomputed) and
// D = rowsum(dout ⊙ out): P = e^(S−lse) and dS = P ⊙ (dout·Vᵀ − D) are
// recomputed per tile, with no cross-thread reduction. With many (batch,
// KV head) pairs (onePassUnits), one item per pair walks its key blocks and
// the query tiles that see them, accumulating dV = Σ Pᵀ·dout and
// dK = Scale·Σ dSᵀ·Q per key block and dQ = Scale·Σ dS·K for the whole
// row. With few pairs, to keep threads busy, two passes over finer items:
// one item per (batch, KV head, key block) for dK and dV, one per (batch,
// head, query block) for dQ, each recomputing the tiles it needs. Either
// way each output element is summed by one item in a fixed order, whatever
// the number of threads.

// attnBlock is the query block size, and the key block size of the
// backward; fwdKeyBlock is the forward's key block size.
const (
	attnBlock   = 64
	fwdKeyBlock = 256
)

type attnArgs struct {
	kernels.AttentionParams
	group     int
	ldq, ldkv int // row strides of q (and dq) and of k, v (and dk, dv)
	ldo       int // row stride of out and dout: H·D
	v         *variant
	o         *vecOps
}

func (a *attnArgs) start(b, t int) int {
	if a.Start == nil {
		return 0
	}
	return int(a.Start[b*a.T+t])
}

// minStart is the smallest Start of queries [t0, t1) of row b.
func (a *attnArgs) minStart(b, t0, t1 int) int {
	if a.Start == nil {
		return 0
	}
	m := t1
	for _, s := range a.Start[b*a.T+t0 : b*a.T+t1] {
		m = min(m, int(s))
	}
	return m
}

// gemm runs one tile product C = alpha·op(A)·op(B) + beta·C (k > 0) on the
// calling goroutine.
func (a *attnArgs) gemm(ws *workspace, tA, tB kernels.Transpose, m, n, k int, alpha float32, x []float32, ldx int, y []float32, ldy int, beta float32, c []float32, ldc int) {
	g := gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: x, lda: ldx, b: y, ldb: ldy, beta: beta, c: c, ldc: ldc, batch: 1, variant: a.v}
	a.v.gemm(ws, &g, 0, 0, 0, 0, m, 0, n)
}

func (impl Implementation) attnArgs(p kernels.AttentionParams) *attnArgs {
	a := &attnArgs{AttentionParams: p, group: p.H / p.KVH, ldo: p.H * p.D, v: impl.variant(), o: impl.ops()}
	a.ldq, a.ldkv = p.Strides()
	return a
}

// attnWork estimates a call's work for parFor (about one unit per 16
// flops).
func attnWork(p kernels.AttentionParams) int {
	return p.B * p.H * p.T * (p.T + 1) / 2 * p.D / 4
}

// CausalAttention implements kernels.Attender.
func (impl Implementation) CausalAttention(out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttention(out, lse, q, k, v, p)
	if p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 {
		return
	}
	a := impl.attnArgs(p)
	bh := p.B * p.H
	nqb := (p.T + attnBlock - 1) / attnBlock
	if p.T <= fwdKeyBlock && bh >= fwdUnits {
		// One item per (batch, head): its keys and values packed once for
		// all its query blocks.
		parFor(bh, attnWork(p), func(ws *workspace, j int) {
			a.forwardUnit(ws, out, lse, q, k, v, j/p.H, j%p.H)
		})
		return
	}
	parFor(bh*nqb, attnWork(p), func(ws *workspace, i int) {
		qb, j := nqb-1-i/bh, i%bh
		a.forward(ws, out, lse, q, k, v, j/p.H, j%p.H, qb*attnBlock, min(p.T, (qb+1)*attnBlock))
	})
}

// fwdUnits is the number of (batch, head) pairs from which rows of at most
// fwdKeyBlock tokens run one forward item per pair (forwardUnit) rather
// than one per query block: enough items to keep the threads busy. Both
// compute each output with the same products in the same order.
const fwdUnits = 8

// forwardUnit computes out and lse for all queries of head h in row b
// (T <= fwdKeyBlock: one key tile per query block, as in forward). Kᵀ and
// V are packed once, whole, and each query block's products read the
// slivers of its keys [s0, t1), s0 its lowest Start rounded down to a
// sliver (the keys below it are masked, their probabilities exactly 0).
func (a *attnArgs) forwardUnit(ws *workspace, out, lse, q, k, v []float32, b, h int) {
	T, H, D := a.T, a.H, a.D
	vr := a.v
	nr := vr.nr
	kvOff := b*T*a.ldkv + h/a.group*D
	ks, vs := k[kvOff:], v[kvOff:]
	tPad, dPad := (T+nr-1)/nr*nr, (D+nr-1)/nr*nr
	packed := alignedBuf(&ws.b, tPad*D+dPad*T)
	kp, vp := packed[:tPad*D], packed[tPad*D:]
	vr.packB(kp, kernels.Trans, ks, a.ldkv, 0, D, 0, T)   // Kᵀ: D×T, slivers of nr keys
	vr.packB(vp, kernels.NoTrans, vs, a.ldkv, 0, T, 0, D) // V: T×D, slivers of nr columns
	const bq = attnBlock
	buf := getScratch(bq*tPad + bq*D + 2*bq)
	sc := *buf
	S, O := sc[:bq*tPad], sc[bq*tPad:bq*tPad+bq*D]
	mrow, lrow := sc[bq*tPad+bq*D:bq*tPad+bq*D+bq], sc[bq*tPad+bq*D+bq:]
	o := a.o
	for t0 := 0; t0 < T; t0 += bq {
		t1 := min(T, t0+bq)
		mq := t1 - t0
		s0 := a.minStart(b, t0, t1) / nr * nr
		nk := t1 - s0
		// S = Scale·Q·Kᵀ over keys [s0, t1)
		ap := a.packA(ws, q[(b*T+t0)*a.ldq+h*D:], a.ldq, mq, D)
		a.gemmPacked(ws, mq, nk, D, a.Scale, ap, kp[s0/nr*nr*D:], nr*D, 0, S, tPad)
		clear(O[:mq*D])
		for i := range mq {
			t := t0 + i
			row := S[i*tPad : i*tPad+nk]
			jlo, jhi := max(a.start(b, t)-s0, 0), t-s0+1
			seen := row[jlo:jhi]
			m := o.max(seen)
			sum := o.expSum(seen, seen, m)
			clear(row[:jlo])
			clear(row[jhi:])
			mrow[i], lrow[i] = m, sum
		}
		// O = P·V over keys [s0, t1)
		ap = a.packA(ws, S, tPad, mq, nk)
		a.gemmPacked(ws, mq, D, nk, 1, ap, vp[s0*nr:], nr*T, 1, O, D)
		for i := range mq {
			t := t0 + i
			qi := ((b*T+t)*H + h) * D
			o.scale(out[qi:qi+D], O[i*D:i*D+D], 1/lrow[i])
			lse[(b*H+h)*T+t] = mrow[i] + float32(math.Log(float64(lrow[i])))
		}
	}
	putScratch(buf)
}

// packA packs the m×k matrix x (NoTrans, leading dimension ldx) into
// ws.a as the variant's A slivers.
func (a *attnArgs) packA(ws *workspace, x []float32, ldx, m, k int) []float32 {
	mr := a.v.mr
	ap := alignedBuf(&ws.a, k*((m+mr-1)/mr*mr))
	a.v.packA(ap, kernels.NoTrans, x, ldx, 0, m, 0, k)
	return ap
}

// gemmPacked computes C[0:m, 0:n] = alpha·A·B + beta·C (C not read when
// beta is 0) from packed operands: ap holds A's m rows in mr-row slivers
// of k steps, back to back; bp B's n columns in nr-column slivers of k
// steps, bStride elements apart. It runs the same micro-kernel calls, in
// the same order, as the variant's gemm on the same operands.
func (a *attnArgs) gemmPacked(ws *workspace, m, n, k int, alpha float32, ap, bp []float32, bStride int, beta float32, c []float32, ldc int) {
	vr := a.v
	nr := vr.nr
	g := gemmArgs{m: m, n: n, k: k, alpha: alpha, beta: beta, ldc: ldc, batch: 1, variant: vr}
	for jr := 0; jr < n; jr += nr {
		off := jr / nr * bStride
		vr.column(ws, &g, c, ap, bp[off:off+k*nr], 0, m, jr, min(nr, n-jr), k, beta)
	}
}

// forward computes out and lse for queries [t0, t1) of head h in row b.
func (a *attnArgs) forward(ws *workspace, out, lse, q, k, v []float32, b, h, t0, t1 int) {
	const bk = fwdKeyBlock
	T, H, D := a.T, a.H, a.D
	mq, kh := t1-t0, h/a.group
	ldq, ldk := a.ldq, a.ldkv
	qs := q[(b*T+t0)*ldq+h*D:]
	kvOff := b*T*ldk + kh*D
	ks, vs := k[kvOff:], v[kvOff:]

	buf := getScratch(mq*bk + mq*D + 2*mq)
	s := *buf
	S, O := s[:mq*bk], s[mq*bk:mq*bk+mq*D]
	mrow, lrow := s[mq*bk+mq*D:mq*bk+mq*D+mq], s[mq*bk+mq*D+mq:]
	clear(O)
	for i := range mq {
		mrow[i], lrow[i] = float32(math.Inf(-1)), 0
	}
	o := a.o
	// Key tiles end at t1, so that only the last one crosses the diagonal.
	lo := a.minStart(b, t0, t1)
	first := (t1 - lo) % bk
	if first == 0 {
		first = bk
	}
	for s0, nk := lo, first; s0 < t1; s0, nk = s0+nk, bk {
		a.gemm(ws, kernels.NoTrans, kernels.Trans, mq, nk, D, a.Scale, qs, ldq, ks[s0*ldk:], ldk, 0, S, bk)
		for i := range mq {
			t := t0 + i
			row := S[i*bk : i*bk+nk]
			jlo, jhi := max(a.start(b, t)-s0, 0), min(t-s0+1, nk)
			if jhi <= jlo {
				clear(row)
				continue
			}
			seen := row[jlo:jhi]
			mnew := max(mrow[i], o.max(seen))
			alpha := expf(mrow[i] - mnew)
			sum := o.expSum(seen, seen, mnew)
			clear(row[:jlo])
			clear(row[jhi:])
			lrow[i] = alpha*lrow[i] + sum
			if alpha != 1 {
				oi := O[i*D : i*D+D]
				o.scale(oi, oi, alpha)
			}
			mrow[i] = mnew
		}
		a.gemm(ws, kernels.NoTrans, kernels.NoTrans, mq, D, nk, 1, S, bk, vs[s0*ldk:], ldk, 1, O, D)
	}
	for i := range mq {
		t := t0 + i
		qi := ((b*T+t)*H + h) * D
		o.scale(out[qi:qi+D], O[i*D:i*D+D], 1/lrow[i])
		lse[(b*H+h)*T+t] = mrow[i] + float32(math.Log(float64(lrow[i])))
	}
	putScratch(buf)
}

// CausalAttentionBackward implements kernels.Attender.
func (impl Implementation) CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, p kernels.AttentionParams) {
	kernels.CheckCausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, p)
	if p.B == 0 || p.T == 0 || p.H == 0 || p.D == 0 {
		return
	}
	a := impl.attnArgs(p)
	B, T, H, KVH, D := p.B, p.T, p.H, p.KVH, p.D

	// D = rowsum(dout ⊙ out), laid out like lse.
	dbuf := getScratch(B * H * T)
	dsum := *dbuf
	parRange(B*T, 1, 2*B*T*H*D, func(lo, hi int) {
		for bt := lo; bt < hi; bt++ {
			b, t := bt/T, bt%T
			for h := range H {
				qi := (bt*H + h) * D
				dsum[(b*H+h)*T+t] = a.o.dot(dout[qi:qi+D], out[qi:qi+D])
			}
		}
	})

	nb := (T + attnBlock - 1) / attnBlock
	work := attnWork(p)
	bkv := B * KVH
	if bkv >= onePassUnits {
		// One pass per (batch, KV head): 5 tile products instead of 7.
		parFor(bkv, work, func(ws *workspace, i int) {
			a.backwardUnit(ws, dq, dk, dv, dout, lse, dsum, q, k, v, i/KVH, i%KVH)
		})
		putScratch(dbuf)
		return
	}
	// dK and dV: key block 0 (seen by most queries) first.
	parFor(bkv*nb, work, func(ws *workspace, i int) {
		kb, j := i/bkv, i%bkv
		a.backwardKV(ws, dk, dv, dout, lse, dsum, q, k, v, j/KVH, j%KVH, kb*attnBlock)
	})
	// dQ: the last query block (seeing most keys) first.
	bh := B * H
	parFor(bh*nb, work, func(ws *workspace, i int) {
		qb, j := nb-1-i/bh, i%bh
		a.backwardQ(ws, dq, dout, lse, dsum, q, k, v, j/H, j%H, qb*attnBlock)
	})
	putScratch(dbuf)
}

// tile recomputes, for queries [t0, t0+mq) of head h in row b and keys
// [s0, s0+nk), P = e^(Scale·Q·Kᵀ − lse) and dS = P ⊙ (dout·Vᵀ − D), both
// mq×nk with leading dimension ld, zero where masked.
func (a *attnArgs) tile(ws *workspace, P, dS []float32, ld int, dout, lse, dsum, q, k, v []float32, b, h, t0, mq, s0, nk int) {
	T, H, D := a.T, a.H, a.D
	qOff := (b*T+t0)*a.ldq + h*D
	oOff := ((b*T+t0)*H + h) * D
	kvOff := (b*T+s0)*a.ldkv + h/a.group*D
	a.gemm(ws, kernels.NoTrans, kernels.Trans, mq, nk, D, a.Scale, q[qOff:], a.ldq, k[kvOff:], a.ldkv, 0, P, ld)
	a.gemm(ws, kernels.NoTrans, kernels.Trans, mq, nk, D, 1, dout[oOff:], a.ldo, v[kvOff:], a.ldkv, 0, dS, ld)
	a.tileRows(P, dS, ld, lse, dsum, b, h, t0, mq, s0, nk)
}

// tileRows turns the products P = Scale·Q·Kᵀ and dS = dout·Vᵀ of queries
// [t0, t0+mq) and keys [s0, s0+nk) into P = e^(P − lse) and dS = P ⊙ (dS −
// D), zero where masked.
func (a *attnArgs) tileRows(P, dS []float32, ld int, lse, dsum []float32, b, h, t0, mq, s0, nk int) {
	T, H := a.T, a.H
	for i := range mq {
		t := t0 + i
		pr, ds := P[i*ld:i*ld+nk], dS[i*ld:i*ld+nk]
		jlo, jhi := max(a.start(b, t)-s0, 0), min(t-s0+1, nk)
		if jhi <= jlo {
			clear(pr)
			clear(ds)
			continue
		}
		li := (b*H+h)*T + t
		a.o.expSum(pr[jlo:jhi], pr[jlo:jhi], lse[li])
		a.o.mulSub(ds[jlo:jhi], ds[jlo:jhi], pr[jlo:jhi], dsum[li])
		clear(pr[:jlo])
		clear(pr[jhi:])
		clear(ds[:jlo])
		clear(ds[jhi:])
	}
}

// bwdTile is the longer side of the backward's tiles: the query tile of
// the dK/dV pass and the key tile of the dQ pass (the other side is
// attnBlock).
const bwdTile = 256

// onePassUnits is the number of (batch, KV head) pairs from which the
// backward runs in one pass per pair (backwardUnit) rather than in two
// passes over finer items. It is a constant, so the choice, and the
// results, depend on the shape alone.
const onePassUnits = 32

// backwardUnit writes dq, dk and dv of KV head kh in row b (and of the
// query heads of its group): for each key block, the query tiles that see
// it give dK and dV, and add their dS·K to the group's dQ accumulator, so
// each P and dS tile is computed once.
func (a *attnArgs) backwardUnit(ws *workspace, dq, dk, dv, dout, lse, dsum, q, k, v []float32, b, kh int) {
	const bk, bq = attnBlock, bwdTile
	T, H, D, G := a.T, a.H, a.D, a.group
	buf := getScratch(2*bq*bk + 2*bk*D + G*T*D)
	s := *buf
	P, dS := s[:bq*bk], s[bq*bk:2*bq*bk]
	dK, dV, dQ := s[2*bq*bk:2*bq*bk+bk*D], s[2*bq*bk+bk*D:2*bq*bk+2*bk*D], s[2*bq*bk+2*bk*D:]
	clear(dQ)
	ldq, ldk := a.ldq, a.ldkv
	for s0 := 0; s0 < T; s0 += bk {
		nk := min(bk, T-s0)
		clear(dK[:nk*D])
		clear(dV[:nk*D])
		kvOff := (b*T+s0)*ldk + kh*D
		for g := range G {
			h := kh*G + g
			for t0 := s0; t0 < T; t0 += bq {
				t1 := min(T, t0+bq)
				if a.minStart(b, t0, t1) >= s0+nk {
					continue
				}
				mq := t1 - t0
				a.tile(ws, P, dS, bk, dout, lse, dsum, q, k, v, b, h, t0, mq, s0, nk)
				qOff, oOff := (b*T+t0)*ldq+h*D, ((b*T+t0)*H+h)*D
				a.gemm(ws, kernels.Trans, kernels.NoTrans, nk, D, mq, 1, P, bk, dout[oOff:], a.ldo, 1, dV, D)
				a.gemm(ws, kernels.Trans, kernels.NoTrans, nk, D, mq, a.Scale, dS, bk, q[qOff:], ldq, 1, dK, D)
				a.gemm(ws, kernels.NoTrans, kernels.NoTrans, mq, D, nk, a.Scale, dS, bk, k[kvOff:], ldk, 1, dQ[(g*T+t0)*D:], D)
			}
		}
		for j := range nk {
			off := (b*T+s0+j)*ldk + kh*D
			copy(dk[off:off+D], dK[j*D:j*D+D])
			copy(dv[off:off+D], dV[j*D:j*D+D])
		}
	}
	for g := range G {
		h := kh*G + g
		for t := range T {
			off := (b*T+t)*ldq + h*D
			copy(dq[off:off+D], dQ[(g*T+t)*D:(g*T+t)*D+D])
		}
	}
	putScratch(buf)
}

// backwardKV writes dk and dv for keys [s0, s0+attnBlock) of KV head kh in
// row b.
func (a *attnArgs) backwardKV(ws *workspace, dk, dv, dout, lse, dsum, q, k, v []float32, b, kh, s0 int) {
	const bk, bq = attnBlock, bwdTile
	T, H, D := a.T, a.H, a.D
	nk := min(bk, T-s0)
	buf := getScratch(2*bq*bk + 2*nk*D)
	s := *buf
	P, dS := s[:bq*bk], s[bq*bk:2*bq*bk]
	dK, dV := s[2*bq*bk:2*bq*bk+nk*D], s[2*bq*bk+nk*D:]
	clear(dK)
	clear(dV)
	for h := kh * a.group; h < (kh+1)*a.group; h++ {
		for t0 := s0; t0 < T; t0 += bq {
			t1 := min(T, t0+bq)
			if a.minStart(b, t0, t1) >= s0+nk {
				continue // no query of the tile sees these keys
			}
			mq := t1 - t0
			a.tile(ws, P, dS, bk, dout, lse, dsum, q, k, v, b, h, t0, mq, s0, nk)
			qOff, oOff := (b*T+t0)*a.ldq+h*D, ((b*T+t0)*H+h)*D
			a.gemm(ws, kernels.Trans, kernels.NoTrans, nk, D, mq, 1, P, bk, dout[oOff:], a.ldo, 1, dV, D)
			a.gemm(ws, kernels.Trans, kernels.NoTrans, nk, D, mq, a.Scale, dS, bk, q[qOff:], a.ldq, 1, dK, D)
		}
	}
	for j := range nk {
		off := (b*T+s0+j)*a.ldkv + kh*D
		copy(dk[off:off+D], dK[j*D:j*D+D])
		copy(dv[off:off+D], dV[j*D:j*D+D])
	}
	putScratch(buf)
}

// backwardQ writes dq for queries [t0, t0+attnBlock) of head h in row b.
func (a *attnArgs) backwardQ(ws *workspace, dq, dout, lse, dsum, q, k, v []float32, b, h, t0 int) {
	const bq, bk = attnBlock, bwdTile
	T, D := a.T, a.D
	t1 := min(T, t0+bq)
	mq := t1 - t0
	buf := getScratch(2*bq*bk + mq*D)
	s := *buf
	P, dS, dQ := s[:bq*bk], s[bq*bk:2*bq*bk], s[2*bq*bk:]
	clear(dQ)
	ldk := a.ldkv
	kh := h / a.group
	// Key tiles end at t1, as in the forward pass.
	lo := a.minStart(b, t0, t1)
	first := (t1 - lo) % bk
	if first == 0 {
		first = bk
	}
	for s0, nk := lo, first; s0 < t1; s0, nk = s0+nk, bk {
		a.tile(ws, P, dS, bk, dout, lse, dsum, q, k, v, b, h, t0, mq, s0, nk)
		kvOff := (b*T+s0)*ldk + kh*D
		a.gemm(ws, kernels.NoTrans, kernels.NoTrans, mq, D, nk, a.Scale, dS, bk, k[kvOff:], ldk, 1, dQ, D)
	}
	for i := range mq {
		off := (b*T+t0+i)*a.ldq + h*D
		copy(dq[off:off+D], dQ[i*D:i*D+D])
	}
	putScratch(buf)
}
