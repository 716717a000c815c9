// Package arena provides a bump allocator for the activations, gradients and
// optimizer state of a training step: one block reserved once, carved into
// 64-byte aligned float32 and int32 slices, and reused every step.
//
// # Why
//
// A fresh Go allocation of a large slice costs a page fault per 4 KiB on
// first touch (~14 µs each on the development box: a 64 MiB make+touch
// took 170-220 ms, against ~4 ms when the memory is reused), and a
// training step that allocates its activations anew each time spends much
// of its time in faults, memclr and the GC. An arena is reserved once; on
// Linux it is an anonymous private mmap advised with MADV_HUGEPAGE (2 MiB
// pages where transparent huge pages are enabled in madvise mode: one
// fault per 2 MiB); below 1 MiB, on other systems, or if mmap fails, it is
// a Go heap block.
//
// # Use
//
//	a, err := arena.New(1 << 30)
//	defer a.Close()
//	params := a.Float32(nParams)        // lives as long as the arena
//	for step := ... {
//		m := a.Mark()
//		act := a.Float32Uninit(n)    // per-step scratch
//		...
//		a.Reset(m)                   // frees everything allocated since m
//	}
//
// Allocation is a pointer bump: no Go heap allocation, no lock. Marks
// follow a stack discipline: Reset(m) frees everything allocated after m
// was taken, and a mark freed by resetting to an older one may not be used
// again (Reset panics when it can tell: a mark above the current top).
//
// # Errors
//
// Misuse panics: exhaustion (a request larger than what is left) panics
// with an *ExhaustedError (an error value, so a caller sizing the arena by
// trial can recover it; the arena is unchanged by the failed request), as
// do a negative size, a mark from another arena, and use after Close. The
// sizes of a training step are fixed when it is set up, so running out is
// a programming error, not a condition to handle per allocation; Available
// and Stats (HighWater in particular, after one step) help size the arena.
//
// An Arena is not safe for concurrent use; slices it returned may of course
// be used by any goroutine (kernels run multithreaded on them). Slices are
// invalid after Close: memory from an unmapped arena faults when touched.
package arena

import (
	"fmt"
	"math"
	"unsafe"
)

// Align is the alignment, in bytes, of every slice an Arena returns (a
// cache line, and an AVX-512 register).
const Align = 64

// mmapMin is the smallest block worth an mmap; smaller arenas use the
// heap.
const mmapMin = 1 << 20

// hugePage is the size of a transparent huge page on x86-64 and arm64
// Linux; mmapped arenas are aligned to it.
const hugePage = 2 << 20

// Config selects how the block is obtained.
type Config struct {
	// NoMmap uses the Go heap even where mmap is available.
	NoMmap bool
	// NoHugePages skips madvise(MADV_HUGEPAGE) on an mmapped block.
	NoHugePages bool
}

// Arena is a bump allocator over one reserved block.
type Arena struct {
	mem    []byte       // the usable block, Align-aligned (mmap: hugePage-aligned)
	unmap  func() error // releases an mmapped block; nil for the heap
	off    int          // bytes in use
	high   int          // largest off seen
	mapped bool
	huge   bool
	closed bool
}

// Stats describes an Arena's memory.
type Stats struct {
	Reserved  int  // usable bytes
	Used      int  // bytes in use, alignment padding included
	HighWater int  // the most bytes ever in use at once
	Mapped    bool // the block is an mmap (false: Go heap)
	HugePages bool // madvise(MADV_HUGEPAGE) succeeded on the block
}

// ExhaustedError is the panic value of an allocation that does not fit.
type ExhaustedError struct {
	Requested int // bytes requested (before rounding up to Align)
	Used      int // bytes in use at the time
	Reserved  int // usable bytes of the arena
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("arena: exhausted: %d bytes requested, %d of %d in use (%d available)",
		e.Requested, e.Used, e.Reserved, e.Reserved-e.Used)
}

// Mark is a position in an Arena's stack of allocations. The zero Mark is
// the bottom of any arena: Reset(Mark{}) frees everything.
type Mark struct {
	a   *Arena
	off int
}

// New reserves an arena of size bytes (rounded up to Align; blocks of 1 MiB
// or more are mmapped where possible and round up to 2 MiB) with the
// default Config.
func New(size int) (*Arena, error) { return NewConfig(size, Config{}) }

