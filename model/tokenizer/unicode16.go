package tokenizer

import "unicode"

// Hugging Face tokenizers matches the pre-tokenizer regexes with Unicode
// 16.0 character tables; Go's unicode package is at 15.0.0 (unicode.Version).
// These are the code points that are letters (L), numbers (N) or marks (M)
// in Unicode 16.0.0 (the 15.1 and 16.0 additions) and unassigned in Go's
// tables, so that \p{L}, \p{N}, \p{M} and \w match what Hugging Face
// matches. They were taken from Hugging Face tokenizers 0.23.2 itself, by
// pre-tokenizing every Unicode scalar value (TestHFPreTokenizersEveryCodePoint),
// and agree with the Unicode 17.0 tables of Node's ICU 78 less the Unicode
// 17.0 additions (Sidetic, Tolong Siki, Beria Erfe, Tai Yo, CJK Extension J,
// …). Scripts: Cyrillic TJE, Latin additions, Todhri, Garay, Tulu-Tigalari,
// Sunuwar, Egyptian Hieroglyphs Extended-A, Gurung Khema, Kirat Rai, Khitan,
// Ol Onal, CJK Extension I; digits of Garay, Myanmar Extended-C, Sunuwar,
// Gurung Khema, Kirat Rai, Ol Onal and the outlined digits; the vowel signs
// and other marks of Arabic (pepet), Garay, Arabic Extended-C,
// Tulu-Tigalari, Kawi, Gurung Khema and Ol Onal.
var (
	letters16 = &unicode.RangeTable{
		R16: []unicode.Range16{
			{Lo: 0x1C89, Hi: 0x1C8A, Stride: 1},
			{Lo: 0xA7CB, Hi: 0xA7CD, Stride: 1},
			{Lo: 0xA7DA, Hi: 0xA7DC, Stride: 1},
		},
		R32: []unicode.Range32{
			{Lo: 0x105C0, Hi: 0x105F3, Stride: 1},
			{Lo: 0x10D4A, Hi: 0x10D65, Stride: 1},
			{Lo: 0x10D6F, Hi: 0x10D85, Stride: 1},
			{Lo: 0x10EC2, Hi: 0x10EC4, Stride: 1},
			{Lo: 0x11380, Hi: 0x11389, Stride: 1},
			{Lo: 0x1138B, Hi: 0x1138B, Stride: 1},
			{Lo: 0x1138E, Hi: 0x1138E, Stride: 1},
			{Lo: 0x11390, Hi: 0x113B5, Stride: 1},
			{Lo: 0x113B7, Hi: 0x113B7, Stride: 1},
			{Lo: 0x113D1, Hi: 0x113D1, Stride: 1},
			{Lo: 0x113D3, Hi: 0x113D3, Stride: 1},
			{Lo: 0x11BC0, Hi: 0x11BE0, Stride: 1},
			{Lo: 0x13460, Hi: 0x143FA, Stride: 1},
			{Lo: 0x16100, Hi: 0x1611D, Stride: 1},
			{Lo: 0x16D40, Hi: 0x16D6C, Stride: 1},
			{Lo: 0x18CFF, Hi: 0x18CFF, Stride: 1},
			{Lo: 0x1E5D0, Hi: 0x1E5ED, Stride: 1},
			{Lo: 0x1E5F0, Hi: 0x1E5F0, Stride: 1},
			{Lo: 0x2EBF0, Hi: 0x2EE5D, Stride: 1},
		},
	}
	marks16 = &unicode.RangeTable{
		R16: []unicode.Range16{
			{Lo: 0x0897, Hi: 0x0897, Stride: 1},
		},
		R32: []unicode.Range32{
			{Lo: 0x10D69, Hi: 0x10D6D, Stride: 1},
			{Lo: 0x10EFC, Hi: 0x10EFC, Stride: 1},
			{Lo: 0x113B8, Hi: 0x113C0, Stride: 1},
			{Lo: 0x113C2, Hi: 0x113C2, Stride: 1},
			{Lo: 0x113C5, Hi: 0x113C5, Stride: 1},
			{Lo: 0x113C7, Hi: 0x113CA, Stride: 1},
			{Lo: 0x113CC, Hi: 0x113D0, Stride: 1},
			{Lo: 0x113D2, Hi: 0x113D2, Stride: 1},
			{Lo: 0x113E1, Hi: 0x113E2, Stride: 1},
			{Lo: 0x11F5A, Hi: 0x11F5A, Stride: 1},
			{Lo: 0x1611E, Hi: 0x1612F, Stride: 1},
			{Lo: 0x1E5EE, Hi: 0x1E5EF, Stride: 1},
		},
	}
	numbers16 = &unicode.RangeTable{
		R32: []unicode.Range32{
			{Lo: 0x10D40, Hi: 0x10D49, Stride: 1},
			{Lo: 0x116D0, Hi: 0x116E3, Stride: 1},
			{Lo: 0x11BF0, Hi: 0x11BF9, Stride: 1},
			{Lo: 0x16130, Hi: 0x16139, Stride: 1},
			{Lo: 0x16D70, Hi: 0x16D79, Stride: 1},
			{Lo: 0x1CCF0, Hi: 0x1CCF9, Stride: 1},
			{Lo: 0x1E5F1, Hi: 0x1E5FA, Stride: 1},
		},
	}
)

// numbers17 are the Unicode 17.0 additions to N (Tolong Siki digits and
// three Tangut-block numbers): the Digits pre-tokenizer of Hugging Face
// uses Rust's char::is_numeric, whose tables in the build of tokenizers
// 0.23.2 are at Unicode 17.0, newer than its regex engine's.
var numbers17 = &unicode.RangeTable{
	R32: []unicode.Range32{
		{Lo: 0x11DE0, Hi: 0x11DE9, Stride: 1},
		{Lo: 0x16FF4, Hi: 0x16FF6, Stride: 1},
	},
}

// isNumeric is Rust's char::is_numeric as Hugging Face's Digits
// pre-tokenizer has it (Unicode 17.0 N).
func isNumeric(r rune) bool {
	return runeClass(r) == clsNumber || r >= 0x11DE0 && unicode.Is(numbers17, r)
}

// lowerSupplement are the single lower-case mappings of Unicode 16.0 and
// 17.0 (Rust's, which Hugging Face's Lowercase normalizer uses) that Go's
// unicode.ToLower lacks; Garay and Beria Erfe are ranges in lowerRune.
// Taken from Hugging Face tokenizers 0.23.2 on every code point
// (TestHFNormalizersEveryCodePoint).
var lowerSupplement = map[rune]rune{
	0x1C89: 0x1C8A, // CYRILLIC CAPITAL LETTER TJE
	0xA7CB: 0x0264, // LATIN CAPITAL LETTER RAMS HORN
	0xA7CC: 0xA7CD, // LATIN CAPITAL LETTER S WITH DIAGONAL STROKE
	0xA7CE: 0xA7CF, // LATIN CAPITAL LETTER PHARYNGEAL VOICED FRICATIVE (17.0)
	0xA7D2: 0xA7D3, // LATIN CAPITAL LETTER DOUBLE THORN (17.0)
	0xA7D4: 0xA7D5, // LATIN CAPITAL LETTER DOUBLE WYNN (17.0)
	0xA7DA: 0xA7DB, // LATIN CAPITAL LETTER LAMBDA
	0xA7DC: 0x019B, // LATIN CAPITAL LETTER LAMBDA WITH STROKE
}
