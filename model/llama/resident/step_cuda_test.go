//go:build cuda

package resident_test

import (
	"os"
	"testing"

	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/cuda"
)

// TestStepMatchesGraphOnGPU is TestStepMatchesGraph with the resident step
// on the GPU (kernels/cuda's Device: everything on the device) against
// the graph on kernels/cpu. Tolerances are wider than on the host:
// cuBLAS and the CUDA kernels sum in other orders (fp32, no TF32).
// Skipped without a GPU; failed instead under HUMANLLM_REQUIRE_GPU=1.
func TestStepMatchesGraphOnGPU(t *testing.T) {
	impl, err := cuda.OpenCompiled(cuda.Options{})
	if err != nil {
		if os.Getenv("HUMANLLM_REQUIRE_GPU") == "1" {
			t.Fatalf("HUMANLLM_REQUIRE_GPU=1 but no CUDA GPU can be used: %v", err)
		}
		t.Skipf("no CUDA GPU: %v (HUMANLLM_REQUIRE_GPU=1 makes this a failure)", err)
	}
	defer impl.Close()
	compareWithGraph(t, impl.Name(), impl.Device(), cpu.Implementation{}, 1e-5, 1e-3)
}
