package qc

import (
	"regexp"
	"strings"

	"github.com/humanllm/humanllm/internal/fields"
)

var (
	emailRe = regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b`)
	phoneRe = regexp.MustCompile(`(?:^|[^\w+])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?:$|[^\w])|(?:^|[^\w])\+\d{1,3}[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?:$|[^\w])`)
	urlRe   = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"']+`)
	tokenQ  = regexp.MustCompile(`(?i)[?&#;](?:access_token|id_token|refresh_token|token|api_?key|apikey|key|auth|authorization|sig|signature|secret|password|passwd|pwd|session|sessionid|sid|code|x-amz-signature|x-amz-credential)=[^&\s]{6,}`)
	userPw  = regexp.MustCompile(`(?i)^(?:https?://)[^/@\s:]+:[^/@\s]+@`)
)

// HasPII reports an e-mail address, a phone number (10+ digit North
// American or +country formats) or a URL that carries a credential (a token
// or key query parameter, or user:password@).
func HasPII(s string) bool {
	// The regexps cost far more than the scan; almost no message passes it.
	if !mayHavePII(s) {
		return false
	}
	return hasEmail(s) || hasPhone(s) || hasCredentialURL(s)
}

// The regexps run on the part of the message a match could lie in (they
// used to run on the whole message, often a prompt of many kilobytes). The
// window keeps the characters around the part that \b, ^, $ and the
// context classes look at, so the answer is the regexp's on the whole
// message; the oracle tests compare the two.

// emailByte is a byte that can be part of an emailRe match: the ASCII of
// [a-z0-9._%+-] under (?i), '@', and any non-ASCII byte (KELVIN SIGN and
// LONG S fold to k and s).
var emailByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._%+-@", byte(c)) >= 0
	}
	return
}()

// hasEmail is emailRe.MatchString(s). A match lies in the run of emailByte
// around one of s's '@'. Outside the run the only character that changes
// a \b at its edge is '_' (a word character that no match contains): it is
// kept in the window.
func hasEmail(s string) bool {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+1
		for a > 0 && emailByte[s[a-1]] {
			a--
		}
		for b < len(s) && emailByte[s[b]] {
			b++
		}
		wa, wb := a, b
		if wa > 0 && s[wa-1] == '_' {
			wa--
		}
		if wb < len(s) && s[wb] == '_' {
			wb++
		}
		if emailRe.MatchString(s[wa:wb]) {
			return true
		}
		i = b
	}
}

// phoneByte is a byte of phoneRe's core (everything but the one context
// character on each side): digits, " .-", parentheses and '+'.
var phoneByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789 .-()+") {
		t[c] = true
	}
	return
}()

// hasPhone is phoneRe.MatchString(s). A match's core lies in one run of
// phoneByte that contains \+\d or \d{3}[ .-]?\d{4} (mayHavePII); the
// regexp runs on that run plus one byte on each side for the context
// classes. Those bytes are not phoneBytes, so no core starts or ends there,
// and ^ or $ at the window's edge cannot wrongly match; a byte cut out of a
// longer rune reads as U+FFFD, which is [^\w+] like the rune itself.
func hasPhone(s string) bool {
	for i := 0; i < len(s); {
		if !phoneByte[s[i]] {
			i++
			continue
		}
		j := i
		for j < len(s) && phoneByte[s[j]] {
			j++
		}
		if run := s[i:j]; phoneTrigger(run) && phoneRe.MatchString(s[max(i-1, 0):min(j+1, len(s))]) {
			return true
		}
		i = j
	}
	return false
}

// phoneAcross reports whether hasPhone(s) finds a match in the run of
// phoneByte that holds s[k-1] and s[k], s[k] a ' ' (then s[:k] and s[k:]
// split s as HasPII needs: HasPII(s) == HasPII(s[:k]) || HasPII(s[k:]) ||
// phoneAcross(s, k)). Neither part alone sees that run whole; every other
// match of the patterns is one of a part's (a ' ' ends an e-mail, a URL
// and a match's context as the end of a text does, and no phone match's
// core starts with it).
func phoneAcross(s string, k int) bool {
	if k == 0 || !phoneByte[s[k-1]] {
		return false
	}
	i, j := k-1, k
	for i > 0 && phoneByte[s[i-1]] {
		i--
	}
	for j < len(s) && phoneByte[s[j]] {
		j++
	}
	return phoneTrigger(s[i:j]) && phoneRe.MatchString(s[max(i-1, 0):min(j+1, len(s))])
}

