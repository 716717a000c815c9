package synth

import (
	"fmt"
	"math"
	"math/bits"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
)

// MATTRWindow is the window of the moving-average type-token ratio.
const MATTRWindow = 100

// StyleFeatures are measured writing-style features of a set of texts.
// Rates are per word unless the name says otherwise; "PerSentence" fields
// are counts divided by the number of sentences. All fields are zero for
// empty input.
type StyleFeatures struct {
	Texts     int `json:"texts"`
	Sentences int `json:"sentences"`
	Words     int `json:"words"`
	// MeanSentenceWords and MedianSentenceWords: words per sentence.
	MeanSentenceWords   float64 `json:"mean_sentence_words"`
	MedianSentenceWords float64 `json:"median_sentence_words"`
	// MeanTextWords is the mean number of words per text (post length).
	MeanTextWords float64 `json:"mean_text_words"`
	// ParagraphWords is the mean number of words per paragraph (blocks
	// separated by a blank line; a text without one is one paragraph).
	ParagraphWords float64 `json:"paragraph_words"`
	// MATTR is the moving-average type-token ratio over windows of
	// MATTRWindow lower-cased tokens, pooled over the texts in order; with
	// fewer tokens it is the plain type-token ratio. It does not grow or
	// shrink with the amount of text.
	MATTR float64 `json:"mattr"`
	// Punctuation per sentence: runs of '!' and '?' ("!!!" counts once),
	// ellipses ("..." or "…"), commas.
	ExclaimPerSentence  float64 `json:"exclaim_per_sentence"`
	QuestionPerSentence float64 `json:"question_per_sentence"`
	EllipsisPerSentence float64 `json:"ellipsis_per_sentence"`
	CommasPerSentence   float64 `json:"commas_per_sentence"`
	// LowercaseShare is the share of sentences that have letters but no
	// upper-case letter.
	LowercaseShare float64 `json:"lowercase_share"`
	// CapsWordRate is the share of words written in capitals (at least two
	// letters, all upper case).
	CapsWordRate float64 `json:"caps_word_rate"`
	// EmojiRate counts emoji and text emoticons (":)", ";-P", "<3", "xD")
	// per word.
	EmojiRate float64 `json:"emoji_rate"`
	// FirstPersonRate: I, me, my, mine, myself and their contractions.
	FirstPersonRate float64 `json:"first_person_rate"`
	// ContractionRate: words with an apostrophe contraction (don't, I'm,
	// it's) or an apostrophe-less one (dont, im, cant, wont).
	ContractionRate float64 `json:"contraction_rate"`
	// InformalRate: chat and slang markers (lol, omg, u, ur, gonna, wanna,
	// haha, plz, ...).
	InformalRate float64 `json:"informal_rate"`
	// FScore is a closed-class approximation of Heylighen & Dewaele's
	// formality: (articles% + prepositions% - pronouns% - interjections% +
	// 100) / 2, with percentages of all words. Higher is more formal;
	// news prose is around 55-60, chat around 45-48.
	FScore float64 `json:"f_score"`
}

var (
	urlRe = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
)

var (
	firstPerson = toSet("i me my mine myself i'm i've i'd i'll im ive")
	contraction = toSet("dont cant wont didnt doesnt isnt wasnt arent couldnt shouldnt wouldnt im ive youre theyre thats")
	informal    = toSet(`lol lmao lmfao rofl omg omfg wtf btw idk imo imho tbh brb ttyl u ur r ya yah ye yep nope gonna wanna
gotta kinda sorta dunno haha hahaha hehe hehehe tehe hmm hmmm plz pls thx ty cuz coz cos luv wif da dat dis sooo soooo
yay ugh meh nah bout aint ain't yo dude omgosh xoxo lil`)
	articles     = toSet("a an the")
	prepositions = toSet(`about above across after against along among around as at before behind below beneath beside
between beyond by despite down during except for from in inside into like near of off on onto out outside over past
since through throughout till to toward towards under underneath until up upon with within without`)
	pronouns = toSet(`i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its
itself we us our ours ourselves they them their theirs themselves i'm i've i'd i'll you're you've you'd you'll he's
she's it's we're we've they're they've this that these those who whom whose`)
	interjections = toSet("oh ah ahh wow hey hi hello yeah yes no ok okay oops ouch uh um umm hmm huh lol haha yay ugh aww")
)

