package formulate

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// itemFormulator is the paper's item selection (#19): from the titles of
// the items a user reviewed before, pick the next one among Candidates
// titles; the answer is the exact title.
type itemFormulator struct {
	base
	cat Catalog
}

func (f *itemFormulator) Kind() string { return tasks.TaskItemSelection }

// title is an item's display title: the record's own item title, else the
// catalog's (which falls back to FallbackTitle).
func (f *itemFormulator) title(r tasks.Record) string {
	if t := strings.TrimSpace(r.ItemTitle); t != "" {
		return t
	}
	return f.cat.Title(r.ItemID)
}

func (f *itemFormulator) Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	f.formulate(&userWork{}, u, a, rng, emit)
}

func (f *itemFormulator) formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	if f.cat == nil {
		return
	}
	c := f.cfg.ItemSelection
	// Target: the user's last review of an item. Records arrive quality
	// filtered, so the paper's "last quality-passed review if its index is
	// >= 7, else the last item" is the last review.
	t := -1
	for i := len(u.Records) - 1; i >= 0; i-- {
		if u.Records[i].ItemID != "" {
			t = i
			break
		}
	}
	if t < 0 {
		return
	}
	target := u.Records[t]
	targetTitle := f.title(target)

	// Everything the user ever reviewed is excluded from the negatives,
	// by id and by title.
	// (Each title is normalised once: norm[i] is record i's.)
	ownIDs := map[string]bool{}
	normTarget := normLower(targetTitle)
	ownTitles := map[string]bool{normTarget: true}
	norm := make([]string, len(u.Records))
	for i, r := range u.Records {
		if r.ItemID != "" {
			ownIDs[r.ItemID] = true
			norm[i] = normLower(f.title(r))
			ownTitles[norm[i]] = true
		}
	}

	// History: the distinct items reviewed before the target, oldest
	// first, without the target item or its title.
	var hist []string
	seen := map[string]bool{normTarget: true}
	for i, r := range u.Records[:t] {
		if r.ItemID == "" || r.ItemID == target.ItemID || seen[norm[i]] {
			continue
		}
		seen[norm[i]] = true
		hist = append(hist, f.title(r))
	}
	if len(hist) < c.MinHistory || len(hist) == 0 {
		return
	}
	hist = hist[max(0, len(hist)-c.History):]

	// Negatives: distinct titles, none of the user's.
	need := c.Candidates - 1
	var neg []string
	picked := map[string]bool{}
	var nt []byte // a drawn title, normalised (the map look-up does not copy it)
	exclude := func(id string) bool {
		if ownIDs[id] || picked[id] {
			return true
		}
		nt = appendNormLower(nt[:0], f.cat.Title(id))
		return ownTitles[string(nt)]
	}
	for round := 0; round < 3 && len(neg) < need; round++ {
		for _, id := range f.cat.Sample(rng, target.Community, need-len(neg), exclude) {
			picked[id] = true
			ti := f.cat.Title(id)
			if k := normLower(ti); !ownTitles[k] {
				ownTitles[k] = true
				neg = append(neg, ti)
			}
		}
	}
	if len(neg) < need {
		return
	}
	cands := append([]string{targetTitle}, neg...)
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })

	mode := "history"
	desc := ""
	if c.DescMix {
		if desc = pickDesc(a, rng); desc != "" {
			switch x := rng.Float64(); {
			case x < 0.15:
				mode = "desc"
			case x < 0.5:
				mode = "both"
			}
		}
	}
	var b strings.Builder
	if mode != "history" {
		w.writeDesc(&b, u, a, desc)
	}
	if mode != "desc" {
		b.WriteString("Here are the products you bought and reviewed before, oldest first:\n")
		for i, h := range hist {
			writeStrings(&b, strconv.Itoa(i+1), ". ", h, "\n")
		}
		b.WriteString("\n")
	}
	writeStrings(&b, "Which one of these ", strconv.Itoa(len(cands)), " products are you going to buy and review next?\n")
	for i, ca := range cands {
		writeStrings(&b, strconv.Itoa(i+1), ". ", ca, "\n")
	}
	b.WriteString("\nAnswer with the exact title of one product and nothing else.")
	emit(f.sample(u, tasks.TaskItemSelection, b.String(), targetTitle))
}
