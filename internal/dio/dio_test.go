package dio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// sizes around the block and alignment edges.
var sizes = []int{0, 1, 100, Align - 1, Align, Align + 1, 3*Align + 17, 64 << 10, 64<<10 + 1, 300000}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// both runs f with direct I/O through the ring, with direct I/O by plain
// system calls, and with direct I/O disabled.
func both(t *testing.T, f func(t *testing.T)) {
	t.Run("direct", f)
	t.Run("direct-syscalls", func(t *testing.T) {
		setRingOff(t)
		f(t)
	})
	t.Run("buffered", func(t *testing.T) {
		old := disabled
		disabled = true
		defer func() { disabled = old }()
		f(t)
	})
}

func TestBuf(t *testing.T) {
	for _, n := range sizes {
		b := Buf(n)
		if len(b) != n || cap(b) != AlignUp(n) || (cap(b) > 0 && !aligned(b)) {
			t.Fatalf("Buf(%d): len %d cap %d aligned %v", n, len(b), cap(b), aligned(b))
		}
	}
	if AlignUp(0) != 0 || AlignUp(1) != Align || AlignUp(Align) != Align || AlignUp(Align+1) != 2*Align {
		t.Fatal("AlignUp")
	}
}

// TestDirectWorksHere checks that the test directory's file system takes
// O_DIRECT when this is Linux: otherwise the "direct" subtests below
// would only test the fallback.
func TestDirectWorksHere(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	on := SetDirect(f, true)
	t.Logf("O_DIRECT on %s: %v", filepath.Dir(f.Name()), on)
	if on {
		b := Buf(Align)
		if _, err := f.Write(b); err != nil {
			t.Fatalf("aligned direct write: %v", err)
		}
		// An unaligned length must be refused: proof the mode is on.
		if _, err := f.Write(b[:10]); err == nil {
			t.Fatal("unaligned write accepted in direct mode")
		}
	}
	if SetDirect(f, false) {
		t.Fatal("SetDirect(false) left the file direct")
	}
}

func TestWriter(t *testing.T) {
	both(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, block := range []int{Align, 4 * Align, 64 << 10} {
			for _, n := range sizes {
				want := randBytes(rng, n)
				f, err := os.Create(filepath.Join(t.TempDir(), "w"))
				if err != nil {
					t.Fatal(err)
				}
				w := NewWriter(f, block, 3)
				// Write in pieces of random sizes.
				for p := want; len(p) > 0; {
					k := min(len(p), 1+rng.IntN(3*block))
					if m, err := w.Write(p[:k]); err != nil || m != k {
						t.Fatalf("write: %d, %v", m, err)
					}
					p = p[k:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err == nil {
					t.Fatal("second Close did not fail")
				}
				f.Close()
				got, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("block %d size %d: file has %d bytes, differs", block, n, len(got))
				}
			}
		}
	})
}

// TestQueueManyFiles interleaves blocks of several files through one
// queue, as the spill does, and ends each with Finish.
func TestQueueManyFiles(t *testing.T) {
	both(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		dir := t.TempDir()
		const nf = 7
		block := 2 * Align
		q := NewQueue(block, 2)
		files := make([]*os.File, nf)
		want := make([][]byte, nf)
		cur := make([][]byte, nf)
		for i := range files {
			f, err := os.Create(filepath.Join(dir, string(rune('a'+i))))
			if err != nil {
				t.Fatal(err)
			}
			SetDirect(f, true)
			files[i] = f
			cur[i] = q.Get()
		}
		for range 2000 {
			i := rng.IntN(nf)
			b := randBytes(rng, 1+rng.IntN(block))
			want[i] = append(want[i], b...)
			for len(b) > 0 {
				k := copy(cur[i][len(cur[i]):cap(cur[i])], b)
				cur[i] = cur[i][:len(cur[i])+k]
				b = b[k:]
				if len(cur[i]) == cap(cur[i]) {
					if err := q.Submit(files[i], cur[i]); err != nil {
						t.Fatal(err)
					}
					cur[i] = q.Get()
				}
			}
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		for i, f := range files {
			if err := q.Finish(f, cur[i]); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[i]) {
				t.Fatalf("file %d: %d bytes, want %d", i, len(got), len(want[i]))
			}
		}
	})
}

// TestQueueError: a write error comes back from Submit or Close.
func TestQueueError(t *testing.T) {
	f, err := os.Open(os.DevNull) // read-only: writes fail
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q := NewQueue(Align, 1)
	var got error
	for range 4 {
		if err := q.Submit(f, Buf(Align)); err != nil {
			got = err
		}
	}
	if err := q.Close(); err != nil {
		got = err
	}
	if got == nil {
		t.Fatal("write to a read-only file reported no error")
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadFull(t *testing.T) {
	both(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		var buf []byte
		for _, n := range append(sizes, 1<<20+3) {
			want := randBytes(rng, n)
			path := filepath.Join(t.TempDir(), "r")
			writeFile(t, path, want)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadFull(f, n, buf)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d: differs", n)
			}
			buf = got
		}
		// A size larger than the file is an error naming it.
		path := filepath.Join(t.TempDir(), "short")
		writeFile(t, path, []byte("abc"))
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := ReadFull(f, 10, nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte("short")) {
			t.Fatalf("short file: %v", err)
		}
	})
}