// MeasureStyle measures the style features of texts (typically one user's
// posts). URLs are ignored.
func MeasureStyle(texts []string) StyleFeatures {
	lx := getLexicon()
	defer putLexicon(lx)
	a := styleAcc{lx: lx}
	for _, t := range texts {
		a.addText(t, nil)
	}
	return a.features()
}

// wordTok is one word of a text: the word as written, where it starts, and
// its lexicon id.
type wordTok struct {
	w   string
	off int32
	id  int32
}

// tokenize appends the words of text (as Words splits it) to out, with
// their lexicon ids. An ASCII word is split, lower-cased and hashed in one
// pass (what nextWord and lexicon.id do one after the other); a word with
// another rune in it, or that may have one, is split again by nextWord
// from its start.
//
// The ASCII words are looked up after the split, in a loop of their own:
// a lookup mostly waits for its table slot to come from memory (the table
// of a worker's lexicon is a few MB), and there the slots of many words
// are fetched at once, where one at a time, between the splits, they were
// a third of the tokenizer's time.
func tokenize(out []wordTok, text string, lx *lexicon) []wordTok {
	s := text
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				i += n
				continue
			}
			w, next, ok := nextWord(s, i)
			if !ok {
				break
			}
			out = append(out, wordTok{w: w, off: int32(next - len(w)), id: lx.id(w)})
			i = next
			continue
		}
		if !asciiAlnum[c] {
			i++
			continue
		}
		if (c|0x20 == 'h' || c|0x20 == 'w') && hasURLPrefix(s[i:]) {
			// URL: skip to the next space (nextWord's rule).
			j := strings.IndexFunc(s[i:], unicode.IsSpace)
			if j < 0 {
				break
			}
			i += j
			continue
		}
		start := i
		var acc, h, x0 uint64
		n := 0
		slow := false
		// Eight bytes at a time while they are ASCII letters and digits
		// (see fields.Load8): a whole eight is one step of the hash, and
		// the rest of a word that ends inside eight is packed at once. An
		// apostrophe or a longer rune, whose rules look further, is left
		// to the byte loop below, from where the eights stopped.
		for i+8 <= len(s) {
			x := fields.Load8(s, i)
			y := x & fields.Low7
			upper := fields.Between(y, 'A', 'Z')
			alnum := upper | fields.Between(y, 'a', 'z') | fields.Between(y, '0', '9')
			stop := (^alnum | x) & fields.High
			lc := x | upper>>2 // upper case letters lower-cased
			if stop == 0 {
				acc8 := bits.ReverseBytes64(lc) // first byte highest, as the byte loop packs
				if n == 0 {
					x0 = acc8
				}
				h = lexMix(h ^ acc8)
				n += 8
				i += 8
				continue
			}
			k := fields.FirstByte(stop)
			if c := s[i+k]; c == '\'' || c >= utf8.RuneSelf {
				break
			}
			if k > 0 {
				acc = bits.ReverseBytes64(lc << (64 - 8*k)) // the k bytes, packed
				n += k
				i += k
			}
			goto done
		}
	word:
		for i < len(s) {
			c := s[i]
			lc := asciiLowerAlnum[c]
			if lc == 0 {
				switch {
				case c >= utf8.RuneSelf:
					slow = true // a word rune or ’ may go on the word
					break word
				case c == '\'' && i+1 < len(s):
					if d := s[i+1]; d >= utf8.RuneSelf {
						slow = true // a non-ASCII letter may follow
						break word
					} else if !asciiLetter[d] {
						break word
					}
					lc = '\''
				default:
					break word
				}
			}
			acc = acc<<8 | uint64(lc)
			n++
			if n&7 == 0 {
				if n == 8 {
					x0 = acc
				}
				h = lexMix(h ^ acc)
				acc = 0
			}
			i++
		}
		if slow {
			w, next, _ := nextWord(s, start)
			out = append(out, wordTok{w: w, off: int32(next - len(w)), id: lx.id(w)})
			i = next
			continue
		}
	done:
		if n < 8 {
			x0 = acc
		}
		w := s[start:i]
		lx.pending = append(lx.pending, pendingWord{k: int32(len(out)), h: lexMix(h ^ acc ^ uint64(n)<<56), x0: x0})
		out = append(out, wordTok{w: w, off: int32(start)})
	}
	for _, p := range lx.pending {
		out[p.k].id = lx.lookupASCII(out[p.k].w, p.h, p.x0)
	}
	lx.pending = lx.pending[:0]
	return out
}

