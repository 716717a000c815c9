package formulate

import (
	"math/rand/v2"
	"sort"
	"strings"

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
	idx := make([]int, 0, len(a.Thoughts))
	for i, t := range a.Thoughts {
		sc, th := strings.TrimSpace(t.Scenario), strings.TrimSpace(t.Thought)
		if sc == "" || th == "" || strings.Contains(normLower(sc), normLower(th)) {
			continue
		}
		idx = append(idx, i)
	}
	// Thoughts of the latest records first; ties keep the artifact order.
	sort.SliceStable(idx, func(x, y int) bool { return a.Thoughts[idx[x]].Record > a.Thoughts[idx[y]].Record })
	if len(idx) > f.cfg.Thought.MaxPerUser {
		idx = idx[:f.cfg.Thought.MaxPerUser]
	}
	for _, i := range idx {
		t := a.Thoughts[i]
		desc := pickDesc(a, rng)
		q := thoughtQuestions[rng.IntN(len(thoughtQuestions))]
		prompt := descBlock(u, desc) + "Here is a situation you were in:\n" + strings.TrimSpace(t.Scenario) + "\n\n" + q
		emit(f.sample(u, tasks.TaskThought+".scenario", prompt, strings.TrimSpace(t.Thought)))
	}
}

func normLower(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
