package synth

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
)

// Words splits s into word tokens. URLs are skipped. Apostrophes (' and ’)
// inside a word are kept; a trailing or leading apostrophe is not.
func Words(s string) []string {
	return appendWords(nil, s)
}

// appendWords appends the words of s (as Words splits them) to out, so that
// a caller can reuse one slice for many texts.
func appendWords(out []string, s string) []string {
	for i := 0; ; {
		w, next, ok := nextWord(s, i)
		if !ok {
			return out
		}
		out = append(out, w)
		i = next
	}
}

// nextWord returns the first word of s[i:] as Words splits it and the index
// to continue from; ok is false when there is none. It is the whole of
// Words' logic, with an ASCII fast path: Words runs over every text many
// times, and unicode.IsLetter and utf8 decoding dominated it.
func nextWord(s string, i int) (w string, next int, ok bool) {
	for i < len(s) {
		c := s[i]
		n := 1
		if c < utf8.RuneSelf {
			if !asciiAlnum[c] {
				i++
				continue
			}
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				i += n
				continue
			}
		}
		// URL: skip to the next space.
		if hasURLPrefix(s[i:]) {
			j := strings.IndexFunc(s[i:], unicode.IsSpace)
			if j < 0 {
				return "", len(s), false
			}
			i += j
			continue
		}
		start := i
		end := i
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if asciiAlnum[c] {
					i++
					end = i
					continue
				}
				if c == '\'' && i+1 < len(s) && letterAt(s, i+1) {
					i++
					continue
				}
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if isWordRune(r) {
				i += n
				end = i
				continue
			}
			if r == '’' && i+n < len(s) && letterAt(s, i+n) {
				i += n
				continue
			}
			break
		}
		return s[start:end], end, true
	}
	return "", len(s), false
}

// letterAt reports whether the rune at s[i:] is a letter.
func letterAt(s string, i int) bool {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiLetter[c]
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

var asciiAlnum, asciiLetter = func() (alnum, letter [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		letter[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		alnum[c] = letter[c] || c >= '0' && c <= '9'
	}
	return
}()

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasURLPrefix reports whether s starts with http://, https:// or www., in
// any case. It was strings.HasPrefix(strings.ToLower(s[:8]), ...), which
// allocated for every word; no rune other than ASCII lower-cases to one of
// the letters h, t, p, s, w (TestToLowerIntoASCII), so comparing ASCII
// bytes case-insensitively is the same test.
func hasURLPrefix(s string) bool {
	if len(s) < 4 {
		return false
	}
	switch s[0] | 0x20 {
	case 'h':
		return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")
	case 'w':
		return hasPrefixFold(s, "www.")
	}
	return false
}

// hasPrefixFold reports whether s starts with prefix (lower-case ASCII)
// when ASCII letters of s are lower-cased.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// normApos folds the typographic apostrophe into ASCII. Most texts have
// no byte 0xE2, which starts ’ (E2 80 99): one IndexByte tells, where
// strings.ReplaceAll counted the three-byte pattern first.
func normApos(s string) string {
	if strings.IndexByte(s, 0xE2) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "’", "'")
}

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "u.s": true, "u.k": true, "no": true, "approx": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true, "sep": true,
	"sept": true, "oct": true, "nov": true, "dec": true, "rep": true, "sen": true, "gov": true, "gen": true,
	"inc": true, "ltd": true, "co": true, "mt": true, "ft": true,
}

// maxAbbrevLen is the length of the longest of abbreviations (all ASCII).
const maxAbbrevLen = len("approx")

// abbrevFilter tells most words that end a sentence ("it", "day") apart
// from every one of abbreviations without lower-casing and a map lookup.
var abbrevFilter = newKeyFilter(abbreviations, "abbreviations")

// Sentences splits a text into sentences: at a run of . ! ? or … followed
// by white space (closing quotes and brackets stay with the sentence), and at
// line breaks. A period after a known abbreviation or a single letter does
// not end a sentence. Sentences are trimmed; empty ones are dropped.
func Sentences(text string) []string {
	var out []string
	for _, sp := range sentenceSpans(nil, text) {
		out = append(out, text[sp[0]:sp[1]])
	}
	return out
}

