package filter

import (
	"strings"

	"github.com/humanllm/humanllm/internal/fields"
)

// Replacement tokens.
const (
	TokenEmail   = "[EMAIL]"
	TokenPhone   = "[PHONE]"
	TokenURL     = "[URL]"
	TokenUser    = "[USER]"
	TokenAddress = "[ADDRESS]"
)

// Scrubber replaces personal data in text by placeholder tokens. It is a set
// of hand-written scanners driven by a single pass over the bytes, entered
// only at trigger bytes ('@', digits, '+', '(', 'h'/'w'/'f' of a link, 'u'
// of "u/"), and a pre-scan skips the pass entirely when the text has none of
// '@', a digit, "://", "www." or "u/". A Scrubber is immutable and safe for
// concurrent use.
//
// What it recognises:
//
//   - e-mail: local@domain.tld (local part [A-Za-z0-9._%+-], at least two
//     domain labels, an alphabetic TLD of 2+ letters) -> [EMAIL].
//   - link: http://, https://, ftp:// or www. up to white space, a quote,
//     '<' or '>' or a non-ASCII byte, without trailing punctuation -> [URL]
//     (or its host, with URLs "domain").
//   - handle: '@' + [A-Za-z0-9_] not preceded by a word character (so the
//     '@' of an e-mail never is), and Reddit's "u/name" / "/u/name" (3+
//     characters) -> [USER]. ("miss u/love" is taken for a Reddit mention.)
//   - phone: digit groups separated by single ' ', '-' or '.' (or
//     parenthesised): with a leading '+', 8-15 digits in any grouping; else
//     US 3-3-4 or 1-3-3-4, or a national number starting with 0 of 10-11
//     digits in 2-4 groups of 2+ digits (UK "020 7946 0958",
//     "07700 900123") -> [PHONE]. Unseparated digit runs, 7-digit local
//     numbers, years ("2019-2020"), dates, prices ("$1,250.00"), scores
//     ("3-2"), versions and IP addresses are left alone.
//   - street address: a house number (1-6 digits, optional letter), an
//     optional direction (N, S., West...), 1-4 capitalised or ordinal name
//     words and a street suffix (Street, St, Avenue, Ave, Road, Rd, Lane,
//     Drive, Way, ...), optionally followed by ", Apt 5" / " Suite 200" /
//     " Unit 3" / " #5" -> [ADDRESS]. The dot of an abbreviated suffix
//     ("Ave.") is taken unless it also ends the sentence. House numbers are
//     not told from years: "in 2004 Principal St" is taken for an address.
//
// A match must not touch a word character on either side (boundaries are
// judged against the output, so a token just written counts as ']'). Scrub
// is idempotent: Scrub(Scrub(x)) == Scrub(x) (checked by FuzzScrub).
type Scrubber struct {
	emails, phones, handles, addresses bool
	urls                               int // urlKeep, urlAll, urlDomain
}

const (
	urlKeep = iota
	urlAll
	urlDomain
)

// PIIOptions selects what a Scrubber replaces.
type PIIOptions struct {
	// Emails: "user@example.com" -> "[EMAIL]".
	Emails bool `yaml:"emails" mapstructure:"emails"`
	// Phones: "+44 20 7946 0958", "(555) 123-4567" -> "[PHONE]".
	Phones bool `yaml:"phones" mapstructure:"phones"`
	// Handles: "@POTUS", "u/name", "/u/name" -> "[USER]".
	Handles bool `yaml:"handles" mapstructure:"handles"`
	// Addresses: "123 Main Street", "4500 N. Elm Ave., Apt 5" -> "[ADDRESS]".
	Addresses bool `yaml:"addresses" mapstructure:"addresses"`
	// URLs is "all" (every link -> "[URL]"; the default, as the paper's
	// rewrite strips URLs), "domain" (a link becomes its bare host, without
	// user info, port, path, query or fragment, which is where tokens and
	// secrets live) or "keep".
	URLs string `yaml:"urls" mapstructure:"urls"`
}

// DefaultPII replaces everything, links by [URL].
func DefaultPII() PIIOptions {
	return PIIOptions{Emails: true, Phones: true, Handles: true, Addresses: true, URLs: "all"}
}

// NewScrubber returns a scrubber with DefaultPII.
func NewScrubber() *Scrubber { return NewScrubberWith(DefaultPII()) }