// pendingWord is an ASCII word of tokenize's out[k] to look up: its hash
// and first bytes (see lexicon.lookupASCII).
type pendingWord struct {
	k     int32
	h, x0 uint64
}

// hasURLMark reports whether t contains "http", "HTTP", "www." or "WWW."
// (the test that decides whether urlRe runs). It reads t once, eight bytes
// at a time and seven places a step, looking for the two bytes that start
// them (h then t, w then w, in either case) and compares only those places
// in full: four strings.Contains read t four times and stopped at every h
// and w.
func hasURLMark(t string) bool {
	const fold = 0x2020202020202020
	i := 0
	for ; i+8 <= len(t); i += 7 {
		x := fields.Load8(t, i)
		y := x&fields.Low7 | fold
		w := fields.Equal(y, 'w')
		for c := (fields.Equal(y, 'h')&(fields.Equal(y, 't')>>8) | w&(w>>8)) &^ x; c != 0; c &= c - 1 {
			if urlMarkAt(t[i+fields.FirstByte(c):]) {
				return true
			}
		}
	}
	for ; i < len(t); i++ {
		if urlMarkAt(t[i:]) {
			return true
		}
	}
	return false
}

func urlMarkAt(s string) bool {
	return strings.HasPrefix(s, "http") || strings.HasPrefix(s, "HTTP") || strings.HasPrefix(s, "www.") || strings.HasPrefix(s, "WWW.")
}

// asciiLowerAlnum maps an ASCII letter or digit to its lower-case form and
// every other byte to 0.
var asciiLowerAlnum = func() (t [256]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		if asciiAlnum[c] {
			t[c] = byte(c)
			if c >= 'A' && c <= 'Z' {
				t[c] += 'a' - 'A'
			}
		}
	}
	return
}()

// styleAcc accumulates MeasureStyle over texts given one at a time, so that
// the heuristic backend measures a record's style from the words it has
// already split and looked up for its keywords.
type styleAcc struct {
	lx       *lexicon
	f        StyleFeatures
	sentLens []int
	lower    []int32 // every word, lower-cased, as a lexicon id
	spans    [][2]int32
	spanToks []int32
	spanCand []bool // by span: whether the sentence's words may make a thought
	anyCand  bool   // whether one of the text's sentences' may
	toks     []wordTok

	lowerSents, excl, ques, ell, commas                int
	caps, emoji, fp, contr, inf, art, prep, pron, intj int
	paragraphs                                         int
}