// sentenceSpans appends to out the [start, end) byte offsets of the
// sentences of text, in order, as Sentences splits it (Sentences returns
// these substrings: line breaks never fall inside a sentence, so reading
// "\r" as "\n" changes none of them). A sentence is followed in text by
// white space or the end: the word scanners rely on that (see
// styleAcc.addText).
func sentenceSpans(out [][2]int32, text string) [][2]int32 {
	add := func(a, b int) { // strings.TrimSpace(text[a:b]), if not empty
		s := text[a:b]
		l := strings.TrimLeftFunc(s, unicode.IsSpace)
		t := strings.TrimRightFunc(l, unicode.IsSpace)
		if t != "" {
			a += len(s) - len(l)
			out = append(out, [2]int32{int32(a), int32(a + len(t))})
		}
	}
	// One pass over text. Sentences splits it into lines at '\r' and '\n'
	// first; here a line break ends the current sentence, and the scans
	// that Sentences bounded by the line stop at the break on their own
	// (it is neither punctuation nor a closing character, and it is white
	// space where Sentences saw the line's end). Only the bytes in
	// sentenceByte need a look: the ASCII punctuation, line breaks and the
	// first byte of '…' (a byte that starts no other rune of interest, and
	// is never inside a valid rune).
	start := 0
	for i := 0; i < len(text); {
		if i = nextSentenceByte(text, i); i == len(text) {
			break
		}
		c := text[i]
		if c == '\n' || c == '\r' {
			add(start, i)
			i++
			start = i
			continue
		}
		r, n := rune(c), 1
		if c >= utf8.RuneSelf {
			if r, n = utf8.DecodeRuneInString(text[i:]); r != '…' {
				i += n
				continue
			}
		}
		j := i
		for j < len(text) {
			r2, n2 := utf8.DecodeRuneInString(text[j:])
			if r2 == '.' || r2 == '!' || r2 == '?' || r2 == '…' || r2 == '"' || r2 == '\'' || r2 == ')' || r2 == '”' || r2 == '’' || r2 == ']' {
				j += n2
				continue
			}
			break
		}
		if j < len(text) {
			r2, _ := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsSpace(r2) {
				i = j
				continue
			}
		}
		if r == '.' && j == i+1 && isAbbrevBefore(text[start:i]) {
			i = j
			continue
		}
		add(start, j)
		start = j
		i = j
	}
	add(start, len(text))
	return out
}

// asciiSpace marks the ASCII bytes that unicode.IsSpace accepts.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

var sentenceByte = [256]bool{'.': true, '!': true, '?': true, '\n': true, '\r': true, 0xE2: true}

// nextSentenceByte is the index of the first byte of text at or after i
// that is in sentenceByte, or len(text): eight bytes a step (most bytes of
// a text are none of them).
func nextSentenceByte(text string, i int) int {
	for ; i+8 <= len(text); i += 8 {
		x := fields.Load8(text, i)
		y := x & fields.Low7
		ascii := fields.Equal(y, '.') | fields.Equal(y, '!') | fields.Equal(y, '?') | fields.Equal(y, '\n') | fields.Equal(y, '\r')
		// y's byte is 0x62 for 'b' and for 0xE2: bit 7 of x tells them apart.
		if m := ascii&^x | fields.Equal(y, 0xE2&0x7f)&x; m != 0 {
			return i + fields.FirstByte(m)
		}
	}
	for ; i < len(text); i++ {
		if sentenceByte[text[i]] {
			return i
		}
	}
	return len(text)
}

