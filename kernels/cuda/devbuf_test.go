//go:build cuda

package cuda

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/device/devicetest"
)

// TestDevice runs the kernels/device conformance suite on the GPU's
// device-buffer layer (skipped without a GPU, failed under
// HUMANLLM_REQUIRE_GPU=1).
func TestDevice(t *testing.T) { devicetest.Conformance(t, openGPU(t).Device()) }
