package arena

import (
	"errors"
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"
)

// configs are the two kinds of block: mmap where the OS has it, and heap.
var configs = []struct {
	name string
	c    Config
}{{"default", Config{}}, {"heap", Config{NoMmap: true}}}

func newArena(t testing.TB, size int, c Config) *Arena {
	t.Helper()
	a, err := NewConfig(size, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func addr[T any](s []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }

// TestAlignment: every slice starts on a 64-byte boundary, has the length
// asked for, lies inside the block and overlaps no other slice.
func TestAlignment(t *testing.T) {
	for _, cf := range configs {
		t.Run(cf.name, func(t *testing.T) {
			a := newArena(t, 1<<20, cf.c)
			type span struct{ lo, hi uintptr }
			var spans []span
			for i, n := range []int{1, 3, 16, 17, 1000, 0, 4096, 5} {
				var lo uintptr
				var bytes int
				if i%2 == 0 {
					s := a.Float32(n)
					if len(s) != n {
						t.Fatalf("Float32(%d) has length %d", n, len(s))
					}
					lo, bytes = addr(s), 4*n
				} else {
					s := a.Int32(n)
					if len(s) != n {
						t.Fatalf("Int32(%d) has length %d", n, len(s))
					}
					lo, bytes = addr(s), 4*n
				}
				if n == 0 {
					continue
				}
				if lo%Align != 0 {
					t.Errorf("slice %d (n=%d) at %#x is not %d-byte aligned", i, n, lo, Align)
				}
				sp := span{lo, lo + uintptr(bytes)}
				for _, o := range spans {
					if sp.lo < o.hi && o.lo < sp.hi {
						t.Errorf("slice %d overlaps an earlier one", i)
					}
				}
				spans = append(spans, sp)
			}
			base := addr(a.mem)
			for _, sp := range spans {
				if sp.lo < base || sp.hi > base+uintptr(len(a.mem)) {
					t.Errorf("slice outside the block")
				}
			}
			if a.Stats().Mapped && base%hugePage != 0 {
				t.Errorf("mmapped block at %#x is not 2 MiB aligned", base)
			}
		})
	}
}

// TestReuse: after Reset, the same requests return the same memory; Float32
// and Int32 return zeros even on reused memory; Uninit does not clear.
func TestReuse(t *testing.T) {
	for _, cf := range configs {
		t.Run(cf.name, func(t *testing.T) {
			a := newArena(t, 1<<20, cf.c)
			keep := a.Float32(10)
			keep[0] = 42
			m := a.Mark()
			x, y := a.Float32(1000), a.Int32(300)
			for i := range x {
				x[i] = 1
			}
			for i := range y {
				y[i] = -1
			}
			a.Reset(m)
			x2, y2 := a.Float32(1000), a.Int32(300)
			if addr(x2) != addr(x) || addr(y2) != addr(y) {
				t.Errorf("after Reset: slices at %#x %#x, before at %#x %#x", addr(x2), addr(y2), addr(x), addr(y))
			}
			for i := range x2 {
				if x2[i] != 0 {
					t.Fatalf("Float32 on reused memory: x[%d] = %v", i, x2[i])
				}
			}
			for i := range y2 {
				if y2[i] != 0 {
					t.Fatalf("Int32 on reused memory: y[%d] = %v", i, y2[i])
				}
			}
			x2[5] = 7
			a.Reset(m)
			if u := a.Float32Uninit(1000); addr(u) != addr(x) || u[5] != 7 {
				t.Errorf("Float32Uninit: at %#x (want %#x), u[5] = %v (want the old 7)", addr(u), addr(x), u[5])
			}
			if keep[0] != 42 {
				t.Errorf("memory below the mark changed")
			}
			a.Reset(Mark{})
			if a.Stats().Used != 0 {
				t.Errorf("Reset(Mark{}): %d bytes in use", a.Stats().Used)
			}
		})
	}
}

// TestNoAllocs: a step of Mark, allocations and Reset allocates nothing on
// the Go heap.
func TestNoAllocs(t *testing.T) {
	for _, cf := range configs {
		t.Run(cf.name, func(t *testing.T) {
			a := newArena(t, 4<<20, cf.c)
			params := a.Float32(1000)
			step := func() {
				m := a.Mark()
				x := a.Float32Uninit(100000)
				ids := a.Int32(2048)
				g := a.Float32(len(params))
				x[0], ids[0], g[0] = 1, 2, 3
				inner := a.Mark()
				_ = a.Int32Uninit(10)
				a.Reset(inner)
				a.Reset(m)
			}
			if n := testing.AllocsPerRun(100, step); n != 0 {
				t.Errorf("%v allocations per step, want 0", n)
			}
		})
	}
}

// TestStats: Used, HighWater and Available follow allocations and Resets.
func TestStats(t *testing.T) {
	a := newArena(t, 1000, Config{})
	s := a.Stats()
	if s.Reserved < 1000 || s.Used != 0 || s.HighWater != 0 {
		t.Fatalf("fresh: %+v", s)
	}
	t.Logf("fresh 1000-byte arena: %+v", s)
	m := a.Mark()
	a.Float32(10) // 40 bytes → 64
	a.Int32(17)   // 68 bytes → 128
	if s := a.Stats(); s.Used != 192 || s.HighWater != 192 {
		t.Errorf("after 2 allocations: %+v, want Used = HighWater = 192", s)
	}
	a.Reset(m)
	a.Float32(1)
	if s := a.Stats(); s.Used != 64 || s.HighWater != 192 || a.Available() != s.Reserved-64 {
		t.Errorf("after Reset and 1 allocation: %+v, Available %d", s, a.Available())
	}
}

// TestExhaustion: a request that does not fit panics with *ExhaustedError
// and leaves the arena as it was; exactly filling the arena works.
func TestExhaustion(t *testing.T) {
	for _, cf := range configs {
		t.Run(cf.name, func(t *testing.T) {
			a := newArena(t, 4096, cf.c)
			a.Float32(10)
			used := a.Stats().Used
			func() {
				defer func() {
					r := recover()
					err, ok := r.(error)
					var ex *ExhaustedError
					if !ok || !errors.As(err, &ex) {
						t.Fatalf("panic value %v (%T), want *ExhaustedError", r, r)
					}
					if ex.Requested != 4*(a.Stats().Reserved) || ex.Used != used {
						t.Errorf("ExhaustedError %+v", ex)
					}
					t.Logf("%v", ex)
				}()
				a.Float32(a.Stats().Reserved) // 4 bytes each: 4x too many
			}()
			if a.Stats().Used != used {
				t.Errorf("failed request changed Used from %d to %d", used, a.Stats().Used)
			}
			rest := a.Float32Uninit(a.Available() / 4)
			if a.Available() != 0 || len(rest) == 0 {
				t.Errorf("filling the arena: Available %d", a.Available())
			}
			mustPanic(t, "one more float", func() { a.Float32(1) })
			a.Float32(0) // zero elements always fit
		})
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

// TestMisuse: negative sizes, foreign marks, freed marks and use after
// Close panic; Close is idempotent.
func TestMisuse(t *testing.T) {
	a := newArena(t, 4096, Config{})
	b := newArena(t, 4096, Config{})
	mustPanic(t, "negative length", func() { a.Float32(-1) })
	mustPanic(t, "huge length", func() { a.Int32(1 << 62) })
	mustPanic(t, "mark of another arena", func() { a.Reset(b.Mark()) })
	m0 := a.Mark()
	a.Float32(3)
	m1 := a.Mark()
	a.Reset(m0)
	mustPanic(t, "freed mark", func() { a.Reset(m1) })
	if _, err := New(-1); err == nil {
		t.Errorf("New(-1): no error")
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	mustPanic(t, "Float32 after Close", func() { a.Float32(1) })
	mustPanic(t, "Reset after Close", func() { a.Reset(m0) })
	z, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	if s := z.Float32(0); len(s) != 0 {
		t.Errorf("empty arena: %v", s)
	}
	mustPanic(t, "Float32(1) on an empty arena", func() { z.Float32(1) })
	if z.Close() != nil || z.Close() != nil {
		t.Errorf("Close of an empty arena failed")
	}
}

// TestMapped: on Linux the default block is an mmap (and reports whether
// the huge page advice was taken); Prefault touches it without changing
// allocated data.
func TestMapped(t *testing.T) {
	a := newArena(t, 8<<20, Config{})
	s := a.Stats()
	t.Logf("8 MiB arena: %+v (GOOS %s)", s, runtime.GOOS)
	if runtime.GOOS == "linux" && !s.Mapped {
		t.Errorf("linux: block not mmapped")
	}
	x := a.Float32(100)
	x[99] = 5
	a.Prefault()
	if x[99] != 5 {
		t.Errorf("Prefault changed allocated data")
	}
	if h := newArena(t, 1<<20, Config{NoHugePages: true}).Stats(); h.HugePages {
		t.Errorf("NoHugePages: advice reported as taken")
	}
}

const benchBytes = 64 << 20

// touch writes one float per 4 KiB page.
func touch(s []float32) {
	for i := 0; i < len(s); i += 1024 {
		s[i] = 1
	}
}

// BenchmarkFirstTouchMake: a fresh 64 MiB make each time, with the heap
// returned to the OS in between (what a long step's GC cycles do to large
// activations): every page faults.
func BenchmarkFirstTouchMake(b *testing.B) {
	b.SetBytes(benchBytes)
	for b.Loop() {
		b.StopTimer()
		debug.FreeOSMemory()
		b.StartTimer()
		s := make([]float32, benchBytes/4)
		touch(s)
		runtime.KeepAlive(s)
	}
}

// BenchmarkFirstTouchArena: a fresh arena (mmap + MADV_HUGEPAGE) each
// time: first-touch faults on huge pages where THP allows it.
func BenchmarkFirstTouchArena(b *testing.B) {
	b.SetBytes(benchBytes)
	for b.Loop() {
		a, err := New(benchBytes)
		if err != nil {
			b.Fatal(err)
		}
		touch(a.Float32Uninit(benchBytes / 4))
		a.Close()
	}
}

// BenchmarkArenaReuse: the steady state: the same 64 MiB reused every step.
func BenchmarkArenaReuse(b *testing.B) {
	a, err := New(benchBytes)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.SetBytes(benchBytes)
	for b.Loop() {
		m := a.Mark()
		touch(a.Float32Uninit(benchBytes / 4))
		a.Reset(m)
	}
}