// addText adds one text. toks, when not nil, are the words of t as
// tokenize returns them (ids from a.lx), and t is a text that normApos
// leaves as it is (measureHistory passes normApos(r.Text)).
//
// The sentences' words are the text's words cut at the sentence spans: a
// word never crosses a sentence's end (white space follows it), a URL that
// Words skips to the next space ends there too, and the apostrophe and URL
// look-aheads past a sentence's end see white space in both. So the words
// of each sentence need not be split again.
//
// It reports whether it measured t itself, given toks: then a.spans are the
// sentence spans of t and a.spanToks[k] is the index in toks of the first
// word of sentence k (a.spanToks[len(a.spans)] is len(toks)), which
// measureHistory passes on to the thoughts, with a.spanCand[k], whether
// the words of sentence k have a first-person word of IsThoughtSentence
// (flThoughtFP) and a word that a thought phrase needs (flThoughtKey), and
// a.anyCand, whether one sentence's have.
func (a *styleAcc) addText(t string, toks []wordTok) (same bool) {
	lx := a.lx
	same = toks != nil
	a.anyCand = false
	if toks == nil {
		t = normApos(t)
	}
	if hasURLMark(t) {
		t, toks, same = urlRe.ReplaceAllString(t, " "), nil, false
	}
	if strings.TrimSpace(t) == "" {
		return false
	}
	if toks == nil {
		a.toks = tokenize(a.toks[:0], t, lx)
		toks = a.toks
	}
	a.f.Texts++
	a.paragraphs += countParagraphs(t)
	// The emoji and the punctuation of the whole text in one pass: every
	// character that is not white space lies in one sentence, and runs of
	// '!', '?' and '.' never cross from one sentence to the next (white
	// space separates them), so the text's counts are the sums of its
	// sentences'; those of sentences without words, which do not count,
	// are taken off below.
	m := scanMarks(t, true)
	a.emoji += m.emoji
	a.spans = sentenceSpans(a.spans[:0], t)
	a.spanToks, a.spanCand = a.spanToks[:0], a.spanCand[:0]
	k := 0
	for _, sp := range a.spans {
		s := t[sp[0]:sp[1]]
		a.spanToks = append(a.spanToks, int32(k))
		nw := 0
		var sentFl uint16 // the flags of the sentence's words, or-ed
		for ; k < len(toks) && toks[k].off < sp[1]; k++ {
			w, id := toks[k].w, toks[k].id
			nw++
			a.lower = append(a.lower, id)
			fl := lx.flags[id]
			sentFl |= fl
			if c := w[0]; (c < 'a' || c > 'z') && isCapsWord(w) { // most words start in lower case: no call
				a.caps++
			}
			if fl&flFirstPerson != 0 {
				a.fp++
			}
			if fl&flContraction != 0 {
				a.contr++
			}
			if fl&flLaugh != 0 {
				a.inf++
			} else if fl&flInformal != 0 {
				if lw := lx.words[id]; len(lw) > 2 || lw == w {
					a.inf++
				}
			}
			switch {
			case fl&flArticle != 0:
				a.art++
			case fl&flPreposition != 0:
				a.prep++
			case fl&flPronoun != 0:
				a.pron++
			case fl&flInterjection != 0:
				a.intj++
			}
		}
		cand := sentFl&(flThoughtFP|flThoughtKey) == flThoughtFP|flThoughtKey
		a.spanCand = append(a.spanCand, cand)
		a.anyCand = a.anyCand || cand
		if nw == 0 {
			sm := scanMarks(s, false)
			m.excl, m.ques, m.ell, m.commas = m.excl-sm.excl, m.ques-sm.ques, m.ell-sm.ell, m.commas-sm.commas
			continue
		}
		a.sentLens = append(a.sentLens, nw)
		if lowerSentence(s) {
			a.lowerSents++
		}
	}
	a.excl += m.excl
	a.ques += m.ques
	a.ell += m.ell
	a.commas += m.commas
	a.spanToks = append(a.spanToks, int32(len(toks)))
	return same
}

// marks are the emoji and punctuation counts of a text: emoji and
// emoticons (countEmoji), runs of '!' and of '?' ("!!!" counts once),
// ellipses ("..." or longer, and "…") and commas.
type marks struct{ emoji, excl, ques, ell, commas int }

// Byte classes of scanMarks; 0 is a byte of no interest.
const (
	mkComma = 1 + iota
	mkExcl
	mkQues
	mkDot
	mkEmoticon // one of ":;=<^_", which put a field up for the emoticon test
	mkX        // 'x' or 'X', which may start an "xD"
	mkWide     // first byte of a longer rune, or invalid
	mkCont     // a continuation byte
)

var markClass = func() (t [256]uint8) {
	t[','], t['!'], t['?'], t['.'] = mkComma, mkExcl, mkQues, mkDot
	for _, c := range []byte(":;=<^_") {
		t[c] = mkEmoticon
	}
	t['x'], t['X'] = mkX, mkX
	for c := 0x80; c < 0x100; c++ {
		t[c] = mkWide
		if c < 0xC0 {
			t[c] = mkCont
		}
	}
	return
}()

// scanMarks counts the marks of t in one pass that stops only at the bytes
// in markClass. The punctuation counts are the sums of sentenceMarks' over
// t's sentences; with emoji, m.emoji is countEmoji(t). An emoticon
// candidate (a field holding one of ":;=<^_", or starting with "xd" in any
// case) is found from the byte that makes it one, and its field, bounded
// by white space as strings.Fields splits, goes to the emoticon test once.
func scanMarks(t string, emoji bool) (m marks) {
	fieldEnd := 0 // the fields before this were tested
	for i := 0; i < len(t); {
		switch markClass[t[i]] {
		case 0:
			i = nextMarkByte(t, i+1)
		case mkComma:
			m.commas++
			i++
		case mkExcl:
			if i == 0 || t[i-1] != '!' {
				m.excl++
			}
			i++
		case mkQues:
			if i == 0 || t[i-1] != '?' {
				m.ques++
			}
			i++
		case mkDot:
			j := i + 1
			for j < len(t) && t[j] == '.' {
				j++
			}
			if j-i >= 3 {
				m.ell++
			}
			i = j
		case mkEmoticon:
			if emoji && i >= fieldEnd {
				start, end := fieldAround(t, i)
				m.emoji += emoticonField(t[start:end])
				fieldEnd = end
			}
			i++
		case mkX:
			if emoji && i >= fieldEnd && i+1 < len(t) && t[i+1]|0x20 == 'd' && fieldStartsAt(t, i) {
				_, end := fieldAround(t, i)
				m.emoji += emoticonField(t[i:end])
				fieldEnd = end
			}
			i++
		case mkCont:
			i++ // no rune of interest starts here
		default:
			r, n := utf8.DecodeRuneInString(t[i:])
			if r == '…' {
				m.ell++
			} else if emoji && isEmojiRune(r) {
				m.emoji++
			}
			i += n
		}
	}
	return m
}

