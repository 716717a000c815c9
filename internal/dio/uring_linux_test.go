package dio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

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