// NewScrubberWith returns a scrubber for p; an unknown URLs mode means
// "all".
func NewScrubberWith(p PIIOptions) *Scrubber {
	s := &Scrubber{emails: p.Emails, phones: p.Phones, handles: p.Handles, addresses: p.Addresses, urls: urlAll}
	switch strings.ToLower(p.URLs) {
	case "keep", "none", "off":
		s.urls = urlKeep
	case "domain", "host":
		s.urls = urlDomain
	}
	return s
}

// The classes of bytes the scan stops at (see nextCandidate).
const (
	trigAt     = 1 << iota // '@': e-mail, handle
	trigURL                // h, w, f (either case): a link
	trigU                  // 'u' before '/': a Reddit handle
	trigDigit              // digits, '+', '(': phone, address
	trigURLPat             // ':' before '/', 'w' before 'w' (either case): a link pattern
)

// classes returns the classes sc stops at before any link pattern is
// seen: links are looked for (trigURL) only in a text that holds one of
// "://", "www." and "WWW." (even inside a match), and the scan starts by
// looking for those (trigURLPat).
func (sc *Scrubber) classes() int {
	cls := 0
	if sc.emails || sc.handles {
		cls |= trigAt
	}
	if sc.urls != urlKeep {
		cls |= trigURLPat
	}
	if sc.handles {
		cls |= trigU
	}
	if sc.phones || sc.addresses {
		cls |= trigDigit
	}
	return cls
}

// nextCandidate returns the index of the first byte at or after i of the
// classes in cls (isCandidate), or len(s): 64 bytes at a time with
// AVX-512BW (nextCandidate64), else eight (nextCandidate8).
func nextCandidate(s string, i, cls int) int {
	if fields.HaveMasks64 {
		return nextCandidate64(s, i, cls)
	}
	return nextCandidate8(s, i, cls)
}

