// Package dio moves large sequential streams between files and reused
// buffers without the page cache where the file system allows it
// (O_DIRECT on Linux), with the device I/O in a background goroutine.
//
// Why: prepare streams its input, its spill (a copy of every kept record)
// and its output through files once each. Through the page cache every
// byte is copied by the kernel into or out of a page-cache page, and on
// the VMs we run on a fresh page costs far more than the copy: on a full
// 5.5M-record run these copies were ~15% of all cycles and most of the
// system time. With O_DIRECT the device reads and writes our own buffers,
// which are allocated once and stay warm.
//
// Direct I/O needs buffers, lengths and file offsets aligned to Align.
// Every helper here keeps to that and falls back to ordinary I/O on its
// own: on a file system that refuses O_DIRECT (tmpfs, some network and
// overlay file systems), for a tail shorter than a block, and when a read
// comes back short of a block before the end of the file. The data read
// or written is the same either way; only the path through the kernel
// differs.
package dio

import (
	"unsafe"
)

// Align is the alignment direct I/O needs of buffer addresses, lengths
// and file offsets (the largest logical block size in common use).
const Align = 4096

// AlignUp rounds n up to a multiple of Align.
func AlignUp(n int) int { return (n + Align - 1) &^ (Align - 1) }

// Buf returns a slice of length n whose first byte is Align-aligned and
// whose capacity is n rounded up to Align.
func Buf(n int) []byte {
	c := AlignUp(n)
	b := make([]byte, c+Align)
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (Align - 1))
	if off != 0 {
		off = Align - off
	}
	return b[off : off+n : off+c]
}

// aligned reports whether b starts on an Align boundary.
func aligned(b []byte) bool {
	return cap(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))&(Align-1) == 0
}

// disabled turns direct I/O off for the whole process (see Disable).
var disabled bool

// Disable makes every later open and SetDirect use ordinary I/O. It is for
// tests of the fallback path and for users who want the page cache (the
// HUMANLLM_DIRECT_IO=0 environment variable does the same at start).
func Disable() { disabled = true }