// NewConfig reserves an arena of size bytes as c says. It fails only for a
// negative or overflowing size, or when the Go heap cannot provide the
// block; a failed mmap falls back to the heap.
func NewConfig(size int, c Config) (*Arena, error) {
	if size < 0 || size > math.MaxInt-hugePage-Align {
		return nil, fmt.Errorf("arena: bad size %d", size)
	}
	size = roundUp(size, Align)
	a := &Arena{}
	if !c.NoMmap && size >= mmapMin {
		if mem, unmap, huge, ok := mapBlock(size, !c.NoHugePages); ok {
			a.mem, a.unmap, a.mapped, a.huge = mem, unmap, true, huge
			return a, nil
		}
	}
	if size > 0 {
		raw := make([]byte, size+Align)
		skip := 0
		if r := uintptr(unsafe.Pointer(&raw[0])) % Align; r != 0 {
			skip = Align - int(r)
		}
		a.mem = raw[skip : skip+size : skip+size]
	}
	return a, nil
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// alloc returns the start of a fresh Align-aligned region of bytes bytes
// (elem bytes per element, for the overflow check).
func (a *Arena) alloc(n, elem int) unsafe.Pointer {
	if a.closed {
		panic("arena: use after Close")
	}
	if n < 0 || n > (math.MaxInt-Align)/elem {
		panic(fmt.Sprintf("arena: bad length %d", n))
	}
	bytes := n * elem
	size := roundUp(bytes, Align)
	if size > len(a.mem)-a.off {
		panic(&ExhaustedError{Requested: bytes, Used: a.off, Reserved: len(a.mem)})
	}
	p := unsafe.Pointer(unsafe.SliceData(a.mem[a.off:]))
	a.off += size
	a.high = max(a.high, a.off)
	return p
}

// Float32Uninit returns n float32s whose contents are unspecified
// (whatever an earlier, reset allocation left; zeros on fresh memory). Use
// it for outputs that are fully overwritten.
func (a *Arena) Float32Uninit(n int) []float32 {
	if n == 0 {
		a.alloc(0, 4) // checks only
		return []float32{}
	}
	return unsafe.Slice((*float32)(a.alloc(n, 4)), n)
}

// Float32 returns n zeroed float32s.
func (a *Arena) Float32(n int) []float32 {
	s := a.Float32Uninit(n)
	clear(s)
	return s
}

// Int32Uninit returns n int32s whose contents are unspecified.
func (a *Arena) Int32Uninit(n int) []int32 {
	if n == 0 {
		a.alloc(0, 4)
		return []int32{}
	}
	return unsafe.Slice((*int32)(a.alloc(n, 4)), n)
}

// Int32 returns n zeroed int32s.
func (a *Arena) Int32(n int) []int32 {
	s := a.Int32Uninit(n)
	clear(s)
	return s
}

// Mark returns the current top of the arena.
func (a *Arena) Mark() Mark { return Mark{a: a, off: a.off} }

// Reset frees everything allocated since m was taken. The memory is kept
// (not zeroed, not returned to the system) for the next allocations.
func (a *Arena) Reset(m Mark) {
	if a.closed {
		panic("arena: use after Close")
	}
	if m.a != nil && m.a != a {
		panic("arena: Reset with a mark of another arena")
	}
	if m.off > a.off {
		panic("arena: Reset to a mark above the top (already freed by an earlier Reset)")
	}
	a.off = m.off
}

// Available returns the bytes still free (an allocation also rounds its
// size up to Align).
func (a *Arena) Available() int { return len(a.mem) - a.off }

// Stats returns the arena's memory statistics.
func (a *Arena) Stats() Stats {
	return Stats{Reserved: len(a.mem), Used: a.off, HighWater: a.high, Mapped: a.mapped, HugePages: a.huge}
}

// Prefault touches every page of the free part of the arena (above the
// current top) by writing a zero byte per 4 KiB, so that the page faults
// happen now, at setup, rather than in the first step. Free memory has
// unspecified contents anyway; nothing allocated is changed.
func (a *Arena) Prefault() {
	if a.closed {
		panic("arena: use after Close")
	}
	for i := a.off; i < len(a.mem); i += 4096 {
		a.mem[i] = 0
	}
}

// Close releases the block (unmaps it, or drops it for the GC). Every slice
// from the arena is invalid afterwards. Close is idempotent: later calls
// return nil.
func (a *Arena) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	unmap := a.unmap
	a.mem, a.unmap, a.off = nil, nil, 0
	if unmap != nil {
		return unmap()
	}
	return nil
}
