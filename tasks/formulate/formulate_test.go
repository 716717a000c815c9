package formulate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/tasks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.jsonl")

const testSeed = 2025

type fixture struct {
	name string
	u    *tasks.User
	a    *tasks.Artifacts
	cat  Catalog
}

func fixtures() []fixture {
	ru, ra := redditUser()
	tu, ta := twitterUser()
	bu, ba := bloggerUser()
	au, aa, cat := amazonUser()
	return []fixture{
		{"reddit", ru, ra, nil},
		{"twitter", tu, ta, nil},
		{"blogger", bu, ba, nil},
		{"amazon", au, aa, cat},
	}
}

func userRNG(seed uint64, id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func run(cfg Config, cat Catalog, u *tasks.User, a *tasks.Artifacts, seed uint64) []tasks.Sample {
	var out []tasks.Sample
	rng := userRNG(seed, u.ID)
	for _, f := range New(cfg, cat) {
		f.Formulate(u, a, rng, func(s tasks.Sample) { out = append(out, s) })
	}
	return out
}

func byTask(ss []tasks.Sample) map[string][]tasks.Sample {
	m := map[string][]tasks.Sample{}
	for _, s := range ss {
		m[s.Task] = append(m[s.Task], s)
	}
	return m
}

func prompt(s tasks.Sample) string {
	var p []string
	for _, m := range s.Messages[:len(s.Messages)-1] {
		p = append(p, m.Content)
	}
	return strings.Join(p, "\n")
}

func target(s tasks.Sample) string { return s.Messages[len(s.Messages)-1].Content }

func TestGolden(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			ss := run(Default(), fx.cat, fx.u, fx.a, testSeed)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for _, s := range ss {
				if err := enc.Encode(s); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join("testdata", fx.name+".golden.jsonl")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./tasks/formulate -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				got := strings.Split(buf.String(), "\n")
				wl := strings.Split(string(want), "\n")
				for i := 0; i < max(len(got), len(wl)); i++ {
					var g, w string
					if i < len(got) {
						g = got[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./tasks/formulate -update if intended)", path, i+1, g, w)
					}
				}
			}
		})
	}
}

// TestGoldenCoverage checks that the fixtures exercise every variant.
func TestGoldenCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, fx := range fixtures() {
		for _, s := range run(Default(), fx.cat, fx.u, fx.a, testSeed) {
			seen[s.Task] = true
			if s.Source != fx.u.Source || s.User != fx.u.ID {
				t.Errorf("%s: source/user = %q/%q", s.Task, s.Source, s.User)
			}
			if fx.u.Name != "" && strings.Contains(prompt(s), fx.u.Name) {
				t.Errorf("%s: display name in prompt", s.Task)
			}
		}
	}
	for _, v := range []string{"action.comment", "action.post", "action.review", "thought.scenario", "style.imitation",
		"style.continuation", "style.description", "profile.history2profile", "profile.persona2profile", "item_selection"} {
		if !seen[v] {
			t.Errorf("no %s sample from the fixtures", v)
		}
	}
}

// shingles returns the n-word windows of s, lower-cased.
func shingles(s string, n int) []string {
	w := strings.Fields(strings.ToLower(s))
	var out []string
	for i := 0; i+n <= len(w); i++ {
		out = append(out, strings.Join(w[i:i+n], " "))
	}
	return out
}

func TestNoTargetLeak(t *testing.T) {
	for _, fx := range fixtures() {
		for _, seed := range []uint64{1, 2, 3, testSeed} {
			for _, s := range run(Default(), fx.cat, fx.u, fx.a, seed) {
				p, tg := prompt(s), target(s)
				if s.Task == tasks.TaskItemSelection {
					// The answer is a candidate by design; it must not be
					// in the history part.
					hist, _, _ := strings.Cut(p, "Which one of these")
					if strings.Contains(hist, tg) {
						t.Errorf("%s %s: target title in the history", fx.name, s.Task)
					}
					continue
				}
				norm := strings.Join(strings.Fields(p), " ")
				for _, sh := range shingles(tg, 8) {
					if strings.Contains(strings.ToLower(norm), sh) {
						t.Errorf("%s %s: target words %q in the prompt", fx.name, s.Task, sh)
						break
					}
				}
			}
		}
	}
}

