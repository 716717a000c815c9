package qc

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/synth"
)

// Artifact types the judge knows (keys of the thresholds).
const (
	ArtifactPersona = "persona"
	ArtifactProfile = "profile"
	ArtifactThought = "thought"
)

// DefaultThresholds are the paper's acceptance thresholds (method notes §4):
// an artifact is accepted iff every listed criterion scores at least its
// value. Keys: persona, profile, thought (social QA generic / thoughts /
// actions and scenario/story/thoughts), story (user stories), qa_why_reddit,
// qa_why_twitter.
func DefaultThresholds() map[string]map[string]int {
	return map[string]map[string]int{
		ArtifactPersona:  {"hallucination": 8, "coverage": 7, "conciseness": 8, "relevance": 8, "overall": 8},
		ArtifactProfile:  {"hallucination": 8, "coverage": 8, "relevance": 9, "fluency": 9, "conciseness": 8, "informativeness": 8, "novelty": 8, "overall": 8},
		ArtifactThought:  {"hallucination": 8, "coverage": 8, "fidelity": 8, "novelty": 8, "leakage": 8, "overall": 9},
		"story":          {"hallucination": 8, "coverage": 8, "informativeness": 8, "novelty": 7, "overall": 8},
		"qa_why_reddit":  {"hallucination": 8, "coverage": 8, "fidelity": 8, "novelty": 7, "leakage": 7, "overall": 8},
		"qa_why_twitter": {"hallucination": 9, "coverage": 8, "fidelity": 8, "novelty": 7, "leakage": 7, "overall": 7},
	}
}

// DefaultJudgeSourceChars is the paper's cap on the source text given to the
// judge (0.8 x 32,767 characters).
const DefaultJudgeSourceChars = 26213

// Judge scores synthesised artifacts with an LLM following the paper's
// rubric templates (judge_<type>.tmpl) and accepts those that meet the
// thresholds. It is safe for concurrent use.
type Judge struct {
	Client *synth.Client
	// Thresholds per artifact type; nil means DefaultThresholds().
	Thresholds map[string]map[string]int
	// MaxSourceChars caps the source text in a prompt (0 = default).
	MaxSourceChars int

	judged, accepted, rejected, parseErrors atomic.Int64
}

// NewJudge returns a judge on client c with the default thresholds.
func NewJudge(c *synth.Client) *Judge {
	return &Judge{Client: c, Thresholds: DefaultThresholds(), MaxSourceChars: DefaultJudgeSourceChars}
}

// JudgeData is what the judge templates see.
type JudgeData struct {
	Kind     string
	Source   string
	Artifact string
}

// ErrJudgeParse is returned (wrapped) when the judge's answer has no
// <data> block or misses a criterion; the artifact is then rejected.
var ErrJudgeParse = errors.New("judge output not parseable")

var (
	dataRe  = regexp.MustCompile(`(?s)<data>(.*?)</data>`)
	scoreRe = regexp.MustCompile(`<(\w+)>\s*(\d+)\s*</(\w+)>`)
)

// ParseScores reads `<name>N</name>` integer scores (1-10) inside the
// <data> block, as the paper does with `<(\w+)>\s*(\d+)\s*</\1>`.
// Criteria names are lower-cased. No <data> block, no scores, or a score
// outside 1..10 is a parse error.
func ParseScores(out string) (map[string]int, error) {
	m := dataRe.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%w: no <data> block", ErrJudgeParse)
	}
	scores := map[string]int{}
	for _, g := range scoreRe.FindAllStringSubmatch(m[1], -1) {
		if g[1] != g[3] { // Go regexp has no back-references
			continue
		}
		v, err := strconv.Atoi(g[2])
		if err != nil || v < 1 || v > 10 {
			return nil, fmt.Errorf("%w: %s=%s out of 1..10", ErrJudgeParse, g[1], g[2])
		}
		scores[strings.ToLower(g[1])] = v
	}
	if len(scores) == 0 {
		return nil, fmt.Errorf("%w: no scores in <data>", ErrJudgeParse)
	}
	return scores, nil
}

// Accept checks scores against the thresholds of an artifact type. It
// returns "" when accepted, else a reason such as "missing:coverage" or
// "low:overall=7<8" (criteria in sorted order). An unknown type is an
// error.
func Accept(scores map[string]int, th map[string]int) string {
	keys := make([]string, 0, len(th))
	for k := range th {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := scores[k]
		if !ok {
			return "missing:" + k
		}
		if v < th[k] {
			return fmt.Sprintf("low:%s=%d<%d", k, v, th[k])
		}
	}
	return ""
}