// isAbbrevBefore reports whether the word that ends s (after the last
// white space or '(') is an abbreviation or a single letter: whether a '.'
// after s ends no sentence.
func isAbbrevBefore(s string) bool {
	k := len(s) // the word is s[k:]; strings.LastIndexFunc, a byte at a time
	ascii := true
	for k > 0 {
		if c := s[k-1]; c < utf8.RuneSelf {
			if c == '(' || asciiSpace[c] {
				break
			}
			k--
			continue
		}
		ascii = false
		r, n := utf8.DecodeLastRuneInString(s[:k])
		if unicode.IsSpace(r) {
			// As s[LastIndexFunc+1:] was: the word starts at the second
			// byte of a longer space rune (and so matches nothing).
			k += 1 - n
			break
		}
		k -= n
	}
	if ascii {
		// Most words: lower-cased on the stack, where ToLower allocated
		// for every word with a capital ("Mr", "Smith"). A word longer
		// than every abbreviation is none.
		w := s[k:]
		switch {
		case len(w) == 1:
			return asciiLetter[w[0]]
		case !abbrevFilter.mayHave(w): // no abbreviation has its length, first and last byte
			return false
		}
		var buf [maxAbbrevLen]byte
		return abbreviations[fields.ToLowerInto(buf[:], w)]
	}
	w := strings.ToLower(s[k:])
	if w == "" {
		return false
	}
	if utf8.RuneCountInString(w) == 1 {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsLetter(r)
	}
	return abbreviations[w]
}

// stopwords are English function words and very common verbs; they are
// skipped when ranking content keywords and counted by the English check.
var stopwords = toSet(`a about above after again against all almost also am among an and another any anyone anything are
aren't around as at away back be became because been before being below between both but by can can't cannot could
couldn't did didn't do does doesn't doing don't done down during each either else enough even ever every
everyone everything few for from further get gets getting go goes going gone got gotten had hadn't has hasn't have
haven't having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've
if in into is isn't it it's its itself just know let let's like made make many may me might mine more most much must
mustn't my myself need never new no nor not nothing now of off often oh ok okay on once one only or other others
ought our ours ourselves out over own put quite rather really said same say says see seem seems shall shan't she
she'd she'll she's should shouldn't since so some someone something still such sure take than that that's the their
theirs them themselves then there there's these they they'd they'll they're they've thing things think this those
though through thus till to today too two under until up upon us use used very want was wasn't way we we'd we'll
we're we've well went were weren't what what's whatever when when's where where's whether which while who who's whom
whose why why's will with within without won't would wouldn't yeah yes yet you you'd you'll you're you've your yours
yourself yourselves im ive dont cant didnt doesnt isnt thats wont gonna wanna lol u ur day time back good great lot
little big right come came look looks looked tell told feel felt thought going year years week last first next long
maybe actually pretty kind sort via amp nbsp http https www com urllink rt etc lots um umm ummm anyway`)

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isContentWord reports whether a lower-cased token can be a keyword.
func isContentWord(w string) bool {
	if utf8.RuneCountInString(w) < 3 || stopwords[w] {
		return false
	}
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters*2 > utf8.RuneCountInString(w)
}

type wordFreq struct {
	w     string
	n     int
	first int
}

// topWords returns the k most frequent content words, ties broken by first
// occurrence then alphabetically, so the result never depends on map order.
func topWords(counts map[string]int, first map[string]int, k int) []wordFreq {
	all := make([]wordFreq, 0, len(counts))
	for w, n := range counts {
		all = append(all, wordFreq{w, n, first[w]})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		if all[i].first != all[j].first {
			return all[i].first < all[j].first
		}
		return all[i].w < all[j].w
	})
	if len(all) > k {
		all = all[:k]
	}
	return all
}

// truncateWords keeps the first n words of s (by white space).
func truncateWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:n], " ")
}

// wordCount is len(strings.Fields(s)) without building the slice.
func wordCount(s string) int { return fields.Count(s) }

// hasURL is urlRe.MatchString(s). Every match contains "://" or "www." in
// some case (w folds only to W), which almost no sentence does: the regexp
// runs only then.
func hasURL(s string) bool {
	return mayHaveURL(s) && urlRe.MatchString(s)
}

func mayHaveURL(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	for i := strings.IndexByte(s, '.'); i >= 0; {
		if i >= 3 && (s[i-1]|0x20) == 'w' && (s[i-2]|0x20) == 'w' && (s[i-3]|0x20) == 'w' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// capitalize upper-cases the first rune.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