// TestHistoryBeforeTarget: every action/style/item prompt shows only
// records strictly before the target.
func TestHistoryBeforeTarget(t *testing.T) {
	for _, fx := range fixtures() {
		for _, s := range run(Default(), fx.cat, fx.u, fx.a, testSeed) {
			if !strings.HasPrefix(s.Task, "action") && !strings.HasPrefix(s.Task, "style.imitation") {
				continue
			}
			ti := -1
			for i, r := range fx.u.Records {
				if strings.HasSuffix(target(s), strings.TrimSpace(r.Text)) {
					ti = i
				}
			}
			if ti < 0 {
				t.Fatalf("%s: target is no record's text", s.Task)
			}
			for i, r := range fx.u.Records {
				in := strings.Contains(prompt(s), cutWords(r.Text, 20))
				if i >= ti && in {
					t.Errorf("%s %s: record %d (target %d) in the prompt", fx.name, s.Task, i, ti)
				}
			}
		}
	}
}

func candidates(t *testing.T, p string) (hist, cands []string) {
	t.Helper()
	h, c, ok := strings.Cut(p, "Which one of these")
	if !ok {
		t.Fatalf("no candidate list in %q", p)
	}
	parse := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			var n int
			if _, err := fmt.Sscanf(l, "%d. ", &n); err == nil {
				_, rest, _ := strings.Cut(l, ". ")
				out = append(out, rest)
			}
		}
		return out
	}
	return parse(h), parse(c)
}

func TestItemSelection(t *testing.T) {
	u, a, cat := amazonUser()
	titleOf := map[string]string{}
	for _, r := range u.Records {
		titleOf[r.ItemID] = r.ItemTitle
	}
	for seed := uint64(0); seed < 50; seed++ {
		ss := byTask(run(Default(), cat, u, a, seed))[tasks.TaskItemSelection]
		if len(ss) != 1 {
			t.Fatalf("seed %d: %d item_selection samples, want 1", seed, len(ss))
		}
		s := ss[0]
		want := u.Records[len(u.Records)-1].ItemTitle
		if target(s) != want {
			t.Fatalf("target %q, want %q", target(s), want)
		}
		hist, cands := candidates(t, prompt(s))
		if len(cands) != 20 {
			t.Fatalf("seed %d: %d candidates, want 20", seed, len(cands))
		}
		seen := map[string]bool{}
		correct := 0
		for _, c := range cands {
			if seen[strings.ToLower(c)] {
				t.Errorf("seed %d: duplicate candidate %q", seed, c)
			}
			seen[strings.ToLower(c)] = true
			if c == want {
				correct++
			}
			if slices.Contains(hist, c) {
				t.Errorf("seed %d: candidate %q is in the history", seed, c)
			}
			for _, r := range u.Records[:len(u.Records)-1] {
				if c == cat.Title(r.ItemID) || c == r.ItemTitle {
					t.Errorf("seed %d: candidate %q was reviewed by the user", seed, c)
				}
			}
			if strings.HasPrefix(c, "Toy ") {
				t.Errorf("seed %d: candidate %q from another category though the category has enough", seed, c)
			}
		}
		if correct != 1 {
			t.Errorf("seed %d: %d correct candidates", seed, correct)
		}
		// History: the 8 earlier items, oldest first; the untitled one
		// shown by its fallback title.
		if len(hist) != 8 || hist[0] != u.Records[0].ItemTitle || hist[7] != FallbackTitle("B000K08") {
			t.Errorf("seed %d: history %q", seed, hist)
		}
	}
}

func TestItemSelectionFallbackCategory(t *testing.T) {
	u, a, _ := amazonUser()
	cat := NewMemCatalog()
	for _, r := range u.Records {
		cat.Add(r.ItemID, r.ItemTitle, r.Community)
	}
	for i := 0; i < 5; i++ { // too few in the category
		cat.Add(fmt.Sprintf("K%d", i), fmt.Sprintf("Pan %d", i), "Kitchen & Dining")
	}
	for i := 0; i < 30; i++ {
		cat.Add(fmt.Sprintf("T%02d", i), fmt.Sprintf("Toy %d", i), "Toys & Games")
	}
	ss := byTask(run(Default(), cat, u, a, 7))[tasks.TaskItemSelection]
	if len(ss) != 1 {
		t.Fatalf("%d samples", len(ss))
	}
	_, cands := candidates(t, prompt(ss[0]))
	pans := 0
	for _, c := range cands {
		if strings.HasPrefix(c, "Pan ") {
			pans++
		}
	}
	if len(cands) != 20 || pans != 5 {
		t.Errorf("%d candidates, %d from the category; want 20 and 5", len(cands), pans)
	}

	// Too small a catalog: no sample.
	small := NewMemCatalog()
	for i := 0; i < 10; i++ {
		small.Add(fmt.Sprintf("X%d", i), fmt.Sprintf("Thing %d", i), "")
	}
	if ss := byTask(run(Default(), small, u, a, 7))[tasks.TaskItemSelection]; len(ss) != 0 {
		t.Errorf("%d samples from a catalog of 10", len(ss))
	}
	// No catalog, or a user without items: nothing.
	if ss := byTask(run(Default(), nil, u, a, 7))[tasks.TaskItemSelection]; len(ss) != 0 {
		t.Errorf("%d samples without a catalog", len(ss))
	}
	ru, ra := redditUser()
	if ss := byTask(run(Default(), small, ru, ra, 7))[tasks.TaskItemSelection]; len(ss) != 0 {
		t.Errorf("%d samples for a reddit user", len(ss))
	}
}

