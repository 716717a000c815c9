package dio

import (
	"os"

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