// nextCandidate8 is nextCandidate eight bytes at a time, classified at once
// (a pair is judged with the byte after the eight); the last bytes one at
// a time.
func nextCandidate8(s string, i, cls int) int {
	const lower = 0x2020202020202020
	for ; i+8 <= len(s); i += 8 {
		x := fields.Load8(s, i)
		y := x & fields.Low7 // then &^ x: a byte with bit 7 set is none of these
		var m uint64
		if cls&trigDigit != 0 {
			m = fields.Between(y, '0', '9') | fields.Equal(y, '+') | fields.Equal(y, '(')
		}
		if cls&trigAt != 0 {
			m |= fields.Equal(y, '@')
		}
		if cls&trigURL != 0 {
			z := y | lower
			m |= fields.Equal(z, 'h') | fields.Equal(z, 'w') | fields.Equal(z, 'f')
		}
		if cls&(trigU|trigURLPat) != 0 {
			// Pairs: the marks of the byte after each, the eighth's from
			// the byte after the eight.
			var nb byte
			if i+8 < len(s) {
				nb = s[i+8]
			}
			slash := fields.Equal(y, '/') &^ x
			slash2 := slash>>8 | b2u(nb == '/')<<63
			if cls&trigU != 0 {
				m |= fields.Equal(y, 'u') & slash2
			}
			if cls&trigURLPat != 0 {
				w := fields.Equal(y|lower, 'w') &^ x
				w2 := w>>8 | b2u(nb|0x20 == 'w')<<63
				m |= (fields.Equal(y, ':') & slash2) | (w & w2)
			}
		}
		if m &^= x; m != 0 {
			return i + fields.FirstByte(m)
		}
	}
	for ; i < len(s); i++ {
		if isCandidate(s, i, cls) {
			return i
		}
	}
	return len(s)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// isCandidate tells whether s[i] is of the classes in cls.
func isCandidate(s string, i, cls int) bool {
	c := s[i]
	next := byte(0)
	if i+1 < len(s) {
		next = s[i+1]
	}
	switch {
	case c >= '0' && c <= '9' || c == '+' || c == '(':
		return cls&trigDigit != 0
	case c == '@':
		return cls&trigAt != 0
	case c == 'u':
		return cls&trigU != 0 && next == '/'
	case c == ':':
		return cls&trigURLPat != 0 && next == '/'
	}
	switch c | 0x20 {
	case 'h', 'f':
		return cls&trigURL != 0
	case 'w':
		return cls&trigURL != 0 || cls&trigURLPat != 0 && next|0x20 == 'w'
	}
	return false
}

// urlPatternAt tells whether s starts with a link pattern.
func urlPatternAt(s string) bool {
	return strings.HasPrefix(s, "://") || strings.HasPrefix(s, "www.") || strings.HasPrefix(s, "WWW.")
}

// Scrub returns s with personal data replaced, and the number of
// replacements. When nothing is replaced s itself is returned (no
// allocation).
//
// One pass over s stops at the bytes that may start a match (eight bytes
// are looked at a step, see nextCandidate). Links are looked for only in
// a text with a link pattern ("://", "www.", "WWW.") anywhere: the pass
// starts without them, looking for the patterns (also over the bytes a
// match takes), and starts over with them at the first one.
func (sc *Scrubber) Scrub(s string) (string, int) {
	cls := sc.classes()
	for {
		out, n, again := sc.scrub(s, cls)
		if !again {
			return out, n
		}
		cls = cls&^trigURLPat | trigURL
	}
}

// scrub is one pass of Scrub over s stopping at the classes in cls; with
// trigURLPat it reports again (and nothing else) at the first link
// pattern.
func (sc *Scrubber) scrub(s string, cls int) (out string, n int, again bool) {
	e := emitter{in: s, tokEnd: -1}
	// took reports whether a match just made over s[st:end] hides a link
	// pattern from the pass (one that starts inside it; those that start
	// before st were looked at).
	took := func(st, end int) bool {
		if cls&trigURLPat == 0 {
			return false
		}
		lo, hi := max(st-3, 0), min(end+3, len(s))
		p := s[lo:hi]
		return strings.Contains(p, "://") || strings.Contains(p, "www.") || strings.Contains(p, "WWW.")
	}
	for i := 0; ; {
		if i = nextCandidate(s, i, cls); i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == ':' || cls&trigURLPat != 0 && c|0x20 == 'w':
			if urlPatternAt(s[i:]) {
				return "", 0, true
			}
			i++
		case c == '@':
			if sc.emails {
				if st, end, ok := emailAt(s, i, e.last); ok && !isWordByte(e.prev(st)) {
					e.replace(st, end, TokenEmail)
					if took(st, end) {
						return "", 0, true
					}
					i = end
					continue
				}
			}
			if sc.handles && !isWordByte(e.prev(i)) && e.prev(i) != '@' {
				if end := handleAt(s, i+1); end > i+1 {
					e.replace(i, end, TokenUser)
					if took(i, end) {
						return "", 0, true
					}
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
						if took(st, end) {
							return "", 0, true
						}
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
						if took(i, end) {
							return "", 0, true
						}
						i = end
						continue
					}
				}
				if sc.addresses && c >= '0' && c <= '9' && addrLeftOK(p) {
					if end, ok := addressAt(s, i); ok {
						e.replace(i, end, TokenAddress)
						if took(i, end) {
							return "", 0, true
						}
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
	out, n = e.finish()
	return out, n, false
}

// emitter builds the output lazily.
type emitter struct {
	in     string
	b      []byte
	last   int // in[last:] is not yet copied
	n      int
	tokEnd int  // input position where the last replacement ended
	tokLst byte // last byte of that replacement
}

// prev returns the byte before input position i as the output sees it, or
// 0 at the start.
func (e *emitter) prev(i int) byte {
	if i == e.tokEnd {
		return e.tokLst
	}
	if i == 0 {
		return 0
	}
	return e.in[i-1]
}

func (e *emitter) replace(start, end int, tok string) {
	if e.b == nil {
		e.b = make([]byte, 0, len(e.in)+16)
	}
	e.b = append(e.b, e.in[e.last:start]...)
	e.b = append(e.b, tok...)
	e.last = end
	e.n++
	e.tokEnd = end
	if len(tok) > 0 {
		e.tokLst = tok[len(tok)-1]
	} else if start > 0 {
		e.tokLst = e.in[start-1]
	} else {
		e.tokLst = 0
	}
}

func (e *emitter) finish() (string, int) {
	if e.n == 0 {
		return e.in, 0
	}
	e.b = append(e.b, e.in[e.last:]...)
	return string(e.b), e.n
}

func isDigit(c byte) bool  { return c-'0' < 10 }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// isWordByte: letters, digits, '_' and any non-ASCII byte (a letter of
// another script, or a symbol; both are treated as glued to the match).
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' || c >= 0x80 }

func isLocalByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// emailAt checks for an e-mail address around the '@' at i whose local part
// starts at or after min.
func emailAt(s string, i, min int) (start, end int, ok bool) {
	st := i
	for st > min && isLocalByte(s[st-1]) {
		st--
	}
	for st < i && s[st] == '.' {
		st++
	}
	if st == i {
		return 0, 0, false
	}
	// Domain: labels of [A-Za-z0-9-] separated by single dots.
	j := i + 1
	labels := 0
	lastStart := j
	for {
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '-') {
			k++
		}
		if k == j {
			break
		}
		labels++
		lastStart = j
		end = k
		if k+1 < len(s) && s[k] == '.' && (isAlnum(s[k+1])) {
			j = k + 1
			continue
		}
		break
	}
	if labels < 2 {
		return 0, 0, false
	}
	tld := s[lastStart:end]
	if len(tld) < 2 {
		return 0, 0, false
	}
	for k := 0; k < len(tld); k++ {
		if !isLetter(tld[k]) {
			return 0, 0, false
		}
	}
	if end < len(s) && (s[end] == '@' || s[end] == '_' || s[end] >= 0x80) {
		return 0, 0, false
	}
	return st, end, true
}

// handleAt returns the end of a handle name starting at j (j itself when
// there is none). Names are [A-Za-z0-9_], 1-30 bytes, not followed by
// another word byte or '@'.
func handleAt(s string, j int) int {
	k := j
	for k < len(s) && (isAlnum(s[k]) || s[k] == '_' || s[k] == '-' && k > j) {
		k++
	}
	for k > j && s[k-1] == '-' {
		k--
	}
	if k-j > 30 || k < len(s) && (s[k] >= 0x80 || s[k] == '@') {
		return j
	}
	return k
}

// urlAt checks for a link starting at i. It returns its end and the host
// span.
func urlAt(s string, i int) (end, hostS, hostE int, ok bool) {
	rest := s[i:]
	var body int
	switch {
	case hasPrefixFold(rest, "https://"):
		body = i + 8
	case hasPrefixFold(rest, "http://"):
		body = i + 7
	case hasPrefixFold(rest, "ftp://"):
		body = i + 6
	case hasPrefixFold(rest, "www.") && len(rest) > 4 && isAlnum(rest[4]):
		body = i
	default:
		return 0, 0, 0, false
	}
	j := body
	for j < len(s) {
		c := s[j]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' {
			break
		}
		j++
	}
	// Trailing punctuation is the sentence's, unless balanced.
	for j > body {
		c := s[j-1]
		if c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' || c == '*' {
			j--
			continue
		}
		if c == ')' && strings.Count(s[body:j], "(") < strings.Count(s[body:j], ")") ||
			c == ']' && strings.Count(s[body:j], "[") < strings.Count(s[body:j], "]") {
			j--
			continue
		}
		break
	}
	if j == body || !isAlnum(s[body]) {
		return 0, 0, 0, false
	}
	// Host: up to '/', '?', '#'; after the last '@' of that authority;
	// without a port.
	hs, he := body, body
	for he < j && s[he] != '/' && s[he] != '?' && s[he] != '#' {
		he++
	}
	if at := strings.LastIndexByte(s[hs:he], '@'); at >= 0 {
		hs += at + 1
	}
	if c := strings.IndexByte(s[hs:he], ':'); c >= 0 {
		he = hs + c
	}
	// The host must itself be clean: letters, digits, '-', '.'.
	for k := hs; k < he; k++ {
		if !isAlnum(s[k]) && s[k] != '-' && s[k] != '.' {
			he = hs
			break
		}
	}
	for he > hs && (s[he-1] == '.' || s[he-1] == '-') {
		he--
	}
	for hs < he && (s[hs] == '.' || s[hs] == '-') {
		hs++
	}
	return j, hs, he, true
}

// isDomainName: a host kept in "domain" mode starts with a letter and has
// a dot; others ("163.com", IP addresses, "00.000") become [URL], so that
// the host written cannot read as a phone number on a second pass.
func isDomainName(h string) bool {
	return len(h) > 2 && isLetter(h[0]) && strings.IndexByte(h, '.') > 0
}

func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if s[i]|0x20 != p[i] && s[i] != p[i] {
			return false
		}
	}
	return true
}