func TestItemSelectionDescMix(t *testing.T) {
	u, a, cat := amazonUser()
	cfg := Default()
	cfg.ItemSelection.DescMix = true
	modes := map[string]int{}
	for seed := uint64(0); seed < 200; seed++ {
		s := byTask(run(cfg, cat, u, a, seed))[tasks.TaskItemSelection][0]
		p := prompt(s)
		d, h := strings.Contains(p, "You are the person described"), strings.Contains(p, "reviewed before")
		switch {
		case d && h:
			modes["both"]++
		case d:
			modes["desc"]++
		case h:
			modes["history"]++
		}
	}
	if modes["both"] == 0 || modes["desc"] == 0 || modes["history"] == 0 || modes["history"] < modes["desc"] {
		t.Errorf("modes %v", modes)
	}
}

func TestDeterminism(t *testing.T) {
	for _, fx := range fixtures() {
		a := run(Default(), fx.cat, fx.u, fx.a, 42)
		b := run(Default(), fx.cat, fx.u, fx.a, 42)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with one seed differ", fx.name)
		}
	}
	// Processing order of users does not matter: each user has its own rng.
	fs := fixtures()
	one := map[string][]tasks.Sample{}
	for _, fx := range fs {
		one[fx.name] = run(Default(), fx.cat, fx.u, fx.a, 42)
	}
	for i := len(fs) - 1; i >= 0; i-- {
		if got := run(Default(), fs[i].cat, fs[i].u, fs[i].a, 42); !reflect.DeepEqual(got, one[fs[i].name]) {
			t.Errorf("%s: depends on the order of users", fs[i].name)
		}
	}
	// Catalog insertion order does not matter.
	u, a, cat := amazonUser()
	rev := NewMemCatalog()
	all, _ := cat.index()
	for i := len(all) - 1; i >= 0; i-- {
		rev.Add(all[i], cat.title[all[i]], cat.cat[all[i]])
	}
	if !reflect.DeepEqual(run(Default(), cat, u, a, 9), run(Default(), rev, u, a, 9)) {
		t.Error("samples depend on the order of catalog additions")
	}
}

// bigUser has n long-enough records and a thought for each.
func bigUser(n int) (*tasks.User, *tasks.Artifacts) {
	u := &tasks.User{Source: tasks.SourceReddit, ID: "00000000000000aa"}
	a := &tasks.Artifacts{Persona: "A person.", Profile: "A longer profile of the person.", Style: "Plain."}
	for i := 0; i < n; i++ {
		var w []string
		for j := 0; j < 40+i; j++ {
			w = append(w, fmt.Sprintf("w%d_%d", i, j))
		}
		u.Records = append(u.Records, tasks.Record{Source: tasks.SourceReddit, Kind: tasks.KindPost, Community: "test", Time: int64(1e9 + i*day), Text: strings.Join(w, " ")})
		a.Topics = append(a.Topics, fmt.Sprintf("topic %d", i))
		a.Thoughts = append(a.Thoughts, tasks.Thought{Record: i, Scenario: fmt.Sprintf("scene %d", i), Thought: fmt.Sprintf("I think %d.", i)})
	}
	return u, a
}

