package fields

import (
	"strings"
	"testing"
	"unicode"
)

func check(t *testing.T, s string) {
	want := strings.Fields(s)
	if got := Count(s); got != len(want) {
		t.Fatalf("Count(%q) = %d, want %d", s, got, len(want))
	}
	if len(want) > 1 {
		if got := CountUpTo(s, 1); got != 1 {
			t.Fatalf("CountUpTo(%q, 1) = %d", s, got)
		}
	}
	var got []string
	for i := 0; ; {
		a, b, ok := Next(s, i)
		if !ok {
			break
		}
		got = append(got, s[a:b])
		i = b
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
		t.Fatalf("Next walk of %q = %q, want %q", s, got, want)
	}
	// Field ends, rune by rune.
	var ends []int
	in := false
	for i, r := range s {
		sp := unicode.IsSpace(r)
		if in && sp {
			ends = append(ends, i)
		}
		in = !sp
	}
	if in {
		ends = append(ends, len(s))
	}
	for n := 1; n <= len(want)+1; n++ {
		wantEnd := 0
		if len(ends) > 0 {
			wantEnd = ends[min(n, len(ends))-1]
		}
		if end, more := Prefix(s, n); end != wantEnd || more != (n < len(want)) {
			t.Fatalf("Prefix(%q, %d) = %d, %v; want %d, %v", s, n, end, more, wantEnd, n < len(want))
		}
	}
}

func TestAgainstStringsFields(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a b  c ", "\tx\ny\v\fz\r", "a\u00a0b\u2003c\u3000d", "\u0085e\u2028f",
		"caf\xe9 \xff\xfe x", "emoji 👋🌍 ok", strings.Repeat("w ", 100)} {
		check(t, s)
	}
}

func FuzzAgainstStringsFields(f *testing.F) {
	f.Add("a b\tc\u00a0d\xff")
	f.Fuzz(check)
}

func BenchmarkNextWalk(b *testing.B) {
	s := strings.Repeat("The quick brown fox, who was tired of it all, jumped over the lazy dog; then it slept.  ", 40000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		for i := 0; ; {
			_, e, ok := Next(s, i)
			if !ok {
				break
			}
			i = e
		}
	}
}
