package filter

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/internal/randtext"
)

// refNextCandidate is nextCandidate from its definition, a byte at a time.
func refNextCandidate(s string, i, cls int) int {
	for ; i < len(s); i++ {
		if isCandidate(s, i, cls) {
			return i
		}
	}
	return len(s)
}

// allClasses are the class sets Scrub passes (every subset of them).
const allClasses = trigDigit | trigAt | trigURL | trigURLPat | trigU

// TestScrubMasks64 holds the assembly (where this CPU and build have it)
// to scrubMasks64Go on every byte value at every lane, and on random
// texts.
func TestScrubMasks64(t *testing.T) {
	if !fields.HaveMasks64 {
		t.Log("no AVX-512BW routine in this build or on this CPU: scrubMasks64 is scrubMasks64Go")
	}
	check := func(b []byte) {
		t.Helper()
		d, a, h, u, c, sl, w := scrubMasks64(&b[0])
		rd, ra, rh, ru, rc, rsl, rw := scrubMasks64Go(&b[0])
		if d != rd || a != ra || h != rh || u != ru || c != rc || sl != rsl || w != rw {
			t.Fatalf("scrubMasks64(%q) = %x %x %x %x %x %x %x, want %x %x %x %x %x %x %x", b, d, a, h, u, c, sl, w, rd, ra, rh, ru, rc, rsl, rw)
		}
	}
	b := make([]byte, 64)
	for v := 0; v < 256; v++ {
		for k := range b {
			b[k] = byte(v + k)
		}
		check(b)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const pick = "09+(@hHwWfFuU:/ a\x80\xff"
	for range 2000 {
		for k := range b {
			b[k] = pick[rng.IntN(len(pick))]
		}
		check(b)
	}
}

// TestNextCandidate64 holds nextCandidate to its byte-at-a-time definition
// for every class set, on texts long enough for the 64-byte steps, from
// every start.
func TestNextCandidate64(t *testing.T) {
	alphabet := []string{"a", "B", "u", "/", ":", "w", "W", "h", "f", ".", " ", "7", "(", "+", "@", "\xc0", "é",
		strings.Repeat("x", 70), strings.Repeat(" ", 65), "www.", "://", "u/"}
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 400 {
		s := randtext.Join(rng, alphabet, 10+n%60)
		for cls := 0; cls <= allClasses; cls++ {
			if cls&^allClasses != 0 {
				continue
			}
			for i := 0; i <= len(s); i += 1 + rng.IntN(7) {
				if got, want := nextCandidate(s, i, cls), refNextCandidate(s, i, cls); got != want {
					t.Fatalf("nextCandidate(%q, %d, %b) = %d, want %d", s, i, cls, got, want)
				}
				if got, want := nextCandidate8(s, i, cls), refNextCandidate(s, i, cls); got != want {
					t.Fatalf("nextCandidate8(%q, %d, %b) = %d, want %d", s, i, cls, got, want)
				}
			}
		}
	}
}

// FuzzNextCandidate: the same on any text.
func FuzzNextCandidate(f *testing.F) {
	f.Add(strings.Repeat("a", 63)+"u/"+strings.Repeat("b", 10), uint8(allClasses))
	f.Add(strings.Repeat("x", 64)+"w", uint8(trigURLPat))
	f.Add("call +1 (555) 123 or mail a@b.c at http://www.x.org/"+strings.Repeat("é", 40), uint8(allClasses))
	f.Fuzz(func(t *testing.T, s string, c uint8) {
		cls := int(c) & allClasses
		for i := 0; i <= len(s); i++ {
			if got, want := nextCandidate(s, i, cls), refNextCandidate(s, i, cls); got != want {
				t.Fatalf("nextCandidate(%q, %d, %b) = %d, want %d", s, i, cls, got, want)
			}
		}
	})
}
