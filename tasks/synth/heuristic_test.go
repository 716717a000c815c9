package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/humanllm/humanllm/internal/randtext"
	"github.com/humanllm/humanllm/tasks"
)

const (
	formalBlogger = "1007188.male.48.Religion.Libra.xml"       // web announcements, third person
	casualBlogger = "1084668.female.15.Student.Capricorn.xml"  // chat-style teen blog
	personalBlog  = "1070540.female.36.Technology.Scorpio.xml" // diary, many feelings
	shortBlogger  = "1000331.female.37.indUnk.Leo.xml"         // 13 posts
)

func texts(u *tasks.User) []string {
	var out []string
	for _, r := range u.Records {
		out = append(out, r.Text)
	}
	return out
}

// allTopics is the topic of every record of u, as a.Topic gives them.
func allTopics(u *tasks.User, a *tasks.Artifacts) []string {
	out := make([]string, len(u.Records))
	for i := range out {
		out[i] = a.Topic(i)
	}
	return out
}

func synthJSON(t *testing.T, u *tasks.User) string {
	t.Helper()
	a, err := NewHeuristic(DefaultHeuristicConfig()).Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	a.Topics = allTopics(u, &a)
	b, _ := json.Marshal(a)
	return string(b)
}

func TestHeuristicDeterministic(t *testing.T) {
	for _, u := range []*tasks.User{loadBlogger(t, personalBlog), loadBlogger(t, casualBlogger), loadTwitter(t, "RepCloakroom")} {
		first := synthJSON(t, u)
		for i := 0; i < 5; i++ {
			// rebuild the meta map so its iteration order changes
			m := map[string]string{}
			for k, v := range u.Meta {
				m[k] = v
			}
			u.Meta = m
			if got := synthJSON(t, u); got != first {
				t.Fatalf("%s: run %d differs:\n%s\n%s", u.ID, i, first, got)
			}
		}
	}
}

var firstPersonRe = regexp.MustCompile(`(?i)\b(i|i'm|im|i've|i'd|i'll|me|my|myself)\b`)

func checkArtifacts(t *testing.T, u *tasks.User, a tasks.Artifacts) {
	t.Helper()
	if a.Backend != "heuristic" {
		t.Errorf("backend %q", a.Backend)
	}
	if n := wordCount(a.Persona); n == 0 || n > 100 {
		t.Errorf("%s: persona has %d words: %s", u.ID, n, a.Persona)
	}
	if !strings.HasPrefix(a.Persona, "The user") {
		t.Errorf("persona not third person: %s", a.Persona)
	}
	if a.Profile != "" {
		if n := wordCount(a.Profile); n < 100 || n > 400 {
			t.Errorf("%s: profile has %d words", u.ID, n)
		}
	}
	if !strings.HasPrefix(a.Style, "The user writes") {
		t.Errorf("style: %q", a.Style)
	}
	if a.Topics != nil || a.TopicOf == nil {
		t.Fatalf("topics %d given, not on demand", len(a.Topics))
	}
	for i, tp := range allTopics(u, &a) {
		if tp != "" && normSpace(tp) == normSpace(u.Records[i].Text) {
			t.Errorf("topic %d equals the text: %q", i, tp)
		}
		if wordCount(tp) > 16 {
			t.Errorf("topic %d too long: %q", i, tp)
		}
	}
	if len(a.Thoughts) > DefaultHeuristicConfig().MaxThoughts {
		t.Errorf("%d thoughts over the cap", len(a.Thoughts))
	}
	for _, th := range a.Thoughts {
		if th.Record < 0 || th.Record >= len(u.Records) {
			t.Fatalf("thought record %d out of range", th.Record)
		}
		src := u.Records[th.Record].Text
		if !strings.Contains(src, th.Thought) {
			t.Errorf("thought not verbatim in record %d: %q", th.Record, th.Thought)
		}
		if !firstPersonRe.MatchString(th.Thought) {
			t.Errorf("thought not first person: %q", th.Thought)
		}
		if th.Scenario == "" || strings.Contains(th.Scenario, th.Thought) || strings.Contains(normSpace(th.Scenario), normSpace(th.Thought)) {
			t.Errorf("scenario %q contains thought %q", th.Scenario, th.Thought)
		}
		if regexp.MustCompile(`\bI\b`).MatchString(th.Scenario) {
			t.Errorf("scenario still first person: %q", th.Scenario)
		}
	}
}

