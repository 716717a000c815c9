package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/humanllm/humanllm/tasks"
)

// fakeOpenAI is a real HTTP server on 127.0.0.1 speaking the chat
// completions API. reply decides the answer per request; a non-nil status
// makes the server answer with that HTTP status instead.
type fakeOpenAI struct {
	t        *testing.T
	srv      *httptest.Server
	requests atomic.Int64
	inflight atomic.Int64
	maxIn    atomic.Int64
	mu       sync.Mutex
	bodies   []map[string]any
	auth     []string
	handle   func(n int64, w http.ResponseWriter, r *http.Request, prompt string) bool // true = handled
	reply    func(prompt string) string
	delay    time.Duration
}

func newFake(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	f.mu.Lock()
	handle, reply, delay := f.handle, f.reply, f.delay
	f.mu.Unlock()
	in := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxIn.Load()
		if in <= m || f.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "bad route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	msgs, _ := body["messages"].([]any)
	prompt := ""
	if len(msgs) > 0 {
		prompt, _ = msgs[len(msgs)-1].(map[string]any)["content"].(string)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if handle != nil && handle(n, w, r, prompt) {
		return
	}
	content := "ok"
	if reply != nil {
		content = reply(prompt)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(), "model": body["model"],
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}

func (f *fakeOpenAI) cfg(t *testing.T) LLMConfig {
	c := DefaultLLMConfig()
	c.BaseURL = f.srv.URL + "/v1"
	c.Model = "test-model"
	c.APIKeyEnv = "HUMANLLM_TEST_NO_SUCH_KEY"
	c.Backoff = time.Millisecond
	c.Timeout = 5 * time.Second
	c.CacheDir = ""
	return c
}

func userMsg(s string) []tasks.Message { return []tasks.Message{{Role: "user", Content: s}} }

func TestClientRequestAndAuth(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.reply = func(p string) string { return "echo:" + p }
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.Temperature = 0.3
	cfg.MaxTokens = 77
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Chat(context.Background(), userMsg("hello"))
	if err != nil || got != "echo:hello" {
		t.Fatalf("Chat = %q, %v", got, err)
	}
	b := f.bodies[0]
	if b["model"] != "test-model" || b["temperature"] != 0.3 || b["max_tokens"] != float64(77) {
		t.Fatalf("request body %v", b)
	}
	m := b["messages"].([]any)[0].(map[string]any)
	if m["role"] != "user" || m["content"] != "hello" {
		t.Fatalf("messages %v", b["messages"])
	}
	if f.auth[0] != "" {
		t.Fatalf("Authorization sent without a key: %q", f.auth[0])
	}
	t.Setenv("HUMANLLM_TEST_KEY", "sk-test-123")
	cfg.APIKeyEnv = "HUMANLLM_TEST_KEY"
	c2, _ := NewClient(cfg)
	if _, err := c2.Chat(context.Background(), userMsg("x")); err != nil {
		t.Fatal(err)
	}
	if f.auth[1] != "Bearer sk-test-123" {
		t.Fatalf("Authorization = %q", f.auth[1])
	}
	if s := c.Stats(); s.Calls != 1 || s.Requests != 1 || s.PromptTokens != 10 || s.CompletionTok != 5 {
		t.Fatalf("stats %+v", s)
	}
}

func TestEndpointURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8000/v1":                    "http://127.0.0.1:8000/v1/chat/completions",
		"http://127.0.0.1:8000/v1/":                   "http://127.0.0.1:8000/v1/chat/completions",
		"http://127.0.0.1:8000":                       "http://127.0.0.1:8000/v1/chat/completions",
		"https://api.example.com/v1/chat/completions": "https://api.example.com/v1/chat/completions",
	} {
		if got, err := endpointURL(in); err != nil || got != want {
			t.Errorf("endpointURL(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := NewClient(LLMConfig{BaseURL: "not a url"}); err == nil {
		t.Error("bad base URL accepted")
	}
	if _, err := NewClient(LLMConfig{}); err == nil {
		t.Error("empty base URL accepted")
	}
}

func TestClientRetry500ThenSuccess(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		if n <= 2 {
			http.Error(w, "overloaded", http.StatusInternalServerError)
			return true
		}
		return false
	}
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.Retries = 3
	c, _ := NewClient(cfg)
	got, err := c.Chat(context.Background(), userMsg("hi"))
	if err != nil || got != "ok" {
		t.Fatalf("Chat = %q, %v", got, err)
	}
	if s := c.Stats(); s.Requests != 3 || s.Retries != 2 || s.Errors != 0 {
		t.Fatalf("stats %+v", s)
	}
	// Retries exhausted: the HTTP error comes back.
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		http.Error(w, "down", http.StatusBadGateway)
		return true
	}
	f.mu.Unlock()
	cfg.Retries = 2
	c, _ = NewClient(cfg)
	_, err = c.Chat(context.Background(), userMsg("hi"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	if s := c.Stats(); s.Requests != 3 || s.Errors != 1 {
		t.Fatalf("stats %+v", s)
	}
	// 400 is not retried.
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		http.Error(w, "bad request", http.StatusBadRequest)
		return true
	}
	f.mu.Unlock()
	c, _ = NewClient(cfg)
	if _, err := c.Chat(context.Background(), userMsg("hi")); err == nil || c.Stats().Requests != 1 {
		t.Fatalf("400: err %v, requests %d", err, c.Stats().Requests)
	}
}

func TestClient429RetryAfter(t *testing.T) {
	f := newFake(t)
	var firstAt, secondAt time.Time
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		if n == 1 {
			firstAt = time.Now()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		secondAt = time.Now()
		return false
	}
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.Retries = 1
	c, _ := NewClient(cfg)
	if _, err := c.Chat(context.Background(), userMsg("hi")); err != nil {
		t.Fatal(err)
	}
	if d := secondAt.Sub(firstAt); d < 900*time.Millisecond {
		t.Fatalf("Retry-After: 1 not honoured, retried after %v", d)
	}
	if parseRetryAfter("2.5") != 2500*time.Millisecond || parseRetryAfter("junk") != 0 || parseRetryAfter("99999") != 5*time.Minute {
		t.Fatal("parseRetryAfter")
	}
	if d := parseRetryAfter(time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)); d < time.Second || d > 3*time.Second {
		t.Fatalf("HTTP-date Retry-After = %v", d)
	}
}

