package formulate

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// actionFormulator predicts a user's next record from their description,
// their previous records and the record's context.
type actionFormulator struct{ base }

func (f *actionFormulator) Kind() string { return tasks.TaskAction }

func (f *actionFormulator) Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	f.formulate(&userWork{}, u, a, rng, emit)
}

func (f *actionFormulator) formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	c := f.cfg.Action
	// The latest MaxPerUser eligible records, newest first: the records
	// are tested newest first, and only until that many are found (a
	// test counts the record's words).
	var picked []int
	for i := len(u.Records) - 1; i >= c.MinHistory && i >= 0 && len(picked) < c.MaxPerUser; i-- {
		if strings.TrimSpace(u.Records[i].Text) == "" {
			continue
		}
		if c.MaxWords > 0 && w.wordCount(u, i) > c.MaxWords {
			continue
		}
		picked = append(picked, i)
	}
	for _, i := range picked {
		desc := pickDesc(a, rng)
		task, prompt, target := f.build(w, u, a, i, desc)
		emit(f.sample(u, task, prompt, target))
	}
}

// build returns the task variant, the prompt and the target for record i.
// The history is records [i-History, i): the target is never in it.
func (f *actionFormulator) build(w *userWork, u *tasks.User, a *tasks.Artifacts, i int, desc string) (task, prompt, target string) {
	r := u.Records[i]
	text := strings.TrimSpace(r.Text)
	target = text
	withTitle := authoredTitle(r)
	if withTitle {
		target = "Title: " + strings.TrimSpace(r.Title) + "\n\n" + text
	}

	var b strings.Builder
	w.writeDesc(&b, u, a, desc)
	lo := max(0, i-f.cfg.Action.History)
	if hist := u.Records[lo:i]; len(hist) > 0 {
		fmt.Fprintf(&b, "Here are your most recent %s, oldest first:\n\n", plural(hist))
		w.writeHistory(&b, u, lo, i, f.cfg.HistoryWords)
		b.WriteString("\n\n")
	}
	if d := formatDate(r.Time); d != "" {
		fmt.Fprintf(&b, "It is now %s.\n", d)
	}
	titleHint := ""
	if withTitle {
		titleHint = ", starting with its title on a line \"Title: ...\""
	}
	where := ""
	if c := community(r); c != "" {
		where = " in " + c
	}
	switch {
	case strings.TrimSpace(r.ParentText) != "":
		task = tasks.TaskAction + ".comment"
		fmt.Fprintf(&b, "Here is a post you are replying to:\n%s\n\n", cutWords(r.ParentText, f.cfg.HistoryWords))
		if !withTitle && strings.TrimSpace(r.Title) != "" {
			fmt.Fprintf(&b, "It is in the thread \"%s\"%s. ", strings.TrimSpace(r.Title), where)
		} else if where != "" {
			fmt.Fprintf(&b, "It was posted%s. ", where)
		}
		fmt.Fprintf(&b, "Write your reply%s.", titleHint)
	case r.Kind == tasks.KindReview || r.ItemID != "":
		task = tasks.TaskAction + ".review"
		b.WriteString("You bought ")
		if it := itemName(r); it != "" {
			fmt.Fprintf(&b, "\"%s\"", it)
		} else {
			b.WriteString("a product")
		}
		if c := strings.TrimSpace(r.Community); c != "" {
			fmt.Fprintf(&b, " (category: %s)", c)
		}
		if r.Rating > 0 {
			fmt.Fprintf(&b, " and rated it %s out of 5 stars", formatRating(r.Rating))
		}
		fmt.Fprintf(&b, ". Write your review%s.", titleHint)
	default:
		task = tasks.TaskAction + ".post"
		n := strings.ToLower(noun(r))
		if r.Kind == tasks.KindComment && strings.TrimSpace(r.Title) != "" {
			fmt.Fprintf(&b, "Write your next comment%s, in the thread \"%s\".", where, strings.TrimSpace(r.Title))
		} else {
			fmt.Fprintf(&b, "Write your next %s%s%s.", n, where, titleHint)
		}
	}
	words := w.wordCount(u, i) // of text
	if withTitle {
		words += 1 + wordCount(strings.TrimSpace(r.Title)) // "Title:", the title
	}
	b.WriteString(" " + aboutWordsN(words))
	w.noteTarget(u, i, target, text)
	return task, b.String(), target
}
