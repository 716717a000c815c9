//go:build linux

package arena

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapBlock maps an anonymous private block of at least size bytes whose
// usable part starts on a 2 MiB boundary (so that transparent huge pages
// can back all of it), advising MADV_HUGEPAGE when huge is set. ok is false
// when mmap fails (the caller falls back to the heap).
func mapBlock(size int, huge bool) (mem []byte, unmap func() error, advised, ok bool) {
	size = roundUp(size, hugePage)
	raw, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false, false
	}
	skip := 0
	if r := uintptr(unsafe.Pointer(&raw[0])) % hugePage; r != 0 {
		skip = hugePage - int(r)
	}
	mem = raw[skip : skip+size : skip+size]
	if huge {
		advised = unix.Madvise(mem, unix.MADV_HUGEPAGE) == nil
	}
	// The unused head and tail of the mapping are never touched, so they
	// cost address space only.
	return mem, func() error { return syscall.Munmap(raw) }, advised, true
}
