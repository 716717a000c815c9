package qc

import (
	"strings"
	"testing"

	"github.com/humanllm/humanllm/tasks"
)

func sample(task, prompt, target string) tasks.Sample {
	return tasks.Sample{Task: task, Source: "reddit", User: "h", Messages: []tasks.Message{{Role: "user", Content: prompt}, {Role: "assistant", Content: target}}}
}

const longTarget = "We finally moved into the new apartment last weekend and the kids already love their rooms, even though the boxes are still everywhere."

func TestCheckPasses(t *testing.T) {
	o := DefaultOptions()
	if r := Check(sample("action.comment", "Write a reply to this post about moving house.", longTarget), o); r != "" {
		t.Fatalf("clean sample dropped: %s", r)
	}
	if r := Check(sample("item_selection", "Pick one of: A; B; Fender Jazz Bass", "Fender Jazz Bass"), o); r != "" {
		t.Fatalf("item selection dropped: %s", r)
	}
}

func TestCheckEmptyAndShort(t *testing.T) {
	o := DefaultOptions()
	for _, s := range []tasks.Sample{
		sample("action", "p", "   "),
		{Task: "action", Messages: []tasks.Message{{Role: "user", Content: "only a prompt"}}},
	} {
		if r := Check(s, o); r != ReasonEmptyTarget {
			t.Errorf("got %q, want empty_target", r)
		}
	}
	if r := Check(sample("action", "p", "ok sure"), o); r != ReasonShortTarget {
		t.Errorf("short action: %q", r)
	}
	if r := Check(sample("style.topic", "p", "The user writes short sentences."), o); r != ReasonShortTarget {
		t.Errorf("short style: %q", r)
	}
	// per-kind configuration
	o.MinTargetWords = map[string]int{"default": 1}
	o.MinTargetChars = map[string]int{"default": 1}
	if r := Check(sample("action", "p", "ok sure"), o); r != "" {
		t.Errorf("configured minimum not applied: %q", r)
	}
}

func TestCheckLeak(t *testing.T) {
	o := DefaultOptions()
	prompt := "Here is what the user wrote before. " + strings.ToUpper(longTarget[:80]) + " ... Now write their next post."
	if r := Check(sample("style.imitation", prompt, longTarget), o); r != ReasonTargetLeak {
		t.Fatalf("12-word span in the prompt not caught: %q", r)
	}
	// an 11-word overlap is not a leak
	tw := strings.Fields(longTarget)
	p2 := "Context: " + strings.Join(tw[:11], " ") + " and other things."
	if r := Check(sample("action", p2, longTarget), o); r != "" {
		t.Fatalf("11-word overlap flagged: %q", r)
	}
	// short target fully contained
	if r := Check(sample("thought", "Scenario: the user said I really hate mondays so much today.", "I really hate mondays so much"), o); r != ReasonTargetLeak {
		t.Fatalf("short target in prompt: %q", r)
	}
	// item_selection is exempt: its answer is a listed candidate
	if r := Check(sample("item_selection.history", "Candidates:\n"+longTarget+"\nOther item", longTarget), o); r != "" {
		t.Fatalf("item_selection flagged: %q", r)
	}
	// system message counts as prompt too
	s := sample("action", "write", longTarget)
	s.Messages = append([]tasks.Message{{Role: "system", Content: longTarget}}, s.Messages...)
	if r := Check(s, o); r != ReasonTargetLeak {
		t.Fatalf("leak in system message: %q", r)
	}
}

func TestCheckPII(t *testing.T) {
	o := DefaultOptions()
	for _, pii := range []string{
		"write to me at jane.doe@example.com anytime",
		"call me on (555) 123-4567 after six",
		"my number is +44 20 7946 0958 ok",
		"see https://example.com/reset?token=abcdef123456 for details",
		"the feed is at https://user:hunter22@example.com/feed",
	} {
		if r := Check(sample("action", "Reply to the post.", longTarget+" "+pii), o); r != ReasonPII {
			t.Errorf("%q: got %q", pii, r)
		}
		if !HasPII(pii) {
			t.Errorf("HasPII(%q) = false", pii)
		}
	}
	// PII in the prompt also drops the sample
	if r := Check(sample("action", "mail bob@corp.io", longTarget), o); r != ReasonPII {
		t.Errorf("PII in prompt: %q", r)
	}
	for _, clean := range []string{"in 2019 we had 1,234,567 visitors", "see https://example.com/page?id=42", "version 3.14.159", "I scored 100 out of 120 points"} {
		if HasPII(clean) {
			t.Errorf("false positive: %q", clean)
		}
	}
	o.PII = false
	if r := Check(sample("action", "mail bob@corp.io", longTarget), o); r != "" {
		t.Errorf("PII check not disabled: %q", r)
	}
}

func TestCheckLanguage(t *testing.T) {
	o := DefaultOptions()
	for _, s := range []string{
		"Wir sind letztes Wochenende endlich in die neue Wohnung gezogen und die Kinder lieben ihre Zimmer schon.",
		"我们上周末终于搬进了新公寓，孩子们已经很喜欢他们的房间了，尽管箱子还到处都是。",
		"Мы наконец переехали в новую квартиру на прошлых выходных, и дети уже любят свои комнаты.",
	} {
		if r := Check(sample("action", "Write a post.", s), o); r != ReasonLanguage {
			t.Errorf("%q: got %q", s[:20], r)
		}
	}
	o.Languages = []string{"any"}
	if r := Check(sample("action", "Write a post.", "Wir sind letztes Wochenende endlich in die neue Wohnung gezogen."), o); r != "" {
		t.Errorf("language check not disabled: %q", r)
	}
	if !IsEnglish("Fender Jazz Bass", 0.9, 0.08) || !IsEnglish("12345", 0.9, 0.08) {
		t.Error("short English / numbers rejected")
	}
}