func TestCaps(t *testing.T) {
	u, a := bigUser(30)
	cfg := Default()
	cfg.Action.MaxPerUser = 3
	cfg.Thought.MaxPerUser = 4
	cfg.Style.MaxPerUser = 2
	m := byTask(run(cfg, nil, u, a, 1))
	if n := len(m["action.post"]); n != 3 {
		t.Errorf("action: %d samples, want 3", n)
	}
	// The latest records are the action targets.
	for k, s := range m["action.post"] {
		if want := u.Records[29-k].Text; target(s) != want {
			t.Errorf("action %d: target is not record %d", k, 29-k)
		}
	}
	if n := len(m["thought.scenario"]); n != 4 {
		t.Errorf("thought: %d samples, want 4", n)
	}
	for k, s := range m["thought.scenario"] {
		if want := a.Thoughts[29-k].Thought; target(s) != want {
			t.Errorf("thought %d: %q, want %q", k, target(s), want)
		}
	}
	used := map[string]bool{}
	for _, v := range []string{"style.imitation", "style.continuation", "style.description"} {
		if n := len(m[v]); n != 2 {
			t.Errorf("%s: %d samples, want 2", v, n)
		}
		for _, s := range m[v] {
			if v == "style.continuation" {
				continue
			}
			if used[target(s)] {
				t.Errorf("%s: record used by two style variants", v)
			}
			used[target(s)] = true
		}
	}
	if n := len(m["profile.history2profile"]) + len(m["profile.persona2profile"]); n != 2 {
		t.Errorf("profile: %d samples, want 2", n)
	}
	// History sizes.
	for _, s := range m["action.post"] {
		if n := strings.Count(prompt(s), "\nPost "); n != cfg.Action.History-1 { // the first is at the start of a line after ":\n\n"
			if n2 := strings.Count(prompt(s), "Post "); n2 != cfg.Action.History {
				t.Errorf("action history: %d posts, want %d", n2, cfg.Action.History)
			}
		}
	}
	for _, s := range m["style.imitation"] {
		if n := strings.Count(prompt(s), "Post "); n < 1 || n > cfg.Style.History {
			t.Errorf("imitation history: %d posts", n)
		}
	}
	cfg.Profile.History = 7
	for _, s := range byTask(run(cfg, nil, u, a, 1))["profile.history2profile"] {
		if n := strings.Count(prompt(s), "Post "); n != 7 {
			t.Errorf("profile history: %d posts, want 7", n)
		}
	}
}

func TestMinHistory(t *testing.T) {
	u, a := bigUser(4)
	cfg := Default()
	cfg.Action.MinHistory = 3
	cfg.Action.MaxPerUser = 10
	if n := len(byTask(run(cfg, nil, u, a, 1))["action.post"]); n != 1 {
		t.Errorf("%d action samples from 4 records with min_history 3, want 1", n)
	}
	cfg.Profile.MinHistory = 5
	if n := len(byTask(run(cfg, nil, u, a, 1))["profile.history2profile"]); n != 0 {
		t.Errorf("%d history2profile samples from 4 records with min_history 5", n)
	}
}

