package synth

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits s into word tokens. URLs are skipped. Apostrophes (' and ’)
// inside a word are kept; a trailing or leading apostrophe is not.
func Words(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		// URL: skip to the next space.
		if hasURLPrefix(s[i:]) {
			j := strings.IndexFunc(s[i:], unicode.IsSpace)
			if j < 0 {
				break
			}
			i += j
			continue
		}
		start := i
		end := i
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if isWordRune(r) {
				i += n
				end = i
				continue
			}
			if (r == '\'' || r == '’') && i+n < len(s) {
				r2, _ := utf8.DecodeRuneInString(s[i+n:])
				if unicode.IsLetter(r2) {
					i += n
					continue
				}
			}
			break
		}
		out = append(out, s[start:end])
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func hasURLPrefix(s string) bool {
	l := strings.ToLower(s[:min(len(s), 8)])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "www.")
}

// normApos folds the typographic apostrophe into ASCII.
func normApos(s string) string { return strings.ReplaceAll(s, "’", "'") }

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "u.s": true, "u.k": true, "no": true, "approx": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true, "sep": true,
	"sept": true, "oct": true, "nov": true, "dec": true, "rep": true, "sen": true, "gov": true, "gen": true,
	"inc": true, "ltd": true, "co": true, "mt": true, "ft": true,
}

// Sentences splits a text into sentences: at a run of . ! ? or … followed
// by white space (closing quotes and brackets stay with the sentence), and at
// line breaks. A period after a known abbreviation or a single letter does
// not end a sentence. Sentences are trimmed; empty ones are dropped.
func Sentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" {
			out = append(out, s)
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n") {
		start := 0
		i := 0
		for i < len(line) {
			r, n := utf8.DecodeRuneInString(line[i:])
			if r != '.' && r != '!' && r != '?' && r != '…' {
				i += n
				continue
			}
			j := i
			for j < len(line) {
				r2, n2 := utf8.DecodeRuneInString(line[j:])
				if r2 == '.' || r2 == '!' || r2 == '?' || r2 == '…' || r2 == '"' || r2 == '\'' || r2 == ')' || r2 == '”' || r2 == '’' || r2 == ']' {
					j += n2
					continue
				}
				break
			}
			if j < len(line) {
				r2, _ := utf8.DecodeRuneInString(line[j:])
				if !unicode.IsSpace(r2) {
					i = j
					continue
				}
			}
			if r == '.' && j == i+1 && isAbbrevBefore(line[start:i]) {
				i = j
				continue
			}
			add(line[start:j])
			start = j
			i = j
		}
		add(line[start:])
	}
	return out
}

func isAbbrevBefore(s string) bool {
	k := strings.LastIndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
	w := strings.ToLower(s[k+1:])
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

func wordCount(s string) int { return len(strings.Fields(s)) }

// capitalize upper-cases the first rune.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
