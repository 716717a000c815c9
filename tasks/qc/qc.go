// Package qc is the quality control of formulated samples: cheap heuristic
// checks on every sample (Check) and, with an LLM endpoint, the HumanLLM
// paper's judge of synthesised artifacts (Judge).
package qc

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/tasks"
)

// Drop reasons returned by Check.
const (
	ReasonEmptyTarget = "empty_target"
	ReasonShortTarget = "short_target"
	ReasonTargetLeak  = "target_leak"
	ReasonPII         = "pii"
	ReasonLanguage    = "language"
)

// Options configure Check.
type Options struct {
	// MinTargetChars and MinTargetWords are the least assistant content per
	// task kind ("action", "thought", ... — the part of Sample.Task before
	// any "."); the key "default" applies to kinds not listed.
	MinTargetChars map[string]int `mapstructure:"min_target_chars"`
	MinTargetWords map[string]int `mapstructure:"min_target_words"`
	// LeakShingle is the number of consecutive words of the target that,
	// found in the prompt, count as a leak (0 disables the check).
	LeakShingle int `mapstructure:"leak_shingle"`
	// LeakExempt lists task kinds whose answer is in the prompt by design.
	LeakExempt []string `mapstructure:"leak_exempt"`
	// PII turns on the e-mail / phone / URL-with-token detectors (on all
	// messages of the sample).
	PII bool `mapstructure:"pii"`
	// Languages are the allowed languages of the target. Only English can
	// be detected: ["en"] rejects non-English targets; an empty list, "any"
	// or a list naming another language turns the check off.
	Languages []string `mapstructure:"languages"`
	// MinASCIILetterShare and MinStopwordRate are the English-likeness
	// thresholds: share of letters that are ASCII, and share of words (in
	// targets of 8 or more words) that are common English function words.
	MinASCIILetterShare float64 `mapstructure:"min_ascii_letter_share"`
	MinStopwordRate     float64 `mapstructure:"min_stopword_rate"`
}

// DefaultOptions: at least 2 characters and 1 word for every kind, more for
// free-text kinds (action 5 words, thought 3, style 20, profile 30), 12-word
// leak shingles with item_selection exempt, PII on, English only (90% ASCII
// letters, 8% stopwords).
func DefaultOptions() Options {
	return Options{
		MinTargetChars: map[string]int{"default": 2, tasks.TaskAction: 20, tasks.TaskThought: 10, tasks.TaskStyle: 80, tasks.TaskProfile: 150},
		MinTargetWords: map[string]int{"default": 1, tasks.TaskAction: 5, tasks.TaskThought: 3, tasks.TaskStyle: 20, tasks.TaskProfile: 30},
		LeakShingle:    12,
		LeakExempt:     []string{tasks.TaskItemSelection},
		PII:            true,
		Languages:      []string{"en"},

		MinASCIILetterShare: 0.9,
		MinStopwordRate:     0.08,
	}
}

// Kind returns the task kind of a Sample.Task ("style.topic" -> "style").
func Kind(task string) string {
	k, _, _ := strings.Cut(task, ".")
	return k
}

func perKind(m map[string]int, kind string) int {
	if v, ok := m[kind]; ok {
		return v
	}
	return m["default"]
}

// Check returns "" when the sample passes, else the reason to drop it, the
// first that applies of: empty_target, language (non-English target when
// only "en" is allowed), short_target, target_leak, pii.
//
// Check runs on every formulated sample, so it is written to allocate
// nothing in the common case: the prompt messages are scanned in place
// rather than joined, and the word-level checks share pooled scratch space
// (see leakScratch).
func Check(s tasks.Sample, opts Options) string {
	return check(s, opts, nil, nil)
}

