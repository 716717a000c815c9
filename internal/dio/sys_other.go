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
