package formulate

import (
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
		writeStrings(&b, "Here are your most recent ", plural(hist), ", oldest first:\n\n")
		w.writeHistory(&b, u, lo, i, f.cfg.HistoryWords)
		b.WriteString("\n\n")
	}
	if d := formatDate(r.Time); d != "" {
		writeStrings(&b, "It is now ", d, ".\n")
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
		writeStrings(&b, "Here is a post you are replying to:\n", cutWords(r.ParentText, f.cfg.HistoryWords), "\n\n")
		if !withTitle && strings.TrimSpace(r.Title) != "" {
			writeStrings(&b, "It is in the thread \"", strings.TrimSpace(r.Title), "\"", where, ". ")
		} else if where != "" {
			writeStrings(&b, "It was posted", where, ". ")
		}
		writeStrings(&b, "Write your reply", titleHint, ".")
	case r.Kind == tasks.KindReview || r.ItemID != "":
		task = tasks.TaskAction + ".review"
		b.WriteString("You bought ")
		if it := itemName(r); it != "" {
			writeStrings(&b, "\"", it, "\"")
		} else {
			b.WriteString("a product")
		}
		if c := strings.TrimSpace(r.Community); c != "" {
			writeStrings(&b, " (category: ", c, ")")
		}
		if r.Rating > 0 {
			writeStrings(&b, " and rated it ", formatRating(r.Rating), " out of 5 stars")
		}
		writeStrings(&b, ". Write your review", titleHint, ".")
	default:
		task = tasks.TaskAction + ".post"
		n := strings.ToLower(noun(r))
		if r.Kind == tasks.KindComment && strings.TrimSpace(r.Title) != "" {
			writeStrings(&b, "Write your next comment", where, ", in the thread \"", strings.TrimSpace(r.Title), "\".")
		} else {
			writeStrings(&b, "Write your next ", n, where, titleHint, ".")
		}
	}
	words := w.wordCount(u, i) // of text
	if withTitle {
		words += 1 + wordCount(strings.TrimSpace(r.Title)) // "Title:", the title
	}
	b.WriteByte(' ')
	writeAboutWords(&b, words)
	w.noteTarget(u, i, target, text)
	return task, b.String(), target
}
