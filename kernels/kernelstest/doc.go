// Package kernelstest is the conformance suite and benchmark set for
// implementations of the kernels interfaces, in the manner of gonum's
// blas/testblas: each implementation's test file calls one exported function
// per routine, e.g.
//
//	func TestSgemm(t *testing.T) { kernelstest.TestSgemm(t, ref.Implementation{}) }
//
// # Oracle and tolerance
//
// Expected results are computed in float64 from the same float32 inputs
// (exact products, float64 sums), together with the magnitude of the terms
//
//	mag = |alpha| * Σ_p |op(A)[i,p]*op(B)[p,j]| + |beta*C[i,j]|
//
// A float32 result passes when
//
//	|got - want| <= Abs + (k+2) * Rel * mag
//
// with Abs = 1e-6 and Rel = 2^-23 (two float32 units in the last place):
// the first-order error bound of a float32 dot product of length k in any
// summation order (k roundings of the running sum), plus one rounding each
// for alpha and the beta term. The bound is on the magnitude of the terms,
// not of the result, so cancellation in random inputs cannot cause false
// failures, yet any wrong term (an element off by a row, a missed k step) is
// far outside it: inputs are uniform in [-1, 1] and a missing term moves the
// result by ~0.3 on average. Where want is NaN, got must be NaN; where want is
// ±Inf, got must equal it.
//
// # Guard bands
//
// Every matrix lives inside a larger buffer. The elements around it (before,
// after, and the gaps between rows when the leading dimension exceeds the row
// length, and between batch entries) hold a NaN sentinel. After each call the
// suite checks that A and B are bit-for-bit unchanged, and that every
// element of C's buffer outside the matrix still holds the sentinel. A kernel
// reading a gap of A or B pulls the NaN into C, which the comparison catches.
//
// # Fused operations
//
// TestFused, TestFusedDeterminism and BenchmarkFused do the same for
// kernels.Fused (normalisations, activations, RoPE, softmax, attention,
// cross-entropy, embedding, AdamW); their oracle and tolerances are
// documented on TestFused. BenchmarkBandwidth is the memory-bandwidth probe
// the memory-bound ops are compared with.
package kernelstest
