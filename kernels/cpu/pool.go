package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// minPartWork is the least work (multiply-adds) worth handing to another
// thread: about 5-10 µs at full speed, well above the cost of a wake-up.
const minPartWork = 1 << 20

// job is one parallel call: parts claimed from next by the caller and by
// helpers; done counts finished parts. A part is a piece of a gemm (g), or
// for a parallel loop (parFor in parallel.go, g nil) one call of fn.
type job struct {
	g     *gemmArgs
	fn    func(ws *workspace, i int)
	parts int
	next  atomic.Int64
	done  sync.WaitGroup
}

// work claims and computes parts until none are left.
func (j *job) work(ws *workspace) {
	for {
		i := int(j.next.Add(1)) - 1
		if i >= j.parts {
			return
		}
		if j.fn != nil {
			j.fn(ws, i)
		} else {
			j.g.part(ws, i)
		}
		j.done.Done()
	}
}

var (
	jobs     = make(chan *job, 64) // to idle helpers
	helpers  atomic.Int32          // helpers started
	helperMu sync.Mutex
	spare    = make(chan *workspace, 64) // callers' workspaces
)

// ensureHelpers starts helpers until there are at least n. Helpers never
// exit; each owns its workspace and blocks on jobs when idle.
func ensureHelpers(n int) {
	if int(helpers.Load()) >= n {
		return
	}
	helperMu.Lock()
	defer helperMu.Unlock()
	for int(helpers.Load()) < n {
		go helper()
		helpers.Add(1)
	}
}

func helper() {
	ws := new(workspace)
	for j := range jobs {
		j.work(ws)
	}
}

func getWorkspace() *workspace {
	select {
	case ws := <-spare:
		return ws
	default:
		return new(workspace)
	}
}

func putWorkspace(ws *workspace) {
	select {
	case spare <- ws:
	default:
	}
}

// run computes the call described by g, in parallel when it is large enough.
func run(g *gemmArgs) {
	v := g.variant
	g.mt, g.nt = (g.m+v.mr-1)/v.mr, (g.n+v.nr-1)/v.nr
	work := g.batch * g.m * g.n * g.k
	procs := min(runtime.GOMAXPROCS(0), max(1, work/minPartWork))
	if procs <= 1 {
		ws := getWorkspace()
		for bi := range g.batch {
			v.gemm(ws, g, bi*g.sA, bi*g.sB, bi*g.sC, 0, g.m, 0, g.n)
		}
		putWorkspace(ws)
		return
	}
	g.pm, g.pn = 1, 1
	if g.batch < procs {
		g.pm, g.pn = grid(v, g.m, g.n, g.k, g.mt, g.nt, (procs+g.batch-1)/g.batch)
	}
	g.parts = g.batch * g.pm * g.pn

	dispatch(&job{g: g, parts: g.parts}, procs)
}

// dispatch offers j to up to procs-1 idle helpers, works on it on the
// calling goroutine too, and returns when all its parts are done.
func dispatch(j *job, procs int) {
	j.done.Add(j.parts)
	want := min(procs, j.parts) - 1
	ensureHelpers(want)
	for range want {
		select {
		case jobs <- j:
		default: // helpers busy with other callers: do more ourselves
		}
	}
	ws := getWorkspace()
	j.work(ws)
	putWorkspace(ws)
	j.done.Wait()
}

// grid splits one m×n product into pm×pn sub-blocks (pm*pn = parts, or
// fewer when the matrix has too few tiles), choosing the split that
// minimises the packing each thread does: its rows of A once per NC block
// of its columns, plus its columns of B.
func grid(v *variant, m, n, k, mt, nt, parts int) (pm, pn int) {
	best := -1
	for p := 1; p <= parts; p++ {
		if parts%p != 0 || p > mt || parts/p > nt {
			continue
		}
		q := parts / p
		rows, cols := (m+p-1)/p, (n+q-1)/q
		cost := rows*k*((cols+v.nc-1)/v.nc) + cols*k
		if best < 0 || cost < best {
			best, pm, pn = cost, p, q
		}
	}
	if best < 0 {
		if mt >= nt {
			return min(parts, mt), 1
		}
		return 1, min(parts, nt)
	}
	return pm, pn
}
