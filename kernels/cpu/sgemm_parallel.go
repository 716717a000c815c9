package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel SGEMM of one product (GotoBLAS/BLIS style): for each panel
// (an NC-wide column block jc and a KC-deep slab pc, in the order the
// single-threaded gemm takes them), op(B)'s slab is packed once into a
// buffer all threads share, the packing itself split into sliver groups;
// then C's rows (and, for short matrices, columns) are cut into chunks that
// threads claim, each packing its chunk's rows of op(A) into its own
// buffer. The panels' buffers alternate between two, so packing the next
// panel overlaps the end of the current one.
//
// All tasks (pack groups and chunks, panel after panel) are claimed in one
// increasing sequence from an atomic counter, by however many goroutines
// join; a task waits only for tasks earlier in the sequence:
//
//   - chunk i of panel t waits for panel t's packing and for chunk i of panel
//     t-1 (the same rows of C, updated in k order);
//   - packing panel t waits for every chunk of panel t-2 (its buffer).
//
// Whatever the thread count, each element of C is the same chain of
// micro-kernel calls in the same k order as in the single-threaded gemm, so
// results are bit-for-bit the same. One goroutine alone runs the tasks in
// order without ever waiting, so the call completes even when no helper is
// free.
type parGemm struct {
	g       *gemmArgs
	v       *variant
	kb      int // k slab depth
	kPanels int // k slabs per column block
	panels  int // column blocks × k slabs
	nPack   int // pack tasks per panel
	packW   int // slivers per pack task
	rows    int // chunk rows
	cols    int // chunk columns (per column block)
	chunks  int // rows*cols
	tasks   int // panels*(nPack+chunks)

	next   atomic.Int64
	joined atomic.Int32 // participants so far
	// Completion counters. packDone[t%4] and chunkDone[t%4] count the pack
	// tasks and chunks finished by panels t, t+4, t+8... cumulatively;
	// rowDone[i] counts the panels finished by chunk i.
	packDone  [4]atomic.Int32
	chunkDone [4]atomic.Int32
	rowDone   [maxChunks]atomic.Int32

	bufs [2][]float32 // packed op(B) panels, shared
	// rowAt[r] is the first tile (of mr rows of C) of chunk row r; chunk
	// row r covers tiles [rowAt[r], rowAt[r+1]).
	rowAt [maxChunks + 1]int32

	mu      sync.Mutex
	cond    sync.Cond
	waiters atomic.Int32
}

// maxChunks bounds the chunks of one panel (the rowDone counters).
const maxChunks = 256

// minChunkTiles is the fewest tiles (of mr rows) in a chunk row when the
// rows are plentiful: the chunk's B slivers are loaded from L3 once per
// chunk and should serve a few micro-kernel calls.
const minChunkTiles = 2

// spinWait is how long a goroutine whose task's inputs are not ready polls
// (yielding its P between polls) before it blocks. Waits are usually
// shorter than a micro-kernel call or two: the other threads are finishing
// the tasks just before this one. Blocking costs a wake-up (tens of µs) on
// both sides, so a short poll is worth it; it is bounded so that a thread
// never burns a core for long.
const spinWait = 50 * time.Microsecond

var parFree = make(chan *parGemm, 64) // reused states and their B buffers (as many as spare)

// runGemm computes the call described by g: a single product large enough
// on the shared-panel parallel path, anything else by run.
func runGemm(g *gemmArgs) {
	if g.batch == 1 {
		if procs := min(runtime.GOMAXPROCS(0), max(1, g.m*g.n*g.k/minPartWork)); procs > 1 {
			runParallel(g, procs)
			return
		}
	}
	run(g)
}

// runParallel computes the single product g on up to procs goroutines.
func runParallel(g *gemmArgs, procs int) {
	var s *parGemm
	select {
	case s = <-parFree:
	default:
		s = new(parGemm)
		s.cond.L = &s.mu
	}
	s.setup(g, procs)
	dispatch(&job{fn: s.participate, parts: procs}, procs)
	s.g = nil
	select {
	case parFree <- s:
	default:
	}
}

