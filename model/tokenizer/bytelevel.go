package tokenizer

import "unicode/utf8"

// GPT-2's byte-to-unicode table (openai/gpt-2 encoder.py bytes_to_unicode):
// the printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves and
// the other 68 byte values map, in increasing byte order, to U+0100, U+0101, …
var (
	byteToRune [256]rune
	// runeToByte[r] is the byte that rune r stands for, or -1; indexed by
	// rune values below len(runeToByte).
	runeToByte [324]int16
	// byteToUTF8[b] is the UTF-8 encoding of byteToRune[b].
	byteToUTF8 [256]string
)

func init() {
	for i := range runeToByte {
		runeToByte[i] = -1
	}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = int16(b)
		byteToUTF8[b] = string(byteToRune[b])
	}
}

// ByteLevelEncode maps raw bytes to GPT-2's byte-level alphabet (each byte
// becomes one printable rune), the form in which byte-level BPE vocabularies
// store their tokens.
func ByteLevelEncode(raw string) string {
	buf := make([]byte, 0, 2*len(raw))
	for i := 0; i < len(raw); i++ {
		buf = utf8.AppendRune(buf, byteToRune[raw[i]])
	}
	return string(buf)
}

// ByteLevelDecode maps a byte-level token back to its raw bytes. ok is false
// if some rune of s is not in the byte-level alphabet.
func ByteLevelDecode(s string) (raw string, ok bool) {
	buf := make([]byte, 0, len(s))
	buf, ok = appendByteLevelDecoded(buf, s)
	return string(buf), ok
}

// appendByteLevelDecoded appends the raw bytes of the byte-level token s to
// dst; if a rune of s is outside the alphabet, dst is returned unchanged and
// ok is false.
func appendByteLevelDecoded(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 || int(r) >= len(runeToByte) || runeToByte[r] < 0 {
			return dst[:n], false
		}
		dst = append(dst, byte(runeToByte[r]))
		i += w
	}
	return dst, true
}
