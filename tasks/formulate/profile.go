package formulate

import (
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// profileFormulator writes the synthesised profile from the user's history
// (history2profile) and from the persona (persona2profile, the paper's #1).
type profileFormulator struct{ base }

func (f *profileFormulator) Kind() string { return tasks.TaskProfile }

func (f *profileFormulator) Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	f.formulate(&userWork{}, u, a, rng, emit)
}

func (f *profileFormulator) formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	profile := strings.TrimSpace(a.Profile)
	if profile == "" {
		return
	}
	about := aboutWords(profile) // both variants write the profile
	c := f.cfg.Profile
	n := len(u.Records)
	if n > 0 && n >= c.MinHistory {
		lo := max(0, n-c.History)
		hist := u.Records[lo:]
		var b strings.Builder
		writeStrings(&b, "Here are ", plural(hist), " written by one person, oldest first:\n\n")
		w.writeHistory(&b, u, lo, n, f.cfg.HistoryWords)
		b.WriteString("\n\n")
		writeStrings(&b, "Write a profile of this person in the third person: who they are, their interests, values and personality, and the experiences they mention. State only what the ", plural(hist), " show. ", about)
		w.noteTargetKey(profile, profile, profileKey(u))
		emit(f.sample(u, tasks.TaskProfile+".history2profile", b.String(), profile))
	}
	if persona := strings.TrimSpace(a.Persona); persona != "" && !sameText(persona, profile) {
		const head = "Here is a short description of a person:\n"
		prompt := head + persona + "\n\n" +
			"Expand it into a fuller profile of this person in the third person, covering their background, interests, values, personality and experiences. " +
			about
		w.notePiece(len(head), len(head)+len(persona), personaKey(u))
		w.noteTargetKey(profile, profile, profileKey(u))
		emit(f.sample(u, tasks.TaskProfile+".persona2profile", prompt, profile))
	}
}
