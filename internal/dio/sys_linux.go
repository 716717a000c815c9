package dio

import (
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	if os.Getenv("HUMANLLM_DIRECT_IO") == "0" {
		disabled = true
	}
}

// SetDirect turns O_DIRECT on or off for f and reports whether it is on
// afterwards. Turning it on fails quietly where the file system refuses it.
func SetDirect(f *os.File, on bool) bool {
	if disabled && on {
		return false
	}
	fd := int(f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return false
	}
	want := fl &^ unix.O_DIRECT
	if on {
		want = fl | unix.O_DIRECT
	}
	if want != fl {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, want); err != nil {
			return fl&unix.O_DIRECT != 0
		}
	}
	return on
}

// isRegular reports whether f is a regular file (pipes, terminals and
// devices keep ordinary I/O).
func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

var errInval error = unix.EINVAL

// Alloc returns n bytes (capacity n rounded up to Align), page-aligned,
// mapped outside the Go heap: the collector neither scans nor counts them,
// so I/O blocks do not raise its heap target (prepare lets the heap grow
// to several times the live heap). Free returns them; nothing may refer
// to them after. It falls back to Buf when the mapping fails.
func Alloc(n int) []byte {
	c := AlignUp(max(n, 1))
	b, err := unix.Mmap(-1, 0, c, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return Buf(n)
	}
	mapped.Lock()
	mapped.m[unsafe.SliceData(b)] = b
	mapped.Unlock()
	return b[:n:c]
}

// mapped holds every mapping Alloc made, by its first byte: Free finds the
// whole mapping from any slice of it that starts there, whatever its
// length or capacity.
var mapped = struct {
	sync.Mutex
	m map[*byte][]byte
}{m: map[*byte][]byte{}}

// Free unmaps a block from Alloc (any slice of it from its first byte). A
// slice that is not one (a Buf from the fallback) is left to the collector.
func Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p := unsafe.SliceData(b)
	mapped.Lock()
	m, ok := mapped.m[p]
	delete(mapped.m, p)
	mapped.Unlock()
	if ok {
		_ = unix.Munmap(m)
	}
}
