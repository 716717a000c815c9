// Package ggops connects gorgonia (gorgonia.org/gorgonia v0.9.18) to the
// kernels of package kernels: a BLAS adapter that runs gorgonia's float32
// matrix products on a kernels.Sgemmer, and fused graph ops (Linear and
// LinearResidual, MLP, RMSNorm, LayerNorm, GELU, SiLU, SwiGLU, RoPE,
// Softmax, CausalAttention and CausalAttentionQKV, CrossEntropy and
// CrossEntropyInPlace, Embedding) that run on a kernels.Fused (and, when
// it provides them, kernels.Linearer and kernels.GELULinearer), plus a
// copying Reshape that avoids a gorgonia aliasing bug (see Reshape).
//
// # BLAS
//
// Use(k) installs BLAS{K: k} with gorgonia.Use, which also sets
// gorgonia.org/tensor's BLAS (the one tensor.MatMul calls): Mul and
// BatchedMatMul, forward and backward, then run on k. See BLAS for the
// calls routed.
//
// # Ops
//
// Each constructor (RMSNorm(x, w, eps, k), ...) checks dtypes and shapes
// when the graph is built and returns an error rather than panicking; at
// run time a bad input (wrong shape, an id or target out of range, a
// kernel's argument check) makes the op return an error, which
// TapeMachine.RunAll reports. Every op is a gorgonia SDOp, so gorgonia.Grad
// differentiates through it; float tensors are float32 only (the kernels
// are), integer inputs (Embedding ids, CrossEntropy targets) may be Int32
// (used in place), Int or Int64 (converted to int32 on every run into a
// buffer the op keeps; values outside the int32 range are an error).
//
// Every parameter (eps, scale, layout, sizes, the kernels' type, and the
// identity of the slices RoPE and CausalAttention keep: tables, positions,
// Start) enters the op's hash: gorgonia merges nodes whose op hash and
// children are equal, so ops differing in any parameter are never merged,
// and identical ones are (computing the same value once).
//
// # State between forward and backward, and across runs
//
// An op instance belongs to exactly one node (a constructor makes a new
// one; a merged duplicate is discarded). The instance owns:
//
//   - its output tensor, allocated on the first run and returned as the
//     node's value on every run, so a step allocates nothing for these
//     nodes after the first (TapeMachine.Reset drops its registers, and
//     gorgonia's own ops reallocate every value every step). A value read
//     from one of these nodes is therefore overwritten by the next run:
//     copy it if it must outlive the run.
//   - the statistics its backward needs (RMSNorm rstd, LayerNorm mean and
//     rstd, attention lse, the cross-entropy gradient), written by every
//     forward run.
//
// The gradient op made by SymDiff points at the forward op instance and
// takes the forward node's output (or, for CrossEntropy, the loss) as an
// input, so in every topological order (every TapeMachine run) the forward
// runs, and writes the statistics, before the gradient reads them. The
// gradient op also checks that it sees the same input value object the
// statistics were computed from (and, for CrossEntropy, that a forward ran
// since the last gradient run) and returns an error otherwise. A fused
// backward kernel that yields several input gradients at once (RMSNorm dx
// and dw, attention dq, dk and dv, ...) runs in one gradient node, which
// returns the first gradient; each further gradient is a small node whose
// only input is that one and which returns the buffer the kernel wrote.
// Parameter gradients are zeroed and accumulated by the kernel on every
// run, so they hold this run's gradient (gorgonia sums the gradients of a
// node used several times itself).
//
// This is correct for a TapeMachine run any number of times with Reset
// between runs (the usual training loop: Let/write inputs, RunAll, read,
// Reset), and the results are bit-identical from run to run. A graph must
// not be run by two machines at the same time (gorgonia binds values to
// nodes anyway). The ops implement symbolic differentiation only (SDOp,
// for gorgonia.Grad and the TapeMachine), not gorgonia's ADOp, so the
// LispMachine cannot backpropagate through them. UsePreallocDo is implemented for single-output ops: it
// writes into the preallocated value only when that is a plain float32
// tensor of exactly the output shape sharing no memory with the inputs,
// and otherwise returns an error so that the TapeMachine falls back to Do.
package ggops