func TestHeuristicBlogger(t *testing.T) {
	h := NewHeuristic(DefaultHeuristicConfig())
	for _, name := range []string{formalBlogger, casualBlogger, personalBlog, shortBlogger} {
		u := loadBlogger(t, name)
		a, err := h.Synthesize(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		checkArtifacts(t, u, a)
		if !strings.Contains(a.Persona, u.Meta["age"]+"-year-old") {
			t.Errorf("persona lacks the age from metadata: %s", a.Persona)
		}
		if a.Profile == "" {
			t.Errorf("%s: no profile from %d posts", name, len(u.Records))
		}
	}
	// The diary author: many thoughts, self-description and family.
	u := loadBlogger(t, personalBlog)
	a, _ := h.Synthesize(context.Background(), u)
	if len(a.Thoughts) != 20 {
		t.Errorf("diary author: %d thoughts, want the cap 20", len(a.Thoughts))
	}
	for _, want := range []string{"36-year-old woman", "technology", "84 blog posts", "husband"} {
		if !strings.Contains(a.Persona, want) {
			t.Errorf("persona lacks %q: %s", want, a.Persona)
		}
	}
	// Thoughts span the window (evenly spaced picks), in record order.
	lo := historyWindow(u.Records, DefaultHeuristicConfig().MaxHistoryChars)
	if lo == 0 {
		t.Fatalf("the diary's %d posts fit in the window", len(u.Records))
	}
	if a.Thoughts[0].Record < lo || a.Thoughts[0].Record > lo+10 || a.Thoughts[19].Record < (lo+len(u.Records))/2 {
		t.Errorf("thoughts do not span the window [%d, %d): first %d last %d", lo, len(u.Records), a.Thoughts[0].Record, a.Thoughts[19].Record)
	}
	// A thought in a record's first sentence gets a topic scenario.
	cfg := DefaultHeuristicConfig()
	cfg.MaxThoughts = 5
	small := NewHeuristic(cfg).Thoughts(&tasks.User{Records: []tasks.Record{{Text: "I really hate rainy Mondays at the office. Then it got worse."}}}, nil)
	if len(small) != 1 || !strings.HasPrefix(small[0].Scenario, "The user was writing about ") {
		t.Errorf("first-sentence thought: %+v", small)
	}
}

func TestHeuristicFormalVsCasual(t *testing.T) {
	f := MeasureStyle(texts(loadBlogger(t, formalBlogger)))
	c := MeasureStyle(texts(loadBlogger(t, casualBlogger)))
	for _, s := range []StyleFeatures{f, c} {
		if s.MeanSentenceWords < 3 || s.MeanSentenceWords > 40 || s.MATTR < 0.3 || s.MATTR > 1 || s.FScore < 20 || s.FScore > 80 {
			t.Errorf("features out of sane range: %+v", s)
		}
		for _, r := range []float64{s.LowercaseShare, s.CapsWordRate, s.EmojiRate, s.FirstPersonRate, s.ContractionRate, s.InformalRate} {
			if r < 0 || r > 1 {
				t.Errorf("rate out of [0,1]: %+v", s)
			}
		}
	}
	if !(c.InformalRate > f.InformalRate+0.01 && c.LowercaseShare > f.LowercaseShare+0.3 && f.FScore > c.FScore+3 && c.FirstPersonRate > f.FirstPersonRate+0.03) {
		t.Errorf("formal and casual authors not told apart:\nformal %+v\ncasual %+v", f, c)
	}
	if sim := StyleSimilarity(f, c); sim > 0.7 {
		t.Errorf("formal/casual similarity %v too high", sim)
	}
	if df, dc := DescribeStyle(f), DescribeStyle(c); !strings.Contains(df, "tone is formal") || !strings.Contains(dc, "tone is casual") {
		t.Errorf("descriptions:\n%s\n%s", df, dc)
	}
	// The same author's halves are more alike than the two authors.
	ct := texts(loadBlogger(t, casualBlogger))
	h1, h2 := MeasureStyle(ct[:len(ct)/2]), MeasureStyle(ct[len(ct)/2:])
	if StyleSimilarity(h1, h2) <= StyleSimilarity(h1, f) {
		t.Errorf("self similarity %v not above cross %v", StyleSimilarity(h1, h2), StyleSimilarity(h1, f))
	}
}

func TestHeuristicTwitter(t *testing.T) {
	u := loadTwitter(t, "RepCloakroom")
	a, err := NewHeuristic(HeuristicConfig{}).Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	checkArtifacts(t, u, a)
	for _, want := range []string{"tweets", "June 2017", "account description"} {
		if !strings.Contains(a.Persona, want) {
			t.Errorf("persona lacks %q: %s", want, a.Persona)
		}
	}
	if strings.Contains(a.Persona, "http") {
		t.Errorf("persona leaks a URL: %s", a.Persona)
	}
}

func TestHeuristicEdgeCases(t *testing.T) {
	h := NewHeuristic(HeuristicConfig{})
	a, err := h.Synthesize(context.Background(), &tasks.User{})
	if err != nil || a.Persona != "" || a.Backend != "heuristic" {
		t.Fatalf("empty user: %+v %v", a, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Synthesize(ctx, &tasks.User{}); err == nil {
		t.Fatal("cancelled context not reported")
	}
	// Amazon-like reviews: rating and categories, topic from item title.
	u := &tasks.User{Source: tasks.SourceAmazon, Records: []tasks.Record{
		{Kind: tasks.KindReview, Community: "Guitars", Rating: 5, Title: "great", ItemTitle: "Nylon strings", Text: "These strings sound warm and stay in tune. I love them.", Time: time.Date(2013, 1, 2, 0, 0, 0, 0, time.UTC).Unix()},
		{Kind: tasks.KindReview, Community: "Guitars", Rating: 3, Text: "The tuner works but the clip is weak and the display is dim.", Time: time.Date(2014, 3, 2, 0, 0, 0, 0, time.UTC).Unix()},
	}}
	a, _ = h.Synthesize(context.Background(), u)
	for _, want := range []string{"Amazon shopper", "2 product reviews", "Guitars", "4.0 out of 5"} {
		if !strings.Contains(a.Persona, want) {
			t.Errorf("amazon persona lacks %q: %s", want, a.Persona)
		}
	}
	if a.Profile != "" {
		t.Errorf("profile from 2 records: %s", a.Profile)
	}
	if a.Topic(0) != "a review of Nylon strings: great" || a.Topic(1) == "" || a.Topic(2) != "" || a.Topic(-1) != "" {
		t.Errorf("topics %q", allTopics(u, &a))
	}
}

func BenchmarkHeuristicLargeUser(b *testing.B) {
	u := loadBlogger(b, "109656.male.36.LawEnforcement-Security.Pisces.xml") // 428 posts
	h := NewHeuristic(HeuristicConfig{})
	for b.Loop() {
		h.Synthesize(context.Background(), u)
	}
}

// TestHistoryWindow: the window is the latest records whose titles and
// texts total at most the bound; the record that would cross it is out,
// the latest record always in; 0 is the whole history.
func TestHistoryWindow(t *testing.T) {
	rec := func(title string, n int) tasks.Record {
		return tasks.Record{Title: title, Text: strings.Repeat("a", n)}
	}
	recs := []tasks.Record{rec("", 50), rec("", 40), rec("ttt", 27), rec("", 30)} // sizes 50 40 30 30
	for _, c := range []struct{ max, lo int }{
		{0, 0}, {-1, 0}, {1, 3}, {29, 3}, {30, 3}, {59, 3}, {60, 2}, {99, 2}, {100, 1}, {149, 1}, {150, 0}, {1 << 20, 0},
	} {
		if lo := historyWindow(recs, c.max); lo != c.lo {
			t.Errorf("max %d: window starts at %d, want %d", c.max, lo, c.lo)
		}
	}
	if lo := historyWindow(nil, 10); lo != 0 {
		t.Errorf("no records: %d", lo)
	}
}

// windowUser has 40 old posts about zebras (top keywords, a role,
// a relation, thoughts) and 10 recent ones about gardening, each of about
// 300 bytes: a 3100-byte window holds exactly the recent ten.
func windowUser() *tasks.User {
	u := &tasks.User{Source: tasks.SourceBlogger, ID: "w", Meta: map[string]string{}}
	t0 := time.Date(2004, 1, 5, 0, 0, 0, 0, time.UTC).Unix()
	for i := 0; i < 50; i++ {
		var text string
		if i < 40 {
			text = fmt.Sprintf("Old post %d. I'm a zookeeper and my zebras need feeding again today. I truly believe zebras are the finest animals anywhere. The zebras stripes looked sharp at the zoo this morning, and the zebra herd grazed calmly near the fence while visitors watched. My brother came along.", i)
		} else {
			text = fmt.Sprintf("New post %d. The garden tomatoes ripened early this summer, and the compost pile is finally warm. Tomatoes and peppers need water every evening; the garden hose leaks near the shed. Seedlings of basil and parsley are coming up in the greenhouse trays beside the tomatoes and garden tools today.", i)
		}
		u.Records = append(u.Records, tasks.Record{Kind: tasks.KindPost, Time: t0 + int64(i)*86400*7, Title: fmt.Sprintf("Week %d", i), Text: text})
	}
	return u
}

// TestHeuristicWindowMeasures: the text measures read only the window, the
// counts the whole history; topics do not depend on the window; thoughts
// come from the window only.
func TestHeuristicWindowMeasures(t *testing.T) {
	u := windowUser()
	size := 0
	for _, r := range u.Records[40:] {
		size += len(r.Title) + len(r.Text)
	}
	cfg := DefaultHeuristicConfig()
	cfg.MaxHistoryChars = size
	if lo := historyWindow(u.Records, size); lo != 40 {
		t.Fatalf("window of %d bytes starts at %d, want 40", size, lo)
	}
	whole := DefaultHeuristicConfig()
	whole.MaxHistoryChars = 0
	win, err := NewHeuristic(cfg).Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	all, err := NewHeuristic(whole).Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	// Counts and dates: the whole history either way.
	for _, a := range []tasks.Artifacts{win, all} {
		if !strings.Contains(a.Persona, "50 blog posts between January 2004 and December 2004") {
			t.Errorf("persona lacks the whole history's counts: %s", a.Persona)
		}
	}
	// Keywords, self-descriptions, relations: from the window only.
	if !strings.Contains(all.Persona, "zebras") || !strings.Contains(all.Persona, "zookeeper") || !strings.Contains(all.Persona, "their brother") {
		t.Errorf("whole-history persona lacks the old posts' words: %s", all.Persona)
	}
	if strings.Contains(win.Persona, "zebra") || strings.Contains(win.Persona, "zookeeper") || strings.Contains(win.Persona, "brother") {
		t.Errorf("windowed persona reads outside the window: %s", win.Persona)
	}
	if !strings.Contains(win.Persona, "garden") || !strings.Contains(win.Persona, "tomatoes") {
		t.Errorf("windowed persona lacks the window's words: %s", win.Persona)
	}
	// The style: that of the window's texts alone.
	var wt []string
	for _, r := range u.Records[40:] {
		wt = append(wt, r.Text)
	}
	if want := DescribeStyle(MeasureStyle(wt)); win.Style != want {
		t.Errorf("windowed style %q, want that of the window %q", win.Style, want)
	}
	// Topics: the same for every record, in the window or not.
	h := NewHeuristic(cfg)
	want := h.Topics(u)
	if got := allTopics(u, &win); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("windowed topics %q, want %q", got, want)
	}
	if got := allTopics(u, &all); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("whole-history topics %q, want %q", got, want)
	}
	// Thoughts: the old posts' only with the whole history.
	if len(win.Thoughts) != 0 {
		t.Errorf("windowed thoughts from outside the window: %+v", win.Thoughts)
	}
	if len(all.Thoughts) == 0 || all.Thoughts[0].Record != 0 {
		t.Errorf("whole-history thoughts %+v, want them from the first records", all.Thoughts)
	}
	if got := h.Thoughts(u, nil); len(got) != 0 {
		t.Errorf("Thoughts reads outside the window: %+v", got)
	}
	// The window always holds the latest record, however long.
	cfg.MaxHistoryChars = 1
	one, _ := NewHeuristic(cfg).Synthesize(context.Background(), u)
	if !strings.Contains(one.Persona, "50 blog posts") || strings.Contains(one.Persona, "zebra") {
		t.Errorf("one-record window: %s", one.Persona)
	}
}

// TestSalientPicks holds salientPicks to what the profile once did: sort
// every record by score (stable, highest first), then take the first
// maxSalient with a topic. Scores repeat often to exercise the ties.
func TestSalientPicks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 2000; trial++ {
		n := rng.IntN(40)
		scores := make([]float64, n)
		hasTopic := make([]bool, n)
		for i := range scores {
			scores[i] = float64(rng.IntN(6))
			hasTopic[i] = rng.IntN(4) != 0
		}
		var s salientPicks
		for i := range scores {
			toks := make([]wordTok, i%3)
			for k := range toks {
				toks[k] = wordTok{off: int32(k), id: int32(i)}
			}
			s.offer(i, scores[i], func() (bool, bool) { return hasTopic[i], i%2 == 0 }, toks)
			clear(toks) // the pick keeps a copy
		}
		var got []int
		for _, p := range s.top {
			got = append(got, p.i)
			if want := p.i % 3 * (1 - p.i%2); len(p.toks) != want { // the words only when the topic is made of them
				t.Fatalf("pick %d keeps %d words, want %d", p.i, len(p.toks), want)
			}
			for k, tk := range p.toks {
				if tk != (wordTok{off: int32(k), id: int32(p.i)}) {
					t.Fatalf("pick %d keeps word %+v", p.i, tk)
				}
			}
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
		var want []int
		for _, i := range order {
			if len(want) == maxSalient {
				break
			}
			if hasTopic[i] {
				want = append(want, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("scores %v topics %v: picks %v, want %v", scores, hasTopic, got, want)
		}
	}
}

// TestHasTopic holds hasTopic to topicOf on every record of the shared
// data and on records built to reach each of its cases: it answers
// whether the topic is not empty, and asks for the topic only when its
// shortcuts cannot tell.
func TestHasTopic(t *testing.T) {
	recs := []tasks.Record{
		{Kind: tasks.KindReview, ItemTitle: "A Book", Text: "ok"},
		{Kind: tasks.KindReview, Text: "fine fine fine"},
		{Title: "Same text", Text: "same   TEXT"},
		{Title: "Other", Text: "same text"},
		{Title: "http://x.y", Text: "words words"},
		{Text: "apple banana cherry"},
		{Text: "apple apple banana apple"},
		{Text: "the and of"},
		{Text: "   "},
		{Title: "only title here", Text: ""},
		{Text: "apple"},
		{Text: "Apple's apple apples"},
	}
	for _, u := range loadRealUsers(t) {
		recs = append(recs, u.Records...)
	}
	lx := getLexicon()
	defer putLexicon(lx)
	for _, r := range recs {
		toks := tokenize(nil, normApos(r.Text), lx)
		want := topicOf(r, 4, lx, &lx.topic, toks)
		asked := false
		got, words := hasTopic(&r, 4, lx, toks, func() string { asked = true; return want })
		if got != (want != "") {
			t.Fatalf("record %+v: hasTopic %v, topic %q", r, got, want)
		}
		if !asked && want == "" {
			t.Fatalf("record %+v: hasTopic told without the topic", r)
		}
		if !words && topicOf(r, 4, lx, &lx.topic, nil) != want {
			t.Fatalf("record %+v: the topic is made from its words, hasTopic says not", r)
		}
	}
}

// FuzzCleanMeta holds cleanMeta, which returns a clean title as it is, to
// cleanMetaSlow, which always strips, joins, trims and cuts.
func FuzzCleanMeta(f *testing.F) {
	for _, s := range []string{"", "Great product", "Great  product", " lead", "trail ", "-dash", "dash-", "a,b;c|d",
		"see http://x.y", "www.site.com", "mail me@x.org", "tab\there", "new\nline", "caf\u00e9 time", "\u00a0nbsp",
		"one two three four five six seven eight nine", "x", ",", "a - b", "@handle", "wwW. ok", "a:// b"} {
		f.Add(s, 8)
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n%20 + 1
		if n < 1 {
			n += 20
		}
		if got, want := cleanMeta(s, n), cleanMetaSlow(s, n); got != want {
			t.Fatalf("cleanMeta(%q, %d) = %q, want %q", s, n, got, want)
		}
	})
}

// TestFitWords holds fitWords to what it did: join, count, drop the last
// sentence, until the text fits (the first sentence always stays), on
// random sentences with runs of spaces, empty ones and ones of spaces only.
func TestFitWords(t *testing.T) {
	old := func(sents []string, maxWords int) string {
		for len(sents) > 1 && wordCount(strings.Join(sents, " ")) > maxWords {
			sents = sents[:len(sents)-1]
		}
		return strings.Join(sents, " ")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "bc", " ", "  ", "\t", ".", "\u00a0", "x y"}
	for range 5000 {
		sents := make([]string, rng.IntN(8))
		for i := range sents {
			sents[i] = randtext.Join(rng, alphabet, 6)
		}
		maxWords := rng.IntN(12)
		if got, want := fitWords(sents, maxWords), old(sents, maxWords); got != want {
			t.Fatalf("fitWords(%q, %d) = %q, want %q", sents, maxWords, got, want)
		}
	}
}

// TestWordCounterTop holds wordCounter.top (a best-k selection that skips
// a word by its count alone) to topWords over the same counts, with many
// ties in count and more words than 4k (the selection) and fewer (a sort).
func TestWordCounterTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lx := &lexicon{}
	for trial := 0; trial < 200; trial++ {
		var c wordCounter
		counts, first := map[string]int{}, map[string]int{}
		nWords := 1 + rng.IntN(120)
		for pos := 0; pos < 3*nWords; pos++ {
			w := fmt.Sprintf("w%d", rng.IntN(nWords))
			if _, ok := counts[w]; !ok {
				first[w] = pos
			}
			counts[w]++
			c.add(lx.id(w), pos)
		}
		for _, k := range []int{1, 3, 12} {
			if got, want := c.top(lx, k), topWords(counts, first, k); !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d k=%d: top = %v, topWords %v", trial, k, got, want)
			}
		}
	}
}

