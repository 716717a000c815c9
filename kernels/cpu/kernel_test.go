package cpu

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkMicroKernel measures each micro-kernel alone on packed panels:
// "L1", one A and one B sliver and one C tile that stay in cache, the
// ceiling of the blocked SGEMM; "L2", the macro-kernel's pattern, one B sliver with the A
// slivers of an MC block streamed from L2 into a C with a 4 KiB row stride.
// It also reports the share of the FMA peak (pct-peak), measured by the peak
// probe of the same vector width interleaved with the kernel so that a
// change of clock or load affects both alike.
func BenchmarkMicroKernel(b *testing.B) {
	for _, impl := range Implementations() {
		v := impl.v
		peak, peakFlops := fmaPeakAVX512, 12*16*2.0
		if v.name != AVX512 {
			peak, peakFlops = fmaPeakAVX2, 12*8*2.0
		}
		if v.name == Generic || (v.name == AVX512 && !useAVX512) || (v.name == AVX2 && !useAVX2) {
			peak = nil
		}
		for _, kc := range []int{128, 256, 512} {
			for _, where := range []string{"L1", "L2"} {
				b.Run(v.name+"/"+where+"/kc"+strconv.Itoa(kc), func(b *testing.B) {
					rows := v.mr
					if where == "L2" {
						rows = (v.mc + v.mr - 1) / v.mr * v.mr
					}
					a := make([]float32, kc*rows)
					bp := make([]float32, kc*v.nr)
					ldc := v.nr
					if where == "L2" {
						ldc = 1024
					}
					c := make([]float32, rows*ldc)
					for i := range a {
						a[i] = 1e-3
					}
					for i := range bp {
						bp[i] = 1e-3
					}
					var tk, tp time.Duration
					const peakIters = 1 << 12
					for range b.N {
						t0 := time.Now()
						for ir := 0; ir < rows; ir += v.mr {
							v.kernel(kc, a[ir*kc:], bp, c[ir*ldc:], ldc, 1, 1)
						}
						tk += time.Since(t0)
						if peak != nil {
							t0 = time.Now()
							peak(peakIters * rows / v.mr)
							tp += time.Since(t0)
						}
					}
					flops := 2 * float64(rows*v.nr*kc) * float64(b.N)
					b.ReportMetric(flops/tk.Seconds()/1e9, "GFLOP/s")
					if peak != nil {
						pf := peakFlops * peakIters * float64(rows/v.mr) * float64(b.N)
						b.ReportMetric(100*(flops/tk.Seconds())/(pf/tp.Seconds()), "pct-peak")
					}
				})
			}
		}
	}
}

// TestPackers checks each variant's packing loops against the Go loops on
// every k up to 40 (the AVX-512 ones work in blocks of 4 and 16 k steps).
func TestPackers(t *testing.T) {
	for _, impl := range Implementations() {
		v := impl.v
		for _, tc := range []struct {
			name string
			fn   packFunc
			w    int
			gath bool
		}{
			{"gatherA", v.gatherA, v.mr, true},
			{"copyA", v.copyA, v.mr, false},
			{"gatherB", v.gatherB, v.nr, true},
			{"copyB", v.copyB, v.nr, false},
		} {
			if tc.fn == nil {
				continue
			}
			for k := 0; k <= 40; k++ {
				ld := tc.w + 3
				if tc.gath {
					ld = k + 5
				}
				src := make([]float32, (max(k, tc.w)+1)*ld)
				for i := range src {
					src[i] = float32(i + 1)
				}
				got, want := make([]float32, k*tc.w+7), make([]float32, k*tc.w+7)
				for i := range got {
					got[i], want[i] = -1, -1
				}
				tc.fn(got, src, ld, k)
				if tc.gath {
					gather(want, src, ld, k, tc.w, tc.w)
				} else {
					copyRows(want, src, ld, k, tc.w, tc.w)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s %s (width %d) k=%d: dst[%d] = %v, want %v", v.name, tc.name, tc.w, k, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestPackCopyWide checks the many-sliver copies against the Go loop.
func TestPackCopyWide(t *testing.T) {
	for _, impl := range Implementations() {
		v := impl.v
		for _, tc := range []struct {
			fn func(dst, src []float32, ld, k, n int)
			w  int
		}{{v.copyAWide, v.mr}, {v.copyBWide, v.nr}} {
			if tc.fn == nil {
				continue
			}
			w := tc.w
			for _, k := range []int{0, 1, 5, 17} {
				for n := 0; n <= 3; n++ {
					ld := n*w + 7
					src := make([]float32, k*ld)
					for i := range src {
						src[i] = float32(i + 1)
					}
					got, want := make([]float32, n*w*k+5), make([]float32, n*w*k+5)
					for i := range got {
						got[i], want[i] = -1, -1
					}
					tc.fn(got, src, ld, k, n)
					for s := 0; s < n && k > 0; s++ {
						copyRows(want[s*w*k:], src[s*w:], ld, k, w, w)
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s width %d k=%d n=%d: dst[%d] = %v, want %v", v.name, w, k, n, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