// phoneLeftOK: a number must not continue a word, a number, a price, a
// range or a path.
func phoneLeftOK(p byte) bool {
	if isWordByte(p) {
		return false
	}
	switch p {
	case '+', '-', '.', ',', '/', '$', '#', '@', '%', '&', '=', '\\', '(', ')', '[', '^', '*':
		return false
	}
	return true
}

// addrLeftOK is the same for a house number.
func addrLeftOK(p byte) bool { return phoneLeftOK(p) }

// phoneAt checks for a phone number starting at i.
func phoneAt(s string, i int) (int, bool) {
	j := i
	plus := false
	if s[j] == '+' {
		plus = true
		j++
	}
	var groups [8]int
	var ends [8]int
	var first [8]byte // first digit of each group
	ng := 0
	for {
		// One group: optional '(' digits ')'.
		k := j
		paren := false
		if k < len(s) && s[k] == '(' {
			paren = true
			k++
		}
		d := k
		for d < len(s) && isDigit(s[d]) {
			d++
		}
		g := d - k
		if g == 0 || g > 15 || paren && (d >= len(s) || s[d] != ')') || ng == len(groups) {
			break
		}
		first[ng] = s[k]
		if paren {
			d++
		}
		groups[ng] = g
		ends[ng] = d
		ng++
		if d >= len(s) {
			break
		}
		c := s[d]
		if (c == ' ' || c == '-' || c == '.') && d+1 < len(s) && (isDigit(s[d+1]) || s[d+1] == '(') {
			j = d + 1
			continue
		}
		if paren && (isDigit(c) || c == '(') {
			j = d
			continue
		}
		break
	}
	// The longest run of leading groups that is a phone number wins
	// ("020 7946 0958 12 times" -> "[PHONE] 12 times").
	for k := ng; k > 0; k-- {
		if isPhone(plus, groups[:k], first[:k]) && phoneRightOK(s, ends[k-1]) {
			return ends[k-1], true
		}
	}
	return 0, false
}