func TestClientTimeout(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.delay = 2 * time.Second
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.Timeout = 100 * time.Millisecond
	cfg.Retries = 0
	c, _ := NewClient(cfg)
	start := time.Now()
	_, err := c.Chat(context.Background(), userMsg("hi"))
	if err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("timeout: err %v after %v", err, time.Since(start))
	}
	// A slow first attempt is retried; the second is fast.
	f.mu.Lock()
	f.delay = 0
	f.mu.Unlock()
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		if n == 2 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return true
		}
		return false
	}
	f.mu.Unlock()
	cfg.Retries = 1
	c, _ = NewClient(cfg)
	if got, err := c.Chat(context.Background(), userMsg("hi")); err != nil || got != "ok" {
		t.Fatalf("retry after timeout: %q %v", got, err)
	}
	// The caller's cancellation is not retried.
	f.mu.Lock()
	f.handle = nil
	f.mu.Unlock()
	f.mu.Lock()
	f.delay = 2 * time.Second
	f.mu.Unlock()
	cfg.Retries = 5
	cfg.Timeout = time.Minute
	c, _ = NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Chat(ctx, userMsg("hi")); !errors.Is(err, context.DeadlineExceeded) || c.Stats().Requests != 1 {
		t.Fatalf("cancelled: err %v, requests %d", err, c.Stats().Requests)
	}
}

