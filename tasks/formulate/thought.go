package formulate

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/tasks"
)

// thoughtQuestions are the questions of thought.scenario, one drawn per
// sample.
var thoughtQuestions = []string{
	"What are you thinking or feeling in this situation? Answer in the first person, as yourself.",
	"How do you feel about this, and what goes through your mind? Answer in the first person.",
	"In this situation, what do you think? Say it in your own words, in the first person.",
}

// thoughtFormulator asks for the person's inner thought in a scenario taken
// from their own writing (Artifacts.Thoughts).
type thoughtFormulator struct{ base }

func (f *thoughtFormulator) Kind() string { return tasks.TaskThought }

func (f *thoughtFormulator) Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	f.formulate(&userWork{}, u, a, rng, emit)
}

func (f *thoughtFormulator) formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	// The thoughts with a scenario and a thought, latest records first
	// (ties keep the artifact order), then the first MaxPerUser of them
	// whose scenario does not hold the thought: the order of the others
	// does not depend on which are dropped, so only those up to the last
	// one kept are normalised and compared.
	all := make([]int, 0, len(a.Thoughts))
	for i, t := range a.Thoughts {
		if strings.TrimSpace(t.Scenario) != "" && strings.TrimSpace(t.Thought) != "" {
			all = append(all, i)
		}
	}
	sort.SliceStable(all, func(x, y int) bool { return a.Thoughts[all[x]].Record > a.Thoughts[all[y]].Record })
	idx := all[:0]
	var nsc, nth []byte // normLower of a scenario and a thought, reused
	for _, i := range all {
		if len(idx) >= f.cfg.Thought.MaxPerUser {
			break
		}
		t := a.Thoughts[i]
		nsc, nth = appendNormLower(nsc[:0], strings.TrimSpace(t.Scenario)), appendNormLower(nth[:0], strings.TrimSpace(t.Thought))
		if !bytes.Contains(nsc, nth) {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		t := a.Thoughts[i]
		desc := pickDesc(a, rng)
		q := thoughtQuestions[rng.IntN(len(thoughtQuestions))]
		const situation = "Here is a situation you were in:\n"
		scenario := strings.TrimSpace(t.Scenario)
		var b strings.Builder
		b.Grow(w.descLen(u, desc) + len(situation) + len(scenario) + len("\n\n") + len(q))
		w.writeDesc(&b, u, a, desc)
		b.WriteString(situation)
		b.WriteString(scenario)
		b.WriteString("\n\n")
		b.WriteString(q)
		emit(f.sample(u, tasks.TaskThought+".scenario", b.String(), strings.TrimSpace(t.Thought)))
	}
}

// normLower is strings.ToLower(strings.Join(strings.Fields(s), " ")).
func normLower(s string) string { return string(appendNormLower(nil, s)) }

// appendNormLower appends normLower(s) to dst: the fields of s (fields.Next
// splits as strings.Fields does) joined by one space, lower-cased in place
// when they are ASCII (as strings.ToLower does), else by strings.ToLower.
// The thought formulator tests every thought of a user with it, without
// the slices and strings normLower made each time.
func appendNormLower(dst []byte, s string) []byte {
	start := len(dst)
	ascii := true
	for i := 0; ; {
		ws, we, ok := fields.Next(s, i)
		if !ok {
			break
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		for k := ws; k < we; k++ {
			c := s[k]
			if c >= utf8.RuneSelf {
				ascii = false
			} else if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		i = we
	}
	if !ascii {
		// Lower-casing a non-ASCII rune may change its length; the ASCII
		// bytes lowered above are lowered again, to themselves.
		low := strings.ToLower(string(dst[start:]))
		dst = append(dst[:start], low...)
	}
	return dst
}
