package filter

import (
	"regexp"
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
// Each detector runs only when a cheap pre-scan finds its trigger ('@',
// "http"/"www.", a digit run), so clean prose costs one pass over the bytes.
// A Scrubber is safe for concurrent use.
type Scrubber struct {
	email, url, handle, phone, address *regexp.Regexp
}

// NewScrubber compiles the detectors.
func NewScrubber() *Scrubber {
	return &Scrubber{
		email: regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`),
		url:   regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'\)\]]+`),
		// @handle at a word start; e-mails are replaced first so their @ is gone.
		handle: regexp.MustCompile(`(?:^|[^\w@.])@([A-Za-z0-9_]{1,30})\b`),
		// International (+CC ...), US (555) 123-4567 / 555-123-4567 / 555.123.4567,
		// UK 020 7946 0958 style: separators required between groups so that
		// plain numbers, years and prices do not match.
		phone: regexp.MustCompile(`(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,4}\)[\s.\-]?|\b\d{2,4}[\s.\-])\d{3,4}[\s.\-]\d{3,4}\b`),
		address: regexp.MustCompile(`\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Parkway|Pkwy)\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit)\.?\s*#?\w+)?`),
	}
}

// Scrub returns s with personal data replaced and the number of
// replacements. Scrub(Scrub(s)) == Scrub(s).
func (sc *Scrubber) Scrub(s string) (string, int) {
	hasAt, hasDigit, hasURL := false, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			hasAt = true
		case c >= '0' && c <= '9':
			hasDigit = true
		case (c == 'h' || c == 'H') && i+4 <= len(s) && strings.EqualFold(s[i:i+4], "http"):
			hasURL = true
		case (c == 'w' || c == 'W') && i+4 <= len(s) && strings.EqualFold(s[i:i+4], "www."):
			hasURL = true
		}
	}
	n := 0
	repl := func(re *regexp.Regexp, s, with string) string {
		return re.ReplaceAllStringFunc(s, func(string) string { n++; return with })
	}
	if hasURL {
		s = repl(sc.url, s, "[URL]")
	}
	if hasAt {
		s = repl(sc.email, s, "[EMAIL]")
		s = sc.handle.ReplaceAllStringFunc(s, func(m string) string {
			n++
			i := strings.IndexByte(m, '@')
			return m[:i] + "[USER]"
		})
	}
	if hasDigit {
		s = repl(sc.phone, s, "[PHONE]")
		s = repl(sc.address, s, "[ADDRESS]")
	}
	return s, n
}
