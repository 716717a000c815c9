package filter

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/internal/randtext"
)

// triggers[mask][c] tells whether byte c may start a match when the
// classes in mask are enabled.
var triggers [16][256]bool

func init() {
	for m := 0; m < 16; m++ {
		t := &triggers[m]
		if m&trigAt != 0 {
			t['@'] = true
		}
		if m&trigURL != 0 {
			for _, c := range "hHwWfF" {
				t[c] = true
			}
		}
		if m&trigU != 0 {
			t['u'] = true
		}
		if m&trigDigit != 0 {
			for c := '0'; c <= '9'; c++ {
				t[c] = true
			}
			t['+'] = true
			t['('] = true
		}
	}
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i]-'0' < 10 {
			return true
		}
	}
	return false
}

// triggersIn reports which triggers s holds: trigAt an '@', trigURL one of
// "://", "www." and "WWW.", trigU "u/", trigDigit an ASCII digit. It reads
// s once, eight bytes at a time and seven places a step, so that the two
// bytes that start each pattern are seen together; a place that starts
// "://" or "ww" (either case) is then compared in full. (Five
// strings.Contains and a digit loop used to read s one after the other,
// and those of "www." and "u/" stopped at every w and u.)
func triggersIn(s string) int {
	found := 0
	i := 0
	for ; i+8 <= len(s); i += 7 {
		x := fields.Load8(s, i)
		y := x & fields.Low7 // then &^ x: a byte with bit 7 set is none of these
		slash := fields.Equal(y, '/') &^ x
		if fields.Equal(y, '@')&^x != 0 {
			found |= trigAt
		}
		if fields.Between(y, '0', '9')&^x != 0 {
			found |= trigDigit
		}
		if fields.Equal(y, 'u')&(slash>>8)&^x != 0 {
			found |= trigU
		}
		if found&trigURL == 0 {
			w := fields.Equal(y|0x2020202020202020, 'w') &^ x
			for c := (fields.Equal(y, ':')&(slash>>8) | w&(w>>8)) &^ x; c != 0; c &= c - 1 {
				if p := s[i+fields.FirstByte(c):]; strings.HasPrefix(p, "://") || strings.HasPrefix(p, "www.") || strings.HasPrefix(p, "WWW.") {
					found |= trigURL
					break
				}
			}
		}
	}
	// The last places: every pattern that starts here ends here too.
	return found | triggersBySearch(s[i:])
}

// triggersBySearch is triggersIn by one search per pattern: the form
// triggersIn replaced, used for the last bytes of a text (and as its test
// oracle).
func triggersBySearch(s string) int {
	found := 0
	if strings.IndexByte(s, '@') >= 0 {
		found |= trigAt
	}
	if strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.") {
		found |= trigURL
	}
	if strings.Contains(s, "u/") {
		found |= trigU
	}
	if hasDigit(s) {
		found |= trigDigit
	}
	return found
}

