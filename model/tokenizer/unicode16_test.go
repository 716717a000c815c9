package tokenizer

import (
	"testing"
	"unicode"
)

// The supplements are additions to Go's Unicode 15.0 tables. When Go moves
// to a newer Unicode version this fails, so that they are checked again
// (TestHFPreTokenizersEveryCodePoint, TestHFNormalizersEveryCodePoint)
// and what Go now has is dropped.
func TestUnicodeSupplements(t *testing.T) {
	if unicode.Version != "15.0.0" {
		t.Fatalf("Go's unicode tables are now %s: re-check letters16, marks16, numbers16, numbers17 and lowerSupplement against Hugging Face", unicode.Version)
	}
	n := 0
	for _, c := range []struct {
		name string
		t    *unicode.RangeTable
	}{{"letters16", letters16}, {"marks16", marks16}, {"numbers16", numbers16}, {"numbers17", numbers17}} {
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if !unicode.Is(c.t, r) {
				continue
			}
			n++
			if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
				t.Errorf("%s: U+%04X is already assigned in Go's tables", c.name, r)
			}
		}
	}
	for up, lo := range lowerSupplement {
		if unicode.ToLower(up) != up {
			t.Errorf("lowerSupplement: Go already lower-cases U+%04X", up)
		}
		if lowerRune(up) != lo {
			t.Errorf("lowerRune(U+%04X) = U+%04X, want U+%04X", up, lowerRune(up), lo)
		}
	}
	if n != 4924+51+80+13 {
		t.Errorf("%d code points in the supplements", n)
	}
	if got := (Lowercase{}).normalize("İSTANBUL ΣΑΣ \U00010D50"); got != "i\u0307stanbul σασ \U00010D70" {
		t.Errorf("Lowercase: %+q", got)
	}
}