// phoneRightOK: a number must not run on into a word, a decimal, a range or
// a path.
func phoneRightOK(s string, end int) bool {
	if end >= len(s) {
		return true
	}
	c := s[end]
	// '[' too: a "(020) 7946 0958@x" rejected for its '@' must stay
	// rejected once "@x" has become "[USER]" (idempotence).
	if isWordByte(c) || c == '@' || c == '[' || c == '(' || c == '%' || c == '+' {
		return false
	}
	// Only bytes that phoneLeftOK also refuses: a number after one of
	// these can never be replaced, so the check reads the same on a second
	// pass.
	if (c == '.' || c == ',' || c == '/' || c == '-') && end+1 < len(s) && isDigit(s[end+1]) {
		return false
	}
	return true
}

// isPhone classifies digit groups (sizes and first digits).
func isPhone(plus bool, groups []int, first []byte) bool {
	digits := 0
	for _, g := range groups {
		digits += g
	}
	ng := len(groups)
	switch {
	case plus:
		return digits >= 8 && digits <= 15 && first[0] != '0'
	case ng == 3 && groups[0] == 3 && groups[1] == 3 && groups[2] == 4:
		return true
	case ng == 4 && groups[0] == 1 && first[0] == '1' && groups[1] == 3 && groups[2] == 3 && groups[3] == 4:
		return true
	case first[0] == '0' && ng >= 2 && ng <= 4 && (digits == 10 || digits == 11) && groups[0] <= 5:
		for _, g := range groups {
			if g < 2 {
				return false
			}
		}
		return true
	}
	return false
}

var streetSuffix = map[string]bool{
	"Street": true, "St": true, "Avenue": true, "Ave": true, "Av": true, "Road": true, "Rd": true,
	"Boulevard": true, "Blvd": true, "Lane": true, "Ln": true, "Drive": true, "Dr": true,
	"Court": true, "Ct": true, "Place": true, "Pl": true, "Terrace": true, "Way": true,
	"Parkway": true, "Pkwy": true, "Highway": true, "Hwy": true, "Circle": true, "Cir": true,
	"Square": true, "Sq": true, "Trail": true, "Crescent": true, "Close": true, "Plaza": true,
	"Alley": true, "Row": true,
}

