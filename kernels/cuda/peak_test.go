package cuda

import (
	"math"
	"testing"
)

// TestPeak checks the table against NVIDIA's datasheet figures, computed
// at the datasheet's own clocks.
func TestPeak(t *testing.T) {
	for _, c := range []struct {
		info Info
		p    Precision
		want float64 // TFLOP/s, datasheet
	}{
		{Info{Name: "A100-SXM4", CC: 80, SMs: 108, ClockKHz: 1410000}, BF16, 312},
		{Info{Name: "A100-SXM4", CC: 80, SMs: 108, ClockKHz: 1410000}, TF32, 156},
		{Info{Name: "A100-SXM4", CC: 80, SMs: 108, ClockKHz: 1410000}, FP32, 19.5},
		{Info{Name: "H100 SXM", CC: 90, SMs: 132, ClockKHz: 1830000}, BF16, 989},
		{Info{Name: "H100 SXM", CC: 90, SMs: 132, ClockKHz: 1830000}, TF32, 495},
		{Info{Name: "L4", CC: 89, SMs: 58, ClockKHz: 2040000}, BF16, 121},
		{Info{Name: "A10", CC: 86, SMs: 72, ClockKHz: 1695000}, BF16, 125},
	} {
		got, err := Peak(c.info, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(got/1e12-c.want) / c.want; rel > 0.01 {
			t.Errorf("%s %s: %.1f TFLOP/s, datasheet %.1f", c.info.Name, c.p, got/1e12, c.want)
		}
	}
	for _, c := range []struct {
		info Info
		p    Precision
	}{
		{Info{Name: "V100", CC: 70, SMs: 80, ClockKHz: 1530000}, BF16},
		{Info{Name: "future", CC: 130, SMs: 1, ClockKHz: 1}, FP32},
		{Info{Name: "H100", CC: 90}, BF16},
		{Info{Name: "H100", CC: 90, SMs: 132, ClockKHz: 1830000}, "fp8"},
	} {
		if v, err := Peak(c.info, c.p); err == nil {
			t.Errorf("%s %s: %g, want an error", c.info.Name, c.p, v)
		}
	}
}
