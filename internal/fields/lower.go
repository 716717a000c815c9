package fields

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// ToLowerInto is strings.ToLower(s), written into buf when s is ASCII and
// fits (the result then shares buf's bytes: it is for a comparison or a
// look-up, not to keep), so that lower-casing a short name or word to
// compare it allocates nothing.
func ToLowerInto(buf []byte, s string) string {
	if len(s) > len(buf) {
		return strings.ToLower(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return View(buf[:len(s)])
}

// View is b as a string without a copy. The string must not outlive b's
// contents: b must not be written to while the string is in use (a view
// into a reused read buffer is only looked at, or cloned to keep).
func View(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
