//go:build !linux

package dio

import "os"

// SetDirect reports false: direct I/O is only used on Linux.
func SetDirect(f *os.File, on bool) bool { return false }

func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

var errInval error = os.ErrInvalid

// Alloc returns Buf(n) (only Linux maps I/O blocks outside the heap).
func Alloc(n int) []byte { return Buf(n) }

// Free does nothing: the collector frees Buf's memory.
func Free(b []byte) {}
