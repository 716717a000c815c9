package prepare

import (
	"os"
	"runtime/debug"
)

// GC settings for a Prepare run. The pipeline allocates a lot of short-lived
// text (records, samples) while its live heap stays small (one spill group
// of at most spill_max_mb plus the users in flight), so the default GOGC=100
// collects far more often than the 512 MB RSS budget requires: about 8% of
// the heuristic path's CPU time went to the collector. A run lets the heap
// grow to 5x the live heap, capped by a soft memory limit well inside the
// budget. GOGC or GOMEMLIMIT in the environment leave the runtime as the
// user set it.
const (
	prepareGCPercent   = 400
	prepareMemoryLimit = 384 << 20
)

// tuneGC applies the settings above and returns a function that restores
// the previous ones.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := debug.SetMemoryLimit(prepareMemoryLimit)
	pct := debug.SetGCPercent(prepareGCPercent)
	return func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}
}
