package filter

import (
	"math/bits"
	"unsafe"
)

// scrubMasks64Go is scrubMasks64 in plain Go, its reference: bit k of each
// mask is set when byte p[k] (k < 64) is of the mask's class: digit ('0'
// to '9', '+', '('), at ('@'), hwf (h, w or f of either case), u ('u'),
// colon (':'), slash ('/'), w ('w' or 'W').
func scrubMasks64Go(p *byte) (digit, at, hwf, u, colon, slash, w uint64) {
	b := unsafe.Slice(p, 64)
	for k, c := range b {
		bit := uint64(1) << k
		switch {
		case c >= '0' && c <= '9' || c == '+' || c == '(':
			digit |= bit
		case c == '@':
			at |= bit
		case c == 'u':
			u |= bit
		case c == ':':
			colon |= bit
		case c == '/':
			slash |= bit
		}
		switch c | 0x20 {
		case 'h', 'f':
			hwf |= bit
		case 'w':
			hwf |= bit
			w |= bit
		}
	}
	return
}

// candidates64 marks (bit k) the bytes s[i+k], k < 64, that isCandidate
// stops at for the classes in cls, from the masks of scrubMasks64; s must
// hold the byte after the 64 (the second byte of a pair).
func candidates64(s string, i, cls int) uint64 {
	digit, at, hwf, u, colon, slash, w := scrubMasks64((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)))
	nb := s[i+64]
	var m uint64
	if cls&trigDigit != 0 {
		m = digit
	}
	if cls&trigAt != 0 {
		m |= at
	}
	if cls&trigURL != 0 {
		m |= hwf
	}
	if cls&(trigU|trigURLPat) != 0 {
		// Pairs: the mark of the byte after each, the last one's from
		// the byte after the 64.
		slash2 := slash>>1 | b2u(nb == '/')<<63
		if cls&trigU != 0 {
			m |= u & slash2
		}
		if cls&trigURLPat != 0 {
			m |= colon&slash2 | w&(w>>1|b2u(nb|0x20 == 'w')<<63)
		}
	}
	return m
}

// nextCandidate64 is nextCandidate 64 bytes at a time (fields.HaveMasks64) while a
// byte follows them, and the rest as nextCandidate8 does.
func nextCandidate64(s string, i, cls int) int {
	for ; i+65 <= len(s); i += 64 {
		if m := candidates64(s, i, cls); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
	}
	return nextCandidate8(s, i, cls)
}
