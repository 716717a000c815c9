package kernels

// Panic messages of the fused operations (fused.go), raised by the checks in
// check_fused.go. Size messages come first, then structural ones (GQA ratio,
// RoPE head size and layout), then slice lengths in argument order, then the
// contents of index arguments (targets, ids, positions, Start).
const (
	RowsLT0 = "kernels: rows < 0"
	DimLT0  = "kernels: dim < 0"
	VLT0    = "kernels: v < 0"

	BadRoPEShape  = "kernels: negative RoPE size"
	OddHeadDim    = "kernels: odd RoPE head dimension"
	BadRoPELayout = "kernels: bad RoPE layout"
	BadPos        = "kernels: RoPE position out of range of the tables"

	BadAttnShape  = "kernels: negative attention size"
	BadGQA        = "kernels: H is not a multiple of KVH"
	BadStart      = "kernels: attention Start out of range"
	BadAttnStride = "kernels: attention Stride is negative or less than H*D"

	BadTarget = "kernels: target out of range"
	BadID     = "kernels: id out of range"
	BadStep   = "kernels: AdamW step < 1"

	ShortX       = "kernels: insufficient length of x"
	ShortY       = "kernels: insufficient length of y"
	ShortW       = "kernels: insufficient length of w"
	ShortBias    = "kernels: insufficient length of bias b"
	ShortMean    = "kernels: insufficient length of mean"
	ShortRstd    = "kernels: insufficient length of rstd"
	ShortDX      = "kernels: insufficient length of dx"
	ShortDY      = "kernels: insufficient length of dy"
	ShortDW      = "kernels: insufficient length of dw"
	ShortDB      = "kernels: insufficient length of db"
	ShortG       = "kernels: insufficient length of g"
	ShortU       = "kernels: insufficient length of u"
	ShortDG      = "kernels: insufficient length of dg"
	ShortDU      = "kernels: insufficient length of du"
	ShortPos     = "kernels: insufficient length of Pos"
	ShortOut     = "kernels: insufficient length of out"
	ShortLse     = "kernels: insufficient length of lse"
	ShortQ       = "kernels: insufficient length of q"
	ShortK       = "kernels: insufficient length of k"
	ShortV       = "kernels: insufficient length of v"
	ShortDOut    = "kernels: insufficient length of dout"
	ShortDQ      = "kernels: insufficient length of dq"
	ShortDK      = "kernels: insufficient length of dk"
	ShortDV      = "kernels: insufficient length of dv"
	ShortStart   = "kernels: insufficient length of Start"
	ShortLosses  = "kernels: insufficient length of losses"
	ShortLogits  = "kernels: insufficient length of logits"
	ShortTargets = "kernels: insufficient length of targets"
	ShortTable   = "kernels: insufficient length of table"
	ShortDTable  = "kernels: insufficient length of dtable"
	ShortIDs     = "kernels: insufficient length of ids"
	ShortParam   = "kernels: insufficient length of param"
	ShortGrad    = "kernels: insufficient length of grad"
	ShortM       = "kernels: insufficient length of m"
)