// nextMarkByte is the index of the first byte of t at or after i that may
// be of a class of markClass other than 0, or len(t): eight bytes a step.
// It may stop at a byte of class 0 too ('-', '>'), which scanMarks steps
// over.
func nextMarkByte(t string, i int) int {
	for ; i+8 <= len(t); i += 8 {
		x := fields.Load8(t, i)
		y := x & fields.Low7
		m := fields.Equal(y, '!') | fields.Between(y, ',', '.') | fields.Between(y, ':', '?') |
			fields.Between(y, '^', '_') | fields.Equal(y|0x2020202020202020, 'x')
		if m = m&^x | x&fields.High; m != 0 {
			return i + fields.FirstByte(m)
		}
	}
	for ; i < len(t); i++ {
		if markClass[t[i]] != 0 {
			return i
		}
	}
	return len(t)
}

// fieldStartsAt reports whether a field of t (strings.Fields) starts at i.
func fieldStartsAt(t string, i int) bool {
	if i == 0 {
		return true
	}
	if c := t[i-1]; c < utf8.RuneSelf {
		return emoClass[c] == emoSpace
	}
	r, _ := utf8.DecodeLastRuneInString(t[:i])
	return unicode.IsSpace(r)
}

// fieldAround returns the bounds of the field of t (strings.Fields) that
// holds the byte at i, which is not white space.
func fieldAround(t string, i int) (start, end int) {
	start = i
	for start > 0 {
		if c := t[start-1]; c < utf8.RuneSelf {
			if emoClass[c] == emoSpace {
				break
			}
			start--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(t[:start])
		if unicode.IsSpace(r) {
			break
		}
		start -= n
	}
	end = i
	for end < len(t) {
		if c := t[end]; c < utf8.RuneSelf {
			if emoClass[c] == emoSpace {
				break
			}
			end++
			continue
		}
		r, n := utf8.DecodeRuneInString(t[end:])
		if unicode.IsSpace(r) {
			break
		}
		end += n
	}
	return start, end
}

// lowerSentence reports whether the sentence s has letters and none of
// them is upper case: the lower-case share of sentenceMarks, stopping at
// the first upper-case letter (most sentences' first byte).
func lowerSentence(s string) bool {
	hasLetter := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiLetter[c] {
				if c <= 'Z' {
					return false
				}
				hasLetter = true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) {
			if unicode.IsUpper(r) {
				return false
			}
			hasLetter = true
		}
		i += n
	}
	return hasLetter
}

func (a *styleAcc) features() StyleFeatures {
	f := a.f
	f.Sentences = len(a.sentLens)
	f.Words = len(a.lower)
	if f.Words == 0 || f.Sentences == 0 {
		return StyleFeatures{Texts: f.Texts}
	}
	ns, nw := float64(f.Sentences), float64(f.Words)
	f.MeanSentenceWords = nw / ns
	f.MedianSentenceWords = median(a.sentLens)
	f.MeanTextWords = nw / float64(f.Texts)
	f.ParagraphWords = nw / float64(max(a.paragraphs, 1))
	if len(a.lx.counts) < len(a.lx.words) {
		a.lx.counts = make([]uint8, len(a.lx.words)+len(a.lx.words)/4)
	}
	f.MATTR = mattrIDs(a.lower, len(a.lx.words), MATTRWindow, a.lx.counts)
	f.ExclaimPerSentence = float64(a.excl) / ns
	f.QuestionPerSentence = float64(a.ques) / ns
	f.EllipsisPerSentence = float64(a.ell) / ns
	f.CommasPerSentence = float64(a.commas) / ns
	f.LowercaseShare = float64(a.lowerSents) / ns
	f.CapsWordRate = float64(a.caps) / nw
	f.EmojiRate = float64(a.emoji) / nw
	f.FirstPersonRate = float64(a.fp) / nw
	f.ContractionRate = float64(a.contr) / nw
	f.InformalRate = float64(a.inf) / nw
	f.FScore = (100*float64(a.art)/nw + 100*float64(a.prep)/nw - 100*float64(a.pron)/nw - 100*float64(a.intj)/nw + 100) / 2
	return f
}

