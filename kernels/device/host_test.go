package device_test

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/kernels/device/devicetest"
)

// TestHostCPU runs the conformance suite on the host device over
// kernels/cpu (the suite's reference is the host device over kernels/ref).
func TestHostCPU(t *testing.T) { devicetest.Conformance(t, device.Host{K: cpu.Implementation{}}) }
