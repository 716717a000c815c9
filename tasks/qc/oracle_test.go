package qc

import (
	"context"
	"github.com/humanllm/humanllm/internal/randtext"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/source"
)

// The functions below are the straightforward first versions of the
// checks, kept as oracles: the optimised ones must agree with them.

func oracleWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

func oracleShingleHash(ws []string) uint64 {
	h := fnv.New64a()
	for _, w := range ws {
		h.Write([]byte(w))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func oracleLeaks(target, prompt string, n int) bool {
	tw, pw := oracleWords(target), oracleWords(prompt)
	if len(tw) == 0 || len(pw) == 0 {
		return false
	}
	if len(tw) < n {
		if len(tw) < 4 {
			return false
		}
		n = len(tw)
	}
	set := make(map[uint64]struct{}, len(pw))
	for i := 0; i+n <= len(pw); i++ {
		set[oracleShingleHash(pw[i:i+n])] = struct{}{}
	}
	for i := 0; i+n <= len(tw); i++ {
		if _, ok := set[oracleShingleHash(tw[i:i+n])]; ok {
			return true
		}
	}
	return false
}

func oracleHasPII(s string) bool {
	if emailRe.MatchString(s) || phoneRe.MatchString(s) {
		return true
	}
	for _, u := range urlRe.FindAllString(s, -1) {
		if tokenQ.MatchString(u) || userPw.MatchString(u) {
			return true
		}
	}
	return false
}

func oracleIsEnglish(s string, minASCII, minStop float64) bool {
	letters, ascii := 0, 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if r < 128 {
				ascii++
			}
		}
	}
	if letters == 0 {
		return true
	}
	if float64(ascii)/float64(letters) < minASCII {
		return false
	}
	ws := oracleWords(s)
	if len(ws) < 8 {
		return true
	}
	hit := 0
	for _, w := range ws {
		if enStop[w] {
			hit++
		}
	}
	return float64(hit)/float64(len(ws)) >= minStop
}

// oracleMayHavePII is mayHavePII by regexp.
var mayPIIRe = []string{`@`, `://`, `(?i)www\.`, `\+\d`, `\d{3}[ .-]?\d{4}`}

// TestLowerKeepsWordClass: wordIter classifies the original runes while
// words() classified the lower-cased ones; that is the same for every rune.
func TestLowerKeepsWordClass(t *testing.T) {
	cls := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' }
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if cls(r) != cls(unicode.ToLower(r)) {
			t.Fatalf("%U: class changes under ToLower", r)
		}
	}
}

func wordsOf(s string) []string {
	var out []string
	it := wordIter{s: s}
	for {
		start, end, _, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, string(lowerWord(nil, s[start:end])))
	}
}