// countParagraphs is the number of paragraphs of t with at least one word:
// blocks of lines that are not blank, "\r\n" read as "\n". It counts what
// splitParagraphs and Words found without building the strings: joining a
// block's lines with "\n" adds only separators (and a URL, skipped to the
// next space, ends at the line's end either way), so a block has a word
// iff one of its lines has.
func countParagraphs(t string) int {
	n := 0
	inPara, hasWord := false, false
	for len(t) > 0 {
		line := t
		if i := strings.IndexByte(t, '\n'); i >= 0 {
			line, t = t[:i], t[i+1:]
		} else {
			t = ""
		}
		if strings.TrimSpace(line) == "" {
			if inPara && hasWord {
				n++
			}
			inPara, hasWord = false, false
			continue
		}
		inPara = true
		if !hasWord {
			_, _, hasWord = nextWord(line, 0)
		}
	}
	if inPara && hasWord {
		n++
	}
	return n
}

// countEllipses counts runs of three or more periods and "…" characters.
func countEllipses(s string) int {
	n := strings.Count(s, "…")
	dots := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] == '.' {
			dots++
			continue
		}
		if dots >= 3 {
			n++
		}
		dots = 0
	}
	return n
}

func countRuns(s string, c byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == c && (i == 0 || s[i-1] != c) {
			n++
		}
	}
	return n
}

func isCapsWord(w string) bool {
	letters := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return isCapsWordSlow(w)
		}
		if c >= 'a' && c <= 'z' {
			return false
		}
		if c >= 'A' && c <= 'Z' {
			letters++
		}
	}
	return letters >= 2
}

func isCapsWordSlow(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters >= 2
}

func isContraction(lw string) bool {
	for _, suf := range []string{"n't", "'m", "'re", "'ve", "'ll", "'d", "'s"} {
		if strings.HasSuffix(lw, suf) {
			// possessive 's is not a contraction, except for pronouns
			if suf == "'s" {
				switch lw {
				case "it's", "that's", "he's", "she's", "what's", "there's", "here's", "who's", "let's", "where's":
					return true
				}
				return false
			}
			return true
		}
	}
	return false
}

func isLaugh(w string) bool {
	if len(w) < 4 {
		return false
	}
	return strings.Trim(w, "ha") == "" || strings.Trim(w, "he") == ""
}

func isEmojiRune(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || (r >= 0x1F1E6 && r <= 0x1F1FF)
}

func isXD(f string) bool {
	return len(f) >= 2 && (f[0] == 'x' || f[0] == 'X') && (f[1] == 'd' || f[1] == 'D')
}

// emoticonField counts one candidate field as an emoticon (0 or 1).
func emoticonField(f string) int {
	if f2 := strings.TrimRight(f, ".,!?"); f2 != "" && matchEmoticon(f2) {
		return 1
	} else if matchEmoticon(f) {
		return 1
	}
	return 0
}

// Byte classes of countEmoji.
const (
	emoPlain = iota // ASCII, not space, not an emoticon mark
	emoSpace        // ASCII white space
	emoMark         // one of ":;=<^_"
	emoWide         // first byte of a longer rune, or invalid
)

var emoClass = func() (t [256]uint8) {
	for c := 0x80; c < 256; c++ {
		t[c] = emoWide
	}
	for _, c := range []byte("\t\n\v\f\r ") {
		t[c] = emoSpace
	}
	for _, c := range []byte(":;=<^_") {
		t[c] = emoMark
	}
	return
}()

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	// Most values are small (words per sentence): they are ranked in a
	// histogram, in one pass and without the sorted copy.
	var hist [256]int32
	for _, x := range xs {
		if uint(x) >= uint(len(hist)) {
			return medianSort(xs)
		}
		hist[x]++
	}
	m := len(xs) / 2
	lo, hi, c := -1, -1, 0 // the values of ranks m-1 and m (from 0) of sorted xs
	for v, k := range hist {
		c += int(k)
		if lo < 0 && c > m-1 {
			lo = v
		}
		if c > m {
			hi = v
			break
		}
	}
	if len(xs)%2 == 1 {
		return float64(hi)
	}
	return float64(lo+hi) / 2
}