func TestContinuationSplit(t *testing.T) {
	u, a := bigUser(12)
	cfg := Default()
	cfg.Kinds = []string{tasks.TaskStyle}
	cfg.Style.MaxPerUser = 20
	cfg.Style.MinWords = 10
	n := 0
	for seed := uint64(0); seed < 30; seed++ {
		for _, s := range byTask(run(cfg, nil, u, a, seed))["style.continuation"] {
			p := prompt(s)
			_, after, _ := strings.Cut(p, "Here is the beginning of your next post in r/test:\n")
			head, _, _ := strings.Cut(after, "\n\nContinue it")
			rest := target(s)
			full := head + " " + rest
			found := false
			for _, r := range u.Records {
				if r.Text == full {
					found = true
				}
			}
			if !found {
				t.Fatalf("head + rest is no record: %q", full)
			}
			frac := float64(wordCount(head)) / float64(wordCount(full))
			if frac < 0.3 || frac > 0.7 {
				t.Errorf("split at %.2f of the words", frac)
			}
			if !strings.HasSuffix(p, fmt.Sprintf("Please write about %d words.", roundWords(wordCount(rest)))) {
				t.Errorf("continuation length hint wrong: %q", p[len(p)-40:])
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no continuation samples")
	}
	for _, c := range []struct{ n, minRest, maxRest, lo, hi int }{
		{10, 0, 0, 3, 7}, {30, 0, 0, 9, 21}, {31, 0, 0, 10, 21}, {3, 0, 0, 1, 2},
		{50, 30, 0, 15, 20}, {43, 30, 0, 13, 13}, {100, 30, 50, 50, 70},
	} {
		lo, hi, ok := splitRange(c.n, c.minRest, c.maxRest)
		if !ok || lo != c.lo || hi != c.hi {
			t.Errorf("splitRange(%d, %d, %d) = %d, %d, %v; want %d, %d", c.n, c.minRest, c.maxRest, lo, hi, ok, c.lo, c.hi)
		}
	}
	for _, c := range [][3]int{{1, 0, 0}, {42, 30, 0}, {100, 30, 20}} {
		if _, _, ok := splitRange(c[0], c[1], c[2]); ok {
			t.Errorf("splitRange%v ok", c)
		}
	}
}

func TestStyleLengthBounds(t *testing.T) {
	u, a := bigUser(10) // 40..49 words
	cfg := Default()
	cfg.Kinds = []string{tasks.TaskStyle}
	cfg.Style.MinWords, cfg.Style.MaxWords = 45, 47
	cfg.Style.MaxPerUser = 10
	for _, s := range run(cfg, nil, u, a, 1) {
		if s.Task == "style.continuation" {
			t.Errorf("continuation with a rest of >= 45 words from posts of <= 47")
		}
		if n := wordCount(target(s)); n < 45 || n > 47 {
			t.Errorf("%s target of %d words outside 45-47", s.Task, n)
		}
	}
}

func TestRoundWords(t *testing.T) {
	for _, c := range []struct{ in, out int }{{0, 10}, {1, 10}, {4, 10}, {14, 10}, {15, 20}, {44, 40}, {45, 50}, {299, 300}, {1004, 1000}} {
		if got := roundWords(c.in); got != c.out {
			t.Errorf("roundWords(%d) = %d, want %d", c.in, got, c.out)
		}
	}
	if got := aboutWords(strings.Repeat("a ", 37)); got != "Please write about 40 words." {
		t.Errorf("aboutWords = %q", got)
	}
}

// TestWriteAboutWords holds writeAboutWords, which writes into a prompt
// being built, to the string the prompts used to append.
func TestWriteAboutWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < 2000; i++ {
		n := rng.IntN(5000)
		if i < 100 {
			n = i
		}
		var b strings.Builder
		b.WriteString("prompt ")
		writeAboutWords(&b, n)
		want := "prompt Please write about " + strconv.Itoa(roundWords(n)) + " words."
		if b.String() != want {
			t.Fatalf("writeAboutWords(%d) wrote %q, want %q", n, b.String(), want)
		}
		if got := aboutWordsN(n); got != want[len("prompt "):] {
			t.Fatalf("aboutWordsN(%d) = %q", n, got)
		}
	}
}

func TestCutWords(t *testing.T) {
	if got := cutWords("a  b\n\nc d", 3); got != "a  b\n\nc [...]" {
		t.Errorf("cutWords = %q", got)
	}
	if got := cutWords(" a b ", 3); got != "a b" {
		t.Errorf("cutWords = %q", got)
	}
	u, a := bigUser(3)
	u.Records[0].Text = strings.Repeat("long ", 500)
	cfg := Default()
	cfg.Kinds = []string{tasks.TaskAction}
	for _, s := range run(cfg, nil, u, a, 1) {
		if n := strings.Count(prompt(s), "long "); n == 0 || n > cfg.HistoryWords {
			t.Error("history record not cut to history_words")
		}
	}
}

func TestSystemPrompt(t *testing.T) {
	u, a := redditUser()
	for _, s := range run(Default(), nil, u, a, 1) {
		if len(s.Messages) != 3 || s.Messages[0].Role != "system" || s.Messages[0].Content != DefaultSystemPrompt ||
			s.Messages[1].Role != "user" || s.Messages[2].Role != "assistant" {
			t.Fatalf("%s: messages %+v", s.Task, s.Messages)
		}
	}
	cfg := Default()
	cfg.SystemPrompt = ""
	ss := run(cfg, nil, u, a, 1)
	if len(ss) == 0 {
		t.Fatal("no samples")
	}
	for _, s := range ss {
		if len(s.Messages) != 2 || s.Messages[0].Role != "user" || s.Messages[1].Role != "assistant" {
			t.Fatalf("%s: messages %+v", s.Task, s.Messages)
		}
	}
	// Without a system prompt the samples are otherwise the same.
	with := run(Default(), nil, u, a, 1)
	for i := range ss {
		if !reflect.DeepEqual(ss[i].Messages, with[i].Messages[1:]) {
			t.Fatalf("%s: system prompt changes the rest", ss[i].Task)
		}
	}
}

func TestKindsSubset(t *testing.T) {
	u, a, cat := amazonUser()
	cfg := Default()
	cfg.Kinds = []string{tasks.TaskItemSelection, tasks.TaskThought}
	fs := New(cfg, cat)
	if len(fs) != 2 || fs[0].Kind() != tasks.TaskThought || fs[1].Kind() != tasks.TaskItemSelection {
		t.Fatalf("kinds %v", fs)
	}
	for _, s := range run(cfg, cat, u, a, 1) {
		if k, _, _ := strings.Cut(s.Task, "."); k != tasks.TaskItemSelection && k != tasks.TaskThought {
			t.Errorf("sample of disabled kind %s", s.Task)
		}
	}
	if got := len(New(Config{}, nil)); got != len(Kinds) {
		t.Errorf("zero Config builds %d formulators, want all %d", got, len(Kinds))
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	cfg.Kinds = []string{"actions"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "formulate.kinds") {
		t.Errorf("Validate = %v", err)
	}
	if err := Default().Validate(); err != nil {
		t.Error(err)
	}
}

func TestDemographics(t *testing.T) {
	bu, ba := bloggerUser()
	tu, ta := twitterUser()
	for _, s := range run(Default(), nil, bu, ba, 1) {
		if strings.HasPrefix(s.Task, "action") && !strings.Contains(prompt(s), "Known facts about you: age 24, gender female, industry Arts, star sign Libra.") {
			t.Errorf("%s: no demographics in %q", s.Task, prompt(s))
		}
	}
	for _, s := range run(Default(), nil, tu, ta, 1) {
		if p := prompt(s); strings.Contains(p, "Known facts") || strings.Contains(p, "Leeds") {
			t.Errorf("%s: demographics not in Meta appear: %q", s.Task, p)
		}
	}
}

func TestPersona2ProfileNeedsBoth(t *testing.T) {
	u, a := redditUser()
	a.Persona = a.Profile
	if n := len(byTask(run(Default(), nil, u, a, 1))["profile.persona2profile"]); n != 0 {
		t.Errorf("persona2profile with persona == profile: %d", n)
	}
	a.Persona, a.Profile = "x", ""
	if n := len(byTask(run(Default(), nil, u, a, 1))["profile.history2profile"]); n != 0 {
		t.Errorf("history2profile without profile: %d", n)
	}
}

func TestMemCatalog(t *testing.T) {
	c := NewMemCatalog()
	c.Add("b", "", "x")
	c.Add("b", "Bee", "")
	c.Add("a", "Ay", "x")
	c.Add("a", "Other", "y")
	c.Add("z", "", "")
	if c.Title("a") != "Ay" || c.Title("b") != "Bee" || c.Title("z") != "item z" || c.Title("nope") != "item nope" || c.Len() != 3 {
		t.Errorf("titles %q %q %q %q, len %d", c.Title("a"), c.Title("b"), c.Title("z"), c.Title("nope"), c.Len())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	got := c.Sample(rng, "x", 5, func(id string) bool { return id == "a" })
	slices.Sort(got)
	if !reflect.DeepEqual(got, []string{"b", "z"}) {
		t.Errorf("Sample = %v, want [b z] (category then the rest)", got)
	}
	if got := c.Sample(rng, "", 0, nil); len(got) != 0 {
		t.Errorf("Sample n=0 = %v", got)
	}
	if got := NewMemCatalog().Sample(rng, "x", 3, nil); len(got) != 0 {
		t.Errorf("empty Sample = %v", got)
	}
}

func TestMemCatalogConcurrent(t *testing.T) {
	_, _, cat := amazonUser()
	done := make(chan []string)
	for g := 0; g < 8; g++ {
		go func() {
			done <- cat.Sample(rand.New(rand.NewPCG(5, 5)), "Kitchen & Dining", 19, nil)
		}()
	}
	first := <-done
	for g := 1; g < 8; g++ {
		if got := <-done; !reflect.DeepEqual(got, first) {
			t.Error("concurrent samples with equal rngs differ")
		}
	}
}

// TestFormulateAllSharesOnly: FormulateAll (one formatting of the past
// records for all formulators of a user) gives exactly the samples of the
// formulators' Formulate called one after the other, for the fixtures, a
// large user, and a history cut shorter than some records.
func TestFormulateAllSharesOnly(t *testing.T) {
	fx := fixtures()
	bu, ba := bigUser(40)
	fx = append(fx, fixture{"big", bu, ba, nil})
	for _, words := range []int{0, 12} {
		cfg := Default()
		if words > 0 {
			cfg.HistoryWords = words
		}
		for _, f := range fx {
			want := run(cfg, f.cat, f.u, f.a, 7)
			var got []tasks.Sample
			FormulateAll(New(cfg, f.cat), f.u, f.a, userRNG(7, f.u.ID), func(s tasks.Sample) { got = append(got, s) })
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, history_words %d: FormulateAll gave %d samples, Formulate in turn %d (or they differ)", f.name, words, len(got), len(want))
			}
		}
	}
}

// TestPastRecordsWindows: every window of a pastRecords, formatted in any
// order and after a change of maxWords, is formatHistory of that window.
func TestPastRecordsWindows(t *testing.T) {
	u, _ := bigUser(12)
	p := newPastRecords(u.Records)
	for _, maxWords := range []int{300, 5, 300} {
		for hi := len(u.Records); hi >= 0; hi-- {
			for lo := 0; lo <= hi; lo++ {
				var parts []string
				for i, r := range u.Records[lo:hi] {
					parts = append(parts, formatRecord(r, i+1, maxWords))
				}
				if got, want := p.format(lo, hi, maxWords), strings.Join(parts, "\n\n"); got != want {
					t.Fatalf("format(%d, %d, %d) = %q, want %q", lo, hi, maxWords, got, want)
				}
			}
		}
	}
}

// TestTopicsOnDemand: topics given by Artifacts.TopicOf (the heuristic
// backend's, computed on first use) make the same samples as the same
// topics given as a list, and only the few records the formulators use are
// asked for.
func TestTopicsOnDemand(t *testing.T) {
	u, list := bigUser(60)
	lazy := *list
	asked := map[int]bool{}
	lazy.Topics, lazy.TopicOf = nil, func(i int) string {
		asked[i] = true
		return list.Topics[i]
	}
	want := run(Default(), nil, u, list, 7)
	got := run(Default(), nil, u, &lazy, 7)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("samples from topics on demand differ from those of the list")
	}
	if len(asked) == 0 || len(asked) > 10 {
		t.Errorf("%d of %d topics asked for: %v", len(asked), len(u.Records), asked)
	}
}

// TestFormulateAllPieces: FormulateAllPieces gives FormulateAll's samples,
// and every piece it names lies in the prompt (or ends the target) between
// two '\n', is what its key says (the tail of a record shown there or the
// lines of it before its text, a record's whole text, the system prompt, a
// description), and has one text per key within a user (what qc.Checker
// needs to use it; it also verifies all this itself).
func TestFormulateAllPieces(t *testing.T) {
	fx := fixtures()
	bu, ba := bigUser(40)
	fx = append(fx, fixture{"big", bu, ba, nil})
	kinds := map[string]int{}
	for _, f := range fx {
		cfg := Default()
		var want []tasks.Sample
		FormulateAll(New(cfg, f.cat), f.u, f.a, userRNG(7, f.u.ID), func(s tasks.Sample) { want = append(want, s) })
		var got []tasks.Sample
		texts := map[int]string{}
		FormulateAllPieces(New(cfg, f.cat), f.u, f.a, userRNG(7, f.u.ID), func(s tasks.Sample, pieces []tasks.Piece) {
			got = append(got, s)
			msg, end := 0, 0
			for _, p := range pieces {
				last := len(s.Messages) - 1
				if p.Msg < msg || p.Msg > last || p.Msg == msg && p.Off < end || !p.Usable(s.Messages[p.Msg].Content) ||
					p.Msg == last && (p.End != len(s.Messages[last].Content) || p.Key < textKey(len(f.u.Records), 0) && p.Key != profileKey(f.u)) {
					t.Fatalf("%s %s: piece %+v out of place", f.name, s.Task, p)
				}
				text := s.Messages[p.Msg].Content[p.Off:p.End]
				if old, ok := texts[p.Key]; ok && old != text {
					t.Fatalf("%s: key %d names %q and %q", f.name, p.Key, old, text)
				}
				texts[p.Key] = text
				switch k := p.Key; {
				case k < len(f.u.Records):
					tail, at, whole := recordTailText(f.u.Records[k], cfg.HistoryWords)
					if whole && at < len(tail) {
						if !strings.HasSuffix(tail[:at], "\n"+text+"\n") {
							t.Fatalf("%s: piece %d is not the lines before the text of record %d: %q", f.name, k, k, text)
						}
						kinds["header"]++
					} else if !strings.HasSuffix(tail, "\n"+text) {
						t.Fatalf("%s: piece %d is not the tail of record %d: %q", f.name, k, k, text)
					}
					kinds["record"]++
				case k >= lineKey(len(f.u.Records), 0):
					i := k - lineKey(len(f.u.Records), 0)
					tail := recordTail(f.u.Records[i], cfg.HistoryWords)
					if !strings.HasPrefix(tail, text+"\n") || text[0] != ' ' || !p.MidLine(s.Messages[p.Msg].Content) {
						t.Fatalf("%s: piece %+v is not the header line of record %d: %q", f.name, p, i, text)
					}
					kinds["line"]++
				case k >= textKey(len(f.u.Records), 0):
					i := k - textKey(len(f.u.Records), 0)
					if text != strings.TrimSpace(f.u.Records[i].Text) {
						t.Fatalf("%s: piece %+v is not the text of record %d: %q", f.name, p, i, text)
					}
					kinds["text"]++
					if p.Msg == last {
						kinds["target"]++
					}
				case k == systemKey(f.u):
					if p.Msg != 0 || text != cfg.SystemPrompt {
						t.Fatalf("%s: system piece %+v: %q", f.name, p, text)
					}
					kinds["system"]++
				case k == styleDescKey(f.u):
					if text != strings.TrimSpace(f.a.Style) {
						t.Fatalf("%s: style piece %q", f.name, text)
					}
					kinds["style"]++
				case k == personaKey(f.u), k == profileKey(f.u):
					want := f.a.Persona
					if k == profileKey(f.u) {
						want = f.a.Profile
					}
					if text != strings.TrimSpace(want) {
						t.Fatalf("%s: piece %+v is not the persona or profile: %q", f.name, p, text)
					}
					kinds["desc"]++
					if p.Msg == last {
						kinds["profile"]++
					}
				case k == descHeadKey(f.u):
					if text != descHead || p.Off != 0 {
						t.Fatalf("%s: piece %+v is not the line before a description: %q", f.name, p, text)
					}
					kinds["head"]++
				case k == demoKey(f.u):
					if text != demographics(f.u) || !strings.HasSuffix(descBlock(f.u, ""), text+"\n\n") {
						t.Fatalf("%s: piece %+v is not the demographics: %q", f.name, p, text)
					}
					kinds["demographics"]++
				default:
					t.Fatalf("%s: piece %+v has no key of the formulators'", f.name, p)
				}
				msg, end = p.Msg, p.End
			}
		})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: FormulateAllPieces gave other samples than FormulateAll", f.name)
		}
	}
	for _, k := range []string{"record", "header", "text", "target", "system", "style", "desc", "profile", "head", "demographics", "line"} {
		if kinds[k] == 0 {
			t.Fatalf("no %s pieces at all (%v)", k, kinds)
		}
	}
}

