package fields

import "math/bits"

// Eight bytes at a time: the word scanners of the prepare pipeline (here,
// in qc and in synth) classify ASCII bytes with a few word-wide operations
// on eight bytes at once instead of a table look-up and a branch per byte.
// A word usually ends inside the first eight bytes looked at, so the loop
// that finds its end runs once and its exit is predicted; a byte-at-a-time
// loop mispredicts its exit at almost every word.
//
// The byte tests below give a result in bit 7 of each byte (the others are
// zero). They are exact for every byte, not only the first match, provided
// no byte of the word has bit 7 set: callers test x&High first, or clear
// it (x&Low7) and treat the bytes with bit 7 set as stops of their own.

const (
	// High is bit 7 of every byte: the bytes of longer runes (or invalid
	// ones) in a word of text.
	High  = 0x8080808080808080
	low7  = 0x7f7f7f7f7f7f7f7f
	ones8 = 0x0101010101010101
)

// Low7 clears bit 7 of every byte.
const Low7 = low7

// Load8 returns s[i:i+8] as a little-endian word: byte i is the low byte.
// The compiler makes it one load.
func Load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Above marks the bytes of x greater than k (k < 0x80; no byte of x has
// bit 7 set): adding 0x7f-k carries into bit 7 exactly then, and never
// into the next byte.
func Above(x uint64, k byte) uint64 { return (x + uint64(0x7f-k)*ones8) & High }

// Equal marks the bytes of x equal to c (c < 0x80; no byte of x has bit 7
// set).
func Equal(x uint64, c byte) uint64 {
	t := x ^ uint64(c)*ones8
	return ^((t + low7) | t) & High
}

// Between marks the bytes of x in [lo, hi] (both < 0x80, lo >= 1; no byte
// of x has bit 7 set).
func Between(x uint64, lo, hi byte) uint64 { return Above(x, lo-1) &^ Above(x, hi) }

// Space8 marks the ASCII white space bytes of x (those of ASCIISpace: '\t'
// to '\r' and ' '); no byte of x has bit 7 set.
func Space8(x uint64) uint64 { return Equal(x, ' ') | Between(x, '\t', '\r') }

// FirstByte is the index (0..7) of the lowest marked byte of a non-zero
// mask.
func FirstByte(m uint64) int { return bits.TrailingZeros64(m) >> 3 }
