package synth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
)

// Hand-written matchers for the heuristic backend's phrase regexps.
//
// The regexps were the largest cost of the heuristic backend (Go's regexp
// runs a backtracker or an NFA over every sentence, and case-insensitive
// alternations of dozens of phrases are its slowest case). The matchers
// below decide exactly what the regexps decided; the regexps themselves are
// kept in match_test.go as oracles, with a fuzz target and a comparison on
// the shared data.
//
// The regexp semantics they reproduce, all of RE2 as Go implements it:
//   - (?i) folds a pattern letter to its Unicode simple-fold orbit: ASCII
//     upper and lower case, plus U+212A KELVIN SIGN for k and U+017F LATIN
//     SMALL LETTER LONG S for s (é to É); see foldEq.
//   - \s is [\t\n\f\r ] and \b is a boundary between an ASCII word
//     character [0-9A-Za-z_] and anything else (or the text's ends); any
//     non-ASCII rune, and an invalid byte, is a non-word character.
//   - \s+ between two words is greedy and, as the next word starts with a
//     letter, it always takes the whole run of white space.

// isSpaceRE is \s.
func isSpaceRE(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// skipSpaceRE returns the end of the run of \s starting at i.
func skipSpaceRE(s string, i int) int {
	for i < len(s) && isSpaceRE(s[i]) {
		i++
	}
	return i
}

var asciiWordRE = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
	}
	return
}()

// wordBefore and wordAt tell whether the rune before / at byte i is an
// ASCII word character. A byte >= 0x80 belongs to a non-ASCII rune or is
// invalid UTF-8: a non-word character either way.
func wordBefore(s string, i int) bool { return i > 0 && asciiWordRE[s[i-1]] }
func wordAt(s string, i int) bool     { return i < len(s) && asciiWordRE[s[i]] }

// boundary is \b at byte i.
func boundary(s string, i int) bool { return wordBefore(s, i) != wordAt(s, i) }

// foldEq reports whether rune r matches the pattern character pc under (?i)
// (pc is a lower-case ASCII letter, é, or any other character matched
// exactly).
func foldEq(r rune, pc rune) bool {
	switch {
	case r == pc:
		return true
	case pc >= 'a' && pc <= 'z':
		return r == pc-'a'+'A' || pc == 'k' && r == '\u212a' || pc == 's' && r == '\u017f'
	case pc == 'é':
		return r == 'É'
	}
	return false
}

// foldFirst is the lower-case ASCII letter that the rune at s[i:] folds to
// (for indexing phrases by their first letter), or 0.
func foldFirst(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	if c < utf8.RuneSelf {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return c
	}
	switch {
	case strings.HasPrefix(s[i:], "\u212a"):
		return 'k'
	case strings.HasPrefix(s[i:], "\u017f"):
		return 's'
	}
	return 0
}

