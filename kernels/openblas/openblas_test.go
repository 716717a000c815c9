//go:build openblas && cgo

package openblas_test

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/kernelstest"
	"github.com/humanllm/humanllm/kernels/openblas"
)

// The peer passes the same conformance suite, so a comparison against it
// compares correct products.
func TestSgemm(t *testing.T) {
	impl, err := openblas.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OpenBLAS core %s (%s)", openblas.CoreName(), openblas.Config())
	kernelstest.TestSgemm(t, impl)
}
