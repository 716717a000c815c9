// Package fields scans white-space separated fields the way
// strings.Fields splits (runs of runes that are not unicode.IsSpace),
// without allocating: the word counts and word walks of the prepare
// pipeline's hot paths (synthesis, formulation, QC) share it.
package fields

import (
	"unicode"
	"unicode/utf8"
)

// ASCIISpace marks the ASCII bytes unicode.IsSpace accepts.
var ASCIISpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// asciiNotSpace is 1 for the ASCII bytes that are not white space.
var asciiNotSpace = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		if !ASCIISpace[c] {
			t[c] = 1
		}
	}
	return
}()

// Count is len(strings.Fields(s)).
func Count(s string) int { return CountUpTo(s, -1) }

// CountUpTo is Count, but stops counting at limit (if >= 0). It counts the
// starts of runs of non-space runes, without branching on the common ASCII
// bytes.
func CountUpTo(s string, limit int) int {
	n := 0
	var prev uint8 // 1 after a non-space rune
	for i := 0; i < len(s) && n != limit; {
		c := s[i]
		var cur uint8
		if c < utf8.RuneSelf {
			cur = asciiNotSpace[c]
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsSpace(r) {
				cur = 1
			}
			i += size
		}
		n += int(cur &^ prev)
		prev = cur
	}
	return n
}

// Next returns the [start, end) byte offsets of the first field of s[i:],
// ok false when there is none.
func Next(s string, i int) (start, end int, ok bool) {
	start = -1
	for i < len(s) {
		c := s[i]
		size := 1
		var sp bool
		if c < utf8.RuneSelf {
			sp = ASCIISpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			sp = unicode.IsSpace(r)
		}
		if sp {
			if start >= 0 {
				return start, i, true
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	return start, len(s), start >= 0
}
