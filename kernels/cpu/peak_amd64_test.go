//go:build !purego

package cpu

import (
	"runtime"
	"sync"
	"testing"
)

// BenchmarkPeakFMA measures the machine's FP32 FMA throughput with 12
// independent FMA chains per thread, on 1..GOMAXPROCS threads (-cpu 1,2):
// the roofline SGEMM is compared against.
func BenchmarkPeakFMA(b *testing.B) {
	probes := []struct {
		name  string
		ok    bool
		flops float64 // per iteration
		fn    func(int)
	}{
		{"zmm", useAVX512, 12 * 16 * 2, fmaPeakAVX512},
		{"ymm", useAVX2, 12 * 8 * 2, fmaPeakAVX2},
	}
	for _, p := range probes {
		b.Run(p.name, func(b *testing.B) {
			if !p.ok {
				b.Skipf("%s FMA not supported by this CPU", p.name)
			}
			const iters = 1 << 20
			threads := runtime.GOMAXPROCS(0)
			for range b.N {
				var wg sync.WaitGroup
				for range threads {
					wg.Add(1)
					go func() { defer wg.Done(); p.fn(iters) }()
				}
				wg.Wait()
			}
			b.ReportMetric(p.flops*iters*float64(threads)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