// TestKeyFilters: abbrevFilter and thirdFilter pass every key of their
// sets in any ASCII case, and a random word they reject is, lower-cased,
// none of the keys (the map lookups they save are the oracle).
func TestKeyFilters(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "aeimnorstuyvdjlpIMSAEY'.0"
	check := func(name string, kf *keyFilter, has func(string) bool, keys []string) {
		for _, k := range keys {
			for _, w := range []string{k, strings.ToUpper(k), strings.ToUpper(k[:1]) + k[1:]} {
				if !kf.mayHave(w) {
					t.Fatalf("%s rejects %q (key %q)", name, w, k)
				}
			}
		}
		rejected := 0
		for range 200000 {
			b := make([]byte, rng.IntN(9))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			w := string(b)
			if kf.mayHave(w) {
				continue
			}
			rejected++
			if has(strings.ToLower(w)) {
				t.Fatalf("%s rejects %q, which is a key", name, w)
			}
		}
		if rejected == 0 {
			t.Fatalf("%s rejected no random word", name)
		}
	}
	var abbrevs, thirds []string
	for k := range abbreviations {
		abbrevs = append(abbrevs, k)
	}
	for k := range thirdKeys {
		thirds = append(thirds, k)
	}
	check("abbrevFilter", abbrevFilter, func(w string) bool { return abbreviations[w] }, abbrevs)
	check("thirdFilter", thirdFilter, func(w string) bool { _, ok := thirdKeys[w]; return ok }, thirds)
}
