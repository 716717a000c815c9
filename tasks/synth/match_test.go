package synth

import (
	"github.com/humanllm/humanllm/internal/randtext"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// oracleThirdPerson, oracleSentences and oracleCountEmoji (at the end) are
// ThirdPerson, on the regexp, Sentences and countEmoji as they were.

// The regexps and helpers the hand-written matchers replaced, kept as
// oracles.
var (
	oracleThoughtSrc = []string{
		`(?i)\bI\s+(?:(?:really|truly|honestly|just|still|do|did|sometimes|always|totally|kinda|absolutely|seriously|also|actually|genuinely|personally|kind\s+of|sort\s+of)\s+)*(?:feel|felt|think|believe|believed|wish|wished|hope|hoped|hate|hated|love|loved|adore|fear|feared|worry|worried|miss|missed|regret|regretted|dislike|doubt|enjoy|enjoyed|appreciate|can't\s+stand|cannot\s+stand|can't\s+believe|cannot\s+believe|couldn't\s+believe|can't\s+wait|don't\s+care|don't\s+like|didn't\s+like|don't\s+think|don't\s+believe|don't\s+understand)\b`,
		`(?i)\b(?:I'm|I\s+am|Im|I\s+was|I've\s+been|I\s+have\s+been|I\s+get|I\s+got|I\s+feel|I\s+felt)\s+(?:(?:so|really|very|pretty|kinda|totally|just|quite|extremely|incredibly|too|still|not|never|always|getting|becoming|kind\s+of|a\s+bit|a\s+little|a\s+little\s+bit)\s+)*(?:happy|sad|worried|scared|afraid|angry|mad|upset|excited|glad|proud|nervous|tired\s+of|sick\s+of|fed\s+up|frustrated|annoyed|disappointed|thrilled|lonely|depressed|anxious|ashamed|grateful|thankful|relieved|sorry|confused|jealous|bored|terrified|stressed|embarrassed|hurt|miserable|amazed|surprised|convinced|hopeful|overwhelmed|heartbroken|furious|pissed|bummed|lucky|blessed|exhausted|hopeless|guilty|insecure|curious|in\s+love)\b`,
		`(?i)\b(?:makes|made|make)\s+me\s+(?:(?:so|really|very|feel|want\s+to)\s+)*(?:happy|sad|angry|mad|sick|smile|cry|laugh|crazy|nervous|scream|proud|glad|uncomfortable)\b`,
		`(?i)(?:^|\W)(?:in\s+my\s+opinion|my\s+(?:biggest\s+)?(?:fear|hope|dream|wish)\s+is)\b`,
	}
	oracleThoughtRes  = mustCompileAll(oracleThoughtSrc)
	oracleSelfDescRe  = regexp.MustCompile(`(?i)\b(?:i'm|i am|im)\s+(?:a|an)\s+([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)`)
	oracleRelationRe  = regexp.MustCompile(`(?i)\bmy\s+(husband|wife|boyfriend|girlfriend|fianc[eé]e?|partner|kids|children|son|daughter|mom|mum|mother|dad|father|parents|sister|brother|grandma|grandmother|grandpa|grandfather|baby|cat|cats|dog|dogs|boss|job|roommate|teacher|students|church|band|team|classes)\b`)
	oracleWordOrOther = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\p{L}\p{N}]+`)
)

func mustCompileAll(src []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, s := range src {
		out = append(out, regexp.MustCompile(s))
	}
	return out
}

func oracleMatchThought(s string) bool {
	for _, re := range oracleThoughtRes {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func oracleGroups(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func oracleWordsOf(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		if oracleHasURLPrefix(s[i:]) {
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

func oracleHasURLPrefix(s string) bool {
	l := strings.ToLower(s[:min(len(s), 8)])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "www.")
}

func tokensOf(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := nextToken(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// checkMatchers compares every hand-written matcher with its oracle on s.
func checkMatchers(t *testing.T, s string) {
	t.Helper()
	if got, want := matchThought(s), oracleMatchThought(s); got != want {
		t.Fatalf("matchThought(%q) = %v, want %v", s, got, want)
	}
	if oracleMatchThought(s) { // the style pass's filter keeps s (flThoughtKey)
		key := false
		for _, w := range Words(s) {
			key = key || thoughtKey(strings.ToLower(w))
		}
		if !key {
			t.Fatalf("%q matches a thought pattern, but no word is a thoughtKey", s)
		}
	}
	if got, want := findRelations(nil, s), oracleGroups(oracleRelationRe, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("findRelations(%q) = %q, want %q", s, got, want)
	}
	if got, want := findSelfDescs(nil, s), oracleGroups(oracleSelfDescRe, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("findSelfDescs(%q) = %q, want %q", s, got, want)
	}
	if got, want := tokensOf(s), oracleWordOrOther.FindAllString(s, -1); !reflect.DeepEqual(got, want) {
		t.Fatalf("tokens(%q) = %q, want %q", s, got, want)
	}
	paras := 0
	for _, p := range oracleSplitParagraphs(s) {
		if len(oracleWordsOf(p)) > 0 {
			paras++
		}
	}
	if got := countParagraphs(s); got != paras {
		t.Fatalf("countParagraphs(%q) = %d, want %d", s, got, paras)
	}
	for _, w := range append(strings.Fields(s), Words(s)...) {
		want := false
		switch strings.ToLower(w) {
		case "i", "i'm", "im", "i've", "me", "my":
			want = true
		}
		if got := isFirstPersonWord(w); got != want {
			t.Fatalf("isFirstPersonWord(%q) = %v, want %v", w, got, want)
		}
	}
	checkMarks(t, s)
	checkTokenize(t, s)
	if got, want := normSpace(s), strings.ToLower(strings.Join(strings.Fields(s), " ")); got != want {
		t.Fatalf("normSpace(%q) = %q, want %q", s, got, want)
	}
	if got, want := Sentences(s), oracleSentences(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("Sentences(%q) = %q, want %q", s, got, want)
	}
	if got, want := ThirdPerson(s), oracleThirdPerson(s); got != want {
		t.Fatalf("ThirdPerson(%q) = %q, want %q", s, got, want)
	}
	if got, want := Words(s), oracleWordsOf(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("Words(%q) = %q, want %q", s, got, want)
	}
	if got, want := hasURLPrefix(s), oracleHasURLPrefix(s); got != want {
		t.Fatalf("hasURLPrefix(%q) = %v, want %v", s, got, want)
	}
	if got, want := hasURL(s), urlRe.MatchString(s); got != want {
		t.Fatalf("hasURL(%q) = %v, want %v", s, got, want)
	}
	if got, want := wordCount(s), len(strings.Fields(s)); got != want {
		t.Fatalf("wordCount(%q) = %d, want %d", s, got, want)
	}
	ls := strings.ToLower(s)
	self, rel := descGates(s)
	if want := strings.Contains(ls, "i'm a") || strings.Contains(ls, "i am a") || strings.Contains(ls, "im a"); self != want {
		t.Fatalf("descGates(%q) self = %v, want %v", s, self, want)
	}
	if want := strings.Contains(ls, "my "); rel != want {
		t.Fatalf("descGates(%q) rel = %v, want %v", s, rel, want)
	}
	for _, w := range []string{s, strings.ToUpper(s), strings.ToLower(s), " " + s} {
		if got, want := normSpaceEqual(s, w), normSpace(s) == normSpace(w); got != want {
			t.Fatalf("normSpaceEqual(%q, %q) = %v, want %v", s, w, got, want)
		}
	}
}

// TestThoughtPatternsTranscribed rebuilds the four thought regexps from the
// phrase lists and compares them with the originals (case aside: (?i)).
func TestThoughtPatternsTranscribed(t *testing.T) {
	alt := func(ps []string) string {
		var q []string
		for _, p := range ps {
			q = append(q, strings.ReplaceAll(p, " ", `\s+`))
		}
		return strings.Join(q, "|")
	}
	built := []string{
		`(?i)\b` + alt(thoughtLead0) + `\s+(?:(?:` + alt(thoughtAdv0) + `)\s+)*(?:` + alt(thoughtHead0) + `)\b`,
		`(?i)\b(?:` + alt(thoughtLead1) + `)\s+(?:(?:` + alt(thoughtAdv1) + `)\s+)*(?:` + alt(thoughtHead1) + `)\b`,
		`(?i)\b(?:` + strings.ReplaceAll(alt(thoughtLead2), `\s+me`, "") + `)\s+me\s+(?:(?:` + alt(thoughtAdv2) + `)\s+)*(?:` + alt(thoughtHead2) + `)\b`,
	}
	for i, b := range built {
		if strings.ToLower(b) != strings.ToLower(oracleThoughtSrc[i]) {
			t.Errorf("pattern %d:\n built %s\n  want %s", i, b, oracleThoughtSrc[i])
		}
	}
	// The fourth one, with its optional word, by listing.
	want := []string{"in my opinion"}
	for _, big := range []string{"my biggest ", "my "} {
		for _, w := range []string{"fear", "hope", "dream", "wish"} {
			want = append(want, big+w+" is")
		}
	}
	if !reflect.DeepEqual(thoughtHead3, want) {
		t.Errorf("thoughtHead3 = %q, want %q", thoughtHead3, want)
	}
	// relationWords: fianc[eé]e? expanded.
	src := oracleRelationRe.String()
	src = src[strings.Index(src, "(husband")+1 : strings.LastIndex(src, ")")]
	src = strings.Replace(src, "fianc[eé]e?", "fiancee|fiance|fiancée|fiancé", 1)
	if got := strings.Join(relationWords, "|"); got != src {
		t.Errorf("relationWords:\n %s\nwant\n %s", got, src)
	}
}

// TestFoldOrbits: foldEq accepts exactly the simple-fold orbit of each
// pattern character, which is what (?i) matches.
func TestFoldOrbits(t *testing.T) {
	for _, pc := range "abcdefghijklmnopqrstuvwxyzé'" {
		orbit := map[rune]bool{pc: true}
		for f := unicode.SimpleFold(pc); f != pc; f = unicode.SimpleFold(f) {
			orbit[f] = true
		}
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if foldEq(r, pc) != orbit[r] {
				t.Fatalf("foldEq(%U, %q) = %v", r, pc, foldEq(r, pc))
			}
		}
	}
}

// TestToLowerIntoASCII: the only non-ASCII runes that strings.ToLower maps
// to ASCII are U+0130 (to i) and U+212A (to k); hasURLPrefix and
// IsThoughtSentence rely on it.
func TestToLowerIntoASCII(t *testing.T) {
	var got []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < utf8.RuneSelf {
			got = append(got, r)
		}
	}
	if !reflect.DeepEqual(got, []rune{'\u0130', '\u212a'}) {
		t.Fatalf("runes lower-cased to ASCII: %U", got)
	}
}

// TestMatchersOnRealData compares the matchers with their oracles on every
// text of the shared data and on every sentence of it (the unit
// IsThoughtSentence sees), before and after normApos.
func TestMatchersOnRealData(t *testing.T) {
	users := loadRealUsers(t)
	step := 3
	if testing.Short() || raceEnabled {
		step = 29
	}
	if os.Getenv("HUMANLLM_SYNTH_ORACLE_ALL") == "1" {
		step = 1
	}
	n, thoughts := 0, 0
	for ui := 0; ui < len(users); ui += step {
		for _, r := range users[ui].Records {
			for _, text := range []string{r.Text, r.Title} {
				checkMatchers(t, text)
				for _, s := range Sentences(text) {
					n++
					checkMatchers(t, s)
					checkMatchers(t, normApos(s))
					if IsThoughtSentence(s) {
						thoughts++
					}
				}
			}
		}
	}
	if thoughts == 0 {
		t.Fatalf("no thought in %d sentences", n)
	}
}

func FuzzMatchers(f *testing.F) {
	for _, s := range []string{
		"I really kind of love it", "I'm  so\ta little bit happy.", "it made me want to cry", "In my opinion, my biggest fear is",
		"my ſister and my \u212aids", "my fiancé. my fiancée's my fiancéx", "I'm a nurse-practitioner and im an old  man",
		"don't’s rock'n2 \xffwww.x.com http://a b", "I have been kinda sick of", "Im a", "my catſ", "i am a b",
		"İ'M A MY ", "Straße STRASSE \u212a k", "\xff \ufffd", "a\u00a0b a b",
		"I İ'M My mY i'VE İ've me\u0130",
		"I can't  stand", "i'm fed\tup", "I really \u212aind of LOVE's it", "I lovedé", "I hope2 I hope_", "My biggest Fear is",
		"in my opinion", "Im \u017fad", "I'm \u017fick of", "made me \u017fmile", "i don't li\u212ae", "I'm so in love",
		"WE’RE HAPPY, I’ll GO. Shouldn't US we THINK i Really LOVE ABCDEFGHIJKLMNOPQR Ourselves’s OURSELVES",
		"xD :) ;-P <3 \u2600\U0001F600 x\u00a0:P\u0085XD!", "\xe2\x98 :\xff) \xf0\x9f\x98\x80",
		"Wow!!! Really?? ... yes\u2026 ok.. a, b,c !!\n!! \u00a0xd:) ;)x XD\u2028:-( _^ ^_^", "\xe2\x80!\xe2\x80\xa6.. x\xc2\x85xD",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMatchers(t, s)
	})
}
func oracleThirdPerson(s string) string {
	parts := oracleWordOrOther.FindAllString(s, -1)
	var b strings.Builder
	afterUser := false
	prev := ""
	for _, p := range parts {
		r := []rune(p)
		if !unicode.IsLetter(r[0]) && !unicode.IsDigit(r[0]) {
			b.WriteString(p)
			continue
		}
		lp := strings.ToLower(normApos(p))
		before := prev
		prev = lp
		if afterUser {
			afterUser = false
			if v, ok := agree[lp]; ok {
				b.WriteString(v)
				if lp == "really" || lp == "just" {
					afterUser = true
				}
				continue
			}
		}
		if p == "US" { // the country
			b.WriteString(p)
			continue
		}
		if v, ok := thirdMap[lp]; ok && (lp != "i" || p == "I" || p == "i") {
			if unicode.IsUpper(r[0]) && b.Len() == 0 || endsSentence(b.String()) {
				v = capitalize(v)
			}
			b.WriteString(v)
			afterUser = (v == "the user" || v == "The user") && !auxiliaries[before]
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}
func oracleSentences(text string) []string {
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

// splitParagraphs and mattr are what measureStyle used before
// countParagraphs and mattrIDs.

func oracleSplitParagraphs(t string) []string {
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

// mattr is the moving-average type-token ratio over windows of w tokens.
func oracleMattr(tokens []string, w int) float64 {
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

func TestMattrAndParagraphsMatchOracles(t *testing.T) {
	users := loadRealUsers(t)
	for ui := 0; ui < len(users); ui += 5 {
		var words []string
		for _, r := range users[ui].Records {
			for _, w := range Words(r.Text) {
				words = append(words, strings.ToLower(w))
			}
			paras := 0
			for _, p := range oracleSplitParagraphs(r.Text) {
				if len(Words(p)) > 0 {
					paras++
				}
			}
			if got := countParagraphs(r.Text); got != paras {
				t.Fatalf("countParagraphs(%q) = %d, want %d", r.Text, got, paras)
			}
		}
		for _, w := range []int{1, 7, 100} {
			if got, want := mattr(words, w), oracleMattr(words, w); got != want {
				t.Fatalf("mattr(user %d, %d) = %v, want %v", ui, w, got, want)
			}
		}
	}
}

// emoticonRe is the regexp that matchEmoticon transcribes.
var emoticonRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}:;=])(?:[:;=][-o*']?[)\](\[dDpP/\\|3*]+|<3+|[xX][dD]+|\^_*\^|-_-|T_T|:'\()$`)

