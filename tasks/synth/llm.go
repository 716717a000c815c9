package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/humanllm/humanllm/tasks"
)

// LLM is the model-backed backend: persona, profile, style and thoughts
// come from an OpenAI-compatible endpoint (one call each per user), topics
// from the heuristic unless LLMTopics is set.
type LLM struct {
	c    *Client
	cfg  LLMConfig
	heur *Heuristic
}

// NewLLM returns the llm backend with its own client.
func NewLLM(cfg LLMConfig) (*LLM, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return NewLLMWithClient(c), nil
}

// NewLLMWithClient returns the llm backend on an existing client (its
// configuration is the client's).
func NewLLMWithClient(c *Client) *LLM {
	cfg := c.Config()
	hc := DefaultHeuristicConfig()
	hc.MaxThoughts = cfg.MaxThoughts
	return &LLM{c: c, cfg: cfg, heur: NewHeuristic(hc)}
}

// Name returns "llm".
func (l *LLM) Name() string { return "llm" }

// Client returns the backend's client (for a judge to share).
func (l *LLM) Client() *Client { return l.c }

// Counters returns the client's counters for the run report.
func (l *LLM) Counters() map[string]int64 { return l.c.Counters() }

// PromptData is what the synthesis templates see.
type PromptData struct {
	// Source is the platform ("reddit", ...).
	Source string
	// Meta is the author metadata as "key: value" lines, sorted by key.
	Meta string
	// History is the user's posts as "Post i:\nDate: ...\n<text>" blocks
	// (i = record index + 1), cut to MaxHistoryChars.
	History string
	// NumPosts is the number of posts in History.
	NumPosts int
	// MaxThoughts is the thought cap.
	MaxThoughts int
	// Title and Text are set for topic.tmpl (one record).
	Title, Text string
}

// FormatHistory renders records as the paper's "Post i:\nDate: ...\n<text>"
// blocks in order, cut to maxChars (the last included post is truncated).
// It returns the text and the number of posts included.
func FormatHistory(recs []tasks.Record, maxChars int) (string, int) {
	var b strings.Builder
	n := 0
	for i, r := range recs {
		var p strings.Builder
		fmt.Fprintf(&p, "Post %d:\n", i+1)
		if r.Time > 0 {
			fmt.Fprintf(&p, "Date: %s\n", time.Unix(r.Time, 0).UTC().Format("2006-01-02"))
		}
		if r.Community != "" {
			fmt.Fprintf(&p, "Community: %s\n", r.Community)
		}
		if r.ItemTitle != "" {
			fmt.Fprintf(&p, "Item: %s\n", r.ItemTitle)
		}
		if r.Rating > 0 {
			fmt.Fprintf(&p, "Rating: %g\n", r.Rating)
		}
		if r.Title != "" {
			fmt.Fprintf(&p, "Title: %s\n", strings.TrimSpace(r.Title))
		}
		if r.ParentText != "" {
			fmt.Fprintf(&p, "In reply to: %s\n", truncateRunes(strings.TrimSpace(r.ParentText), 500))
		}
		p.WriteString(strings.TrimSpace(r.Text))
		p.WriteString("\n\n")
		s := p.String()
		room := maxChars - b.Len()
		if room <= 0 {
			break
		}
		if len(s) > room {
			if room < 200 && n > 0 {
				break
			}
			s = truncateRunes(s, room) + "\n"
		}
		b.WriteString(s)
		n++
	}
	return strings.TrimSpace(b.String()), n
}

func truncateRunes(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	for maxBytes > 0 && !isRuneStart(s[maxBytes]) {
		maxBytes--
	}
	return s[:maxBytes]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func formatMeta(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if strings.TrimSpace(v) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, cleanMeta(m[k], 60))
	}
	return strings.TrimSpace(b.String())
}

func (l *LLM) ask(ctx context.Context, tmpl string, data PromptData) (string, error) {
	prompt, err := l.c.Render(tmpl, data)
	if err != nil {
		return "", err
	}
	return l.c.Chat(ctx, []tasks.Message{{Role: "user", Content: prompt}})
}