// phoneRun is the length of the run of phoneByte that starts s.
func phoneRun(s string) int {
	n := 0
	for n < len(s) && phoneByte[s[n]] {
		n++
	}
	return n
}

// phoneDigits counts the digits of s and reports a '+' in it.
func phoneDigits(s string) (digits int, plus bool) {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits++
		} else if s[i] == '+' {
			plus = true
		}
	}
	return digits, plus
}

// phoneTrigger reports \+\d or \d{3}[ .-]?\d{4} in s.
func phoneTrigger(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			if i+1 < len(s) && isDigit(s[i+1]) {
				return true
			}
		case isDigit(c):
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if digitRunTriggers(s, i, j) {
				return true
			}
			i = j - 1
		}
	}
	return false
}

// digitRunTriggers reports whether the maximal run of digits s[i:j]
// completes \d{3}[ .-]?\d{4}: the four digits can only start a run (else
// the three before them are in the run too), so the run is 7 long, or 4
// long after one of " .-" that follows three digits.
func digitRunTriggers(s string, i, j int) bool {
	n := j - i
	return n >= 7 || n >= 4 && i >= 4 && (s[i-1] == ' ' || s[i-1] == '.' || s[i-1] == '-') &&
		isDigit(s[i-2]) && isDigit(s[i-3]) && isDigit(s[i-4])
}

// urlDelim ends a urlRe match: \s (ASCII), <, >, " and '.
func urlDelim(c byte) bool {
	switch c {
	case '\t', '\n', '\f', '\r', ' ', '<', '>', '"', '\'':
		return true
	}
	return false
}

// hasCredentialURL reports a urlRe match in s that tokenQ or userPw
// matches. A match runs from its prefix to the end of a run of non-urlDelim
// bytes, and holds "://" or "www." (w folds only to W), so the regexp runs
// on each such run that has one; the character before a run is a
// delimiter, a non-word character like the start of the window for \b.
func hasCredentialURL(s string) bool {
	for i := 0; i < len(s); {
		if urlDelim(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !urlDelim(s[j]) {
			j++
		}
		if run := s[i:j]; strings.Contains(run, "://") || containsWWW(run) {
			for _, u := range urlRe.FindAllString(run, -1) {
				if tokenQ.MatchString(u) || userPw.MatchString(u) {
					return true
				}
			}
		}
		i = j
	}
	return false
}

// containsWWW reports "www." in s, w in either case.
func containsWWW(s string) bool {
	for i := 0; i+3 < len(s); i++ {
		if (s[i]|0x20) == 'w' && (s[i+1]|0x20) == 'w' && (s[i+2]|0x20) == 'w' && s[i+3] == '.' {
			return true
		}
	}
	return false
}

// mayHavePII is a necessary condition for HasPII, checked in one pass
// without the regexps. Every match of
//   - emailRe contains '@';
//   - urlRe contains "://" or "www." (w is folded only to W);
//   - phoneRe's first form ends in \d{3}[ .-]?\d{4}, its second form starts
//     with \+\d (\d is ASCII in Go's regexp).
//
// \d{3}[ .-]?\d{4} occurs iff some run of ASCII digits is at least 7 long,
// or is at least 4 long and preceded by one of " .-" that itself follows
// three digits: the four digits can only start a run (else the three before
// them are in the run too).
func mayHavePII(s string) bool {
	if strings.IndexByte(s, '@') >= 0 || strings.Contains(s, "://") {
		return true
	}
	for i := 0; i < len(s); i++ {
		// Eight bytes at a time to the next byte that matters (most
		// words have none).
		for i+8 <= len(s) {
			x := fields.Load8(s, i)
			y := x & fields.Low7
			m := (fields.Between(y, '0', '9') | fields.Equal(y, '+') | fields.Equal(y|0x2020202020202020, 'w')) &^ x
			if m != 0 {
				i += fields.FirstByte(m)
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		switch c := s[i]; piiByte[c] {
		case 0:
		case 'w': // "ww." after this w?
			if i+3 < len(s) && (s[i+1]|0x20) == 'w' && (s[i+2]|0x20) == 'w' && s[i+3] == '.' {
				return true
			}
		case '+':
			if i+1 < len(s) && isDigit(s[i+1]) {
				return true
			}
		case 'd':
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if digitRunTriggers(s, i, j) {
				return true
			}
			i = j - 1
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// piiByte marks the bytes mayHavePII looks at: digits ('d'), '+' and w/W.
var piiByte = func() (t [256]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 'd'
	}
	t['+'] = '+'
	t['w'], t['W'] = 'w', 'w'
	return t
}()