func TestPrefetcher(t *testing.T) {
	both(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		dir := t.TempDir()
		block := 4 * Align
		var names []string
		var want [][]byte
		for i, n := range append(sizes, 5*block, 5*block+1, 0) {
			b := randBytes(rng, n)
			p := filepath.Join(dir, string(rune('a'+i)))
			writeFile(t, p, b)
			names = append(names, p)
			want = append(want, b)
		}
		// Read every file whole with small reads, then every other file
		// only in part (the rest must be skipped, not leak into the next).
		for pass := range 2 {
			pf := NewPrefetcher(names, block, 3)
			for i := range names {
				r, err := pf.Next()
				if err != nil {
					t.Fatal(err)
				}
				if pass == 1 && i%2 == 0 {
					part := make([]byte, min(len(want[i]), 5000))
					if _, err := io.ReadFull(r, part); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(part, want[i][:len(part)]) {
						t.Fatalf("file %d: first bytes differ", i)
					}
					continue
				}
				var got []byte
				small := make([]byte, 1+rng.IntN(9000))
				for {
					n, err := r.Read(small)
					got = append(got, small[:n]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(got, want[i]) {
					t.Fatalf("pass %d file %d: %d bytes, want %d", pass, i, len(got), len(want[i]))
				}
			}
			if _, err := pf.Next(); err == nil {
				t.Fatal("Next past the last file did not fail")
			}
			pf.Close()
		}
	})
}

func TestPrefetcherOpenError(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	writeFile(t, a, []byte("hello"))
	pf := NewPrefetcher([]string{a, filepath.Join(dir, "missing"), a}, Align, 2)
	defer pf.Close()
	r, err := pf.Next()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "hello" {
		t.Fatalf("got %q", b)
	}
	if _, err := pf.Next(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestPrefetcherCloseEarly: Close with the reader blocked on a full pool
// returns (no goroutine left waiting).
func TestPrefetcherCloseEarly(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 10 {
		p := filepath.Join(dir, string(rune('a'+i)))
		writeFile(t, p, make([]byte, 10*Align))
		names = append(names, p)
	}
	pf := NewPrefetcher(names, Align, 2)
	if _, err := pf.Next(); err != nil {
		t.Fatal(err)
	}
	pf.Close()
}

// TestTmpfs runs the writer, ReadFull and the prefetcher on a tmpfs
// (/dev/shm): before Linux 6.6 it refuses O_DIRECT and everything takes
// the ordinary path, from 6.6 on it takes it; the data must be the same.
func TestTmpfs(t *testing.T) {
	st, err := os.Stat("/dev/shm")
	if err != nil || !st.IsDir() {
		t.Skip("no /dev/shm here")
	}
	dir, err := os.MkdirTemp("/dev/shm", "dio-test-")
	if err != nil {
		t.Skipf("/dev/shm not writable: %v", err)
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "w"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Logf("O_DIRECT on tmpfs: %v", SetDirect(f, true))
	rng := rand.New(rand.NewPCG(9, 10))
	want := randBytes(rng, 3*64<<10+123)
	w := NewWriter(f, 64<<10, 2)
	if _, err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := ReadFull(r, len(want), nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFull on tmpfs: %v, equal %v", err, bytes.Equal(got, want))
	}
	pf := NewPrefetcher([]string{f.Name(), f.Name()}, Align, 2)
	defer pf.Close()
	for range 2 {
		fr, err := pf.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(fr); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("prefetch on tmpfs: %v, equal %v", err, bytes.Equal(got, want))
		}
	}
}

// TestUnalignedBlocks: blocks whose size is not a multiple of Align, on a
// file in direct mode, are refused by the kernel (EINVAL) and written again
// through the page cache (the spill's tests use such blocks too).
func TestUnalignedBlocks(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "u"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	direct := SetDirect(f, true)
	q := NewQueue(100, 3)
	var want []byte
	for i := range 10 {
		b := q.Get()
		b = b[:cap(b)]
		for j := range b {
			b[j] = byte(i*7 + j)
		}
		want = append(want, b...)
		if err := q.Submit(f, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Finish(f, []byte("tail")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "tail"...)
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file: %v, %d bytes, want %d", err, len(got), len(want))
	}
	t.Logf("file was in direct mode: %v", direct)
}
