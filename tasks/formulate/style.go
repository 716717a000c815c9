package formulate

import (
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// Style variants, in the order the round robin tries them.
const (
	styleImitation    = "imitation"
	styleContinuation = "continuation"
	styleDescription  = "description"
)

// styleFormulator is the paper's writing imitation: type 1 (past posts +
// topic -> post), type 2 (past posts + first 30-70% of a post -> the rest)
// and type 3 (style description + topic -> post).
type styleFormulator struct{ base }

func (f *styleFormulator) Kind() string { return tasks.TaskStyle }

func (f *styleFormulator) Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	f.formulate(&userWork{}, u, a, rng, emit)
}

func (f *styleFormulator) formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	c := f.cfg.Style
	variants := []string{styleImitation, styleContinuation}
	if strings.TrimSpace(a.Style) != "" {
		variants = append(variants, styleDescription)
	}
	left := make([]int, len(variants))
	for i := range left {
		left[i] = c.MaxPerUser
	}
	remaining := len(variants) * c.MaxPerUser
	// Records newest first; each record feeds one variant, variants taking
	// turns, so that one post is not the target of all three.
	turn := 0
	for i := len(u.Records) - 1; i >= 0 && remaining > 0; i-- {
		n := w.wordCount(u, i) // of the trimmed text too
		if n < c.MinWords || (c.MaxWords > 0 && n > c.MaxWords) {
			continue
		}
		for k := range variants {
			v := (turn + k) % len(variants)
			if left[v] == 0 || !f.possible(w, variants[v], u, a, i) {
				continue
			}
			emit(f.build(w, variants[v], u, a, i, rng))
			left[v]--
			remaining--
			turn = v + 1
			break
		}
	}
}

func topic(a *tasks.Artifacts, i int) string { return strings.TrimSpace(a.Topic(i)) }

// possible reports whether variant v can use record i; it draws nothing.
func (f *styleFormulator) possible(w *userWork, v string, u *tasks.User, a *tasks.Artifacts, i int) bool {
	switch v {
	case styleImitation:
		return i > 0 && topic(a, i) != ""
	case styleContinuation:
		_, _, ok := splitRange(w.wordCount(u, i), f.cfg.Style.MinWords, f.cfg.Style.MaxWords)
		return i > 0 && ok
	case styleDescription:
		return topic(a, i) != ""
	}
	return false
}

// splitRange is the range of word counts [lo, hi] the beginning shown by
// style.continuation may have in a post of n words: 30% to 70% of n,
// rounded inwards, leaving at least one word on each side and a rest (the
// target) of minRest to maxRest words (maxRest 0: no limit).
func splitRange(n, minRest, maxRest int) (lo, hi int, ok bool) {
	lo = (3*n + 9) / 10 // ceil(0.3 n)
	hi = 7 * n / 10     // floor(0.7 n)
	lo = max(lo, 1)
	hi = min(hi, n-1, n-minRest)
	if maxRest > 0 {
		lo = max(lo, n-maxRest)
	}
	return lo, hi, lo <= hi
}

// pastPosts draws how many of the records before i to show (1 to History)
// and returns where they start: they are u.Records[first:i], oldest first.
func (f *styleFormulator) pastPosts(i int, rng *rand.Rand) (first int) {
	n := 1 + rng.IntN(min(f.cfg.Style.History, i))
	return i - n
}

func (f *styleFormulator) build(w *userWork, v string, u *tasks.User, a *tasks.Artifacts, i int, rng *rand.Rand) tasks.Sample {
	r := u.Records[i]
	text := strings.TrimSpace(r.Text)
	what := strings.ToLower(noun(r))
	where := ""
	if c := community(r); c != "" && r.Kind != tasks.KindReview {
		where = " in " + c
	}
	var b strings.Builder
	switch v {
	case styleImitation:
		lo := f.pastPosts(i, rng)
		writeStrings(&b, "Here are some of your past ", plural(u.Records[lo:i]), ", oldest first:\n\n")
		w.writeHistory(&b, u, lo, i, f.cfg.HistoryWords)
		b.WriteString("\n\n")
		writeStrings(&b, "Write a new ", what, where, " on this topic: ", topic(a, i), "\n")
		writeAboutWords(&b, w.wordCount(u, i))
		w.noteTarget(u, i, text, text)
		return f.sample(u, tasks.TaskStyle+"."+styleImitation, b.String(), text)
	case styleContinuation:
		first := f.pastPosts(i, rng)
		n := w.wordCount(u, i) // of text
		lo, hi, _ := splitRange(n, f.cfg.Style.MinWords, f.cfg.Style.MaxWords)
		k := lo + rng.IntN(hi-lo+1)
		head, rest := splitAfter(text, k)
		writeStrings(&b, "Here are some of your past ", plural(u.Records[first:i]), ", oldest first:\n\n")
		w.writeHistory(&b, u, first, i, f.cfg.HistoryWords)
		b.WriteString("\n\n")
		writeStrings(&b, "Here is the beginning of your next ", what, where, ":\n", head, "\n\n")
		// rest's words are those of text after word k.
		writeStrings(&b, "Continue it from where it stops, without repeating the beginning. ")
		writeAboutWords(&b, n-k)
		return f.sample(u, tasks.TaskStyle+"."+styleContinuation, b.String(), rest)
	default:
		b.WriteString("Here is a description of how you write:\n")
		off := b.Len()
		b.WriteString(strings.TrimSpace(a.Style))
		w.notePiece(off, b.Len(), styleDescKey(u))
		b.WriteString("\n\n")
		writeStrings(&b, "Write a ", what, where, " on this topic: ", topic(a, i), "\n")
		writeAboutWords(&b, w.wordCount(u, i))
		w.noteTarget(u, i, text, text)
		return f.sample(u, tasks.TaskStyle+"."+styleDescription, b.String(), text)
	}
}
