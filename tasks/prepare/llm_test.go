package prepare

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// composite answers every prompt the llm backend sends (persona, profile,
// style, thoughts, judge): each parser takes its own part.
const composite = `<persona>The user is a reflective writer who shares daily life with warmth and humour.</persona>
<profile>The user is a reflective writer who keeps an online diary about family life, work and the weather. ` +
	`They describe small daily events in detail, often with gentle humour, and return to the same people and places over time. ` +
	`They read a lot, mention books and music, and care about their children and pets. They write about feeling tired, about rain, ` +
	`about friends who visit, and about plans that change. Their tone is warm, informal and candid, and they often ask their readers ` +
	`questions. They value honesty, patience and small pleasures, and they are open about worries as well as joys in their posts.</profile>
<style>The user writes in long, informal sentences with frequent asides and exclamation marks.</style>
[{"post": 1, "scenario": "The user was writing about their day at home.", "thought": "I could easily have stayed home in bed with my book."}]
<data><hallucination>10</hallucination><coverage>10</coverage><conciseness>10</conciseness><relevance>10</relevance><fluency>10</fluency><informativeness>10</informativeness><novelty>10</novelty><fidelity>10</fidelity><leakage>10</leakage><overall>10</overall></data>`

func TestPrepareLLMBackendAgainstLocalServer(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "test-model" || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		requests.Add(1)
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": req.Model,
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]string{"role": "assistant", "content": composite}}},
			"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
		})
	}))
	defer srv.Close()

	cfg := demoConfig(t)
	cfg.Synth.Backend = "llm"
	cfg.Synth.LLM.BaseURL = srv.URL + "/v1"
	cfg.Synth.LLM.Model = "test-model"
	cfg.Synth.LLM.CacheDir = t.TempDir()
	cfg.Synth.LLM.Concurrency = 4
	cfg.Synth.LLM.Backoff = 0
	rep, err := Prepare(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := requests.Load()
	if first == 0 || rep.Synth["llm_requests"] != first {
		t.Fatalf("server saw %d requests, report says %v", first, rep.Synth)
	}
	for _, kind := range []string{"profile", "thought"} {
		if len(rep.Tasks[kind]) == 0 {
			t.Errorf("no %s tasks from the llm backend: %v", kind, rep.Tasks)
		}
	}
	if !strings.Contains(strings.Join(keys(rep.Synth), ","), "judge") {
		t.Errorf("judge did not run: %v", rep.Synth)
	}

	// A re-run with the same cache pays nothing.
	cfg.Out = t.TempDir()
	rep2, err := Prepare(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := requests.Load() - first; n != 0 {
		t.Errorf("re-run sent %d requests; the cache should answer all", n)
	}
	if rep2.SamplesKept != rep.SamplesKept {
		t.Errorf("re-run from cache gave %d samples, first run %d", rep2.SamplesKept, rep.SamplesKept)
	}
}

func keys(m map[string]int64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