// Synthesize asks the model for persona, profile, style and thoughts. A
// transport error (after retries) fails the user; an unusable answer only
// drops that artifact.
func (l *LLM) Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error) {
	a := tasks.Artifacts{Backend: "llm"}
	if u == nil || len(u.Records) == 0 {
		return a, nil
	}
	hist, n := FormatHistory(u.Records, l.cfg.MaxHistoryChars)
	d := PromptData{Source: u.Source, Meta: formatMeta(u.Meta), History: hist, NumPosts: n, MaxThoughts: l.cfg.MaxThoughts}
	out, err := l.ask(ctx, "persona.tmpl", d)
	if err != nil {
		return a, err
	}
	a.Persona = limitWords(ParseText(out, "persona"), 100)
	if out, err = l.ask(ctx, "profile.tmpl", d); err != nil {
		return a, err
	}
	a.Profile = limitWords(ParseText(out, "profile"), 400)
	if out, err = l.ask(ctx, "style.tmpl", d); err != nil {
		return a, err
	}
	a.Style = ParseText(out, "style")
	if out, err = l.ask(ctx, "thoughts.tmpl", d); err != nil {
		return a, err
	}
	a.Thoughts = ParseThoughts(out, n, l.cfg.MaxThoughts)
	if l.cfg.LLMTopics {
		a.Topics = make([]string, len(u.Records))
		for i, r := range u.Records {
			td := PromptData{Source: u.Source, Title: r.Title, Text: truncateRunes(r.Text, l.cfg.MaxHistoryChars)}
			out, err := l.ask(ctx, "topic.tmpl", td)
			if err != nil {
				return a, err
			}
			t := ParseText(out, "topic")
			if t == "" || normSpace(t) == normSpace(r.Text) {
				t = recordTopic(r, l.heur.cfg.TopicWords)
			}
			a.Topics[i] = t
		}
	} else {
		a.Topics = l.heur.Topics(u)
	}
	return a, nil
}

// limitWords keeps whole sentences up to max words (an over-long first
// sentence is kept whole).
func limitWords(s string, maxWords int) string {
	if s == "" || wordCount(s) <= maxWords {
		return s
	}
	return fitWords(Sentences(strings.Join(strings.Fields(s), " ")), maxWords)
}

var (
	fenceRe  = regexp.MustCompile("(?s)^```[a-zA-Z]*\\s*(.*?)\\s*```$")
	labelRe  = regexp.MustCompile(`(?i)^(?:\*\*)?(?:persona|profile|style|writing style|topic|summary|answer)(?:\*\*)?\s*:\s*`)
	thinkRe  = regexp.MustCompile(`(?s)<think>.*?</think>`)
	nullVals = toSet("null none n/a na nil empty")
)

// IsNull reports the answers the paper drops: "NULL", "none", "n/a", empty
// (case-insensitive, ignoring surrounding quotes and punctuation).
func IsNull(s string) bool {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(s), " \t\n\"'`.*[]()"))
	return t == "" || nullVals[t]
}

// ParseText extracts a free-text answer: the content of <tag>...</tag> when
// present, else the whole answer without code fences, a "Tag:" label or
// surrounding quotes. NULL-like answers give "".
func ParseText(out, tag string) string {
	s := strings.TrimSpace(thinkRe.ReplaceAllString(out, ""))
	if tag != "" {
		open, close := "<"+tag+">", "</"+tag+">"
		lo := strings.Index(strings.ToLower(s), open)
		if lo >= 0 {
			rest := s[lo+len(open):]
			if hi := strings.Index(strings.ToLower(rest), close); hi >= 0 {
				s = rest[:hi]
			} else {
				s = rest
			}
		}
	}
	s = strings.TrimSpace(s)
	if m := fenceRe.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	s = strings.TrimSpace(labelRe.ReplaceAllString(s, ""))
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if IsNull(s) {
		return ""
	}
	return s
}

// ParseThoughts reads the thoughts answer: a JSON list of {"post",
// "scenario", "thought"} (or an object holding such a list), possibly in a
// code fence or surrounded by prose. Entries with a post outside 1..numPosts,
// a NULL-like field, or a scenario containing the thought are dropped; at
// most maxThoughts are kept.
func ParseThoughts(out string, numPosts, maxThoughts int) []tasks.Thought {
	s := strings.TrimSpace(thinkRe.ReplaceAllString(out, ""))
	if m := fenceRe.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	type item struct {
		Post     json.Number `json:"post"`
		Scenario string      `json:"scenario"`
		Thought  string      `json:"thought"`
	}
	var items []item
	if i, j := strings.Index(s, "["), strings.LastIndex(s, "]"); i >= 0 && j > i {
		if json.Unmarshal([]byte(s[i:j+1]), &items) != nil {
			items = nil
		}
	}
	if items == nil {
		if i, j := strings.Index(s, "{"), strings.LastIndex(s, "}"); i >= 0 && j > i {
			var obj map[string]json.RawMessage
			if json.Unmarshal([]byte(s[i:j+1]), &obj) == nil {
				keys := make([]string, 0, len(obj))
				for k := range obj {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if json.Unmarshal(obj[k], &items) == nil && len(items) > 0 {
						break
					}
					items = nil
				}
			}
		}
	}
	var res []tasks.Thought
	for _, it := range items {
		p, err := it.Post.Int64()
		if err != nil || p < 1 || int(p) > numPosts {
			continue
		}
		sc, th := strings.TrimSpace(it.Scenario), strings.TrimSpace(it.Thought)
		if IsNull(sc) || IsNull(th) || strings.Contains(normSpace(sc), normSpace(th)) {
			continue
		}
		res = append(res, tasks.Thought{Record: int(p - 1), Scenario: sc, Thought: th})
		if len(res) == maxThoughts {
			break
		}
	}
	return res
}
