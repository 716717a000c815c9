package cpu

import (
	"fmt"
	"os"

	"github.com/humanllm/humanllm/kernels"
)

// Variant names.
const (
	AVX512  = "avx512"
	AVX2    = "avx2"
	Generic = "generic"
)

// microKernel computes an mr×nr tile
//
//	C[i*ldc+j] = alpha * Σ_p a[p*mr+i] * b[p*nr+j] + beta * C[i*ldc+j]
//
// for i < mr, j < nr, p < k, not reading C when beta == 0. a and b are
// packed slivers of at least k*mr and k*nr elements.
type microKernel func(k int, a, b, c []float32, ldc int, alpha, beta float32)

// variant is one micro-kernel with its blocking parameters.
type variant struct {
	name       string
	mr, nr     int // register tile
	mc, kc, nc int // cache blocks; mc is a multiple of mr, nc of nr
	kernel     microKernel
	packers
}

var genericVariant = &variant{name: Generic, mr: 4, nr: 4, mc: 128, kc: 256, nc: 1024, kernel: kernelGeneric}

// variants lists the variants the CPU and build support, best first.
var variants = append(asmVariants(), genericVariant)

// best is the variant the zero Implementation uses.
var best = variants[0]

func init() {
	if blocks := os.Getenv("HUMANLLM_CPU_BLOCKS"); blocks != "" {
		var mc, kc, nc int
		if n, _ := fmt.Sscanf(blocks, "%d,%d,%d", &mc, &kc, &nc); n == 3 && mc > 0 && kc > 0 && nc > 0 {
			for _, v := range variants {
				v.mc, v.kc, v.nc = (mc+v.mr-1)/v.mr*v.mr, kc, (nc+v.nr-1)/v.nr*v.nr
			}
		}
	}
	if name := os.Getenv("HUMANLLM_CPU_KERNEL"); name != "" {
		if v := lookup(name); v != nil {
			best = v
		}
	}
}

func lookup(name string) *variant {
	for _, v := range variants {
		if v.name == name {
			return v
		}
	}
	return nil
}

// Implementation is the CPU implementation of kernels.Float32. The zero
// value uses the best variant for this CPU (see package documentation).
type Implementation struct {
	v *variant
}

var _ kernels.Float32 = Implementation{}

// Implementations returns one Implementation per variant supported by this
// CPU and build, best first; the last is always Generic.
func Implementations() []Implementation {
	impls := make([]Implementation, len(variants))
	for i, v := range variants {
		impls[i] = Implementation{v}
	}
	return impls
}

// Lookup returns the Implementation of the named variant, or false if the
// name is unknown or the CPU or build (purego) does not support it.
func Lookup(name string) (Implementation, bool) {
	v := lookup(name)
	return Implementation{v}, v != nil
}

// Name returns the variant's name.
func (impl Implementation) Name() string { return impl.variant().name }

func (impl Implementation) variant() *variant {
	if impl.v == nil {
		return best
	}
	return impl.v
}

// kernelGeneric is the 4×4 micro-kernel in plain Go.
func kernelGeneric(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	a, b = a[:4*k], b[:4*k]
	for p := 0; p < 4*k; p += 4 {
		ap := a[p : p+4 : p+4]
		bp := b[p : p+4 : p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0*ldc:0*ldc+4], alpha, beta, c00, c01, c02, c03)
	storeRow4(c[1*ldc:1*ldc+4], alpha, beta, c10, c11, c12, c13)
	storeRow4(c[2*ldc:2*ldc+4], alpha, beta, c20, c21, c22, c23)
	storeRow4(c[3*ldc:3*ldc+4], alpha, beta, c30, c31, c32, c33)
}

func storeRow4(c []float32, alpha, beta, x0, x1, x2, x3 float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*x0, alpha*x1, alpha*x2, alpha*x3
		return
	}
	c[0] = alpha*x0 + beta*c[0]
	c[1] = alpha*x1 + beta*c[1]
	c[2] = alpha*x2 + beta*c[2]
	c[3] = alpha*x3 + beta*c[3]
}
