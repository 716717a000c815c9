package synth

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
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
	emoticonRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}:;=])(?:[:;=][-o*']?[)\](\[dDpP/\\|3*]+|<3+|[xX][dD]+|\^_*\^|-_-|T_T|:'\()$`)
	urlRe      = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
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
	var f StyleFeatures
	var sentLens []int
	var lowerSents int
	var excl, ques, ell, commas int
	var caps, emoji, fp, contr, inf, art, prep, pron, intj int
	var paragraphs int
	var lower []string
	for _, t := range texts {
		t = normApos(t)
		if strings.Contains(t, "http") || strings.Contains(t, "www.") || strings.Contains(t, "WWW.") || strings.Contains(t, "HTTP") {
			t = urlRe.ReplaceAllString(t, " ")
		}
		if strings.TrimSpace(t) == "" {
			continue
		}
		f.Texts++
		for _, p := range splitParagraphs(t) {
			if len(Words(p)) > 0 {
				paragraphs++
			}
		}
		emoji += countEmoji(t)
		for _, s := range Sentences(t) {
			ws := Words(s)
			if len(ws) == 0 {
				continue
			}
			sentLens = append(sentLens, len(ws))
			hasLetter, hasUpper := false, false
			for _, r := range s {
				if unicode.IsLetter(r) {
					hasLetter = true
					if unicode.IsUpper(r) {
						hasUpper = true
						break
					}
				}
			}
			if hasLetter && !hasUpper {
				lowerSents++
			}
			excl += countRuns(s, '!')
			ques += countRuns(s, '?')
			ell += countEllipses(s)
			commas += strings.Count(s, ",")
			for _, w := range ws {
				lw := strings.ToLower(w)
				lower = append(lower, lw)
				if isCapsWord(w) {
					caps++
				}
				if firstPerson[lw] {
					fp++
				}
				if contraction[lw] || (strings.Contains(lw, "'") && isContraction(lw)) {
					contr++
				}
				if (informal[lw] && (len(lw) > 2 || lw == w)) || isLaugh(lw) {
					inf++
				}
				switch {
				case articles[lw]:
					art++
				case prepositions[lw]:
					prep++
				case pronouns[lw]:
					pron++
				case interjections[lw]:
					intj++
				}
			}
		}
	}
	f.Sentences = len(sentLens)
	f.Words = len(lower)
	if f.Words == 0 || f.Sentences == 0 {
		return StyleFeatures{Texts: f.Texts}
	}
	ns, nw := float64(f.Sentences), float64(f.Words)
	f.MeanSentenceWords = nw / ns
	f.MedianSentenceWords = median(sentLens)
	f.MeanTextWords = nw / float64(f.Texts)
	f.ParagraphWords = nw / float64(max(paragraphs, 1))
	f.MATTR = mattr(lower, MATTRWindow)
	f.ExclaimPerSentence = float64(excl) / ns
	f.QuestionPerSentence = float64(ques) / ns
	f.EllipsisPerSentence = float64(ell) / ns
	f.CommasPerSentence = float64(commas) / ns
	f.LowercaseShare = float64(lowerSents) / ns
	f.CapsWordRate = float64(caps) / nw
	f.EmojiRate = float64(emoji) / nw
	f.FirstPersonRate = float64(fp) / nw
	f.ContractionRate = float64(contr) / nw
	f.InformalRate = float64(inf) / nw
	f.FScore = (100*float64(art)/nw + 100*float64(prep)/nw - 100*float64(pron)/nw - 100*float64(intj)/nw + 100) / 2
	return f
}

func splitParagraphs(t string) []string {
	t = strings.ReplaceAll(t, "\r\n", "\n")
	var out []string
	var cur []string
	for _, line := range strings.Split(t, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
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

func countEmoji(t string) int {
	n := 0
	for _, r := range t {
		if isEmojiRune(r) {
			n++
		}
	}
	for _, f := range strings.Fields(t) {
		if !strings.ContainsAny(f, ":;=<^_") && !(len(f) >= 2 && (f[0] == 'x' || f[0] == 'X') && (f[1] == 'd' || f[1] == 'D')) {
			continue
		}
		if f2 := strings.TrimRight(f, ".,!?"); f2 != "" && emoticonRe.MatchString(f2) {
			n++
		} else if emoticonRe.MatchString(f) {
			n++
		}
	}
	return n
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return float64(s[m])
	}
	return float64(s[m-1]+s[m]) / 2
}

// mattr is the moving-average type-token ratio over windows of w tokens.
func mattr(tokens []string, w int) float64 {
	if len(tokens) == 0 {
		return 0
	}
	if len(tokens) <= w {
		seen := map[string]bool{}
		for _, t := range tokens {
			seen[t] = true
		}
		return float64(len(seen)) / float64(len(tokens))
	}
	counts := map[string]int{}
	for _, t := range tokens[:w] {
		counts[t]++
	}
	sum := float64(len(counts))
	windows := 1
	for i := w; i < len(tokens); i++ {
		out := tokens[i-w]
		counts[out]--
		if counts[out] == 0 {
			delete(counts, out)
		}
		counts[tokens[i]]++
		sum += float64(len(counts))
		windows++
	}
	return sum / float64(windows) / float64(w)
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
