package qc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/synth"
)

// judgeServer is an OpenAI-compatible server whose answer is chosen by the
// prompt (persona / profile / thought judge).
func judgeServer(t *testing.T, answer func(prompt string) string) (*synth.Client, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var req struct {
			Model    string          `json:"model"`
			Messages []tasks.Message `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad", 400)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": answer(req.Messages[0].Content)}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1},
		})
	}))
	t.Cleanup(srv.Close)
	cfg := synth.DefaultLLMConfig()
	cfg.BaseURL = srv.URL + "/v1"
	cfg.Model = "judge-model"
	cfg.APIKeyEnv = "HUMANLLM_TEST_NO_SUCH_KEY"
	cfg.CacheDir = ""
	cfg.Backoff = time.Millisecond
	c, err := synth.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestParseScores(t *testing.T) {
	s, err := ParseScores("Scores:\n<data>\n<Hallucination> 9 </Hallucination><coverage>7</coverage>\n<overall>10</overall><x>3</y></data> trailing <overall>1</overall>")
	if err != nil || s["hallucination"] != 9 || s["coverage"] != 7 || s["overall"] != 10 || len(s) != 3 {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"no data here", "<data></data>", "<data><overall>eleven</overall></data>", "<data><overall>11</overall></data>", "<data><overall>0</overall></data>", "<overall>9</overall>"} {
		if _, err := ParseScores(bad); err == nil {
			t.Errorf("ParseScores(%q) accepted", bad)
		}
	}
}

func TestDefaultThresholds(t *testing.T) {
	th := DefaultThresholds()
	if th["persona"]["coverage"] != 7 || th["persona"]["overall"] != 8 || th["profile"]["relevance"] != 9 || th["profile"]["fluency"] != 9 ||
		th["thought"]["overall"] != 9 || th["thought"]["leakage"] != 8 || th["qa_why_twitter"]["hallucination"] != 9 || th["qa_why_twitter"]["overall"] != 7 ||
		th["story"]["novelty"] != 7 || len(th["profile"]) != 8 {
		t.Fatalf("thresholds %v", th)
	}
	if r := Accept(map[string]int{"hallucination": 8, "coverage": 7, "conciseness": 8, "relevance": 8, "overall": 8}, th["persona"]); r != "" {
		t.Fatalf("exactly-at-threshold rejected: %s", r)
	}
	if r := Accept(map[string]int{"hallucination": 8, "coverage": 6, "conciseness": 8, "relevance": 8, "overall": 8}, th["persona"]); r != "low:coverage=6<7" {
		t.Fatalf("reason %q", r)
	}
	if r := Accept(map[string]int{"overall": 10}, th["persona"]); !strings.HasPrefix(r, "missing:") {
		t.Fatalf("reason %q", r)
	}
}

const allNines = "<data><hallucination>9</hallucination><coverage>9</coverage><conciseness>9</conciseness><relevance>9</relevance><fluency>9</fluency><informativeness>9</informativeness><novelty>9</novelty><fidelity>9</fidelity><leakage>9</leakage><overall>9</overall></data>"

func TestJudgeEvaluate(t *testing.T) {
	answer := allNines
	c, n := judgeServer(t, func(p string) string { return answer })
	j := NewJudge(c)
	ctx := context.Background()
	v, err := j.Evaluate(ctx, ArtifactPersona, "Post 1:\nI love dogs.", "The user loves dogs.")
	if err != nil || !v.Accepted || v.Scores["overall"] != 9 {
		t.Fatalf("accept: %+v %v", v, err)
	}
	answer = strings.Replace(allNines, "<overall>9</overall>", "<overall>7</overall>", 1)
	if v, _ := j.Evaluate(ctx, ArtifactPersona, "src", "The user."); v.Accepted || v.Reason != "low:overall=7<8" {
		t.Fatalf("reject: %+v", v)
	}
	// thought needs overall 9: 8 is rejected
	answer = strings.Replace(allNines, "<overall>9</overall>", "<overall>8</overall>", 1)
	if v, _ := j.Evaluate(ctx, ArtifactThought, "src", "Scenario: s\nThought: t"); v.Accepted {
		t.Fatalf("thought with overall 8 accepted: %+v", v)
	}
	if v, _ := j.Evaluate(ctx, ArtifactPersona, "src", "The user."); !v.Accepted {
		t.Fatalf("persona with overall 8 rejected: %+v", v)
	}
	answer = "I think it is great, 9/10!"
	if v, err := j.Evaluate(ctx, ArtifactProfile, "src", "The user."); err != nil || v.Accepted || v.Reason != "parse" {
		t.Fatalf("malformed: %+v %v", v, err)
	}
	answer = "<data><overall>10</overall></data>"
	if v, _ := j.Evaluate(ctx, ArtifactProfile, "src", "The user."); v.Accepted || !strings.HasPrefix(v.Reason, "missing:") {
		t.Fatalf("missing criterion: %+v", v)
	}
	if _, err := j.Evaluate(ctx, "nonsense", "src", "x"); err == nil {
		t.Fatal("unknown type accepted")
	}
	cn := j.Counters()
	if cn["judge_calls"] != 6 || cn["judge_accepted"] != 2 || cn["judge_rejected"] != 4 || cn["judge_parse_errors"] != 1 || n.Load() != 6 {
		t.Fatalf("counters %v, requests %d", cn, n.Load())
	}
}

func TestJudgeArtifactsAndWrapper(t *testing.T) {
	var prompts atomic.Int64
	c, _ := judgeServer(t, func(p string) string {
		prompts.Add(1)
		switch {
		case strings.Contains(p, "Persona:"):
			return allNines
		case strings.Contains(p, "Profile:"):
			return strings.Replace(allNines, "<fluency>9</fluency>", "<fluency>5</fluency>", 1)
		case strings.Contains(p, "Thought: I hope they grow."):
			return allNines
		}
		return "<data>garbage</data>"
	})
	u := &tasks.User{Source: "blogger", Records: []tasks.Record{{Text: "We planted tomatoes. I hope they grow."}, {Text: "Long day. I am tired."}}}
	inner := fixedSynth{tasks.Artifacts{Persona: "The user gardens.", Profile: "The user gardens a lot.", Style: "The user writes.", Thoughts: []tasks.Thought{
		{Record: 0, Scenario: "The user planted tomatoes.", Thought: "I hope they grow."},
		{Record: 1, Scenario: "The user had a long day.", Thought: "I am tired."},
		{Record: 7, Scenario: "bad index", Thought: "I x."},
	}}}
	s := WithJudge(inner, NewJudge(c))
	a, err := s.Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if a.Persona == "" || a.Profile != "" || a.Style == "" || len(a.Thoughts) != 1 || a.Thoughts[0].Record != 0 {
		t.Fatalf("judged artifacts %+v", a)
	}
	if prompts.Load() != 4 { // persona, profile, 2 thoughts (bad index skipped)
		t.Fatalf("%d judge calls", prompts.Load())
	}
	cn := s.(interface{ Counters() map[string]int64 }).Counters()
	if cn["judge_accepted"] != 2 || cn["judge_rejected"] != 2 || s.Name() != "fixed+judge" {
		t.Fatalf("counters %v name %s", cn, s.Name())
	}
}

type fixedSynth struct{ a tasks.Artifacts }

func (f fixedSynth) Name() string { return "fixed" }
func (f fixedSynth) Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error) {
	a := f.a
	a.Thoughts = append([]tasks.Thought(nil), f.a.Thoughts...)
	return a, nil
}
