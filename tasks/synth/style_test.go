package synth

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestWords(t *testing.T) {
	got := Words("Don't stop—it’s 5pm! See http://x.com/a?b=1 now 'quoted'")
	want := []string{"Don't", "stop", "it’s", "5pm", "See", "now", "quoted"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Words = %q, want %q", got, want)
	}
}

func TestSentences(t *testing.T) {
	cases := map[string][]string{
		"Mr. Smith went to Washington. He said hi!":   {"Mr. Smith went to Washington.", "He said hi!"},
		"Wait... what?! ok":                           {"Wait...", "what?!", "ok"},
		"He said \"stop.\" Then left.\nNew line here": {"He said \"stop.\"", "Then left.", "New line here"},
		"Version 2.0 is out. J. R. R. Tolkien wrote":  {"Version 2.0 is out.", "J. R. R. Tolkien wrote"},
		"  ": nil,
	}
	for in, want := range cases {
		if got := Sentences(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Sentences(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMeasureStyleHandComputed(t *testing.T) {
	f := MeasureStyle([]string{"I love it! You are great."})
	if f.Texts != 1 || f.Sentences != 2 || f.Words != 6 {
		t.Fatalf("counts = %d/%d/%d", f.Texts, f.Sentences, f.Words)
	}
	near(t, "mean", f.MeanSentenceWords, 3)
	near(t, "median", f.MedianSentenceWords, 3)
	near(t, "mattr", f.MATTR, 1)
	near(t, "excl", f.ExclaimPerSentence, 0.5)
	near(t, "ques", f.QuestionPerSentence, 0)
	near(t, "lower", f.LowercaseShare, 0)
	near(t, "caps", f.CapsWordRate, 0) // "I" is one letter: not a caps word
	near(t, "fp", f.FirstPersonRate, 1.0/6)
	near(t, "fscore", f.FScore, 25) // pronouns i, it, you = 50% -> (0+0-50+100)/2
	near(t, "textwords", f.MeanTextWords, 6)
	near(t, "para", f.ParagraphWords, 6)

	g := MeasureStyle([]string{"omg i'm SO tired... lol", "We went to the park, and it rained :)"})
	// sentences: "omg i'm SO tired..." (4), "lol" (1), "We went ... rained :)" (8)
	if g.Sentences != 3 || g.Words != 13 || g.Texts != 2 {
		t.Fatalf("counts = %d/%d/%d", g.Texts, g.Sentences, g.Words)
	}
	near(t, "mean", g.MeanSentenceWords, 13.0/3)
	near(t, "median", g.MedianSentenceWords, 4)
	near(t, "ellipsis", g.EllipsisPerSentence, 1.0/3)
	near(t, "commas", g.CommasPerSentence, 1.0/3)
	near(t, "lower", g.LowercaseShare, 1.0/3) // only "lol"
	near(t, "caps", g.CapsWordRate, 1.0/13)   // SO
	near(t, "emoji", g.EmojiRate, 1.0/13)     // :)
	near(t, "fp", g.FirstPersonRate, 1.0/13)  // i'm
	near(t, "contr", g.ContractionRate, 1.0/13)
	near(t, "informal", g.InformalRate, 2.0/13) // omg, lol
	// articles: the; prepositions: to; pronouns: i'm, we, it; interjections: lol
	near(t, "fscore", g.FScore, (100.0*(1+1-3-1)/13+100)/2)
	near(t, "mattr", g.MATTR, 1)
	near(t, "textwords", g.MeanTextWords, 6.5)

	near(t, "emoji runes", MeasureStyle([]string{"great day 😀 🎉"}).EmojiRate, 2.0/2)
	near(t, "excl runs", MeasureStyle([]string{"Wow!!! Yes!"}).ExclaimPerSentence, 1)
	near(t, "question", MeasureStyle([]string{"Why? Because."}).QuestionPerSentence, 0.5)
	near(t, "paragraphs", MeasureStyle([]string{"one two three.\n\nfour five six.\n\nseven."}).ParagraphWords, 7.0/3)
	near(t, "url ignored", float64(MeasureStyle([]string{"see https://example.com/x now"}).Words), 2)
	if z := MeasureStyle(nil); z != (StyleFeatures{}) {
		t.Fatalf("empty input: %+v", z)
	}
}

func TestMATTR(t *testing.T) {
	var ws []string
	for i := 0; i < 100; i++ {
		ws = append(ws, "w"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	near(t, "100 distinct", mattr(ws, 100), 1)
	// window 1: 100 types; window 2 drops ws[0] and adds ws[1] again: 99 types
	near(t, "101 tokens", mattr(append(ws, ws[1]), 100), (100.0+99)/2/100)
	same := strings.Fields(strings.Repeat("x ", 150))
	near(t, "one type", mattr(same, 100), 0.01)
	// MATTR does not grow with length for a repeating text, unlike TTR
	text := strings.Repeat("the cat sat on the mat and the dog sat on the log. ", 10)
	a, b := MeasureStyle([]string{text}), MeasureStyle([]string{text + text + text})
	if math.Abs(a.MATTR-b.MATTR) > 0.02 {
		t.Fatalf("MATTR depends on length: %v vs %v", a.MATTR, b.MATTR)
	}
}

// TestMATTRCounts holds mattrIDs (byte counts below a window of 256, an
// integer sum) to the moving average as first written: a map of counts
// per window and a float64 sum, bit for bit, at windows where a count
// reaches 255 and past it.
func TestMATTRCounts(t *testing.T) {
	oracle := func(tokens []int32, w int) float64 {
		if len(tokens) <= w {
			return float64(len(slices.Compact(slices.Sorted(slices.Values(tokens))))) / float64(len(tokens))
		}
		sum, windows := 0.0, 0
		for i := 0; i+w <= len(tokens); i++ {
			m := map[int32]bool{}
			for _, id := range tokens[i : i+w] {
				m[id] = true
			}
			sum += float64(len(m))
			windows++
		}
		return sum / float64(windows) / float64(w)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	scratch := make([]uint8, 40)
	for _, w := range []int{1, 7, 100, 255, 256, 300} {
		for trial := 0; trial < 20; trial++ {
			n := 1 + rng.IntN(3*w)
			ids := 1 + rng.IntN(40)
			if trial%5 == 0 {
				ids = 1 // every token the same: a count reaches w
			}
			tokens := make([]int32, n)
			for i := range tokens {
				tokens[i] = int32(rng.IntN(ids))
			}
			got, want := mattrIDs(tokens, 40, w, scratch), oracle(tokens, w)
			if got != want {
				t.Fatalf("w=%d n=%d ids=%d: mattrIDs = %v, want %v", w, n, ids, got, want)
			}
			for _, c := range scratch {
				if c != 0 {
					t.Fatalf("w=%d: scratch left non-zero", w)
				}
			}
		}
	}
}

func TestStyleSimilarity(t *testing.T) {
	a := MeasureStyle([]string{"I love it!!! omg u r the best lol :)", "haha ya gonna go now..."})
	b := MeasureStyle([]string{"The committee approved the amendment, which concerns appropriations for the fiscal year.", "Members of the House will consider the measure on Tuesday."})
	near(t, "self a", StyleSimilarity(a, a), 1)
	near(t, "self b", StyleSimilarity(b, b), 1)
	ab, ba := StyleSimilarity(a, b), StyleSimilarity(b, a)
	near(t, "symmetric", ab, ba)
	if ab < 0 || ab > 0.6 {
		t.Fatalf("casual vs formal similarity = %v, want low", ab)
	}
	c := MeasureStyle([]string{"I love it!! lol u r great :)", "haha gonna sleep now..."})
	if ac := StyleSimilarity(a, c); ac <= ab {
		t.Fatalf("similar casual texts %v not above casual/formal %v", ac, ab)
	}
	near(t, "empty/empty", StyleSimilarity(StyleFeatures{}, StyleFeatures{}), 1)
	near(t, "empty/other", StyleSimilarity(StyleFeatures{}, a), 0)
}

func TestDescribeStyle(t *testing.T) {
	casual := DescribeStyle(MeasureStyle([]string{strings.Repeat("omg i'm soooo tired lol!!! u know... ", 10)}))
	for _, want := range []string{"The user writes short sentences", "exclamation", "lower case", "chat slang", "casual"} {
		if !strings.Contains(casual, want) {
			t.Errorf("casual description lacks %q: %s", want, casual)
		}
	}
	if DescribeStyle(StyleFeatures{}) != "" {
		t.Fatal("empty features should give empty description")
	}
}

func TestThirdPerson(t *testing.T) {
	cases := map[string]string{
		"I am happy with my dog.":                    "The user is happy with their dog.",
		"We went to our house and I have a cat.":     "They went to their house and the user has a cat.",
		"Yesterday I think I'm sick, so mom told me": "Yesterday the user thinks the user is sick, so mom told them",
		"What do I do now?":                          "What do the user do now?",
		"The US team beat us.":                       "The US team beat them.",
	}
	for in, want := range cases {
		if got := ThirdPerson(in); got != want {
			t.Errorf("ThirdPerson(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsThoughtSentence(t *testing.T) {
	yes := []string{"I think that would appeal to a lot of moms.", "i really hate mondays so much", "I'm so worried about the exam tomorrow.", "It makes me so happy to see them.", "I can't stand the noise anymore."}
	no := []string{"I went to the store.", "Do you think I should go?", "You feel great.", "I love"}
	for _, s := range yes {
		if !IsThoughtSentence(s) {
			t.Errorf("not detected: %q", s)
		}
	}
	for _, s := range no {
		if IsThoughtSentence(s) {
			t.Errorf("false positive: %q", s)
		}
	}
}

// TestMedianHistogram: median (a histogram for values below 256) against
// medianSort, which sorts a copy, as the oracle, on random slices of small,
// large and negative values.
func TestMedianHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := 0; trial < 20000; trial++ {
		n := 1 + rng.IntN(40)
		xs := make([]int, n)
		for i := range xs {
			switch r := rng.IntN(100); {
			case r < 90:
				xs[i] = rng.IntN(1 + trial%256)
			case r < 95:
				xs[i] = 250 + rng.IntN(20) // around the histogram's end
			default:
				xs[i] = -rng.IntN(3)
			}
		}
		in := slices.Clone(xs)
		got, want := median(xs), medianSort(xs)
		if got != want {
			t.Fatalf("median(%v) = %v, sorting gives %v", xs, got, want)
		}
		if !slices.Equal(xs, in) {
			t.Fatalf("median changed its input: %v -> %v", in, xs)
		}
	}
	if got := median(nil); got != 0 {
		t.Fatalf("median(nil) = %v, want 0", got)
	}
}