func oracleCountEmoji(t string) int {
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

// mattr is MATTR over string tokens (what TestMATTR exercises): the
// words interned to ids, then mattrIDs.
func mattr(tokens []string, w int) float64 {
	ids := map[string]int32{}
	seq := make([]int32, len(tokens))
	for i, t := range tokens {
		id, ok := ids[t]
		if !ok {
			id = int32(len(ids))
			ids[t] = id
		}
		seq[i] = id
	}
	return mattrIDs(seq, len(ids), w, nil)
}

// oracleSentenceMarks is what styleAcc.sentenceMarks added for one
// sentence before the marks were counted over the whole text (scanMarks):
// runs of '!' and '?', ellipses, commas, and whether the sentence has
// letters and none in upper case.
func oracleSentenceMarks(s string) (m marks, lower bool) {
	hasLetter, hasUpper := false, false
	dots := 0
	var prev byte
	for i := 0; i < len(s); {
		c := s[i]
		if c != '.' {
			if dots >= 3 {
				m.ell++
			}
			dots = 0
		}
		if c < utf8.RuneSelf {
			switch {
			case asciiLetter[c]:
				hasLetter = true
				hasUpper = hasUpper || c <= 'Z'
			case c == '.':
				dots++
			case c == ',':
				m.commas++
			case c == '!':
				if prev != '!' {
					m.excl++
				}
			case c == '?':
				if prev != '?' {
					m.ques++
				}
			}
			prev = c
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '…' {
			m.ell++
		} else if !hasUpper && unicode.IsLetter(r) {
			hasLetter = true
			hasUpper = unicode.IsUpper(r)
		}
		prev = s[i+n-1]
		i += n
	}
	if dots >= 3 {
		m.ell++
	}
	return m, hasLetter && !hasUpper
}

// checkMarks holds scanMarks to countEmoji's oracle and to the sums of the
// per-sentence marks, and lowerSentence to the per-sentence case test.
func checkMarks(t *testing.T, s string) {
	t.Helper()
	whole := scanMarks(s, true)
	if want := oracleCountEmoji(s); whole.emoji != want {
		t.Fatalf("scanMarks(%q).emoji = %d, want %d", s, whole.emoji, want)
	}
	if m := scanMarks(s, false); m.emoji != 0 || m.excl != whole.excl || m.ques != whole.ques || m.ell != whole.ell || m.commas != whole.commas {
		t.Fatalf("scanMarks(%q, false) = %+v, with emoji %+v", s, m, whole)
	}
	var sum marks
	for _, sp := range sentenceSpans(nil, s) {
		sent := s[sp[0]:sp[1]]
		m, lower := oracleSentenceMarks(sent)
		sum.excl += m.excl
		sum.ques += m.ques
		sum.ell += m.ell
		sum.commas += m.commas
		if got := scanMarks(sent, false); got != m {
			t.Fatalf("scanMarks(sentence %q) = %+v, want %+v", sent, got, m)
		}
		if got := lowerSentence(sent); got != lower {
			t.Fatalf("lowerSentence(%q) = %v, want %v", sent, got, lower)
		}
	}
	whole.emoji = 0
	if whole != sum {
		t.Fatalf("scanMarks(%q) = %+v, sentences sum to %+v", s, whole, sum)
	}
}

// checkTokenize holds tokenize to Words and the lexicon: the same words,
// at their offsets, with the ids of their lower-cased forms.
func checkTokenize(t *testing.T, s string) {
	t.Helper()
	lx := &lexicon{}
	toks := tokenize(nil, s, lx)
	words := Words(s)
	if len(toks) != len(words) {
		t.Fatalf("tokenize(%q): %d words, Words has %d", s, len(toks), len(words))
	}
	for i, tk := range toks {
		if tk.w != words[i] || s[tk.off:int(tk.off)+len(tk.w)] != tk.w {
			t.Fatalf("tokenize(%q) word %d = %q at %d, want %q", s, i, tk.w, tk.off, words[i])
		}
		if lw := strings.ToLower(tk.w); lx.words[tk.id] != lw || lx.id(tk.w) != tk.id {
			t.Fatalf("tokenize(%q) word %q: id %d is %q", s, tk.w, tk.id, lx.words[tk.id])
		}
	}
}

// TestTokenizeRandom holds tokenize to Words and the lexicon on random
// texts of letters of both cases, digits, apostrophes (straight and
// curly), punctuation, white space, longer runes and URL prefixes, so that
// words of every length end at every place of the eight-byte steps.
func TestTokenizeRandom(t *testing.T) {
	alphabet := []string{"a", "B", "z", "Q", "7", "0", "'", "’", " ", " ", ".", "-", "_", "é", "É", "\xff", "http://", "www.", "\u00a0", "@"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		checkTokenize(t, randtext.Join(rng, alphabet, 40))
	}
	checkTokenize(t, "Abcdefgh Abcdefghi ABCDEFGHIJKLMNOPQ ab'cdefghijk abcdefgh'X abcdefg'é 12345678\u00e9 abcdefghijklmnopqrstuvwxy")
}

// TestHasURLMark holds the one-pass test to the four strings.Contains it
// replaced, on random texts of the marks' letters in both cases and high
// bytes whose low seven bits are them, at every alignment.
func TestHasURLMark(t *testing.T) {
	alphabet := []string{"h", "H", "t", "T", "p", "P", "w", "W", ".", " ", "\xe8", "\xf4", "\xf7", "http", "WWW.", "é"}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 50000 {
		s := randtext.Join(rng, alphabet, 30)
		want := strings.Contains(s, "http") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.") || strings.Contains(s, "HTTP")
		if got := hasURLMark(s); got != want {
			t.Fatalf("hasURLMark(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSentencesRandom holds Sentences (sentenceSpans, which skips eight
// bytes at a time to the next byte of interest) to the oracle on random
// texts of sentence ends, closers, line breaks, abbreviations and longer
// runes at every alignment.
func TestSentencesRandom(t *testing.T) {
	alphabet := []string{"a", "Word", " ", " ", ".", "!", "?", "\n", "\r", "\"", ")", "…", "’", "”", "é", "Mr.", "e.g.", "\xe2", "\xe2\x80"}
	rng := rand.New(rand.NewPCG(15, 16))
	for range 20000 {
		s := randtext.Join(rng, alphabet, 40)
		if got, want := Sentences(s), oracleSentences(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("Sentences(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzMatchEmoticon holds matchEmoticon to emoticonRe on any field.
func FuzzMatchEmoticon(f *testing.F) {
	for _, s := range []string{":)", ":-)", ";P", "=]]", ":*", ":-*", ":'(", ":'", ":o)", ":o", "<3", "<333", "<", "xD", "XDDD",
		"x", "^^", "^_^", "^__^", "^_", "-_-", "T_T", "t_t", "a:)", "_:)", "::)", "=:)", "(:)", "é:)", "\xff:)", "1:)", "٣:)",
		"\u00a0:)", "hi:D.", "x:))", "a<3", " ^_^", "^_^x", ":)x", ":-)é", "é", "abc", ":\\", ":|", ":/", ":3", ":]:", "-_-_-",
		"T_T_T", "xdd", "Xd", "a-_-", "好xD", "\U0001F600<3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := matchEmoticon(s), emoticonRe.MatchString(s); got != want {
			t.Fatalf("matchEmoticon(%q) = %v, emoticonRe %v", s, got, want)
		}
	})
}

// TestMaxAbbrevLen: isAbbrevBefore's ASCII path looks up no word longer
// than maxAbbrevLen, so no abbreviation may be longer, or non-ASCII.
func TestMaxAbbrevLen(t *testing.T) {
	longest := 0
	for w := range abbreviations {
		if !isASCII(w) {
			t.Errorf("abbreviation %q is not ASCII", w)
		}
		longest = max(longest, len(w))
	}
	if longest != maxAbbrevLen {
		t.Errorf("longest abbreviation has %d bytes, maxAbbrevLen is %d", longest, maxAbbrevLen)
	}
}

// FuzzIsAbbrevBefore holds isAbbrevBefore to its first form, with
// strings.LastIndexFunc.
func FuzzIsAbbrevBefore(f *testing.F) {
	for _, s := range []string{"", "Mr", "see Dr", "(e.g", "a", " x", "\u00a0Mr", "\u2003etc", "word\u0085U.S", "Ä", "x\xff",
		"\xffMr", "MR", "The end", "(vs", "St\tJ", "İnc", "ok\u3000e", "(APPROX", "approxi", "Approx", "X", "x7", "7", "Sept"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := strings.LastIndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
		w := strings.ToLower(s[k+1:])
		want := false
		if w != "" {
			if utf8.RuneCountInString(w) == 1 {
				r, _ := utf8.DecodeRuneInString(w)
				want = unicode.IsLetter(r)
			} else {
				want = abbreviations[w]
			}
		}
		if got := isAbbrevBefore(s); got != want {
			t.Fatalf("isAbbrevBefore(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestThoughtStarts: matchThought looks for a pattern only where an i or
// an m is (either case); thoughtStarts must hold exactly those bytes.
func TestThoughtStarts(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c == 'i' || c == 'I' || c == 'm' || c == 'M'
		if thoughtStarts[c] != want {
			t.Errorf("thoughtStarts[%q] = %v, want %v", rune(c), thoughtStarts[c], want)
		}
	}
}

// TestDescGatesRandom holds descGates to its strings.ToLower oracle
// (checkMatchers) on random texts dense in what its eight-byte scan looks
// for: m and y in either case, spaces, the self-description leads, bytes
// with bit 7 set (0xCD is 0x4D, 'M', with it; 0xD9 is 'Y's), at every
// length around the eight-byte steps.
func TestDescGatesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 17))
	pieces := []string{"m", "M", "y", "Y", " ", " a", "i", "I", "'", "im", "i'm", "I AM", "my ", "MY ", "\xcd", "\xd9",
		"\xa0", "é", "\u0130", "\t", "x", "ma"}
	for trial := 0; trial < 50000; trial++ {
		var b strings.Builder
		for n := rng.IntN(14); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkMatchers(t, b.String())
	}
}

// TestNormSpaceRandom holds normSpace (eight bytes a step where it can) to
// strings.ToLower(strings.Join(strings.Fields(s), " ")) (checkMatchers) on
// random ASCII texts dense in white space runs, capitals and the letters
// next to them, at every length and offset around the eight-byte steps.
func TestNormSpaceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 23))
	pieces := []string{" ", "  ", "\t", "\n", "\r\n", "\v", "\f", "a", "Z", "@", "[", "`", "{", "Word", "abcdefgh", "ABCDEFGHIJ", "x y z", "é"}
	for trial := 0; trial < 50000; trial++ {
		var b strings.Builder
		for n := rng.IntN(16); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := normSpace(s), strings.ToLower(strings.Join(strings.Fields(s), " ")); got != want {
			t.Fatalf("normSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
