//go:build !linux

package dio

import (
	"io"
	"os"
)

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

// pread is one ReadAt; 0 bytes at the end of the file is io.EOF.
func pread(f *os.File, b []byte, off int64) (int, error) {
	n, err := f.ReadAt(b, off)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

// pwrite is one WriteAt.
func pwrite(f *os.File, b []byte, off int64) (int, error) { return f.WriteAt(b, off) }
