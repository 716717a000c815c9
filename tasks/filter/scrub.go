package filter

import (
	"regexp"
	"sort"
	"strings"
)

// Scrubber replaces personal data in text with placeholders:
//
//	e-mail addresses            -> [EMAIL]
//	phone numbers               -> [PHONE]   (7+ digits in phone layouts; not years,
//	                                          prices, dates, scores or versions)
//	URLs (http(s)://, www.)     -> [URL]     (every URL: links carry tokens and
//	                                          tracking ids, and the paper's rewrite
//	                                          strips them all)
//	@handles                    -> [USER]    (not the @ of an e-mail address)
//	street addresses            -> [ADDRESS] ("123 Main Street", "4500 N. Elm Ave., Apt 5")
//
// One pass over the bytes finds triggers ('@', "http", "www.", digit runs);
// the detectors (regular expressions) run only on the small window around
// each trigger, so clean prose costs a byte scan. A Scrubber is safe for
// concurrent use, and Scrub(Scrub(s)) == Scrub(s).
type Scrubber struct {
	email, phone, address *regexp.Regexp
}

// NewScrubber compiles the detectors.
func NewScrubber() *Scrubber {
	return &Scrubber{
		email: regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`),
		// International (+CC ...), US (555) 123-4567 / 555-123-4567 / 555.123.4567,
		// UK 020 7946 0958: separators between groups are required, so plain
		// numbers, years and prices do not match.
		phone:   regexp.MustCompile(`(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)[ .\-]?|\b\d{2,4}[ .\-])\d{3,4}[ .\-]\d{3,4}\b`),
		address: regexp.MustCompile(`^\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Parkway|Pkwy)\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit)\.?\s*#?[A-Za-z0-9]+)?`),
	}
}

type span struct {
	a, b int
	with string
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// urlEnd returns the end of a URL starting at i.
func urlEnd(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) && !strings.ContainsRune(`<>"')]`, rune(s[i])) {
		i++
	}
	return i
}

// Scrub returns s with personal data replaced and the number of
// replacements.
func (sc *Scrubber) Scrub(s string) (string, int) {
	var spans []span
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == 'h' || c == 'H') && (i == 0 || !isWord(s[i-1])) &&
			(hasPrefixFold(s[i:], "http://") || hasPrefixFold(s[i:], "https://")):
			e := urlEnd(s, i)
			spans = append(spans, span{i, e, "[URL]"})
			i = e - 1
		case (c == 'w' || c == 'W') && (i == 0 || !isWord(s[i-1])) && hasPrefixFold(s[i:], "www.") && i+4 < len(s) && isWord(s[i+4]):
			e := urlEnd(s, i)
			spans = append(spans, span{i, e, "[URL]"})
			i = e - 1
		case c == '@':
			// e-mail: regex on the whitespace-delimited token around '@'
			a := i
			for a > 0 && i-a < 64 && !isSpace(s[a-1]) {
				a--
			}
			b := i + 1
			for b < len(s) && b-i < 256 && !isSpace(s[b]) {
				b++
			}
			if m := sc.email.FindStringIndex(s[a:b]); m != nil && a+m[0] <= i && i < a+m[1] {
				spans = append(spans, span{a + m[0], a + m[1], "[EMAIL]"})
				i = a + m[1] - 1
				continue
			}
			// @handle: at a word start, 1-30 word characters, not followed by '@'
			if i > 0 && (isWord(s[i-1]) || s[i-1] == '@' || s[i-1] == '.') {
				continue
			}
			e := i + 1
			for e < len(s) && e-i <= 31 && (isWord(s[e]) && s[e] < 0x80) {
				e++
			}
			if e > i+1 && e-i <= 31 && (e == len(s) || (!isWord(s[e]) && s[e] != '@')) {
				spans = append(spans, span{i, e, "[USER]"})
				i = e - 1
			}
		case isDigit(c) || c == '+' || c == '(':
			// A cluster of digits and phone separators.
			a, digits := i, 0
			e := i
			for e < len(s) && (isDigit(s[e]) || strings.IndexByte(" .-()+", s[e]) >= 0) {
				if isDigit(s[e]) {
					digits++
				}
				e++
			}
			if digits >= 7 {
				lo, hi := max(0, a-1), min(len(s), e+1)
				for _, m := range sc.phone.FindAllStringIndex(s[lo:hi], -1) {
					spans = append(spans, span{lo + m[0], lo + m[1], "[PHONE]"})
				}
			}
			if isDigit(c) && (i == 0 || !isWord(s[i-1])) {
				w := s[i:min(len(s), i+160)]
				if m := sc.address.FindStringIndex(w); m != nil {
					spans = append(spans, span{i, i + m[1], "[ADDRESS]"})
					i += m[1] - 1
					continue
				}
			}
			// skip the rest of this digit run
			for i+1 < len(s) && isDigit(s[i+1]) {
				i++
			}
		}
	}
	if len(spans) == 0 {
		return s, 0
	}
	sort.SliceStable(spans, func(x, y int) bool { return spans[x].a < spans[y].a })
	var b strings.Builder
	b.Grow(len(s))
	at, n := 0, 0
	for _, sp := range spans {
		if sp.a < at { // overlaps an earlier replacement
			continue
		}
		b.WriteString(s[at:sp.a])
		b.WriteString(sp.with)
		at = sp.b
		n++
	}
	b.WriteString(s[at:])
	return b.String(), n
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
