// Package fields scans white-space separated fields the way
// strings.Fields splits (runs of runes that are not unicode.IsSpace),
// without allocating: the word counts and word walks of the prepare
// pipeline's hot paths (synthesis, formulation, QC) share it.
package fields

import (
	"math/bits"
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
		if i+8 <= len(s) {
			// Eight ASCII bytes at once: a field starts at each non-space
			// byte after a space (or after prev).
			if x := Load8(s, i); x&High == 0 {
				word := ^Space8(x) & High
				starts := word &^ (word<<8 | uint64(prev)<<7)
				n += bits.OnesCount64(starts)
				prev = uint8(word >> 63)
				i += 8
				if limit >= 0 && n >= limit {
					return limit
				}
				continue
			}
		}
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
// ok false when there is none. The ASCII bytes are classified by one table
// look-up in two tight loops (white space, then the field); only a byte of
// a longer rune is decoded.
func Next(s string, i int) (start, end int, ok bool) {
	for i < len(s) {
		switch class[s[i]] {
		case clSpace:
			i++
			continue
		case clWide:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				i += size
				continue
			}
		}
		break
	}
	if i >= len(s) {
		return -1, len(s), false
	}
	start = i
	for i < len(s) {
		switch class[s[i]] {
		case clWord:
			i++
			continue
		case clWide:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsSpace(r) {
				i += size
				continue
			}
		}
		break
	}
	return start, i, true
}

// Prefix returns the end of the n-th field of s (n >= 1; 0 when s has no
// field) and whether s has a field after it: s[:end] holds the first n
// fields as written. It counts field starts as CountUpTo does, eight ASCII
// bytes at a time, and stops at the (n+1)-th.
func Prefix(s string, n int) (end int, more bool) {
	k := 0         // fields started before i
	var prev uint8 // 1 after a non-space rune
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			if x := Load8(s, i); x&High == 0 {
				word := ^Space8(x) & High
				starts := word &^ (word<<8 | uint64(prev)<<7)
				if c := bits.OnesCount64(starts); k+c > n {
					// Field n+1 starts here: the end is that of the last
					// field byte before it (in this word, or before).
					for ; k < n; k++ {
						starts &= starts - 1
					}
					if before := word & (starts&-starts - 1); before != 0 {
						end = i + (63-bits.LeadingZeros64(before))>>3 + 1
					}
					return end, true
				} else {
					k += c
				}
				if word != 0 {
					end = i + (63-bits.LeadingZeros64(word))>>3 + 1
				}
				prev = uint8(word >> 63)
				i += 8
				continue
			}
		}
		var cur uint8
		size := 1
		if c := s[i]; c < utf8.RuneSelf {
			cur = asciiNotSpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if !unicode.IsSpace(r) {
				cur = 1
			}
		}
		if cur == 1 {
			if prev == 0 {
				if k == n {
					return end, true
				}
				k++
			}
			end = i + size
		}
		prev = cur
		i += size
	}
	return end, false
}

// Byte classes of Next: a byte of a field, ASCII white space, or a byte of
// a longer rune (or an invalid one), which is decoded.
const (
	clWord = iota
	clSpace
	clWide
)

var class = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = clWide
		case ASCIISpace[c]:
			t[c] = clSpace
		}
	}
	return
}()