// medianSort is median by sorting a copy of xs (not empty).
func medianSort(xs []int) float64 {
	s := append([]int(nil), xs...)
	sort.Ints(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return float64(s[m])
	}
	return float64(s[m-1]+s[m]) / 2
}

// mattrIDs is mattr over word ids below nIDs: the same counts, kept in a
// slice instead of a map. counts, if long enough, is scratch space that is
// all zero and left so. A count never exceeds w (the tokens in a window),
// so for w < 256 a byte holds it: the slice, indexed by lexicon id, is a
// quarter of the size of int32 counts and stays in the cache.
func mattrIDs(tokens []int32, nIDs, w int, counts []uint8) float64 {
	if w > math.MaxUint8 {
		return mattrCounts(tokens, w, make([]int32, nIDs))
	}
	if len(counts) < nIDs {
		counts = make([]uint8, nIDs)
	}
	return mattrCounts(tokens, w, counts)
}

func mattrCounts[C uint8 | int32](tokens []int32, w int, counts []C) float64 {
	if len(tokens) == 0 {
		return 0
	}
	defer func() {
		for _, t := range tokens {
			counts[t] = 0
		}
	}()
	distinct := 0
	if len(tokens) <= w {
		for _, t := range tokens {
			if counts[t] == 0 {
				distinct++
			}
			counts[t]++
		}
		return float64(distinct) / float64(len(tokens))
	}
	for _, t := range tokens[:w] {
		if counts[t] == 0 {
			distinct++
		}
		counts[t]++
	}
	// The sum of the windows' distinct counts, an integer: float64 held
	// every partial sum exactly when it was summed there.
	sum := distinct
	windows := 1
	for i := w; i < len(tokens); i++ {
		out := tokens[i-w]
		counts[out]--
		if counts[out] == 0 {
			distinct--
		}
		if counts[tokens[i]] == 0 {
			distinct++
		}
		counts[tokens[i]]++
		sum += distinct
		windows++
	}
	return float64(sum) / float64(windows) / float64(w)
}

// styleScales are the differences at which a feature counts as entirely
// different in StyleSimilarity.
var styleScales = []struct {
	name  string
	get   func(StyleFeatures) float64
	scale float64
}{
	{"mean_sentence_words", func(f StyleFeatures) float64 { return f.MeanSentenceWords }, 15},
	{"median_sentence_words", func(f StyleFeatures) float64 { return f.MedianSentenceWords }, 15},
	{"mean_text_words", func(f StyleFeatures) float64 { return f.MeanTextWords }, 300},
	{"paragraph_words", func(f StyleFeatures) float64 { return f.ParagraphWords }, 150},
	{"mattr", func(f StyleFeatures) float64 { return f.MATTR }, 0.3},
	{"exclaim_per_sentence", func(f StyleFeatures) float64 { return f.ExclaimPerSentence }, 0.5},
	{"question_per_sentence", func(f StyleFeatures) float64 { return f.QuestionPerSentence }, 0.5},
	{"ellipsis_per_sentence", func(f StyleFeatures) float64 { return f.EllipsisPerSentence }, 0.3},
	{"commas_per_sentence", func(f StyleFeatures) float64 { return f.CommasPerSentence }, 1.5},
	{"lowercase_share", func(f StyleFeatures) float64 { return f.LowercaseShare }, 0.5},
	{"caps_word_rate", func(f StyleFeatures) float64 { return f.CapsWordRate }, 0.05},
	{"emoji_rate", func(f StyleFeatures) float64 { return f.EmojiRate }, 0.02},
	{"first_person_rate", func(f StyleFeatures) float64 { return f.FirstPersonRate }, 0.08},
	{"contraction_rate", func(f StyleFeatures) float64 { return f.ContractionRate }, 0.04},
	{"informal_rate", func(f StyleFeatures) float64 { return f.InformalRate }, 0.03},
	{"f_score", func(f StyleFeatures) float64 { return f.FScore }, 12},
}