// checkAgainstOracles compares every optimised check with its oracle on
// one string (and target/prompt pair).
func checkAgainstOracles(t *testing.T, target, prompt string, n int) {
	t.Helper()
	if got, want := wordsOf(target), oracleWords(target); !slicesEqual(got, want) {
		t.Fatalf("words(%q) = %q, want %q", target, got, want)
	}
	if got, want := Leaks(target, prompt, n), oracleLeaks(target, prompt, n); got != want {
		t.Fatalf("Leaks(%q, %q, %d) = %v, want %v", target, prompt, n, got, want)
	}
	for _, s := range []string{target, prompt} {
		if got, want := HasPII(s), oracleHasPII(s); got != want {
			t.Fatalf("HasPII(%q) = %v, want %v", s, got, want)
		}
		if oracleHasPII(s) && !mayHavePII(s) {
			t.Fatalf("mayHavePII(%q) = false but the regexps match", s)
		}
		if got, want := IsEnglish(s, 0.9, 0.08), oracleIsEnglish(s, 0.9, 0.08); got != want {
			t.Fatalf("IsEnglish(%q) = %v, want %v", s, got, want)
		}
		// Check's form, given the words the leak check splits.
		for _, minStop := range []float64{0.08, 0.5} {
			sc := new(leakScratch)
			stops := sc.addTarget(s, &sc.long)
			if got, want := isEnglishCounted(s, len(sc.tids), stops, 0.9, minStop), oracleIsEnglish(s, 0.9, minStop); got != want {
				t.Fatalf("isEnglishCounted(%q, minStop %v) = %v, want %v", s, minStop, got, want)
			}
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMayHavePIIExact(t *testing.T) {
	// mayHavePII must be exactly "one of mayPIIRe matches".
	var res []func(string) bool
	for _, p := range mayPIIRe {
		res = append(res, mustCompile(p).MatchString)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := "0123456789 .-+@:/wW(ax\n\xd7\xb0\xab" // high bytes whose low bits are W, 0, +
	for i := 0; i < 200000; i++ {
		b := make([]byte, rng.IntN(24))
		for j := range b {
			b[j] = alpha[rng.IntN(len(alpha))]
		}
		s := string(b)
		want := false
		for _, m := range res {
			want = want || m(s)
		}
		if got := mayHavePII(s); got != want {
			t.Fatalf("mayHavePII(%q) = %v, want %v", s, got, want)
		}
	}
}

var (
	realOnce  sync.Once
	realTexts []string
)

// loadRealTexts returns the texts and titles of the shared sample data.
func loadRealTexts(t *testing.T) []string { return loadRealTextsTB(t) }

func loadRealTextsTB(t testing.TB) []string {
	dir := sharedtest.Path(t, "data")
	realOnce.Do(func() {
		var paths []string
		for _, g := range []string{"amazon/*", "twitter/*", "reddit/*", "blogger/*"} {
			m, _ := filepath.Glob(filepath.Join(dir, g))
			paths = append(paths, m...)
		}
		recs, _, err := source.Collect(context.Background(), paths, source.Adapters(source.Options{}), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, s := range []string{r.Text, r.Title, r.ParentText, r.ItemTitle} {
				if s != "" {
					realTexts = append(realTexts, s)
				}
			}
		}
	})
	return realTexts
}

// TestChecksMatchOraclesOnRealData runs the optimised checks and their
// oracles on the shared data: each text as a target against a prompt made
// of its neighbours and, every other time, a re-cased part of itself.
func TestChecksMatchOraclesOnRealData(t *testing.T) {
	texts := loadRealTexts(t)
	// Every text takes half a minute (the oracles are slow); a sample of
	// them by default, all with HUMANLLM_QC_ORACLE_ALL=1.
	step := 7
	if testing.Short() || raceEnabled {
		step = 61
	}
	if os.Getenv("HUMANLLM_QC_ORACLE_ALL") == "1" {
		step = 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	leaks := 0
	for i := 2; i < len(texts); i += step {
		target := texts[i]
		prompt := texts[i-1] + "\n" + texts[i-2]
		if i%2 == 0 {
			ws := strings.Fields(target)
			a := rng.IntN(len(ws) + 1)
			b := a + rng.IntN(len(ws)-a+1)
			part := strings.Join(ws[a:b], " ")
			if i%4 == 0 {
				part = strings.ToUpper(part)
			}
			prompt = texts[i-1] + " " + part + " " + texts[i-2]
		}
		n := []int{12, 12, 12, 3, 5, 30}[i%6]
		checkAgainstOracles(t, target, prompt, n)
		if Leaks(target, prompt, n) {
			leaks++
		}
	}
	if leaks == 0 {
		t.Fatal("no leak at all: the test data does not exercise Leaks")
	}
}

// FuzzChecks compares the optimised checks with the oracles on arbitrary
// strings.
func FuzzChecks(f *testing.F) {
	for _, s := range []string{
		"write to me at jane.doe@example.com anytime", "call me on (555) 123-4567 after six",
		"my number is +44 20 7946 0958 ok", "see https://example.com/reset?token=abcdef123456 for details",
		"WWW.x.com/?KEY=1234567", "İt's ſo K \xff don't 2004-05-24 555 1234", "a'b 'c' d'' ’e",
		"call+1 555 123 4567", "_a@b.co_ x_y@z.io", "x(555)123-4567y", "é(555) 123-4567é", "++44 20 7946 0958",
		"mail: a.b@c-d.\u212aom!", "see <https://u:p@h.com/x>", "www.a.com?sid=abcdefgh&x", "\xe2555-123-4567\x82",
	} {
		f.Add(s, s+" and more", 3)
		f.Add("one two three four five", "x one TWO three, four five y", 12)
		f.Add("Straße ÉCOLE \u212aelvin İt one", "x STRASSE straße école kelvin i̇t one y", 3)
	}
	f.Fuzz(func(t *testing.T, target, prompt string, n int) {
		if n <= 0 || n > 40 {
			n = 12
		}
		checkAgainstOracles(t, target, prompt, n)
		checkAgainstOracles(t, prompt, target, n)
	})
}

// TestCheckMessagesJoin: Check scans the prompt messages in place; the
// result equals Leaks on the joined prompt.
func TestCheckMessagesJoin(t *testing.T) {
	o := DefaultOptions()
	tw := strings.Fields(longTarget)
	for k := 0; k <= len(tw); k++ {
		s := tasks.Sample{Task: "action", Messages: []tasks.Message{
			{Role: "system", Content: strings.Join(tw[:k], " ")},
			{Role: "user", Content: strings.Join(tw[k:], " ")},
			{Role: "assistant", Content: longTarget},
		}}
		want := ""
		if oracleLeaks(longTarget, s.Messages[0].Content+"\n"+s.Messages[1].Content, o.LeakShingle) {
			want = ReasonTargetLeak
		}
		if got := Check(s, o); got != want {
			t.Fatalf("split at %d: %q, want %q", k, got, want)
		}
	}
}

func mustCompile(p string) *regexp.Regexp { return regexp.MustCompile(p) }

// BenchmarkCheckRealData runs Check on samples shaped like the pipeline's:
// a system prompt, a prompt of five earlier texts, a text as the target.
func BenchmarkCheckRealData(b *testing.B) {
	texts := loadRealTextsTB(b)
	var samples []tasks.Sample
	bytes := 0
	for i := 5; i < len(texts); i += 3 {
		prompt := strings.Join(texts[i-5:i], "\n\n")
		s := tasks.Sample{Task: "action.post", Messages: []tasks.Message{
			{Role: "system", Content: "You simulate a real person from their description and their own past writing."},
			{Role: "user", Content: prompt}, {Role: "assistant", Content: texts[i]}}}
		samples = append(samples, s)
		bytes += len(prompt) + len(texts[i])
	}
	o := DefaultOptions()
	b.SetBytes(int64(bytes))
	for b.Loop() {
		for _, s := range samples {
			Check(s, o)
		}
	}
}

// TestLeaksSmallVocabulary compares Leaks with the oracle on texts drawn
// from a handful of words, where long shared runs, partial runs and
// repeated n-grams are common (random strings almost never leak).
func TestLeaksSmallVocabulary(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	vocab := []string{"the", "The", "cat", "sat", "on", "mat", "İt", "it's", "a,", "(dog)", "ÉCOLE", "école", "x", "kat", "\u212aAT", "averylongword", "AVERYLONGWORD"}
	text := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(ws, " ")
	}
	leaks := 0
	for trial := 0; trial < 20000; trial++ {
		target := text(1 + rng.IntN(20))
		prompt := text(rng.IntN(80))
		if rng.IntN(2) == 0 { // plant a piece of the target
			tw := strings.Fields(target)
			a := rng.IntN(len(tw))
			b := a + rng.IntN(len(tw)-a+1)
			prompt += " " + strings.Join(tw[a:b], " ") + " " + text(rng.IntN(5))
		}
		n := 2 + rng.IntN(6)
		want := oracleLeaks(target, prompt, n)
		if want {
			leaks++
		}
		if got := Leaks(target, prompt, n); got != want {
			t.Fatalf("Leaks(%q, %q, %d) = %v, want %v", target, prompt, n, got, want)
		}
		// The same prompt split into messages at a word boundary.
		pw := strings.Fields(prompt)
		k := rng.IntN(len(pw) + 1)
		msgs := []tasks.Message{{Content: strings.Join(pw[:k], " ")}, {Content: strings.Join(pw[k:], " ")}}
		if got := leaksMessages(target, msgs, n); got != oracleLeaks(target, msgs[0].Content+"\n"+msgs[1].Content, n) {
			t.Fatalf("leaksMessages(%q, %q, %d) = %v", target, msgs, n, got)
		}
	}
	if leaks < 1000 {
		t.Fatalf("only %d leaking cases", leaks)
	}
}

// refKey is the key of the word w by its definition (see vocabSlot),
// with d numbering the long words.
func refKey(w string, d *longWords) uint64 {
	lw := lowerWord(nil, w)
	if len(lw) <= 8 {
		return packWord(lw)
	}
	var buf []byte
	return uint64(d.number(w, hashWord(w), &buf)) << 8
}

// TestAppendKeys holds the mask-driven splitter of the leak check, which
// keys each word as it ends, to wordIter's words keyed one by one by
// refKey, on random texts of ASCII word and separator bytes, apostrophes,
// letters, digits and punctuation of longer runes and invalid bytes, at
// every alignment, and then on the shared real texts.
func TestAppendKeys(t *testing.T) {
	sc := new(leakScratch)
	var got, want longWords
	check := func(s string) {
		t.Helper()
		got.reset()
		want.reset()
		var wk []uint64
		it := wordIter{s: s}
		for {
			start, end, ok := it.nextSpan()
			if !ok {
				break
			}
			wk = append(wk, refKey(s[start:end], &want))
		}
		if gk := sc.appendKeys(nil, s, &got); !slices.Equal(gk, wk) {
			t.Fatalf("appendKeys(%q) = %x, want %x", s, gk, wk)
		}
	}
	alphabet := []string{"a", "Z", "7", "'", " ", ",", ".", "\n", "é", "İ", "٣", "’", "—", "\ufffd", "\xff", "\xe2\x80", "👋", "@"}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 30000 {
		check(randtext.Join(rng, alphabet, 40))
	}
	if !t.Failed() {
		for _, s := range loadRealTexts(t) {
			check(s)
		}
	}
}

// TestWordKey holds the key of a word to its definition (packWord of its
// lower-cased bytes when they are at most 8; else a number, shifted by 8,
// that two words share exactly when they are the same lower-cased), for
// every word of random texts (at every offset and length, near the end of
// the text too, with runes whose lower case is shorter, longer or ASCII),
// and the stopword flag of a new word to isStopword.
func TestWordKey(t *testing.T) {
	alphabet := []string{"a", "Z", "q", "M", "7", "'", " ", ".", "é", "İ", "\u212a", "\u2126", "ẞ", "\xff", "aaaa"}
	rng := rand.New(rand.NewPCG(13, 14))
	sc := new(leakScratch)
	var long longWords
	for k := range 20000 {
		if k%50 == 0 {
			long.reset()
		}
		nums := map[string]uint64{}
		for key, lw := range long.words() {
			nums[lw] = key
		}
		s := randtext.Join(rng, alphabet, 40)
		if rng.IntN(3) == 0 {
			s = strings.ToLower(s)
		}
		sc.reset()
		it := wordIter{s: s}
		for {
			start, end, ok := it.nextSpan()
			if !ok {
				break
			}
			w := s[start:end]
			key := sc.wordKey(s, start, end, &long)
			lw := string(lowerWord(nil, w))
			if len(lw) <= 8 {
				if want := packWord(lw); key != want {
					t.Fatalf("wordKey(%q, %d, %d) = %x, want %x", s, start, end, key, want)
				}
			} else if key&0xff != 0 || key == 0 {
				t.Fatalf("wordKey(%q) = %x for a long word", w, key)
			} else if old, ok := nums[lw]; ok && old != key {
				t.Fatalf("wordKey(%q) = %x, was %x", w, key, old)
			} else {
				for other, k := range nums {
					if k == key && other != lw {
						t.Fatalf("wordKey(%q) = %x, the key of %q", w, key, other)
					}
				}
				nums[lw] = key
			}
			if id := sc.vocabAdd(key); sc.vstop[id] != isStopword(w) {
				t.Fatalf("stopword flag of %q: %v", w, sc.vstop[id])
			}
		}
	}
}

// TestShortTarget holds shortTarget, which counts no further than it
// needs, to the full counts, on random texts of spaces (Unicode ones
// too), runes of one to four bytes and invalid bytes, with limits around
// their lengths.
func TestShortTarget(t *testing.T) {
	alphabet := []string{"a", "bc", " ", "\t", "\n", "\u00a0", "\u2003", "é", "€", "👋", "\xff", "\xe2\x80"}
	rng := rand.New(rand.NewPCG(15, 16))
	short := 0
	for range 50000 {
		s := randtext.Join(rng, alphabet, 30)
		minChars, minWords := rng.IntN(len(s)+3)-1, rng.IntN(12)-1
		want := utf8.RuneCountInString(s) < minChars || len(strings.Fields(s)) < minWords
		if got := shortTarget(s, minChars, minWords); got != want {
			t.Fatalf("shortTarget(%q, %d, %d) = %v, want %v", s, minChars, minWords, got, want)
		}
		if want {
			short++
		}
	}
	if short < 5000 || short > 45000 {
		t.Fatalf("%d of 50000 short: the test does not exercise both answers", short)
	}
}

// words returns the words d numbers, by key (see wordKey).
func (d *longWords) words() map[uint64]string {
	m := map[uint64]string{}
	for _, e := range d.slots {
		if e.gen == d.gen {
			m[uint64(e.num)<<8] = string(d.arena[e.off : e.off+e.len])
		}
	}
	return m
}

// isEnglishCounted is isEnglishLetters over s's own letterCounts: the
// form the tests hold to oracleIsEnglish.
func isEnglishCounted(s string, words, stops int, minASCII, minStop float64) bool {
	return isEnglishLetters(letterCounts(s), words, stops, minASCII, minStop)
}