// check is Check; with c non-nil it reuses what c computed for the pieces
// of the user's earlier samples (see Checker.Check).
func check(s tasks.Sample, opts Options, c *Checker, pieces []tasks.Piece) string {
	kind := Kind(s.Task)
	var target string
	last := len(s.Messages) - 1
	if last >= 0 && s.Messages[last].Role == "assistant" {
		target = s.Messages[last].Content
	} else {
		last = len(s.Messages) // every message is prompt
	}
	t := strings.TrimSpace(target)
	if t == "" {
		return ReasonEmptyTarget
	}
	// The target's words, split once for the language and leak checks.
	// A Checker keeps them (in its own scratch) for the next sample: the
	// two profile samples of a user have one target.
	var sc *leakScratch
	var long *longWords
	var stops int
	var letters letterCount
	var checked []checkedPiece
	if c != nil {
		sc, long = &c.sc, &c.long
		checked = c.verify(s, pieces)
		if c.tValid && c.tText == target {
			stops, letters = c.tStops, c.tLetters // sc still holds the target's ids and n-grams
		} else {
			// The target's pieces (a record's text, also shown in other
			// prompts) are at the end of checked; they are the trimmed
			// target's when trimming left it as it is.
			var tp []checkedPiece
			if len(t) == len(target) {
				tp = checked
				for len(tp) > 0 && tp[0].msg < last {
					tp = tp[1:]
				}
			}
			stops = sc.addTargetPieces(t, long, tp)
			letters = targetLetters(t, tp)
			c.tText, c.tStops, c.tLetters, c.tValid, c.tPIIDone = target, stops, letters, true, false
		}
	} else {
		sc = leakPool.Get().(*leakScratch)
		defer leakPool.Put(sc)
		long = &sc.long
		long.reset()
		stops = sc.addTarget(t, long)
		letters = letterCounts(t)
	}
	if englishOnly(opts.Languages) && !isEnglishLetters(letters, len(sc.tids), stops, opts.MinASCIILetterShare, opts.MinStopwordRate) {
		return ReasonLanguage
	}
	if shortTarget(t, perKind(opts.MinTargetChars, kind), perKind(opts.MinTargetWords, kind)) {
		return ReasonShortTarget
	}
	if opts.LeakShingle > 0 && !slices.Contains(opts.LeakExempt, kind) && leaksSplit(sc, s.Messages[:last], opts.LeakShingle, checked, long) {
		return ReasonTargetLeak
	}
	if opts.PII {
		for mi, m := range s.Messages {
			var pii bool
			switch {
			case c == nil:
				pii = HasPII(m.Content)
			case mi == last: // the target, c.tText
				if !c.tPIIDone {
					c.tPII, _ = c.messagePII(mi, m, checked)
					c.tPIIDone = true
				}
				pii = c.tPII
			default:
				pii, checked = c.messagePII(mi, m, checked)
			}
			if pii {
				return ReasonPII
			}
		}
	}
	return ""
}

// shortTarget reports whether t has fewer than minChars runes or fewer
// than minWords fields (strings.Fields). Neither is counted further than
// it needs: a rune has at most utf8.UTFMax bytes (an invalid byte counts
// as one rune), so a text of 4*minChars bytes has enough runes, and the
// fields are counted up to minWords.
func shortTarget(t string, minChars, minWords int) bool {
	if len(t) < utf8.UTFMax*minChars && utf8.RuneCountInString(t) < minChars {
		return true
	}
	return minWords > 0 && fields.CountUpTo(t, minWords) < minWords
}

func englishOnly(langs []string) bool {
	if len(langs) == 0 {
		return false
	}
	for _, l := range langs {
		switch strings.ToLower(strings.TrimSpace(l)) {
		case "en", "eng", "english":
		default:
			return false
		}
	}
	return true
}