// TestAboutWordsCountsTarget: the "about N words" of every prompt that
// asks for a length is the rounded word count of its target, though the
// formulators count from the record's cached count (and the title's, the
// split's) instead of the target; titles and texts with odd white space
// included.
func TestAboutWordsCountsTarget(t *testing.T) {
	fxs := fixtures()
	odd, oa := redditUser()
	for i := range odd.Records {
		r := &odd.Records[i]
		r.Title = " \t" + strings.ReplaceAll(r.Title, " ", " \u00a0\u2003 ") + "\n"
		r.Text = "\u2003" + strings.ReplaceAll(r.Text, ". ", ".\n\n  ") + " \r\n"
	}
	fxs = append(fxs, fixture{"odd", odd, oa, nil})
	// Users of titled posts of random lengths: a count off by one
	// changes the rounded number of some of them.
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 60 {
		u, a := bigUser(60)
		u.ID = fmt.Sprintf("%016x", k)
		for i := range u.Records {
			r := &u.Records[i]
			ws := strings.Fields(r.Text)
			r.Text = strings.Join(ws[:20+rng.IntN(len(ws)-20)], " ")
			r.Title = strings.Join(ws[:1+rng.IntN(3)], "  ") + " title"
		}
		fxs = append(fxs, fixture{"big", u, a, nil})
	}
	n := 0
	for _, fx := range fxs {
		for _, s := range run(Default(), fx.cat, fx.u, fx.a, testSeed) {
			if kind, _, _ := strings.Cut(s.Task, "."); kind == tasks.TaskThought || kind == tasks.TaskItemSelection {
				continue
			}
			if want := aboutWords(target(s)); !strings.HasSuffix(prompt(s), want) {
				t.Fatalf("%s %s: prompt does not end in %q:\n%s", fx.name, s.Task, want, prompt(s))
			}
			n++
		}
	}
	if n < 40 {
		t.Fatalf("only %d samples", n)
	}
}
