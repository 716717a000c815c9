package fields

import (
	"github.com/humanllm/humanllm/internal/randtext"
	"math/rand/v2"
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
	f.Add("abcdefgh\u00a0ijklmnop qrstuvw\xffxyz  \t 12345678 \u3000 abcdefg\u0085")
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

// TestEightAtATime walks random texts over an alphabet of ASCII white
// space, control bytes, letters and longer runes (white space ones among
// them) and invalid bytes, so that every kind of byte falls at every place
// of the eight-byte words that Next and CountUpTo read at once.
func TestEightAtATime(t *testing.T) {
	alphabet := []string{"a", "Z", "7", " ", " ", "\t", "\n", "\v", "\f", "\r", "\x00", "\x08", "\x0e", "\x1f", "\x7f", "!",
		"\u00a0", "\u0085", "\u2003", "\u3000", "é", "👋", "\xff", "\xe2\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		check(t, randtext.Join(rng, alphabet, 40))
	}
	for _, s := range []string{strings.Repeat("abcdefgh", 5), strings.Repeat(" ", 17) + "x", "abcdefg\u00a0hij", "abcdefgh\x85ij"} {
		check(t, s)
	}
}

func TestCountUpToLimits(t *testing.T) {
	s := strings.Repeat("ab cd ", 20) + "é f"
	n := len(strings.Fields(s))
	for limit := 0; limit <= n+2; limit++ {
		if got, want := CountUpTo(s, limit), min(n, limit); got != want {
			t.Fatalf("CountUpTo(%q, %d) = %d, want %d", s, limit, got, want)
		}
	}
}

func BenchmarkCount(b *testing.B) {
	s := strings.Repeat("The quick brown fox, who was tired of it all, jumped over the lazy dog; then it slept.  ", 40000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Count(s)
	}
}

func BenchmarkPrefix300(b *testing.B) {
	s := strings.Repeat("The quick brown fox, who was tired of it all, jumped over the lazy dog; then it slept.  ", 100)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Prefix(s, 300)
	}
}

// FuzzToLowerInto holds ToLowerInto to strings.ToLower, with buffers too
// short and long enough.
func FuzzToLowerInto(f *testing.F) {
	for _, s := range []string{"", "A2SUAM1J3GNN3B", "AutoModerator", "[deleted]", "İstanbul", "MÄRZ", "Ωmega", strings.Repeat("AbC", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var small [4]byte
		var big [64]byte
		for _, buf := range [][]byte{small[:], big[:]} {
			if got, want := ToLowerInto(buf, s), strings.ToLower(s); got != want {
				t.Fatalf("ToLowerInto(%d bytes, %q) = %q, want %q", len(buf), s, got, want)
			}
		}
	})
}

// TestMasks64 holds the assembly (where this CPU and build have it) to
// masks64Go on every byte value in every lane and on random blocks, and
// ASCIIPrefix64 to its definition.
func TestMasks64(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		s := string(b)
		sp, ws, hi := Masks64(s, 0)
		rsp, rws, rhi := masks64Go(&b[0])
		if sp != rsp || ws != rws || hi != rhi {
			t.Fatalf("Masks64(%q) = %x %x %x, want %x %x %x", b, sp, ws, hi, rsp, rws, rhi)
		}
	}
	b := make([]byte, 64)
	for v := 0; v < 256; v++ {
		for k := range b {
			b[k] = byte(v + 3*k)
		}
		check(b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const pick = " \t\n\v\f\r\x08\x0e\x1f!a\x7f\x80\xa0\xff"
	for range 2000 {
		for k := range b {
			b[k] = pick[rng.IntN(len(pick))]
		}
		check(b)
	}
	for n := 0; n < 300; n++ {
		s := []byte(strings.Repeat("a", n))
		for _, at := range []int{-1, 0, n / 3, n - 1} {
			if at >= 0 && at < n {
				s[at] = 0xc3
			}
			want := 0
			if HaveMasks64 {
				for want+64 <= n && !strings.ContainsFunc(string(s[want:want+64]), func(r rune) bool { return r >= 0x80 }) {
					want += 64
				}
			}
			if got := ASCIIPrefix64(string(s)); got != want {
				t.Fatalf("ASCIIPrefix64(len %d, non-ASCII at %d) = %d, want %d", n, at, got, want)
			}
		}
	}
}
