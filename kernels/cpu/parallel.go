package cpu

import (
	"runtime"
	"sync"
)

// minFusedWork is the least work, in elements touched (a few ns per element
// at most, well under one for streaming ops), worth handing to another
// thread: tens of µs, far above the cost of waking a helper.
const minFusedWork = 1 << 16

// fusedProcs returns how many goroutines a call of the given total work
// should use.
func fusedProcs(work int) int {
	return max(1, min(runtime.GOMAXPROCS(0), work/minFusedWork))
}

// parFor calls fn(ws, i) for every i in [0, n), on the calling goroutine
// alone when work (the call's total cost in elements) is small or
// GOMAXPROCS is 1, otherwise on up to GOMAXPROCS goroutines of the worker
// pool that claim items in increasing order. ws is the running goroutine's
// workspace (packing buffers for tile products). Items must be independent
// and each item's result must not depend on which goroutine computes it;
// then results are the same for every GOMAXPROCS.
func parFor(n, work int, fn func(ws *workspace, i int)) {
	if n <= 0 {
		return
	}
	procs := min(fusedProcs(work), n)
	if procs <= 1 {
		ws := getWorkspace()
		for i := range n {
			fn(ws, i)
		}
		putWorkspace(ws)
		return
	}
	dispatch(&job{fn: fn, parts: n}, procs)
}

// parRange splits [0, n) into contiguous chunks whose boundaries are
// multiples of align (except n itself) and calls fn(lo, hi) on each, in
// parallel as parFor does. The chunking depends on GOMAXPROCS, so fn must
// compute each element (or row) the same way whatever chunk holds it; the
// alignment lets vector loops put the same elements in their scalar tails
// whatever the chunking.
func parRange(n, align, work int, fn func(lo, hi int)) {
	procs := fusedProcs(work)
	blocks := (n + align - 1) / align
	if procs <= 1 || blocks <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	parts := min(blocks, 4*procs)
	parFor(parts, work, func(_ *workspace, i int) {
		lo, hi := i*blocks/parts*align, (i+1)*blocks/parts*align
		fn(lo, min(hi, n))
	})
}

// scratch is a pool of float32 buffers for per-call temporaries.
var scratch = sync.Pool{New: func() any { return new([]float32) }}

// getScratch returns a buffer of n floats (contents undefined); give it
// back with putScratch.
func getScratch(n int) *[]float32 {
	p := scratch.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

func putScratch(p *[]float32) { scratch.Put(p) }
