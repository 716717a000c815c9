package cpu

import (
	"runtime"
	"sync"
	"time"
)

// Peak is one measured FMA throughput.
type Peak struct {
	Width   string  // "zmm" (AVX-512) or "ymm" (AVX2+FMA)
	Threads int     // threads run at once, one per goroutine
	GFLOPS  float64 // FP32 GFLOP/s over all threads
}

// MeasurePeak runs the FP32 FMA peak probe (12 independent FMA chains per
// thread, the roofline SGEMM is compared against) for about d on threads
// goroutines, for each vector width this CPU and build support (none under
// purego). It does not change GOMAXPROCS: with threads > GOMAXPROCS the
// figure is capped by it.
func MeasurePeak(threads int, d time.Duration) []Peak {
	probes := []struct {
		width string
		ok    bool
		flops float64 // per iteration
		fn    func(int)
	}{
		{"zmm", useAVX512, 12 * 16 * 2, fmaPeakAVX512},
		{"ymm", useAVX2, 12 * 8 * 2, fmaPeakAVX2},
	}
	var out []Peak
	for _, p := range probes {
		if !p.ok {
			continue
		}
		const iters = 1 << 18
		run := func() time.Duration {
			t0 := time.Now()
			var wg sync.WaitGroup
			for range threads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					p.fn(iters)
				}()
			}
			wg.Wait()
			return time.Since(t0)
		}
		run() // warm up (clock ramp, thread start)
		best := time.Duration(1 << 62)
		for start := time.Now(); time.Since(start) < d; {
			best = min(best, run())
		}
		out = append(out, Peak{Width: p.width, Threads: threads, GFLOPS: p.flops * iters * float64(threads) / best.Seconds() / 1e9})
	}
	return out
}
