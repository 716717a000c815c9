package cpu

import (
	"strconv"
	"testing"
)

// BenchmarkMicroKernel measures each micro-kernel alone on packed panels
// that stay in cache: the ceiling the blocked SGEMM can reach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, impl := range Implementations() {
		v := impl.v
		for _, kc := range []int{64, 128, 256} {
			b.Run(v.name+"/kc"+strconv.Itoa(kc), func(b *testing.B) {
				a := make([]float32, kc*v.mr)
				bp := make([]float32, kc*v.nr)
				c := make([]float32, v.mr*v.nr)
				for i := range a {
					a[i] = 1e-3
				}
				for i := range bp {
					bp[i] = 1e-3
				}
				for range b.N {
					v.kernel(kc, a, bp, c, v.nr, 1, 1)
				}
				flops := 2 * float64(v.mr*v.nr*kc)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