// scrubOracle is Scrub as it was before its one-pass scan: a pre-scan for
// the triggers the text holds (triggersIn), then a table look-up per byte.
func (sc *Scrubber) scrubOracle(s string) (string, int) {
	mask := 0
	found := triggersIn(s)
	if (sc.emails || sc.handles) && found&trigAt != 0 {
		mask |= trigAt
	}
	if sc.urls != urlKeep && found&trigURL != 0 {
		mask |= trigURL
	}
	if sc.handles && found&trigU != 0 {
		mask |= trigU
	}
	if (sc.phones || sc.addresses) && found&trigDigit != 0 {
		mask |= trigDigit
	}
	if mask == 0 {
		return s, 0
	}
	e := emitter{in: s, tokEnd: -1}
	tbl := &triggers[mask]
	for i := 0; i < len(s); {
		c := s[i]
		if !tbl[c] {
			i++
			continue
		}
		switch {
		case c == '@':
			if sc.emails {
				if st, end, ok := emailAt(s, i, e.last); ok && !isWordByte(e.prev(st)) {
					e.replace(st, end, TokenEmail)
					i = end
					continue
				}
			}
			if sc.handles && !isWordByte(e.prev(i)) && e.prev(i) != '@' {
				if end := handleAt(s, i+1); end > i+1 {
					e.replace(i, end, TokenUser)
					i = end
					continue
				}
			}
			i++
		case c == 'u': // u/name, /u/name (Reddit)
			if i+1 < len(s) && s[i+1] == '/' {
				st, p := i, e.prev(i)
				if p == '/' && i-1 >= e.last {
					st, p = i-1, e.prev(i-1)
				}
				if !isWordByte(p) && p != '/' && p != '@' {
					if end := handleAt(s, i+2); end-(i+2) >= 3 {
						e.replace(st, end, TokenUser)
						i = end
						continue
					}
				}
			}
			i++
		case c == '+' || c == '(' || c >= '0' && c <= '9':
			p := e.prev(i)
			if phoneLeftOK(p) {
				if sc.phones {
					if end, ok := phoneAt(s, i); ok {
						e.replace(i, end, TokenPhone)
						i = end
						continue
					}
				}
				if sc.addresses && c >= '0' && c <= '9' && addrLeftOK(p) {
					if end, ok := addressAt(s, i); ok {
						e.replace(i, end, TokenAddress)
						i = end
						continue
					}
				}
			}
			// Skip the rest of a digit run: a match never starts inside one.
			i++
			for i < len(s) && s[i]-'0' < 10 {
				i++
			}
		default: // h, w, f: a link?
			p := e.prev(i)
			if !isWordByte(p) && p != '@' && p != '.' && p != '/' && p != '-' {
				if end, hostS, hostE, ok := urlAt(s, i); ok {
					if sc.urls == urlDomain && isDomainName(s[hostS:hostE]) {
						e.replace(i, end, s[hostS:hostE])
					} else {
						e.replace(i, end, TokenURL)
					}
					i = end
					continue
				}
			}
			i++
		}
	}
	return e.finish()
}

// scrubOptions are the scrubbers the oracle tests compare: every class on,
// links by host, links kept, and each class alone.
var scrubOptions = []PIIOptions{
	DefaultPII(),
	{Emails: true, Phones: true, Handles: true, Addresses: true, URLs: "domain"},
	{Emails: true, Phones: true, Handles: true, Addresses: true, URLs: "keep"},
	{Emails: true, URLs: "keep"},
	{Handles: true, URLs: "keep"},
	{Phones: true, URLs: "keep"},
	{Addresses: true, URLs: "keep"},
	{URLs: "all"},
}

func checkScrubOracle(t *testing.T, s string) {
	t.Helper()
	for _, o := range scrubOptions {
		sc := NewScrubberWith(o)
		got, gn := sc.Scrub(s)
		want, wn := sc.scrubOracle(s)
		if got != want || gn != wn {
			t.Fatalf("%+v: Scrub(%q) = %q, %d; want %q, %d", o, s, got, gn, want, wn)
		}
	}
}

func FuzzScrubOracle(f *testing.F) {
	for _, s := range []string{"mail user@example.com", "@POTUS hi", "call 555-123-4567", "123 Main Street", "https://t.co/x?y=1",
		"été 2004 €5", "a@www.b.com then Www.c.org", "see u/someone at Http://x.y 12 Oak Ave. Then", "wWw.a.b 020 7946 0958 x@y.co",
		"(555) 123-4567 +44 20 7946 0958", "miss u/love and /u/bob", "ftp://h/p; www.x.com, WWW.Y.ORG."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkScrubOracle(t, s) })
}

// TestScrubOracleRandom compares Scrub with the oracle on random texts of
// the bytes and pieces the scanners stop at, at every alignment of the
// eight bytes nextCandidate reads at once.
func TestScrubOracleRandom(t *testing.T) {
	alphabet := []string{"a", "B", "u", "/", ":", "w", "W", "h", "f", ".", " ", " ", "7", "0", "555", "-", "(", ")", "+", "@", "_",
		"\xc0", "\xba", "é", "www.", "Www.", "://", "http://", "x.com", "Main", "St", "Street", "Apt", "#", ",", "ex@ample.org", "u/abc"}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 60000 {
		checkScrubOracle(t, randtext.Join(rng, alphabet, 40))
	}
}
