//go:build cuda

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/model/dtype"
)

// TestBF16GEMM checks Options.BF16 on both paths (host slices, and device
// buffers with strided batches): each product must equal, within fp32
// accumulation error, the float64 product of the operands rounded to
// bfloat16 by dtype.F32ToBF16 — and must differ from the fp32 product, so
// that a path skipping the conversion fails.
func TestBF16GEMM(t *testing.T) {
	openGPU(t) // skips, or fails under HUMANLLM_REQUIRE_GPU=1, without a GPU
	bf := func(x float32) float64 { return float64(dtype.BF16ToF32(dtype.F32ToBF16(x))) }
	// fp32 accumulation of exact bf16 products: k roundings of 2^-24.
	testReducedGEMM(t, Options{BF16: true}, bf, func(k int) float64 { return float64(k) * 0x1p-24 * 2 }, 1e-4)
}

// TestTF32GEMM checks Options.TF32 the same way: the products are those of
// the operands with 10-bit mantissas. cuBLAS does not document how it
// rounds fp32 to TF32 (round to nearest, or the tensor cores' truncation),
// so the reference is the exact fp32 product with room for either: 2^-9
// relative per product (two operands each off by at most 2^-10) plus fp32
// accumulation. The result must also differ from the fp32 product, so a
// path that ignores TF32 fails.
func TestTF32GEMM(t *testing.T) {
	openGPU(t)
	exact := func(x float32) float64 { return float64(x) }
	testReducedGEMM(t, Options{TF32: true}, exact, func(k int) float64 { return 0x1p-9 + float64(k)*0x1p-24*2 }, 1e-5)
}

// testReducedGEMM runs reduced-precision GEMMs (Options o) on both paths
// and checks every element against Σ ref(a)·ref(b) in float64, relative to
// Σ|ref(a)·ref(b)|, within tol(k); and that some element is at least
// minOff away from the fp32 product.
func testReducedGEMM(t *testing.T, o Options, ref func(float32) float64, tol func(k int) float64, minOff float64) {
	t.Helper()
	impl, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer impl.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		tA, tB       kernels.Transpose
		m, n, k, gap int
		batch        int
	}{
		{kernels.NoTrans, kernels.NoTrans, 33, 47, 129, 0, 1},
		{kernels.Trans, kernels.NoTrans, 64, 16, 80, 3, 1},
		{kernels.NoTrans, kernels.Trans, 17, 96, 64, 5, 3},
		{kernels.Trans, kernels.Trans, 40, 24, 33, 0, 2},
	} {
		ra, ca := storedDims(c.tA, c.m, c.k)
		rb, cb := storedDims(c.tB, c.k, c.n)
		lda, ldb, ldc := ca+c.gap, cb+c.gap, c.n+c.gap
		sA, sB, sC := ra*lda, rb*ldb, c.m*ldc
		a := make([]float32, c.batch*sA)
		b := make([]float32, c.batch*sB)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		at := func(x []float32, tr kernels.Transpose, ld, i, j int) float32 { // op(X)[i][j]
			if tr == kernels.Trans {
				return x[j*ld+i]
			}
			return x[i*ld+j]
		}
		check := func(path string, got []float32) {
			t.Helper()
			worst, off := 0.0, 0.0
			for p := range c.batch {
				for i := range c.m {
					for j := range c.n {
						var want, exact, mag float64
						for l := range c.k {
							x, y := at(a[p*sA:], c.tA, lda, i, l), at(b[p*sB:], c.tB, ldb, l, j)
							want += ref(x) * ref(y)
							exact += float64(x) * float64(y)
							mag += math.Abs(ref(x) * ref(y))
						}
						g := float64(got[p*sC+i*ldc+j])
						worst = max(worst, math.Abs(g-want)/(mag+1e-30))
						off = max(off, math.Abs(g-exact)/(mag+1e-30))
					}
				}
			}
			if tol := tol(c.k); worst > tol {
				t.Errorf("%s %s %+v: relative error %.3g against the reference product (tolerance %.3g)", impl.Name(), path, c, worst, tol)
			}
			if off < minOff {
				t.Errorf("%s %s %+v: result equals the fp32 product to %.3g: operands were not rounded", impl.Name(), path, c, off)
			}
		}
		// Host slices.
		got := make([]float32, c.batch*sC)
		impl.SgemmStridedBatched(c.tA, c.tB, c.m, c.n, c.k, 1, a, lda, sA, b, ldb, sB, 0, got, ldc, sC, c.batch)
		check("host", got)
		// Device buffers.
		d := impl.Device()
		da, db, dc := d.AllocF32(len(a)), d.AllocF32(len(b)), d.AllocF32(len(got))
		d.Upload(da, a)
		d.Upload(db, b)
		d.SgemmStridedBatched(c.tA, c.tB, c.m, c.n, c.k, 1, da, lda, sA, db, ldb, sB, 0, dc, ldc, sC, c.batch)
		clear(got)
		d.Download(got, dc)
		check("device", got)
		d.Free(da)
		d.Free(db)
		d.Free(dc)
	}
}

// TestOpenRejectsTF32AndBF16 needs no GPU: the options are checked first.
func TestOpenRejectsTF32AndBF16(t *testing.T) {
	if _, err := Open(Options{TF32: true, BF16: true}); err == nil {
		t.Fatal("Open accepted TF32 and BF16 together")
	}
}