var enStop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the a an and or but if of to in on at by for with from as is are was were be been being
have has had do does did not no so that this these those it its i me my you your he him his she her we us our they them
their what which who when where why how all any some can could will would should just very there here than then too
also about into over out up down i'm it's don't can't im dont`) {
		m[w] = true
	}
	return m
}()

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maxStopLen is the length of the longest word of enStop.
var maxStopLen = func() int {
	n := 0
	for w := range enStop {
		n = max(n, len(w))
	}
	return n
}()

// stopSet is enStop as a set of words packed into integers (every
// stopword has at most 8 bytes): a probe of a small table instead of a
// string map look-up for every word of every target.
var stopSet = func() *packedSet {
	if maxStopLen > 8 {
		panic("qc: a stopword longer than 8 bytes")
	}
	ps := &packedSet{}
	for w := range enStop {
		ps.add(packWord(w))
	}
	return ps
}()

// packWord packs a word of at most 8 bytes into an integer, first byte
// lowest; no word of bytes other than 0 packs to 0.
func packWord[T string | []byte](w T) uint64 {
	var x uint64
	for i := len(w) - 1; i >= 0; i-- {
		x = x<<8 | uint64(w[i])
	}
	return x
}

// packedSet is an open-addressing set of non-zero packed words.
type packedSet struct{ slots [512]uint64 }

func packedSlot(x uint64) uint64 { return (x * 0x9e3779b97f4a7c15) >> 55 }

func (p *packedSet) add(x uint64) {
	i := packedSlot(x)
	for p.slots[i] != 0 && p.slots[i] != x {
		i = (i + 1) & 511
	}
	p.slots[i] = x
}

func (p *packedSet) has(x uint64) bool {
	for i := packedSlot(x); ; i = (i + 1) & 511 {
		switch p.slots[i] {
		case x:
			return true
		case 0:
			return false
		}
	}
}

// IsEnglish is a cheap English-likeness test: at least minASCII of the
// letters are ASCII, and (for texts of 8 or more words) at least minStop of
// the words are common English function words.
func IsEnglish(s string, minASCII, minStop float64) bool {
	switch asciiShare(s, minASCII) {
	case noLetters:
		return true // numbers or symbols only: nothing to judge
	case fewASCII:
		return false
	}
	return isEnglishStop(s, minStop)
}

// Outcomes of asciiShare.
const (
	noLetters = iota
	fewASCII
	enoughASCII
)

// asciiShare is the first test of IsEnglish: whether s has letters and at
// least minASCII of them are ASCII.
func asciiShare(s string, minASCII float64) int {
	return letterShare(letterCounts(s), minASCII)
}

// letterShare is asciiShare of a text with the letter counts n.
func letterShare(n letterCount, minASCII float64) int {
	if n.letters == 0 {
		return noLetters
	}
	if float64(n.ascii)/float64(n.letters) < minASCII {
		return fewASCII
	}
	return enoughASCII
}

// letterCount is how many letters a text has (letters) and how many of
// them are ASCII. The counts of a text are the sums of those of its parts
// split between runes (a Checker keeps a piece's).
type letterCount struct{ letters, ascii int }

func (n letterCount) add(m letterCount) letterCount {
	return letterCount{n.letters + m.letters, n.ascii + m.ascii}
}

// letterCounts counts the letters of s: every rune unicode.IsLetter
// reports (an invalid byte is U+FFFD, none).
func letterCounts(s string) letterCount {
	letters, ascii := 0, 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight ASCII bytes at once: count the letters (a-z once
			// bit 5 is set).
			if x := fields.Load8(s, i); x&fields.High == 0 {
				ascii += bits.OnesCount64(fields.Between(x|0x2020202020202020, 'a', 'z'))
				i += 8
				continue
			}
		}
		if c := s[i]; c < utf8.RuneSelf {
			if asciiWordLower[c] >= 'a' { // a letter
				ascii++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:]) // invalid: U+FFFD, not a letter
		if unicode.IsLetter(r) {
			letters++
		}
		i += n
	}
	return letterCount{letters + ascii, ascii}
}

// isEnglishStop is the second test of IsEnglish: texts of 8 or more
// words have at least minStop of them English function words.
func isEnglishStop(s string, minStop float64) bool {
	// The words are those of words(s), lower-cased (an ASCII word in
	// place, packed; another into a reused buffer).
	it := wordIter{s: s}
	nw, hit := 0, 0
	for {
		start, end, ok := it.nextSpan()
		if !ok {
			break
		}
		nw++
		if isStopword(s[start:end]) {
			hit++
		}
	}
	if nw < 8 {
		return true
	}
	return float64(hit)/float64(nw) >= minStop
}

// isEnglishLetters is IsEnglish(s, minASCII, minStop) given how many
// words s has (those of wordIter), how many of them are English function
// words (isStopword) and the text's letterCounts.
func isEnglishLetters(n letterCount, words, stops int, minASCII, minStop float64) bool {
	switch letterShare(n, minASCII) {
	case noLetters:
		return true
	case fewASCII:
		return false
	}
	if words < 8 {
		return true
	}
	return float64(stops)/float64(words) >= minStop
}

// isStopword reports whether w, a word of wordIter, lower-cased, is an
// English function word (enStop).
func isStopword(w string) bool {
	// An ASCII word keeps its length when lower-cased: one longer than
	// every stopword is none, and is not looked up.
	if len(w) <= maxStopLen && isASCII(w) {
		var x uint64
		for i := len(w) - 1; i >= 0; i-- {
			x = x<<8 | uint64(asciiWordLower[w[i]])
		}
		return stopSet.has(x)
	}
	if !isASCII(w) {
		var buf [32]byte
		lw := lowerWord(buf[:0], w)
		return len(lw) <= 8 && stopSet.has(packWord(lw))
	}
	return false
}