// Verdict is the judge's decision on one artifact.
type Verdict struct {
	Accepted bool
	Scores   map[string]int
	// Reason is "" when accepted, "parse" for unparseable output, else what
	// Accept returned.
	Reason string
}

func (j *Judge) thresholds() map[string]map[string]int {
	if j.Thresholds != nil {
		return j.Thresholds
	}
	return DefaultThresholds()
}

// Evaluate asks the judge about one artifact of type kind (persona,
// profile, thought) made from source. A transport error is returned as an
// error; unparseable output is a rejection with Reason "parse".
func (j *Judge) Evaluate(ctx context.Context, kind, source, artifact string) (Verdict, error) {
	th, ok := j.thresholds()[kind]
	if !ok {
		return Verdict{}, fmt.Errorf("judge: no thresholds for artifact type %q", kind)
	}
	maxc := j.MaxSourceChars
	if maxc <= 0 {
		maxc = DefaultJudgeSourceChars
	}
	if len(source) > maxc {
		source = strings.ToValidUTF8(source[:maxc], "")
	}
	prompt, err := j.Client.Render("judge_"+kind+".tmpl", JudgeData{Kind: kind, Source: source, Artifact: artifact})
	if err != nil {
		return Verdict{}, err
	}
	out, err := j.Client.Chat(ctx, []tasks.Message{{Role: "user", Content: prompt}})
	if err != nil {
		return Verdict{}, err
	}
	j.judged.Add(1)
	scores, err := ParseScores(out)
	if err != nil {
		j.parseErrors.Add(1)
		j.rejected.Add(1)
		return Verdict{Reason: "parse"}, nil
	}
	if r := Accept(scores, th); r != "" {
		j.rejected.Add(1)
		return Verdict{Scores: scores, Reason: r}, nil
	}
	j.accepted.Add(1)
	return Verdict{Accepted: true, Scores: scores}, nil
}

// Counters returns the judge's counters for the run report.
func (j *Judge) Counters() map[string]int64 {
	return map[string]int64{
		"judge_calls": j.judged.Load(), "judge_accepted": j.accepted.Load(), "judge_rejected": j.rejected.Load(),
		"judge_parse_errors": j.parseErrors.Load(),
	}
}

// JudgeArtifacts judges a user's persona, profile and each thought (not
// style or topics, as in the paper) and clears those rejected. The source
// of persona and profile is the formatted history; a thought's source is its
// record.
func (j *Judge) JudgeArtifacts(ctx context.Context, u *tasks.User, a *tasks.Artifacts) error {
	maxc := j.MaxSourceChars
	if maxc <= 0 {
		maxc = DefaultJudgeSourceChars
	}
	hist, _ := synth.FormatHistory(u.Records, maxc)
	for _, it := range []struct {
		kind string
		p    *string
	}{{ArtifactPersona, &a.Persona}, {ArtifactProfile, &a.Profile}} {
		if *it.p == "" {
			continue
		}
		v, err := j.Evaluate(ctx, it.kind, hist, *it.p)
		if err != nil {
			return err
		}
		if !v.Accepted {
			*it.p = ""
		}
	}
	kept := a.Thoughts[:0:0]
	for _, t := range a.Thoughts {
		if t.Record < 0 || t.Record >= len(u.Records) {
			continue
		}
		src, _ := synth.FormatHistory(u.Records[t.Record:t.Record+1], maxc)
		v, err := j.Evaluate(ctx, ArtifactThought, src, "Scenario: "+t.Scenario+"\nThought: "+t.Thought)
		if err != nil {
			return err
		}
		if v.Accepted {
			kept = append(kept, t)
		}
	}
	a.Thoughts = kept
	return nil
}

// judged wraps a Synthesizer so that its artifacts pass the judge.
type judged struct {
	inner synth.Synthesizer
	j     *Judge
}

// WithJudge returns a Synthesizer that runs s and then j.JudgeArtifacts on
// its output. Its Counters merge those of s (if any) and of the judge.
func WithJudge(s synth.Synthesizer, j *Judge) synth.Synthesizer { return &judged{s, j} }

func (w *judged) Name() string { return w.inner.Name() + "+judge" }

func (w *judged) Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error) {
	a, err := w.inner.Synthesize(ctx, u)
	if err != nil {
		return a, err
	}
	if err := w.j.JudgeArtifacts(ctx, u, &a); err != nil {
		return a, err
	}
	return a, nil
}

func (w *judged) Counters() map[string]int64 {
	out := map[string]int64{}
	if c, ok := w.inner.(interface{ Counters() map[string]int64 }); ok {
		for k, v := range c.Counters() {
			out[k] = v
		}
	}
	for k, v := range w.j.Counters() {
		out[k] = v
	}
	return out
}
