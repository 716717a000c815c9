package kernelstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// Tolerance constants; see the package documentation.
const (
	Abs = 1e-6
	Rel = 1.0 / (1 << 23)
)

// guard is the number of sentinel elements before and after each buffer.
const guard = 37

// sentinel is a NaN with a recognisable payload.
var sentinel = math.Float32frombits(0x7fc0dead)

// mat is a row-major matrix (or a batch of them) inside a guarded buffer.
type mat struct {
	buf         []float32 // guard + data + guard
	rows, cols  int
	ld, stride  int
	batch       int
	data        []float32 // the view passed to the kernel
	orig        []float32 // copy of buf after filling
	inMatrixBit []bool    // per element of data: inside some matrix
}

// newMat allocates batch rows×cols matrices with leading dimension ld and
// the given stride (ignored when batch <= 1). The data slice is exactly as
// long as the contract requires; everything else is sentinel.
func newMat(rows, cols, ld, stride, batch int) *mat {
	one := 0
	if rows > 0 && cols > 0 {
		one = (rows-1)*ld + cols
	}
	n := 0
	if batch > 0 && one > 0 {
		n = (batch-1)*stride + one
	}
	m := &mat{rows: rows, cols: cols, ld: ld, stride: stride, batch: batch}
	m.buf = make([]float32, guard+n+guard)
	for i := range m.buf {
		m.buf[i] = sentinel
	}
	m.data = m.buf[guard : guard+n : guard+n]
	m.inMatrixBit = make([]bool, n)
	m.each(func(b, i, j, idx int) { m.inMatrixBit[idx] = true })
	return m
}

// each calls f for every element of every matrix with its index in data.
func (m *mat) each(f func(b, i, j, idx int)) {
	for b := range m.batch {
		for i := range m.rows {
			for j := range m.cols {
				f(b, i, j, b*m.stride+i*m.ld+j)
			}
		}
	}
}

func (m *mat) at(b, i, j int) float32 { return m.data[b*m.stride+i*m.ld+j] }

// fillRand fills every matrix element uniformly in [-1, 1).
func (m *mat) fillRand(rng *rand.Rand) *mat {
	m.each(func(_, _, _, idx int) { m.data[idx] = float32(2*rng.Float64() - 1) })
	return m
}

// fill sets every matrix element to v.
func (m *mat) fill(v float32) *mat {
	m.each(func(_, _, _, idx int) { m.data[idx] = v })
	return m
}

// snapshot records the buffer so that changes can be detected.
func (m *mat) snapshot() { m.orig = append(m.orig[:0], m.buf...) }

// checkUnchanged reports any change to the whole buffer (inputs).
func (m *mat) checkUnchanged(t testing.TB, name string) bool {
	t.Helper()
	for i := range m.buf {
		if math.Float32bits(m.buf[i]) != math.Float32bits(m.orig[i]) {
			t.Errorf("%s modified at buffer index %d (data index %d): %v -> %v", name, i, i-guard, m.orig[i], m.buf[i])
			return false
		}
	}
	return true
}

// checkGuards reports any change outside the matrices (outputs).
func (m *mat) checkGuards(t testing.TB, name string) bool {
	t.Helper()
	for i, v := range m.buf {
		d := i - guard
		if d >= 0 && d < len(m.data) && m.inMatrixBit[d] {
			continue
		}
		if math.Float32bits(v) != math.Float32bits(sentinel) {
			where := "guard band"
			if d >= 0 && d < len(m.data) {
				where = "gap between rows or matrices"
			}
			t.Errorf("%s: %s written at data index %d: %v", name, where, d, v)
			return false
		}
	}
	return true
}

// storedDims returns the stored shape of a matrix whose op is r×c.
func storedDims(tr kernels.Transpose, r, c int) (int, int) {
	if tr == kernels.Trans {
		return c, r
	}
	return r, c
}

// opAt returns op(X)[i,j] of batch entry b.
func opAt(tr kernels.Transpose, x *mat, b, i, j int) float32 {
	if tr == kernels.Trans {
		return x.at(b, j, i)
	}
	return x.at(b, i, j)
}

// within reports whether got is within tolerance of want.
func within(got float32, want, mag float64, k int) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want):
		return math.IsNaN(g)
	case math.IsInf(want, 0):
		return g == want
	case math.IsNaN(mag) || math.IsInf(mag, 0):
		// Finite result from infinite terms cannot happen with IEEE sums;
		// accept only an exact match.
		return g == want
	}
	return math.Abs(g-want) <= Abs+float64(k+2)*Rel*mag
}

func (c gemmCase) String() string {
	return fmt.Sprintf("%c%c/m%d_n%d_k%d/ld+%d,%d,%d/alpha%g_beta%g", c.tA, c.tB, c.m, c.n, c.k, c.padA, c.padB, c.padC, c.alpha, c.beta)
}