func TestClientBoundedConcurrency(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.delay = 30 * time.Millisecond
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.Concurrency = 3
	c, _ := NewClient(cfg)
	var wg sync.WaitGroup
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Chat(context.Background(), userMsg(fmt.Sprint("q", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := f.maxIn.Load(); m > 3 || m < 2 {
		t.Fatalf("max in flight = %d, want <= 3 (and some parallelism)", m)
	}
	if f.requests.Load() != 24 {
		t.Fatalf("requests %d", f.requests.Load())
	}
}

func TestClientCache(t *testing.T) {
	f := newFake(t)
	n := 0
	f.mu.Lock()
	f.reply = func(p string) string { n++; return fmt.Sprintf("answer %d to %s", n, p) }
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.CacheDir = filepath.Join(t.TempDir(), "cache")
	c, _ := NewClient(cfg)
	a1, err := c.Chat(context.Background(), userMsg("q"))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.Chat(context.Background(), userMsg("q"))
	if a1 != a2 || f.requests.Load() != 1 {
		t.Fatalf("second call not from cache: %q %q, %d requests", a1, a2, f.requests.Load())
	}
	if s := c.Stats(); s.CacheHits != 1 || s.CacheMisses != 1 || s.Calls != 2 {
		t.Fatalf("stats %+v", s)
	}
	// A new client on the same directory (a resumed run) pays nothing.
	c2, _ := NewClient(cfg)
	if a3, _ := c2.Chat(context.Background(), userMsg("q")); a3 != a1 || f.requests.Load() != 1 {
		t.Fatalf("resumed run: %q, %d requests", a3, f.requests.Load())
	}
	// Another temperature or model is another key.
	cfg.Temperature = 0.9
	c3, _ := NewClient(cfg)
	c3.Chat(context.Background(), userMsg("q"))
	if f.requests.Load() != 2 {
		t.Fatalf("temperature not part of the key")
	}
	// Files: one JSON per request under <2 hex>/<sha>.json, no temp files.
	var files []string
	filepath.WalkDir(cfg.CacheDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 2 {
		t.Fatalf("cache files %v", files)
	}
	key := CacheKey("test-model", 0.3, userMsg("q"))
	want := filepath.Join(cfg.CacheDir, key[:2], key+".json")
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("cache file %s: %v (have %v)", want, err, files)
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Content != a1 || e.Model != "test-model" {
		t.Fatalf("cache entry %s", b)
	}
	for _, p := range files {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			t.Fatalf("temp file left: %s", p)
		}
	}
	// A torn file (e.g. from a crash of a non-atomic writer) is a miss and
	// is rewritten.
	os.WriteFile(want, b[:len(b)/2], 0o644)
	c4, _ := NewClient(func() LLMConfig { c := cfg; c.Temperature = 0.3; return c }())
	if a, _ := c4.Chat(context.Background(), userMsg("q")); a == a1 || f.requests.Load() != 3 {
		t.Fatalf("torn cache file served: %q", a)
	}
	if b2, _ := os.ReadFile(want); json.Unmarshal(b2, &e) != nil {
		t.Fatalf("cache file not rewritten: %s", b2)
	}
}

func TestWriteAtomicConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ab", "x.json")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var torn atomic.Int64
	go func() { // a reader never sees a partial file
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := os.ReadFile(p); err == nil {
				var e cacheEntry
				if json.Unmarshal(b, &e) != nil {
					torn.Add(1)
				}
			}
			runtime.Gosched()
		}
	}()
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if err := writeAtomic(p, cacheEntry{Content: strings.Repeat("x", 10000*(i+1))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if torn.Load() != 0 {
		t.Fatalf("%d torn reads", torn.Load())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("leftover files: %v", ents)
	}
}

// scriptedReply answers the synthesis prompts like a model would.
func scriptedReply(p string) string {
	switch {
	case strings.Contains(p, "Write a persona"):
		return "<persona>The user is a thoughtful parent who loves gardening.</persona>"
	case strings.Contains(p, "Write a profile"):
		return "```\nProfile: " + strings.TrimSpace(strings.Repeat("The user likes tomatoes. ", 30)) + "\n```"
	case strings.Contains(p, "writing style"):
		return "NULL"
	case strings.Contains(p, "inner thought"):
		return "Here you go:\n```json\n[{\"post\": 1, \"scenario\": \"The user planted tomatoes.\", \"thought\": \"I hope they grow.\"}," +
			"{\"post\": 9, \"scenario\": \"out of range\", \"thought\": \"I x.\"}," +
			"{\"post\": \"2\", \"scenario\": \"The user thinks I am tired.\", \"thought\": \"I am tired.\"}," +
			"{\"post\": 2, \"scenario\": \"none\", \"thought\": \"I am sad.\"}," +
			"{\"post\": 2, \"scenario\": \"The user came home late.\", \"thought\": \"I am exhausted today.\"}]\n```"
	case strings.Contains(p, "Summarise what the post is about"):
		return "<topic>tomato gardening</topic>"
	}
	return "?"
}

func testUser() *tasks.User {
	return &tasks.User{Source: tasks.SourceBlogger, ID: "u1", Meta: map[string]string{"gender": "female", "age": "40"}, Records: []tasks.Record{
		{Kind: tasks.KindPost, Time: 1086000000, Text: "We planted tomatoes today. I hope they grow."},
		{Kind: tasks.KindPost, Time: 1087000000, Title: "Late", Text: "Came home late from work again. I am exhausted today."},
	}}
}

func TestLLMSynthesize(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.reply = scriptedReply
	f.mu.Unlock()
	cfg := f.cfg(t)
	cfg.CacheDir = t.TempDir()
	l, err := NewLLM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := testUser()
	a, err := l.Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if a.Backend != "llm" || a.Persona != "The user is a thoughtful parent who loves gardening." {
		t.Fatalf("persona %q", a.Persona)
	}
	if !strings.HasPrefix(a.Profile, "The user likes tomatoes.") || wordCount(a.Profile) != 120 {
		t.Fatalf("profile %q", a.Profile)
	}
	if a.Style != "" {
		t.Fatalf("NULL style kept: %q", a.Style)
	}
	want := []tasks.Thought{{Record: 0, Scenario: "The user planted tomatoes.", Thought: "I hope they grow."}, {Record: 1, Scenario: "The user came home late.", Thought: "I am exhausted today."}}
	if fmt.Sprint(a.Thoughts) != fmt.Sprint(want) {
		t.Fatalf("thoughts %+v", a.Thoughts)
	}
	if len(a.Topics) != 2 || a.Topics[1] != "Late" {
		t.Fatalf("topics %q", a.Topics)
	}
	if f.requests.Load() != 4 {
		t.Fatalf("%d requests, want 4 (persona, profile, style, thoughts)", f.requests.Load())
	}
	// The prompt carries the history and metadata.
	p := f.bodies[0]["messages"].([]any)[0].(map[string]any)["content"].(string)
	for _, w := range []string{"Post 1:\nDate: 2004-05-31\nWe planted tomatoes", "Post 2:", "Title: Late", "age: 40", "gender: female"} {
		if !strings.Contains(p, w) {
			t.Fatalf("prompt lacks %q:\n%s", w, p)
		}
	}
	// A re-run over the same cache costs no request.
	l2, _ := NewLLM(cfg)
	b, _ := l2.Synthesize(context.Background(), u)
	if f.requests.Load() != 4 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("re-run: %d requests", f.requests.Load())
	}
	if c := l2.Counters(); c["llm_cache_hits"] != 4 || c["llm_requests"] != 0 {
		t.Fatalf("counters %v", c)
	}
	// LLM topics when configured.
	cfg.LLMTopics = true
	l3, _ := NewLLM(cfg)
	c, _ := l3.Synthesize(context.Background(), u)
	if c.Topics[0] != "tomato gardening" || f.requests.Load() != 6 {
		t.Fatalf("llm topics %q, %d requests", c.Topics, f.requests.Load())
	}
	// Server errors fail the user.
	f.mu.Lock()
	f.handle = func(n int64, w http.ResponseWriter, r *http.Request, _ string) bool {
		http.Error(w, "x", 503)
		return true
	}
	f.mu.Unlock()
	cfg.CacheDir = ""
	cfg.Retries = 0
	l4, _ := NewLLM(cfg)
	if _, err := l4.Synthesize(context.Background(), u); err == nil {
		t.Fatal("503 not reported")
	}
}

func TestFormatHistoryCap(t *testing.T) {
	recs := []tasks.Record{{Text: strings.Repeat("a", 5000)}, {Text: strings.Repeat("b", 5000)}, {Text: "c"}}
	h, n := FormatHistory(recs, 7000)
	if len(h) > 7000 || n != 2 || !strings.Contains(h, "Post 2:") || strings.Contains(h, "Post 3:") {
		t.Fatalf("len %d n %d", len(h), n)
	}
	h, n = FormatHistory(recs[:1], 100)
	if len(h) > 100 || n != 1 {
		t.Fatalf("single long post: len %d n %d", len(h), n)
	}
}

func TestParseText(t *testing.T) {
	cases := map[string]string{
		"<persona>The user is kind.</persona>":            "The user is kind.",
		"Sure! <persona>\nThe user is kind.\n</persona> ": "The user is kind.",
		"Persona: The user is kind.":                      "The user is kind.",
		"\"The user is kind.\"":                           "The user is kind.",
		"```\nThe user is kind.\n```":                     "The user is kind.",
		"<think>hmm</think>The user is kind.":             "The user is kind.",
		"NULL":                                            "",
		"<persona>None</persona>":                         "",
		" n/a. ":                                          "",
		"":                                                "",
	}
	for in, want := range cases {
		if got := ParseText(in, "persona"); got != want {
			t.Errorf("ParseText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseThoughts(t *testing.T) {
	obj := `{"thoughts": [{"post": 1, "scenario": "The user lost a match.", "thought": "I feel terrible."}]}`
	if got := ParseThoughts(obj, 1, 20); len(got) != 1 || got[0].Thought != "I feel terrible." {
		t.Fatalf("object form: %+v", got)
	}
	if got := ParseThoughts("no json here", 3, 20); got != nil {
		t.Fatalf("garbage: %+v", got)
	}
	if got := ParseThoughts("[]", 3, 20); got != nil {
		t.Fatalf("empty: %+v", got)
	}
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"post":1,"scenario":"s","thought":"I t."},`, 30), ",") + "]"
	if got := ParseThoughts(many, 1, 20); len(got) != 20 {
		t.Fatalf("cap: %d", len(got))
	}
}

func TestPromptDirOverride(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "persona.tmpl"), []byte("CUSTOM persona for {{.Source}} with {{.NumPosts}} posts"), 0o644)
	cfg := f.cfg(t)
	cfg.PromptDir = dir
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Render("persona.tmpl", PromptData{Source: "reddit", NumPosts: 3})
	if p != "CUSTOM persona for reddit with 3 posts" {
		t.Fatalf("override: %q", p)
	}
	if p, _ := c.Render("style.tmpl", PromptData{Source: "reddit", History: "Post 1:\nhi"}); !strings.Contains(p, "writing style") {
		t.Fatalf("embedded default lost: %q", p)
	}
	os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte("{{.Nope"), 0o644)
	if _, err := NewClient(cfg); err == nil {
		t.Fatal("broken template accepted")
	}
	cfg.PromptDir = filepath.Join(dir, "missing")
	if _, err := NewClient(cfg); err == nil {
		t.Fatal("missing prompt dir accepted")
	}
	// Every embedded template renders with its documented data.
	c, _ = NewClient(f.cfg(t))
	for name := range EmbeddedPrompts() {
		var data any = PromptData{Source: "reddit", Meta: "age: 3", History: "Post 1:\nhi", NumPosts: 1, MaxThoughts: 5, Title: "t", Text: "x"}
		if strings.HasPrefix(name, "judge_") {
			data = struct{ Kind, Source, Artifact string }{"persona", "Post 1:\nhi", "The user."}
		}
		if p, err := c.Render(name, data); err != nil || len(p) < 50 {
			t.Errorf("%s: %v %q", name, err, p)
		}
	}
}

// TestConfigPromptsMatchEmbedded keeps configs/prompts/ (the editable copy)
// identical to the embedded defaults.
func TestConfigPromptsMatchEmbedded(t *testing.T) {
	dir := filepath.Join("..", "..", "configs", "prompts")
	emb := EmbeddedPrompts()
	if len(emb) != 8 {
		t.Fatalf("%d embedded templates", len(emb))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.tmpl"))
	if len(files) != len(emb) {
		t.Fatalf("configs/prompts has %d templates, embedded %d", len(files), len(emb))
	}
	for name, text := range emb {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != text {
			t.Errorf("configs/prompts/%s differs from tasks/synth/prompts/%s (%v)", name, name, err)
		}
	}
}