// StyleSimilarity compares two feature sets in [0, 1]:
//
//	sim(a, b) = 1 - (1/K) * Σ_k min(1, |a_k - b_k| / s_k)
//
// over the K = 16 features above (sentence mean/median, text and paragraph
// length, MATTR, the four punctuation rates, lowercase share, caps, emoji,
// first person, contractions, informal markers, F-score), each with a fixed
// scale s_k (15 words, 15, 300, 150, 0.3, 0.5, 0.5, 0.3, 1.5, 0.5, 0.05,
// 0.02, 0.08, 0.04, 0.03, 12) at which the feature counts as entirely
// different. It is symmetric, equals 1 for identical features, and does not
// depend on the counts (Texts, Sentences, Words). If either side has no
// words the similarity is 0 (or 1 when both are empty).
func StyleSimilarity(a, b StyleFeatures) float64 {
	if a.Words == 0 || b.Words == 0 {
		if a.Words == 0 && b.Words == 0 {
			return 1
		}
		return 0
	}
	var d float64
	for _, s := range styleScales {
		d += math.Min(1, math.Abs(s.get(a)-s.get(b))/s.scale)
	}
	return 1 - d/float64(len(styleScales))
}

// DescribeStyle renders features as an English "The user writes ..."
// description using fixed thresholds. It returns "" when there are no
// words.
func DescribeStyle(f StyleFeatures) string {
	if f.Words == 0 {
		return ""
	}
	var parts []string
	switch {
	case f.MeanSentenceWords < 10:
		parts = append(parts, fmt.Sprintf("short sentences (avg %.0f words)", f.MeanSentenceWords))
	case f.MeanSentenceWords > 22:
		parts = append(parts, fmt.Sprintf("long sentences (avg %.0f words)", f.MeanSentenceWords))
	default:
		parts = append(parts, fmt.Sprintf("medium-length sentences (avg %.0f words)", f.MeanSentenceWords))
	}
	switch {
	case f.MeanTextWords < 60:
		parts = append(parts, fmt.Sprintf("brief posts (about %.0f words each)", f.MeanTextWords))
	case f.MeanTextWords > 400:
		parts = append(parts, fmt.Sprintf("long posts (about %.0f words each)", f.MeanTextWords))
	default:
		parts = append(parts, fmt.Sprintf("posts of about %.0f words", f.MeanTextWords))
	}
	if f.Words >= 50 {
		switch {
		case f.MATTR >= 0.75:
			parts = append(parts, "a rich, varied vocabulary")
		case f.MATTR < 0.6:
			parts = append(parts, "a simple, repetitive vocabulary")
		}
	}
	s := "The user writes " + joinList(parts) + "."
	var habits []string
	if f.ExclaimPerSentence >= 0.3 {
		habits = append(habits, "often use exclamation marks")
	} else if f.ExclaimPerSentence < 0.03 {
		habits = append(habits, "rarely use exclamation marks")
	}
	if f.QuestionPerSentence >= 0.2 {
		habits = append(habits, "ask many questions")
	}
	if f.EllipsisPerSentence >= 0.15 {
		habits = append(habits, "trail off with ellipses (...)")
	}
	switch {
	case f.CommasPerSentence >= 1.5:
		habits = append(habits, "build clauses with many commas")
	case f.CommasPerSentence < 0.3:
		habits = append(habits, "use few commas")
	}
	if f.LowercaseShare >= 0.5 {
		habits = append(habits, "mostly write in lower case")
	}
	if f.CapsWordRate >= 0.03 {
		habits = append(habits, "use ALL-CAPS words for emphasis")
	}
	if f.EmojiRate >= 0.005 {
		habits = append(habits, "use emoji or emoticons")
	}
	switch {
	case f.FirstPersonRate >= 0.06:
		habits = append(habits, "write a lot about themselves in the first person")
	case f.FirstPersonRate < 0.01:
		habits = append(habits, "rarely refer to themselves")
	}
	if f.ContractionRate >= 0.03 {
		habits = append(habits, "use contractions freely")
	}
	if f.InformalRate >= 0.01 {
		habits = append(habits, "use chat slang (e.g. lol, u, gonna)")
	}
	if len(habits) > 0 {
		s += " They " + joinList(habits) + "."
	}
	tone := "neutral"
	switch {
	case f.FScore >= 55 && f.InformalRate < 0.005 && f.ContractionRate < 0.02:
		tone = "formal"
	case f.FScore < 49 || f.InformalRate >= 0.01 || f.LowercaseShare >= 0.5:
		tone = "casual"
	}
	s += fmt.Sprintf(" Overall the tone is %s (formality score %.0f).", tone, f.FScore)
	return s
}

func joinList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