// matchWord matches the pattern word w (lower case) at s[i:] under (?i)
// and returns the end of the match.
func matchWord(s string, i int, w string) (int, bool) {
	for _, pc := range w {
		if i >= len(s) {
			return 0, false
		}
		if c := s[i]; c < utf8.RuneSelf {
			if !foldEq(rune(c), pc) {
				return 0, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 || !foldEq(r, pc) { // an invalid byte matches nothing here
			return 0, false
		}
		i += n
	}
	return i, true
}

// phrase is a sequence of pattern words that the regexp separates by \s+.
type phrase []string

// matchPhrase matches p at s[i:] and returns the end of the match.
func matchPhrase(s string, i int, p phrase) (int, bool) {
	for k, w := range p {
		if k > 0 {
			j := skipSpaceRE(s, i)
			if j == i {
				return 0, false
			}
			i = j
		}
		var ok bool
		if i, ok = matchWord(s, i, w); !ok {
			return 0, false
		}
	}
	return i, true
}

// phraseSet is an alternation of phrases, indexed by first letter.
type phraseSet struct {
	byFirst [128][]phrase
}

func newPhraseSet(alts ...string) *phraseSet {
	ps := &phraseSet{}
	for _, a := range alts {
		p := phrase(strings.Fields(a))
		ps.byFirst[p[0][0]] = append(ps.byFirst[p[0][0]], p)
	}
	return ps
}

func (ps *phraseSet) at(s string, i int) []phrase {
	if ps == nil {
		return nil
	}
	return ps.byFirst[foldFirst(s, i)&0x7f]
}

// thoughtPattern is a regexp of the form
//
//	\b LEAD \s+ (?:ADV \s+)* HEAD \b
//
// where LEAD, ADV and HEAD are alternations of phrases; without LEAD it is
// \b HEAD \b. A match starts at a word boundary before an ASCII letter in
// starts (the first letters of LEAD, or of HEAD without LEAD).
type thoughtPattern struct {
	lead, adv, head *phraseSet
	starts          [256]bool
}

func newThoughtPattern(lead, adv, head []string) *thoughtPattern {
	tp := &thoughtPattern{head: newPhraseSet(head...)}
	first := head
	if len(lead) > 0 {
		tp.lead, first = newPhraseSet(lead...), lead
	}
	if len(adv) > 0 {
		tp.adv = newPhraseSet(adv...)
	}
	for _, p := range first {
		c := p[0]
		tp.starts[c] = true
		tp.starts[c-'a'+'A'] = true // the first letters (i, m) have no other folds
	}
	return tp
}

func (tp *thoughtPattern) match(s string) bool {
	for p := 0; p < len(s); p++ {
		if tp.starts[s[p]] && !wordBefore(s, p) && tp.matchAt(s, p) {
			return true
		}
	}
	return false
}

// matchAt reports a match starting at p, a word boundary before one of
// tp.starts.
func (tp *thoughtPattern) matchAt(s string, p int) bool {
	if tp.lead == nil {
		return tp.rest(s, p)
	}
	for _, ph := range tp.lead.at(s, p) {
		e, ok := matchPhrase(s, p, ph)
		if !ok {
			continue
		}
		if q := skipSpaceRE(s, e); q > e && tp.rest(s, q) {
			return true
		}
	}
	return false
}

// rest matches (?:ADV \s+)* HEAD \b at s[q:].
func (tp *thoughtPattern) rest(s string, q int) bool {
	for _, ph := range tp.head.at(s, q) {
		if e, ok := matchPhrase(s, q, ph); ok && boundary(s, e) {
			return true
		}
	}
	for _, ph := range tp.adv.at(s, q) {
		if e, ok := matchPhrase(s, q, ph); ok {
			if q2 := skipSpaceRE(s, e); q2 > e && tp.rest(s, q2) {
				return true
			}
		}
	}
	return false
}

// The thought patterns; TestThoughtPatternsTranscribed rebuilds the
// regexps from these lists and compares them with the originals.
var (
	thoughtLead0 = []string{"i"}
	thoughtAdv0  = []string{"really", "truly", "honestly", "just", "still", "do", "did", "sometimes", "always", "totally", "kinda",
		"absolutely", "seriously", "also", "actually", "genuinely", "personally", "kind of", "sort of"}
	thoughtHead0 = []string{"feel", "felt", "think", "believe", "believed", "wish", "wished", "hope", "hoped", "hate", "hated", "love",
		"loved", "adore", "fear", "feared", "worry", "worried", "miss", "missed", "regret", "regretted", "dislike", "doubt", "enjoy",
		"enjoyed", "appreciate", "can't stand", "cannot stand", "can't believe", "cannot believe", "couldn't believe", "can't wait",
		"don't care", "don't like", "didn't like", "don't think", "don't believe", "don't understand"}

	thoughtLead1 = []string{"i'm", "i am", "im", "i was", "i've been", "i have been", "i get", "i got", "i feel", "i felt"}
	thoughtAdv1  = []string{"so", "really", "very", "pretty", "kinda", "totally", "just", "quite", "extremely", "incredibly", "too",
		"still", "not", "never", "always", "getting", "becoming", "kind of", "a bit", "a little", "a little bit"}
	thoughtHead1 = []string{"happy", "sad", "worried", "scared", "afraid", "angry", "mad", "upset", "excited", "glad", "proud",
		"nervous", "tired of", "sick of", "fed up", "frustrated", "annoyed", "disappointed", "thrilled", "lonely", "depressed",
		"anxious", "ashamed", "grateful", "thankful", "relieved", "sorry", "confused", "jealous", "bored", "terrified", "stressed",
		"embarrassed", "hurt", "miserable", "amazed", "surprised", "convinced", "hopeful", "overwhelmed", "heartbroken", "furious",
		"pissed", "bummed", "lucky", "blessed", "exhausted", "hopeless", "guilty", "insecure", "curious", "in love"}

	thoughtLead2 = []string{"makes me", "made me", "make me"}
	thoughtAdv2  = []string{"so", "really", "very", "feel", "want to"}
	thoughtHead2 = []string{"happy", "sad", "angry", "mad", "sick", "smile", "cry", "laugh", "crazy", "nervous", "scream", "proud",
		"glad", "uncomfortable"}

	// (?:^|\W)(?:...)\b: before a letter, (?:^|\W) is \b.
	thoughtHead3 = []string{"in my opinion", "my biggest fear is", "my biggest hope is", "my biggest dream is", "my biggest wish is",
		"my fear is", "my hope is", "my dream is", "my wish is"}

	thoughtPatterns = []*thoughtPattern{
		newThoughtPattern(thoughtLead0, thoughtAdv0, thoughtHead0),
		newThoughtPattern(thoughtLead1, thoughtAdv1, thoughtHead1),
		newThoughtPattern(thoughtLead2, thoughtAdv2, thoughtHead2),
		newThoughtPattern(nil, nil, thoughtHead3),
	}
)

// thoughtKeys are words of which every match of a thought pattern has one
// preceded by \s: one word of each HEAD phrase, the longest (the first
// of those), but not the first of a pattern without LEAD (that follows
// \b only). A match puts a word of the text (Words) there, which either
// is the key word or goes on after it with an apostrophe or a non-ASCII
// rune (see thoughtKey).
var thoughtKeys = func() []string {
	var keys []string
	for _, tp := range thoughtPatterns {
		for _, alts := range tp.head.byFirst {
			for _, ph := range alts {
				words := []string(ph)
				if tp.lead == nil && len(words) > 1 {
					words = words[1:]
				}
				key := words[0]
				for _, w := range words[1:] {
					if len(w) > len(key) {
						key = w
					}
				}
				if !slices.Contains(keys, key) {
					keys = append(keys, key)
				}
			}
		}
	}
	return keys
}()

// thoughtKey reports whether the lower-cased word lw (of Words) may be
// where a match of a thought pattern has its key word (thoughtKeys): lw
// has a byte beyond ASCII (which may be a letter that (?i) folds into a
// key, or one that goes on after it), or it starts with a key that is all
// of it or is followed by an apostrophe (a \b). A sentence without such a
// word does not match (matchThought), whatever its case: the key word's
// letters are ASCII letters of the word in any case, and so lw's.
func thoughtKey(lw string) bool {
	for i := 0; i < len(lw); i++ {
		if lw[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, k := range thoughtKeys {
		if strings.HasPrefix(lw, k) && (len(lw) == len(k) || lw[len(k)] == '\'') {
			return true
		}
	}
	return false
}

// thoughtStarts marks the bytes at which some thought pattern can start.
var thoughtStarts = func() (t [256]bool) {
	for _, tp := range thoughtPatterns {
		for c, ok := range tp.starts {
			t[c] = t[c] || ok
		}
	}
	return
}()

// thoughtNext marks, for the lower-case first letter c of a thought
// pattern, the bytes that can follow it in a match: the second letter of a
// first word (either case, and the first byte of a non-ASCII rune that
// folds to it), or \s after a one-letter first word ("i"). Most words that
// start with i or m ("is", "it", "in ...", "me", "more") end there without
// trying the phrases.
var thoughtNext = func() (t [128]*[256]bool) {
	for _, tp := range thoughtPatterns {
		first := tp.head
		if tp.lead != nil {
			first = tp.lead
		}
		for c, alts := range first.byFirst {
			for _, ph := range alts {
				if t[c] == nil {
					t[c] = new([256]bool)
				}
				next := t[c]
				w := ph[0]
				if len(w) == 1 {
					for b := 0; b < 256; b++ {
						next[b] = next[b] || isSpaceRE(byte(b))
					}
					continue
				}
				r, _ := utf8.DecodeRuneInString(w[1:])
				for b := utf8.RuneSelf; b < 256; b++ { // whatever rune folds to r
					next[b] = next[b] || r >= utf8.RuneSelf || r == 'k' || r == 's'
				}
				if r < utf8.RuneSelf {
					next[r] = true
					if r >= 'a' && r <= 'z' {
						next[r-'a'+'A'] = true
					}
				}
			}
		}
	}
	return
}()

// matchThought reports whether one of the thought regexps matches s, in one
// pass over s for all four. Every pattern starts with an i or an m, in
// either case (thoughtStarts, TestThoughtStarts): the pass reads s eight
// bytes at a time and tries only the places that hold one.
func matchThought(s string) bool {
	const fold = 0x2020202020202020
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := fields.Load8(s, i)
		y := x&fields.Low7 | fold // 'I' and 'M' folded; bytes with bit 7 set are cleared below
		for c := (fields.Equal(y, 'i') | fields.Equal(y, 'm')) &^ x; c != 0; c &= c - 1 {
			if thoughtAt(s, i+fields.FirstByte(c)) {
				return true
			}
		}
	}
	for ; i < len(s); i++ {
		if thoughtStarts[s[i]] && thoughtAt(s, i) {
			return true
		}
	}
	return false
}

// thoughtAt reports whether a thought pattern matches s at p, where one of
// thoughtStarts is.
func thoughtAt(s string, p int) bool {
	if wordBefore(s, p) || p+1 >= len(s) || !thoughtNext[s[p]|0x20][s[p+1]] {
		return false
	}
	for _, tp := range thoughtPatterns {
		if tp.starts[s[p]] && tp.matchAt(s, p) {
			return true
		}
	}
	return false
}

// relationWords are the alternatives of relationRe, in its order; fiancé
// is expanded as fianc[eé]e? tries it (greedy e?).
var relationWords = []string{"husband", "wife", "boyfriend", "girlfriend", "fiancee", "fiance", "fiancée", "fiancé", "partner",
	"kids", "children", "son", "daughter", "mom", "mum", "mother", "dad", "father", "parents", "sister", "brother", "grandma",
	"grandmother", "grandpa", "grandfather", "baby", "cat", "cats", "dog", "dogs", "boss", "job", "roommate", "teacher",
	"students", "church", "band", "team", "classes"}

// findRelations appends to out the group of every match of
//
//	(?i)\bmy\s+(husband|wife|...)\b
//
// as relationRe.FindAllStringSubmatch did: leftmost matches, the first
// alternative in order that matches, scanning on after each match.
//
// It visits only the m's of s (indexFold), and at a "my" tries only the
// alternatives that start with the letter there (relationSet: the order
// among those is kept, and no other can match).
func findRelations(out []string, s string) []string {
	for p := indexFold(s, 0, 'm'); p+2 < len(s); p = indexFold(s, p+1, 'm') {
		if wordBefore(s, p) || s[p+1]|0x20 != 'y' { // y has no other fold
			continue
		}
		e, ok := matchWord(s, p, "my")
		if !ok {
			continue
		}
		q := skipSpaceRE(s, e)
		if q == e {
			continue
		}
		for _, w := range relationSet.at(s, q) {
			if e, ok := matchWord(s, q, w[0]); ok && boundary(s, e) {
				out = append(out, s[q:e])
				p = e - 1
				break
			}
		}
	}
	return out
}

// relationSet is relationWords by first letter.
var relationSet = newPhraseSet(relationWords...)

// indexFold is the index of the first byte of s at or after i that is the
// lower-case ASCII letter c or its upper case, or len(s): eight bytes a
// step.
func indexFold(s string, i int, c byte) int {
	const fold = 0x2020202020202020
	for ; i+8 <= len(s); i += 8 {
		x := fields.Load8(s, i)
		// Folding sets bit 5: only c and its upper case fold to c among
		// the ASCII bytes; those with bit 7 set are cleared.
		if m := fields.Equal(x&fields.Low7|fold, c) &^ x; m != 0 {
			return i + fields.FirstByte(m)
		}
	}
	for ; i < len(s); i++ {
		if s[i]|0x20 == c {
			return i
		}
	}
	return len(s)
}

// findSelfDescs appends to out the group of every match of
//
//	(?i)\b(?:i'm|i am|im)\s+(?:a|an)\s+([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)
//
// as selfDescRe.FindAllStringSubmatch did. At one position at most one
// alternative of each group can match (they differ in the next character),
// and the greedy runs of the group are maximal: what follows them is
// optional, and a shorter run would be followed by a letter or '-' where
// \s or the end of the match must come.
func findSelfDescs(out []string, s string) []string {
	for p := indexFold(s, 0, 'i'); p+1 < len(s); p = indexFold(s, p+1, 'i') {
		// The second byte of a lead: i'm, i am, im (m has no other fold).
		if c := s[p+1]; c != '\'' && c != ' ' && c|0x20 != 'm' || wordBefore(s, p) {
			continue
		}
		var e int
		var ok bool
		for _, lead := range [...]string{"i'm", "i am", "im"} { // "i am": one literal space
			if e, ok = matchWord(s, p, lead); ok {
				break
			}
		}
		if !ok {
			continue
		}
		q := skipSpaceRE(s, e)
		if q == e {
			continue
		}
		// (?:a|an)\s+
		e, ok = matchWord(s, q, "a")
		if !ok {
			continue
		}
		if q2 := skipSpaceRE(s, e); q2 > e {
			q = q2
		} else if e, ok = matchWord(s, q, "an"); ok {
			if q = skipSpaceRE(s, e); q == e {
				continue
			}
		} else {
			continue
		}
		// ([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)
		end, ok := letterRun(s, q)
		if !ok {
			continue
		}
		if q2 := skipSpaceRE(s, end); q2 > end {
			if end2, ok := letterRun(s, q2); ok {
				end = end2
			}
		}
		out = append(out, s[q:end])
		p = end - 1
	}
	return out
}

// isAZFold is (?i)[a-z]: ASCII letters, KELVIN SIGN and LONG S; it returns
// the rune's size.
func isAZFold(s string, i int) int {
	c := s[i]
	if c < utf8.RuneSelf {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return 1
		}
		return 0
	}
	switch {
	case strings.HasPrefix(s[i:], "\u212a"):
		return 3
	case strings.HasPrefix(s[i:], "\u017f"):
		return 2
	}
	return 0
}

// letterRun matches [a-z][a-z-]+ (under (?i), greedy) at s[i:].
func letterRun(s string, i int) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	n := isAZFold(s, i)
	if n == 0 {
		return 0, false
	}
	j := i + n
	for j < len(s) {
		if s[j] == '-' {
			j++
			continue
		}
		n := isAZFold(s, j)
		if n == 0 {
			break
		}
		j += n
	}
	return j, j > i+n
}

// isASCII reports whether no byte of s has bit 7 set, eight bytes a step.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if fields.Load8(s, i)&fields.High != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// descGates tells whether strings.ToLower(s) contains "i'm a", "i am a" or
// "im a" (self) and "my " (rel). It looks only around each m of s, in
// either case (indexFold): every one of these has its m followed by " a"
// (self) or "y " (rel). Of the runes beyond ASCII only U+0130 and U+212A
// lower-case to ASCII letters (TestToLowerIntoASCII), to i and k: without
// U+0130 (k is in none of these), the ASCII bytes that ToLower(s) puts
// side by side are those of s, lower-cased, and the test on s is the test
// on ToLower(s), which it was only for an ASCII s.
func descGates(s string) (self, rel bool) {
	if strings.Contains(s, "\u0130") {
		ls := strings.ToLower(s)
		return strings.Contains(ls, "i'm a") || strings.Contains(ls, "i am a") || strings.Contains(ls, "im a"),
			strings.Contains(ls, "my ")
	}
	at := func(i int) { // s[i] is an m, in either case
		if !rel {
			rel = hasPrefixFold(s[i+1:], "y ")
		}
		if !self && hasPrefixFold(s[i+1:], " a") {
			self = i >= 1 && hasPrefixFold(s[i-1:], "im") ||
				i >= 2 && hasPrefixFold(s[i-2:], "i'm") ||
				i >= 3 && hasPrefixFold(s[i-3:], "i am")
		}
	}
	// Only an m followed by a y (either case) or a space can pass a test:
	// eight places a step, with the bytes after them, and a look at those
	// only (an m alone is a common letter).
	const fold = 0x2020202020202020
	i := 0
	for ; i+9 <= len(s) && !(self && rel); i += 8 {
		x, x1 := fields.Load8(s, i), fields.Load8(s, i+1)
		y1 := x1 & fields.Low7
		m := fields.Equal(x&fields.Low7|fold, 'm') &^ x
		next := (fields.Equal(y1|fold, 'y') | fields.Equal(y1, ' ')) &^ x1
		for c := m & next; c != 0; c &= c - 1 {
			at(i + fields.FirstByte(c))
		}
	}
	for ; i+1 < len(s) && !(self && rel); i++ {
		if s[i]|0x20 == 'm' {
			at(i)
		}
	}
	return self, rel
}

// nextToken returns the end of the token of s starting at byte i, as
// wordOrOther = [\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\p{L}\p{N}]+ splits s with
// FindAllString: a run of letters and digits with apostrophe-joined
// letter runs after it, or a run of anything else (an invalid byte, which
// the regexp reads as U+FFFD, is "anything else").
func nextToken(s string, i int) int {
	isLN := func(i int) (bool, int) {
		c := s[i]
		if c < utf8.RuneSelf {
			return asciiAlnum[c], 1
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		return unicode.IsLetter(r) || unicode.IsNumber(r), n
	}
	ln, n := isLN(i)
	j := i + n
	if !ln {
		for j < len(s) {
			ln, n := isLN(j)
			if ln {
				break
			}
			j += n
		}
		return j
	}
	for j < len(s) {
		ln, n := isLN(j)
		if !ln {
			break
		}
		j += n
	}
	for j < len(s) {
		a := 0
		if s[j] == '\'' {
			a = 1
		} else if strings.HasPrefix(s[j:], "’") {
			a = len("’")
		}
		if a == 0 || j+a >= len(s) || !letterAt(s, j+a) {
			break
		}
		j += a
		for j < len(s) && letterAt(s, j) {
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
		}
	}
	return j
}

// emoTail marks the bytes of [)\](\[dDpP/\\|3*], the run that ends a
// :-) style emoticon.
var emoTail = func() (t [256]bool) {
	for _, c := range []byte(`)](/[dDpP/\|3*`) {
		t[c] = true
	}
	return
}()

// matchEmoticon is
//
//	(?:^|[^\p{L}\p{N}:;=])(?:[:;=][-o*']?[)\](\[dDpP/\\|3*]+|<3+|[xX][dD]+|\^_*\^|-_-|T_T|:'\()$
//
// .MatchString(f): an emoticon (all ASCII) ends f and starts at its start
// or after a rune that is not a letter, a number, ':', ';' or '='. Every
// start in f's final run of ASCII is tried in O(1) from the lengths of the
// runs that end f (the regexp was most of the emoticon test's time).
func matchEmoticon(f string) bool {
	n := len(f)
	if n < 2 {
		return false
	}
	// The runs of tail bytes, of '3', of 'd'/'D' and of '_' (before a
	// final '^') that end f.
	run := func(in func(c byte) bool, end int) int {
		k := 0
		for end-k > 0 && in(f[end-k-1]) {
			k++
		}
		return k
	}
	tail := run(func(c byte) bool { return emoTail[c] }, n)
	threes := run(func(c byte) bool { return c == '3' }, n)
	ds := run(func(c byte) bool { return c|0x20 == 'd' }, n)
	unders := 0
	if f[n-1] == '^' {
		unders = run(func(c byte) bool { return c == '_' }, n-1)
	}
	for q := n - 2; q >= 0 && f[q] < utf8.RuneSelf; q-- {
		rest := n - q - 1 // bytes after f[q]
		ok := false
		switch f[q] {
		case ':', ';', '=':
			c := f[q+1]
			ok = rest <= tail || (c == '-' || c == 'o' || c == '*' || c == '\'') && rest >= 2 && rest-1 <= tail
		case '<':
			ok = rest <= threes
		case 'x', 'X':
			ok = rest <= ds
		case '^':
			ok = f[n-1] == '^' && rest-1 <= unders
		case '-':
			ok = f[q:] == "-_-"
		case 'T':
			ok = f[q:] == "T_T"
		}
		if ok && emoticonAfter(f, q) {
			return true
		}
	}
	return false
}

// emoticonAfter reports whether an emoticon may start at f[q]: at the start
// of f or after a rune outside [\p{L}\p{N}:;=] (an invalid byte is U+FFFD,
// outside it).
func emoticonAfter(f string, q int) bool {
	if q == 0 {
		return true
	}
	if c := f[q-1]; c < utf8.RuneSelf {
		return !asciiWordRE[c] && c != ':' && c != ';' && c != '=' || c == '_'
	}
	r, _ := utf8.DecodeLastRuneInString(f[:q])
	return !unicode.IsLetter(r) && !unicode.IsNumber(r)
}
