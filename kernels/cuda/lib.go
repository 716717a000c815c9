//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"
)

// library is one dlopen'ed shared object and the file it came from.
type library struct {
	handle uintptr
	path   string
}

// libDirs lists the directories searched before the dynamic loader's own
// path: Options.LibDirs, then $HUMANLLM_CUDA_LIBS (colon-separated).
func libDirs(extra []string) []string {
	dirs := append([]string(nil), extra...)
	for d := range strings.SplitSeq(os.Getenv("HUMANLLM_CUDA_LIBS"), ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// openLibrary dlopens the first of names that loads, trying each name in
// every directory of dirs (and their nvidia/current sub-directory, Debian's
// place for libcuda), then by name alone through the dynamic loader's
// search (LD_LIBRARY_PATH, ld.so.cache). what names the library in the
// error, which lists every attempt and the loader's message.
func openLibrary(what string, names, dirs []string) (library, error) {
	var tries []string
	try := func(path string) (library, bool) {
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return library{handle: h, path: path}, true
		}
		tries = append(tries, err.Error())
		return library{}, false
	}
	for _, d := range dirs {
		for _, sub := range []string{"", "nvidia/current"} {
			for _, n := range names {
				p := filepath.Join(d, sub, n)
				if _, err := os.Stat(p); err != nil {
					continue
				}
				if l, ok := try(p); ok {
					return l, nil
				}
			}
		}
	}
	for _, n := range names {
		if l, ok := try(n); ok {
			return l, nil
		}
	}
	return library{}, fmt.Errorf("cuda: cannot load %s (tried %s): %s", what, strings.Join(names, ", "), strings.Join(tries, "; "))
}

// symbols resolves every name of syms in l, storing the addresses.
func (l library) symbols(syms map[string]*uintptr) error {
	var missing []string
	for name, p := range syms {
		a, err := purego.Dlsym(l.handle, name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		*p = a
	}
	if len(missing) > 0 {
		return fmt.Errorf("cuda: %s lacks %s (too old a version?)", l.path, strings.Join(missing, ", "))
	}
	return nil
}

// call is purego.SyscallN returning the first result as a status code.
// Like SyscallN, it moves pointers converted to uintptr in its argument
// list to the heap and keeps them alive for the call.
//
//go:uintptrescapes
func call(fn uintptr, args ...uintptr) int {
	r, _, _ := purego.SyscallN(fn, args...)
	return int(int32(r))
}

// cstring returns a NUL-terminated copy of s.
func cstring(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}

// gostring copies the NUL-terminated C string at p (nil: "").
func gostring(p uintptr) string {
	if p == 0 {
		return ""
	}
	var b []byte
	for i := uintptr(0); ; i++ {
		c := *(*byte)(ptrAdd(p, i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

var errClosed = errors.New("cuda: device is closed")