var directions = map[string]bool{
	"N": true, "S": true, "E": true, "W": true, "NE": true, "NW": true, "SE": true, "SW": true,
	"North": true, "South": true, "East": true, "West": true,
}

var unitWords = map[string]bool{"Apt": true, "Apartment": true, "Suite": true, "Ste": true, "Unit": true, "Flat": true}

// asciiWord returns the run of ASCII letters and digits at j.
func asciiWord(s string, j int) (string, int) {
	k := j
	for k < len(s) && isAlnum(s[k]) {
		k++
	}
	return s[j:k], k
}

func isNameWord(w string) bool {
	if w == "" {
		return false
	}
	if w[0] >= 'A' && w[0] <= 'Z' {
		for i := 1; i < len(w); i++ {
			if !isLetter(w[i]) {
				return false
			}
		}
		return true
	}
	// Ordinal: 5th, 42nd, 1st, 3rd.
	d := 0
	for d < len(w) && isDigit(w[d]) {
		d++
	}
	if d == 0 || d > 3 {
		return false
	}
	switch strings.ToLower(w[d:]) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// addressAt checks for a street address whose house number starts at i.
func addressAt(s string, i int) (int, bool) {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i > 6 {
		return 0, false
	}
	if j < len(s) && isLetter(s[j]) && j+1 < len(s) && s[j+1] == ' ' {
		j++ // 221B
	}
	if j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	j++
	if w, k := asciiWord(s, j); directions[w] {
		if k < len(s) && s[k] == '.' {
			k++
		}
		if k < len(s) && s[k] == ' ' {
			j = k + 1
		}
	}
	names := 0
	for n := 0; n < 5; n++ {
		w, k := asciiWord(s, j)
		if w == "" {
			return 0, false
		}
		if streetSuffix[w] && names >= 1 {
			if k < len(s) && (isWordByte(s[k]) || s[k] == '@') {
				return 0, false
			}
			return unitAt(s, k, w), true
		}
		if !isNameWord(w) {
			return 0, false
		}
		names++
		if names > 4 || k >= len(s) || s[k] != ' ' {
			return 0, false
		}
		j = k + 1
	}
	return 0, false
}

var abbrevSuffix = map[string]bool{
	"St": true, "Ave": true, "Av": true, "Rd": true, "Blvd": true, "Ln": true, "Dr": true,
	"Ct": true, "Pl": true, "Pkwy": true, "Hwy": true, "Cir": true, "Sq": true,
}

// unitAt extends an address whose street suffix ends at k over ", Apt 5",
// " Suite 200", " #5" and over the dot of an abbreviated suffix ("Ave.")
// unless that dot also ends the sentence (end of text, or white space and
// a capital letter follow), so "12 Oak Ave. is far" -> "[ADDRESS] is far"
// and "at 12 Oak Ave. Then" -> "at [ADDRESS]. Then".
func unitAt(s string, k int, suffix string) int {
	j := k
	dot := false
	if j < len(s) && s[j] == '.' && abbrevSuffix[suffix] {
		j++
		dot = true
	}
	if e, ok := unitWord(s, j); ok {
		return e
	}
	if dot && j < len(s) {
		c := s[j]
		if c == ',' || c == ';' || c == ')' || c == ':' {
			return j
		}
		if c == ' ' && j+1 < len(s) && (s[j+1] >= 'a' && s[j+1] <= 'z' || isDigit(s[j+1]) || s[j+1] == '(') {
			return j
		}
	}
	return k
}

// unitWord matches ",? (Apt|Apartment|Suite|Ste|Unit|Flat)\.? ?X" or " #X"
// at j, X being 1-6 letters or digits.
func unitWord(s string, j int) (int, bool) {
	if j < len(s) && s[j] == ',' {
		j++
	}
	if j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	j++
	if j < len(s) && s[j] == '#' {
		j++
	} else {
		w, e := asciiWord(s, j)
		if !unitWords[w] {
			return 0, false
		}
		j = e
		if j < len(s) && s[j] == '.' {
			j++
		}
		if j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) && s[j] == '#' {
			j++
		}
	}
	e := j
	for e < len(s) && e-j < 6 && isAlnum(s[e]) {
		e++
	}
	if e == j || e < len(s) && (isWordByte(s[e]) || s[e] == '@') {
		return 0, false
	}
	return e, true
}
