package dio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func setRingOff(t *testing.T) {
	old := ringOff
	ringOff = true
	t.Cleanup(func() { ringOff = old })
}

// TestRingHere: the ring comes up on this machine (Linux >= 5.6 with
// io_uring allowed), so the "direct" subtests go through it; a kernel
// without it is logged, and the plain path is what runs.
func TestRingHere(t *testing.T) {
	r := getRing()
	if r == nil {
		t.Skipf("no io_uring here (setup failed or HUMANLLM_IO_URING=0); the tests ran on plain system calls")
	}
	// A read and a write through it, with an error from the kernel.
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := pwrite(f, []byte("hello ring"), 3); err != nil || n != 10 {
		t.Fatalf("pwrite: %d %v", n, err)
	}
	b := make([]byte, 20)
	n, err := pread(f, b, 0)
	if err != nil || n != 13 || string(b[3:13]) != "hello ring" || b[0] != 0 {
		t.Fatalf("pread: %d %v %q", n, err, b[:n])
	}
	if _, err := pread(f, b, 13); err == nil || err.Error() != "EOF" {
		t.Fatalf("pread at the end: %v", err)
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := pwrite(ro, []byte("x"), 0); !errors.Is(err, unix.EBADF) {
		t.Fatalf("write to a read-only file: %v", err)
	}
	r.mu.Lock()
	left := len(r.waiting)
	r.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d operations left waiting", left)
	}
}

// TestPrefetchFIFO: a named pipe among the inputs (or a shell's /dev/fd/N)
// has no offsets to pread at: it is read as a stream, with and without the
// ring.
func TestPrefetchFIFO(t *testing.T) {
	for _, off := range []bool{false, true} {
		if off {
			setRingOff(t)
		}
		dir := t.TempDir()
		fifo := filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		want := bytes.Repeat([]byte("a line through a pipe\n"), 100000) // > one block
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(want)
			f.Close()
		}()
		reg := filepath.Join(dir, "reg")
		if err := os.WriteFile(reg, []byte("regular"), 0o644); err != nil {
			t.Fatal(err)
		}
		pf := NewPrefetcher([]string{fifo, reg}, 64<<10, 2)
		r, err := pf.Next()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ring off %v: fifo read %d bytes (want %d), %v", off, len(got), len(want), err)
		}
		r, err = pf.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); err != nil || string(got) != "regular" {
			t.Fatalf("file after the fifo: %q %v", got, err)
		}
		pf.Close()
	}
}

// TestFreeAnySlice: Free unmaps a mapping from a slice of it with a
// smaller capacity (the spill's and the queue's blocks are cut to their
// block size) and leaves heap memory alone.
func TestFreeAnySlice(t *testing.T) {
	b := Alloc(100)
	short := b[:0:100]
	mapped.Lock()
	_, ok := mapped.m[unsafe.SliceData(b)]
	mapped.Unlock()
	if !ok {
		t.Skip("mmap failed here: Alloc fell back to the heap")
	}
	Free(short)
	mapped.Lock()
	_, ok = mapped.m[unsafe.SliceData(b)]
	mapped.Unlock()
	if ok {
		t.Fatal("Free of a shorter slice left the mapping")
	}
	h := Buf(8192)
	Free(h) // a heap buffer: must stay usable
	h[0], h[8191] = 1, 2
}
