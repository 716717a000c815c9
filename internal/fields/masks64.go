package fields

import "unsafe"

// Masks64 classifies the 64 bytes s[i:i+64] at once: bit k of space is set
// when s[i+k] is ' ', of ws when it is ASCII white space (ASCIISpace), of
// high when it has bit 7 set (a byte of a longer rune, or an invalid one).
// It is one AVX-512BW routine where HaveMasks64, and masks64Go elsewhere;
// scanners use it when HaveMasks64 and keep their eight-byte loops for the
// rest.
func Masks64(s string, i int) (space, ws, high uint64) {
	_ = s[i+63]
	return masks64((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)))
}

// masks64Go is Masks64's routine in plain Go, its reference.
func masks64Go(p *byte) (space, ws, high uint64) {
	for k, c := range unsafe.Slice(p, 64) {
		bit := uint64(1) << k
		if c == ' ' {
			space |= bit
		}
		if c < 0x80 && ASCIISpace[c] {
			ws |= bit
		}
		if c >= 0x80 {
			high |= bit
		}
	}
	return
}

// ASCIIPrefix64 returns a multiple of 64 up to which s holds only ASCII
// bytes: the length of its longest ASCII prefix rounded down to 64 bytes
// (0 when !HaveMasks64).
func ASCIIPrefix64(s string) int {
	i := 0
	if HaveMasks64 {
		for ; i+64 <= len(s); i += 64 {
			if _, _, high := Masks64(s, i); high != 0 {
				break
			}
		}
	}
	return i
}