// setup resets s for g and chooses the tasks.
func (s *parGemm) setup(g *gemmArgs, procs int) {
	v := g.variant
	s.g, s.v = g, v
	s.kb = v.kcBlock(g.k)
	s.kPanels = (g.k + s.kb - 1) / s.kb
	jcs := (g.n + v.nc - 1) / v.nc
	s.panels = jcs * s.kPanels
	ncMax := min(v.nc, g.n)
	slivers := (ncMax + v.nr - 1) / v.nr
	// Pack tasks of about 64K floats: small enough to share the packing,
	// large enough that claiming one costs nothing.
	s.packW = max(1, min(slivers, (1<<16)/(v.nr*s.kb)))
	s.nPack = (slivers + s.packW - 1) / s.packW
	// Chunk rows: guided self-scheduling, each chunk a fraction 1/(2·procs)
	// of the tiles left, at most MC rows (the A block kept in L2) and at least
	// minChunkTiles, so that the chunks claimed last are small and the
	// threads finish together. Columns are split too when there are too few
	// chunk rows to go round.
	mt := (g.m + v.mr - 1) / v.mr
	mcT := v.mc / v.mr
	s.rows = 0
	for at := 0; at < mt; s.rows++ {
		left := mt - at
		size := min(left, mcT, max(minChunkTiles, (left+2*procs-1)/(2*procs)))
		if s.rows == maxChunks-1 {
			size = left
		}
		s.rowAt[s.rows] = int32(at)
		at += size
	}
	s.rowAt[s.rows] = int32(mt)
	s.cols = 1
	if s.rows < 3*procs {
		s.cols = min(slivers, (3*procs+s.rows-1)/s.rows, maxChunks/s.rows)
	}
	s.chunks = s.rows * s.cols
	s.tasks = s.panels * (s.nPack + s.chunks)
	s.next.Store(0)
	s.joined.Store(0)
	for i := range s.packDone {
		s.packDone[i].Store(0)
		s.chunkDone[i].Store(0)
	}
	for i := range s.chunks {
		s.rowDone[i].Store(0)
	}
	ncPad := slivers * v.nr
	for i := range s.bufs {
		alignedBuf(&s.bufs[i], s.kb*ncPad) // grown here, before sharing
	}
}

// participate runs tasks until there are none left (one job part).
func (s *parGemm) participate(ws *workspace, _ int) {
	if s.joined.Add(1) == 1 {
		// The first to start, usually the caller just after handing the job
		// to the helpers: yield once. A helper woken by that hand-off waits
		// in this P's run queue, where another P steals it only after a
		// delay (tens of µs); yielding runs it here at once while the P woken
		// for it picks up the caller instead.
		runtime.Gosched()
	}
	per := s.nPack + s.chunks
	for {
		i := int(s.next.Add(1)) - 1
		if i >= s.tasks {
			return
		}
		t, r := i/per, i%per
		if r < s.nPack {
			s.pack(t, r)
		} else {
			s.chunk(ws, t, r-s.nPack)
		}
	}
}

// panel returns panel t's column block [jc, jc+nc), k slab [pc, pc+kc) and
// packed buffer.
func (s *parGemm) panel(t int) (jc, nc, pc, kc int, bp []float32) {
	v := s.v
	jc = t / s.kPanels * v.nc
	nc = min(v.nc, s.g.n-jc)
	pc = t % s.kPanels * s.kb
	kc = min(s.kb, s.g.k-pc)
	ncPad := (nc + v.nr - 1) / v.nr * v.nr
	return jc, nc, pc, kc, alignedBuf(&s.bufs[t%2], kc*ncPad)
}

// pack packs group r of panel t's slivers of op(B).
func (s *parGemm) pack(t, r int) {
	if t >= 2 {
		s.wait(&s.chunkDone[(t-2)%4], int32(s.chunks*((t-2)/4+1)))
	}
	v := s.v
	jc, nc, pc, kc, bp := s.panel(t)
	c0 := r * s.packW * v.nr
	if c0 < nc {
		v.packB(bp[c0*kc:], s.g.tB, s.g.b, s.g.ldb, pc, kc, jc+c0, min(s.packW*v.nr, nc-c0))
	}
	s.packDone[t%4].Add(1)
	s.signal()
}

// chunk computes chunk i of panel t.
func (s *parGemm) chunk(ws *workspace, t, i int) {
	s.wait(&s.packDone[t%4], int32(s.nPack*(t/4+1)))
	if t > 0 {
		s.wait(&s.rowDone[i], int32(t))
	}
	v, g := s.v, s.g
	jc, nc, pc, kc, bp := s.panel(t)
	ri, ci := i/s.cols, i%s.cols
	m0 := int(s.rowAt[ri]) * v.mr
	m1 := min(g.m, int(s.rowAt[ri+1])*v.mr)
	slivers := (nc + v.nr - 1) / v.nr
	c0 := ci * slivers / s.cols * v.nr
	c1 := min(nc, (ci+1)*slivers/s.cols*v.nr)
	if m0 < m1 && c0 < c1 {
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		for ic := m0; ic < m1; ic += v.mc {
			v.block(ws, g, g.a, g.c, bp[c0*kc:], ic, min(v.mc, m1-ic), jc+c0, c1-c0, pc, kc, beta)
		}
	}
	s.rowDone[i].Add(1)
	s.chunkDone[t%4].Add(1)
	s.signal()
}

// wait returns once *ctr >= target: polling for up to spinWait, then
// blocking until a signal.
func (s *parGemm) wait(ctr *atomic.Int32, target int32) {
	if ctr.Load() >= target {
		return
	}
	for start := time.Now(); time.Since(start) < spinWait; {
		runtime.Gosched()
		if ctr.Load() >= target {
			return
		}
	}
	s.mu.Lock()
	s.waiters.Add(1)
	for ctr.Load() < target {
		s.cond.Wait()
	}
	s.waiters.Add(-1)
	s.mu.Unlock()
}

// signal wakes the blocked waiters, if any, after a counter moved.
func (s *parGemm) signal() {
	if s.waiters.Load() > 0 {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}
