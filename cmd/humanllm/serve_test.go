package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/synth"
	"github.com/humanllm/humanllm/trainer"
)

// serveFixture trains a tiny model the way the end-to-end test does
// (prepare --demo, two steps of train: builtin tok512 tokenizer, plain
// template) with a 1024-token context, and returns its run directory.
func serveFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	prep := filepath.Join(dir, "prep")
	if out, err := run(t, "prepare", "--config", "../../configs/demo.yaml", "--demo", "--out", prep, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for k, v := range map[string]string{"DIM": "32", "HIDDEN_DIM": "64", "N_LAYERS": "1", "N_HEADS": "2", "N_KV_HEADS": "2", "MAX_SEQ_LEN": "1024"} {
		t.Setenv("HUMANLLM_MODEL_FRESH_"+k, v)
	}
	runDir := filepath.Join(dir, "run")
	if out, err := run(t, "train", "--config", "../../configs/sft-demo.yaml", "--data", prep, "--out", runDir,
		"--max-steps", "2", "--micro-batch", "2", "--seq-len", "128", "--eval-every", "0", "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return runDir
}

// syncBuffer is a bytes.Buffer safe for a server goroutine writing and the
// test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog polls the log until re matches, returning the submatches.
func waitLog(t *testing.T, log *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("log never matched %s:\n%s", re, log.String())
	return nil
}

var listenRe = regexp.MustCompile(`listening on http://(\S+) `)

// startServeCmd runs `humanllm serve args...` in this process, the way main
// does, and returns its base URL, its stderr, and stop, which stands for
// SIGINT (cancels the command's context) and returns the command's error.
func startServeCmd(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &syncBuffer{}
	root := newRoot()
	root.SetOut(log)
	root.SetErr(log)
	root.SetArgs(append([]string{"serve"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("serve did not stop within 30s")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRe.FindStringSubmatch(log.String()); m != nil {
			return "http://" + m[1], log, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, log.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", log.String())
	return "", nil, nil
}

// startServer runs s on a fresh loopback port; stop shuts it down (with
// grace for running requests) and returns serve's error.
func startServer(t *testing.T, s *server, grace time.Duration) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, ln, grace) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func do(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type testChoice struct {
	Index   int `json:"index"`
	Message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"message"`
	Delta struct {
		Role    *string `json:"role"`
		Content *string `json:"content"`
	} `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type testCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []testChoice `json:"choices"`
	Usage   *usageJSON   `json:"usage"`
}

// complete posts a non-streaming request and checks the response's shape.
func complete(t *testing.T, base, body string) testCompletion {
	t.Helper()
	resp, b := do(t, "POST", base+"/v1/chat/completions", body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var c testCompletion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion" || c.Created == 0 || c.Model == "" ||
		len(c.Choices) != 1 || c.Choices[0].Index != 0 || c.Choices[0].Message.Role != "assistant" || c.Choices[0].FinishReason == nil || c.Usage == nil {
		t.Fatalf("response shape: %s", b)
	}
	if u := c.Usage; u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Fatalf("usage %+v", *u)
	}
	return c
}

// stream posts a streaming request and reads the whole event stream: the
// text of the content deltas, the finish reason, the usage chunk if any.
func stream(t *testing.T, base, body string) (text, finish string, usage *usageJSON) {
	t.Helper()
	resp, b := do(t, "POST", base+"/v1/chat/completions", body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	events := strings.Split(string(b), "\n\n")
	if events[len(events)-1] != "" || events[len(events)-2] != "data: [DONE]" {
		t.Fatalf("stream does not end with data: [DONE]\\n\\n: %q", b)
	}
	events = events[:len(events)-2]
	var id string
	var sb strings.Builder
	for i, e := range events {
		data, ok := strings.CutPrefix(e, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("event %d is not one data line: %q", i, e)
		}
		var c testCompletion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, data)
		}
		if c.Object != "chat.completion.chunk" || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Model == "" || (id != "" && c.ID != id) {
			t.Fatalf("event %d: %s", i, data)
		}
		id = c.ID
		if c.Usage != nil { // the usage chunk: last, no choices
			if len(c.Choices) != 0 || i != len(events)-1 || usage != nil {
				t.Fatalf("usage chunk %d of %d: %s", i, len(events), data)
			}
			usage = c.Usage
			continue
		}
		if len(c.Choices) != 1 || finish != "" {
			t.Fatalf("event %d after the finish or with %d choices: %s", i, len(c.Choices), data)
		}
		ch := c.Choices[0]
		if i == 0 {
			if ch.Delta.Role == nil || *ch.Delta.Role != "assistant" || ch.Delta.Content == nil || *ch.Delta.Content != "" {
				t.Fatalf("first chunk does not give the role: %s", data)
			}
			continue
		}
		if ch.Delta.Role != nil {
			t.Fatalf("role repeated in chunk %d: %s", i, data)
		}
		if ch.FinishReason != nil {
			if ch.Delta.Content != nil {
				t.Fatalf("finish chunk with content: %s", data)
			}
			finish = *ch.FinishReason
			continue
		}
		if ch.Delta.Content == nil || *ch.Delta.Content == "" {
			t.Fatalf("empty content chunk %d: %s", i, data)
		}
		sb.WriteString(*ch.Delta.Content)
	}
	if finish == "" {
		t.Fatalf("no finish_reason in %q", b)
	}
	return sb.String(), finish, usage
}

// asJSON is s as it reads after a JSON round trip (invalid UTF-8 bytes,
// which a barely trained model emits, become U+FFFD).
func asJSON(s string) string {
	b, _ := json.Marshal(s)
	var r string
	json.Unmarshal(b, &r)
	return r
}

// checkAPIError checks an OpenAI error response: status, exactly the four
// fields, type, param and code.
func checkAPIError(t *testing.T, name string, resp *http.Response, body []byte, status int, param, code string) string {
	t.Helper()
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: status %d (%s), want %d: %s", name, resp.StatusCode, resp.Header.Get("Content-Type"), status, body)
		return ""
	}
	var v map[string]map[string]any
	if err := json.Unmarshal(body, &v); err != nil || len(v) != 1 || len(v["error"]) != 4 {
		t.Errorf("%s: not the OpenAI error shape: %s", name, body)
		return ""
	}
	e := v["error"]
	typ := "invalid_request_error"
	if status >= 500 {
		typ = "server_error"
	}
	msg, _ := e["message"].(string)
	want := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if msg == "" || e["type"] != typ || e["param"] != want(param) || e["code"] != want(code) {
		t.Errorf("%s: error %v, want type %s param %q code %q", name, e, typ, param, code)
	}
	return msg
}

const servePrompt = "Write your next review of a guitar tuner."

func TestServe(t *testing.T) {
	runDir := serveFixture(t)
	m, err := loadChatModel(runDir, "", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if m.name != "run-ckpt-00000002" {
		t.Errorf("default model name %q, want <run>-<ckpt-step>", m.name)
	}
	base, log, stop := startServeCmd(t, "--checkpoint", runDir, "--addr", "127.0.0.1:0", "--model-name", "tiny",
		"--max-tokens-cap", "64", "--max-request-bytes", "65536")
	msgs := []tasks.Message{{Role: "user", Content: servePrompt}}
	ids, _, err := m.tpl.Render(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	direct := func(o llama.GenerateOptions) []int32 {
		o.Stop = m.stop
		out, err := m.ref.GenerateWith(ids, o)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	req := func(extra string) string {
		b, _ := json.Marshal(msgs)
		return fmt.Sprintf(`{"model":"tiny","messages":%s%s}`, b, extra)
	}

	// humanllm generate's greedy answer, and the tokens behind it.
	out, err := run(t, "generate", "--checkpoint", runDir, "--prompt", servePrompt, "--max-new", "24")
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	genText, ok := strings.CutPrefix(strings.TrimSuffix(out, "\n"), "generated  ")
	if !ok || genText == "" {
		t.Fatalf("generate output: %q", out)
	}
	greedy := direct(llama.GenerateOptions{MaxNew: 24})
	if m.answer(greedy) != genText {
		t.Fatalf("generate printed %q, the greedy tokens decode to %q", genText, m.answer(greedy))
	}
	greedyFinish := "length"
	if len(greedy) < 24 || slices.Contains(m.stop, greedy[len(greedy)-1]) {
		greedyFinish = "stop"
	}

	t.Run("greedy answer equals generate's", func(t *testing.T) {
		c := complete(t, base, req(`,"temperature":0,"max_tokens":24`))
		if got := c.Choices[0].Message.Content; got != asJSON(genText) {
			t.Errorf("served %q, generate %q", got, genText)
		}
		if c.Model != "tiny" || *c.Choices[0].FinishReason != greedyFinish {
			t.Errorf("model %q finish %q, want tiny %s", c.Model, *c.Choices[0].FinishReason, greedyFinish)
		}
		if u := *c.Usage; u.PromptTokens != len(ids) || u.CompletionTokens != len(greedy) {
			t.Errorf("usage %+v, want prompt %d completion %d", u, len(ids), len(greedy))
		}
		// top_p 0 keeps only the most likely token: greedy at any temperature.
		c = complete(t, base, req(`,"temperature":1.5,"top_p":0,"max_tokens":24`))
		if got := c.Choices[0].Message.Content; got != asJSON(genText) {
			t.Errorf("top_p 0: %q, want the greedy %q", got, genText)
		}
	})

	t.Run("streaming adds up to the same answer", func(t *testing.T) {
		text, finish, usage := stream(t, base, req(`,"temperature":0,"max_tokens":24,"stream":true,"stream_options":{"include_usage":true}`))
		if text != asJSON(genText) || finish != greedyFinish {
			t.Errorf("stream %q (%s), want %q (%s)", text, finish, genText, greedyFinish)
		}
		if usage == nil || usage.PromptTokens != len(ids) || usage.CompletionTokens != len(greedy) || usage.TotalTokens != len(ids)+len(greedy) {
			t.Errorf("stream usage %+v", usage)
		}
		if _, _, usage := stream(t, base, req(`,"temperature":0,"max_tokens":5,"stream":true`)); usage != nil {
			t.Error("usage chunk sent without stream_options.include_usage")
		}
	})

	t.Run("sampling follows temperature, top_p and seed", func(t *testing.T) {
		for _, o := range []llama.GenerateOptions{{MaxNew: 16, Temperature: 0.9, Seed: 11}, {MaxNew: 16, Temperature: 1.3, TopP: 0.5, Seed: 5}} {
			want := asJSON(m.answer(direct(o)))
			body := req(fmt.Sprintf(`,"temperature":%v,"seed":%d,"max_tokens":16`, o.Temperature, o.Seed))
			if o.TopP > 0 {
				body = req(fmt.Sprintf(`,"temperature":%v,"top_p":%v,"seed":%d,"max_tokens":16`, o.Temperature, o.TopP, o.Seed))
			}
			for range 2 {
				if got := complete(t, base, body).Choices[0].Message.Content; got != want {
					t.Errorf("%+v: served %q, want %q", o, got, want)
				}
			}
			st, _, _ := stream(t, base, strings.TrimSuffix(body, "}")+`,"stream":true}`)
			if st != want {
				t.Errorf("%+v: streamed %q, want %q", o, st, want)
			}
		}
	})

	t.Run("max_tokens", func(t *testing.T) {
		for _, f := range []string{"max_tokens", "max_completion_tokens"} {
			c := complete(t, base, req(fmt.Sprintf(`,"temperature":0,"%s":3`, f)))
			want := direct(llama.GenerateOptions{MaxNew: 3})
			if c.Usage.CompletionTokens != len(want) || len(want) != 3 || slices.Contains(m.stop, want[2]) {
				t.Fatalf("%s 3: %d tokens (%v)", f, c.Usage.CompletionTokens, want)
			}
			if *c.Choices[0].FinishReason != "length" || c.Choices[0].Message.Content != asJSON(m.answer(want)) {
				t.Errorf("%s 3: finish %q content %q", f, *c.Choices[0].FinishReason, c.Choices[0].Message.Content)
			}
		}
		// No max_tokens: the cap (64) is the default.
		if c := complete(t, base, req(`,"temperature":0`)); c.Usage.CompletionTokens != len(direct(llama.GenerateOptions{MaxNew: 64})) {
			t.Errorf("default max_tokens: %d tokens", c.Usage.CompletionTokens)
		}
	})

	t.Run("stop strings", func(t *testing.T) {
		full := m.answer(greedy)
		stopAt := -1
		for i := 1; i+1 < len(full); i++ {
			if full[i] > ' ' && full[i] < 0x7f && full[i+1] > ' ' && full[i+1] < 0x7f {
				stopAt = i
				break
			}
		}
		if stopAt < 0 {
			t.Fatalf("the greedy answer %q has no two printable ASCII bytes to stop at", full)
		}
		stopStr := full[stopAt : stopAt+2]
		want := strings.TrimRightFunc(full[:strings.Index(full, stopStr)], unicode.IsSpace)
		a := m.newAnswer([]string{stopStr})
		n := 0
		for _, id := range greedy {
			n++
			if a.add(id) {
				break
			}
		}
		sj, _ := json.Marshal(stopStr)
		for _, stop := range []string{string(sj), `["zzzzqqq",` + string(sj) + `]`} {
			c := complete(t, base, req(`,"temperature":0,"max_tokens":24,"stop":`+stop))
			if c.Choices[0].Message.Content != asJSON(want) || *c.Choices[0].FinishReason != "stop" || c.Usage.CompletionTokens != n {
				t.Errorf("stop %s: %q (%s, %d tokens), want %q (stop, %d tokens)", stop, c.Choices[0].Message.Content, *c.Choices[0].FinishReason, c.Usage.CompletionTokens, want, n)
			}
			text, finish, _ := stream(t, base, req(`,"temperature":0,"max_tokens":24,"stream":true,"stop":`+stop))
			if text != asJSON(want) || finish != "stop" {
				t.Errorf("stream stop %s: %q (%s), want %q", stop, text, finish, want)
			}
		}
	})

	t.Run("models", func(t *testing.T) {
		resp, b := do(t, "GET", base+"/v1/models", "")
		var list struct {
			Object string `json:"object"`
			Data   []struct {
				ID, Object, OwnedBy string
				Created             int64
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != 200 || list.Object != "list" || len(list.Data) != 1 ||
			list.Data[0].ID != "tiny" || list.Data[0].Object != "model" || list.Data[0].Created == 0 {
			t.Errorf("/v1/models: %d %s", resp.StatusCode, b)
		}
		if resp, b := do(t, "GET", base+"/v1/models/tiny", ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"tiny"`) {
			t.Errorf("/v1/models/tiny: %d %s", resp.StatusCode, b)
		}
		resp, b = do(t, "GET", base+"/v1/models/gpt-4", "")
		checkAPIError(t, "unknown model", resp, b, 404, "model", "model_not_found")
		if resp, b := do(t, "GET", base+"/health", ""); resp.StatusCode != 200 || string(b) != "{\"status\":\"ok\"}\n" {
			t.Errorf("/health: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("errors", func(t *testing.T) {
		user := `"messages":[{"role":"user","content":"hi"}]`
		long := strings.Repeat("guitar tuner review ", 400)
		cases := []struct {
			name, method, path, body string
			status                   int
			param, code, says        string
		}{
			{"bad JSON", "POST", "", "{\"messages\": [\n  {\"role\": \"user\",}]}", 400, "", "invalid_json", "line 2, column 19"},
			{"truncated JSON", "POST", "", `{"messages": [`, 400, "", "invalid_json", "unexpected end of JSON input"},
			{"not an object", "POST", "", `[1,2]`, 400, "", "invalid_json", "JSON object"},
			{"empty body", "POST", "", ``, 400, "", "", "empty"},
			{"wrong field type", "POST", "", `{` + user + `,"max_tokens":"10"}`, 400, "max_tokens", "invalid_type", "expected an integer, got a string (line 1, column"},
			{"missing messages", "POST", "", `{"model":"tiny"}`, 400, "messages", "missing_required_parameter", "'messages'"},
			{"empty messages", "POST", "", `{"messages":[]}`, 400, "messages", "empty_array", "empty"},
			{"wrong role", "POST", "", `{"messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]}`, 400, "messages[1].role", "invalid_value", `"robot"`},
			{"tool role", "POST", "", `{"messages":[{"role":"tool","content":"b"}]}`, 400, "messages[0].role", "invalid_value", `"tool"`},
			{"no role", "POST", "", `{"messages":[{"content":"b"}]}`, 400, "messages[0].role", "missing_required_parameter", "role"},
			{"content type", "POST", "", `{"messages":[{"role":"user","content":5}]}`, 400, "messages[0].content", "invalid_type", "string"},
			{"image part", "POST", "", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "messages[0].content", "invalid_type", "image_url"},
			{"n", "POST", "", `{` + user + `,"n":2}`, 400, "n", "invalid_value", "n must be 1"},
			{"max_tokens over the cap", "POST", "", `{` + user + `,"max_tokens":65}`, 400, "max_tokens", "", "max_tokens is too large: 65. This model supports at most 64 completion tokens"},
			{"max_completion_tokens over the cap", "POST", "", `{` + user + `,"max_completion_tokens":1000}`, 400, "max_completion_tokens", "", "at most 64"},
			{"max_tokens 0", "POST", "", `{` + user + `,"max_tokens":0}`, 400, "max_tokens", "integer_below_min_value", ">= 1"},
			{"temperature", "POST", "", `{` + user + `,"temperature":2.5}`, 400, "temperature", "invalid_value", "0 to 2"},
			{"top_p", "POST", "", `{` + user + `,"top_p":-0.1}`, 400, "top_p", "invalid_value", "0 to 1"},
			{"stop type", "POST", "", `{` + user + `,"stop":7}`, 400, "stop", "invalid_type", "string"},
			{"too many stops", "POST", "", `{` + user + `,"stop":["a","b","c","d","e"]}`, 400, "stop", "invalid_type", "at most 4"},
			{"stream_options without stream", "POST", "", `{` + user + `,"stream_options":{"include_usage":true}}`, 400, "stream_options", "invalid_value", "stream"},
			{"prompt over the context", "POST", "", `{"messages":[{"role":"user","content":"` + long + `"}]}`, 400, "messages", "context_length_exceeded", "maximum context length is 1024 tokens"},
			{"body over the cap", "POST", "", `{"messages":[{"role":"user","content":"` + strings.Repeat("a", 70000) + `"}]}`, 413, "", "request_too_large", "65536 bytes"},
			{"unknown path", "POST", "/v1/completions", `{}`, 404, "", "unknown_url", "POST /v1/completions"},
			{"unknown path GET", "GET", "/", ``, 404, "", "unknown_url", "GET /"},
			{"wrong method", "GET", "/v1/chat/completions", ``, 405, "", "method_not_allowed", "use POST"},
			{"wrong method models", "DELETE", "/v1/models", ``, 405, "", "method_not_allowed", "use GET"},
		}
		for _, c := range cases {
			path := c.path
			if path == "" {
				path = "/v1/chat/completions"
			}
			resp, b := do(t, c.method, base+path, c.body)
			msg := checkAPIError(t, c.name, resp, b, c.status, c.param, c.code)
			if msg != "" && !strings.Contains(msg, c.says) {
				t.Errorf("%s: message %q does not say %q", c.name, msg, c.says)
			}
			if c.status == 405 && resp.Header.Get("Allow") == "" {
				t.Errorf("%s: no Allow header", c.name)
			}
		}
		// Unknown fields are ignored, text parts and "developer" accepted.
		c := complete(t, base, `{"model":"gpt-4o","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"hi"}]}],`+
			`"frequency_penalty":0,"logit_bias":{"1":2},"user":"x","response_format":{"type":"text"},"max_tokens":2}`)
		if c.Model != "tiny" || c.Usage.CompletionTokens != 2 {
			t.Errorf("unknown fields: %+v", c)
		}
	})

	t.Run("synth llm client and backend", func(t *testing.T) {
		cfg := synth.DefaultLLMConfig()
		cfg.BaseURL, cfg.Model, cfg.APIKeyEnv = base+"/v1", "tiny", "HUMANLLM_TEST_UNSET_KEY"
		cfg.Temperature, cfg.MaxTokens, cfg.CacheDir, cfg.Retries = 0, 24, "", 0
		cfg.MaxHistoryChars = 300
		c, err := synth.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Chat(context.Background(), msgs)
		if err != nil || got != asJSON(genText) {
			t.Fatalf("synth client: %q (%v), want generate's %q", got, err, genText)
		}
		if st := c.Stats(); st.PromptTokens != int64(len(ids)) || st.CompletionTok != int64(len(greedy)) {
			t.Errorf("synth client counted usage %+v, want %d + %d", st, len(ids), len(greedy))
		}
		u := &tasks.User{Source: tasks.SourceBlogger, ID: "u1", Meta: map[string]string{"age": "40"}, Records: []tasks.Record{
			{Kind: tasks.KindPost, Time: 1086000000, Text: "We planted tomatoes today. I hope they grow."},
			{Kind: tasks.KindPost, Time: 1087000000, Title: "Late", Text: "Came home late from work again. I am exhausted today."},
		}}
		a, err := synth.NewLLMWithClient(c).Synthesize(context.Background(), u)
		if err != nil {
			t.Fatalf("llm backend against the server: %v\n%s", err, log.String())
		}
		if st := c.Stats(); a.Backend != "llm" || st.Requests != 5 || st.Errors != 0 || st.CompletionTok <= int64(len(greedy)) {
			t.Errorf("llm backend: %+v, stats %+v", a, st)
		}
	})

	t.Run("official OpenAI client", func(t *testing.T) {
		node, modules := openaiNode(t)
		job, _ := json.Marshal(map[string]any{"messages": msgs, "max_tokens": 24, "too_many_tokens": 100000})
		jobPath := filepath.Join(t.TempDir(), "job.json")
		if err := os.WriteFile(jobPath, job, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "openai_client.mjs"), modules, base+"/v1", jobPath)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("openai client: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		type answer struct {
			Content, Finish string
			Usage           usageJSON
		}
		var res struct {
			Version    string
			Models     []string
			Completion struct {
				answer
				Object, Model, Role string
			}
			Stream struct {
				answer
				Chunks int
			}
			Error *struct {
				Name, Type, Param, Message string
				Status                     int
			}
		}
		line, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "RESULT ")
		if err := json.Unmarshal([]byte(line), &res); !ok || err != nil {
			t.Fatalf("%v: %s\n%s", err, stdout.String(), stderr.String())
		}
		want := answer{Content: asJSON(genText), Finish: greedyFinish, Usage: usageJSON{len(ids), len(greedy), len(ids) + len(greedy)}}
		c := res.Completion
		if !slices.Equal(res.Models, []string{"tiny"}) || c.answer != want || c.Object != "chat.completion" || c.Model != "tiny" || c.Role != "assistant" {
			t.Errorf("openai %s: models %v, completion %+v, want %+v", res.Version, res.Models, c, want)
		}
		if res.Stream.answer != want || res.Stream.Chunks < 3 {
			t.Errorf("openai %s: stream %+v, want %+v", res.Version, res.Stream, want)
		}
		if e := res.Error; e == nil || e.Name != "BadRequestError" || e.Status != 400 || e.Type != "invalid_request_error" || e.Param != "max_tokens" || !strings.Contains(e.Message, "too large") {
			t.Errorf("openai %s: error %+v", res.Version, e)
		}
	})

	t.Run("prepare --synth llm end to end", func(t *testing.T) {
		// prepare's llm backend on an eighth of the demo users, with prompts
		// cut to fit the 1024-token context; no judge, an empty cache.
		for k, v := range map[string]string{"MAX_HISTORY_CHARS": "300", "MAX_TOKENS": "16", "CACHE_DIR": t.TempDir(), "RETRIES": "0"} {
			t.Setenv("HUMANLLM_SYNTH_LLM_"+k, v)
		}
		t.Setenv("HUMANLLM_SYNTH_JUDGE", "false")
		before := len(log.String())
		dir := t.TempDir()
		if out, err := run(t, "prepare", "--config", "../../configs/demo.yaml", "--demo", "--out", dir, "--shard", "0/8", "-q",
			"--synth", "llm", "--llm-base-url", base+"/v1", "--llm-model", "tiny"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			UsersKept int              `json:"users_kept"`
			Synth     map[string]int64 `json:"synth"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		// The server logged every request the client counted, with the
		// same token usage.
		var n, prompt, completion int64
		for _, m := range regexp.MustCompile(`POST /v1/chat/completions 200 prompt_tokens=(\d+) completion_tokens=(\d+)`).FindAllStringSubmatch(log.String()[before:], -1) {
			p, _ := strconv.ParseInt(m[1], 10, 64)
			c, _ := strconv.ParseInt(m[2], 10, 64)
			n, prompt, completion = n+1, prompt+p, completion+c
		}
		s := rep.Synth
		if rep.UsersKept == 0 || s["llm_requests"] == 0 || s["llm_errors"] != 0 || s["llm_requests"] != n ||
			s["llm_prompt_tokens"] != prompt || s["llm_completion_tokens"] != completion {
			t.Errorf("prepare report: %d users kept, synth %v; the server answered %d requests, %d + %d tokens", rep.UsersKept, s, n, prompt, completion)
		}
	})

	t.Run("request log", func(t *testing.T) {
		complete(t, base, req(`,"temperature":0,"max_tokens":7`))
		do(t, "PUT", base+"/v1/chat/completions", "")
		waitLog(t, log, regexp.MustCompile(`POST /v1/chat/completions 200 prompt_tokens=`+strconv.Itoa(len(ids))+` completion_tokens=7 \S+s finish_reason=length`))
		waitLog(t, log, regexp.MustCompile(`PUT /v1/chat/completions 405 \S+s Method PUT is not allowed`))
	})

	// SIGINT (the command's context) shuts the server down cleanly.
	if err := stop(); err != nil {
		t.Fatalf("serve after SIGINT: %v\n%s", err, log.String())
	}
	waitLog(t, log, regexp.MustCompile(`shutting down(?s:.*)stopped`))
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("still answering after shutdown")
	}

	// The same model with its stop ids removed always generates max_tokens:
	// for the tests of the queue, of cancellation and of shutdown.
	endless := *m
	endless.stop = nil
	body := func(maxTokens int, stream bool) string {
		return req(fmt.Sprintf(`,"temperature":0,"max_tokens":%d,"stream":%v`, maxTokens, stream))
	}

	t.Run("one generation at a time", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newServer(&endless, serveConfig{maxBody: 1 << 20, maxTokensCap: 1000, queue: 2}, logs)
		var mu sync.Mutex
		var seq []int
		s.afterToken = func(n int) {
			mu.Lock()
			seq = append(seq, n)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
		base, _ := startServer(t, s, time.Second)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if c := complete(t, base, body(5, false)); c.Usage.CompletionTokens != 5 {
					t.Errorf("%d tokens", c.Usage.CompletionTokens)
				}
			})
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if want := []int{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5}; !slices.Equal(seq, want) {
			t.Errorf("token order %v: generations overlapped", seq)
		}
	})

	t.Run("queue full", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newServer(&endless, serveConfig{maxBody: 1 << 20, maxTokensCap: 1000, queue: 0}, logs)
		started := make(chan struct{})
		var once sync.Once
		s.afterToken = func(int) {
			once.Do(func() { close(started) })
			time.Sleep(3 * time.Millisecond)
		}
		base, _ := startServer(t, s, time.Second)
		done := make(chan testCompletion)
		go func() { done <- complete(t, base, body(60, false)) }()
		<-started
		resp, b := do(t, "POST", base+"/v1/chat/completions", body(2, false))
		checkAPIError(t, "busy", resp, b, 503, "", "server_busy")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if c := <-done; c.Usage.CompletionTokens != 60 {
			t.Errorf("the running request: %d tokens", c.Usage.CompletionTokens)
		}
		if c := complete(t, base, body(2, false)); c.Usage.CompletionTokens != 2 {
			t.Errorf("after the queue drained: %d tokens", c.Usage.CompletionTokens)
		}
	})

	t.Run("client disconnect stops generation", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newServer(&endless, serveConfig{maxBody: 1 << 20, maxTokensCap: 1000, queue: 2}, logs)
		s.afterToken = func(int) { time.Sleep(5 * time.Millisecond) } // 900 tokens: 4.5 s
		base, _ := startServer(t, s, time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		r, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/chat/completions", strings.NewReader(body(900, true)))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for range 3 { // the role chunk and the first content chunk
			if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
				t.Fatalf("%q %v", line, err)
			}
			br.ReadString('\n')
		}
		start := time.Now()
		cancel()
		resp.Body.Close()
		got := waitLog(t, logs, regexp.MustCompile(`completion_tokens=(\d+) \S+ stream canceled: client gone`))
		if n, _ := strconv.Atoi(got[1]); n >= 900 || time.Since(start) > 3*time.Second {
			t.Errorf("generation went on after the client left: %d tokens, %v", n, time.Since(start))
		}
		if c := complete(t, base, body(3, false)); c.Usage.CompletionTokens != 3 {
			t.Errorf("next request: %d tokens", c.Usage.CompletionTokens)
		}
	})

	t.Run("shutdown lets running requests finish, then stops them", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newServer(&endless, serveConfig{maxBody: 1 << 20, maxTokensCap: 1000, queue: 2}, logs)
		started := make(chan struct{}, 1000)
		s.afterToken = func(int) {
			started <- struct{}{}
			time.Sleep(3 * time.Millisecond)
		}
		base, stop := startServer(t, s, 10*time.Second)
		type result struct {
			text, finish string
			usage        *usageJSON
		}
		done := make(chan result)
		go func() {
			text, finish, usage := stream(t, base, req(`,"temperature":0,"max_tokens":100,"stream":true,"stream_options":{"include_usage":true}`))
			done <- result{text, finish, usage}
		}()
		<-started
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.finish != "length" || r.usage == nil || r.usage.CompletionTokens != 100 {
			t.Errorf("request during shutdown: %+v", r)
		}
		waitLog(t, logs, regexp.MustCompile(`shutting down(?s:.*)stopped`))

		// Grace over: the running generation is stopped.
		logs = &syncBuffer{}
		s = newServer(&endless, serveConfig{maxBody: 1 << 20, maxTokensCap: 1000, queue: 2}, logs)
		s.afterToken = func(int) {
			started <- struct{}{}
			time.Sleep(5 * time.Millisecond)
		}
		base, stop = startServer(t, s, 100*time.Millisecond)
		go func() {
			r, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body(900, true)))
			if err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}()
		for len(started) > 0 {
			<-started
		}
		<-started
		t0 := time.Now()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		got := waitLog(t, logs, regexp.MustCompile(`completion_tokens=(\d+) \S+ stream canceled`))
		if n, _ := strconv.Atoi(got[1]); n >= 900 || time.Since(t0) > 3*time.Second {
			t.Errorf("generation not stopped at the end of the grace period: %d tokens after %v", n, time.Since(t0))
		}
	})
}

// A real process: serve --model (the same as --checkpoint) answers, and
// SIGTERM shuts it down with exit status 0.
func TestServeSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	runDir := serveFixture(t)
	cmd, stderr, _ := startChild(t, "serve", "--model", runDir, "--addr", "127.0.0.1:0")
	defer cmd.Process.Kill()
	m := listenRe.FindStringSubmatch(waitFor(t, stderr, "listening on"))
	if m == nil {
		t.Fatal("no address")
	}
	resp, b := do(t, "POST", "http://"+m[1]+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"completion_tokens":4`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(stderr)
	var ee *exec.ExitError
	if err := cmd.Wait(); err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	} else if err != nil {
		t.Fatalf("exit %d after SIGTERM:\n%s", ee.ExitCode(), rest)
	}
	if !strings.Contains(string(rest), "POST /v1/chat/completions 200") || !strings.Contains(string(rest), "stopped") {
		t.Errorf("stderr:\n%s", rest)
	}
}

func TestServeFlags(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "127.3.2.1:1": true, "[::1]:80": true, "localhost:0": true,
		":8080": false, "0.0.0.0:80": false, "[::]:80": false, "192.168.1.4:80": false, "example.com:80": false} {
		if got, err := loopbackAddr(addr); err != nil || got != want {
			t.Errorf("loopbackAddr(%q) = %v, %v", addr, got, err)
		}
	}
	if _, err := loopbackAddr("8080"); err == nil {
		t.Error("an address without a port accepted")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--addr", "0.0.0.0:0", "--checkpoint", dir}, "--allow-remote"},
		{[]string{"--addr", ":0", "--checkpoint", dir}, "--allow-remote"},
		{[]string{}, "--model"},
		{[]string{"--checkpoint", dir, "--model", dir + "x"}, "same option"},
		{[]string{"--checkpoint", dir, "--max-tokens-cap", "0"}, "positive"},
		{[]string{"--checkpoint", filepath.Join(dir, "nope")}, "nope"},
	} {
		if _, err := run(t, append([]string{"serve"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("serve %v: %v, want an error saying %q", c.args, err, c.says)
		}
	}
	out, err := run(t, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--checkpoint", "--model string", "--addr string", `(default "127.0.0.1:8080")`, "--allow-remote", "--model-name",
		"--max-request-bytes int", "(default 1048576)", "--max-tokens-cap int", "(default 4096)", "--queue int", "(default 16)",
		"--shutdown-timeout duration", "(default 10s)", "/v1/chat/completions", "/v1/models", "SIGTERM"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// answerText streams text that only grows: pieces hold whole UTF-8
// characters, trailing whitespace and a possible start of a stop string
// are held back, and the pieces add up to the final answer.
func TestAnswerTextStreaming(t *testing.T) {
	tok, err := loadTokenizer("builtin:tok512", trainer.ModelSource{Source: "fresh", Fresh: trainer.FreshModel{Vocab: 512}})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := chat.New("plain", tok)
	if err != nil {
		t.Fatal(err)
	}
	m := &chatModel{tok: tok, tpl: tpl, stop: tpl.StopIDs()}
	const text = "Once upon a time, a café in 東京 said “hi”   and   left.  "
	enc := tok.Encode(text)
	ids := make([]int32, len(enc))
	partial := false
	for i, id := range enc {
		ids[i] = int32(id)
		partial = partial || !utf8.ValidString(tok.Decode(enc[:i+1]))
	}
	if !partial {
		t.Fatal("no prefix of the ids decodes to a partial UTF-8 character: the test does not exercise the hold-back")
	}
	feed := func(stops []string, ids []int32) (pieces []string, final string, ended bool) {
		a := m.newAnswer(stops)
		for _, id := range ids {
			e := a.add(id)
			if d := a.next(); d != "" {
				pieces = append(pieces, d)
			}
			if e {
				break
			}
		}
		rest, ok := a.rest()
		if !ok {
			t.Fatalf("final text does not extend the streamed pieces %q", pieces)
		}
		return append(pieces, rest), a.text(true), a.ended
	}
	for _, c := range []struct {
		name  string
		stops []string
		ids   []int32
		want  string
		ended bool
	}{
		{"no stop", nil, ids, strings.TrimSpace(text), false},
		{"stop string", []string{"said"}, ids, "Once upon a time, a café in 東京", true},
		{"stop string across tokens", []string{"XYZ", "ime, a"}, ids, "Once upon a t", true},
		{"stop string inside a character", []string{"\xe4\xba"}, ids, "Once upon a time, a café in 東", true},
		{"stop id", nil, append(slices.Clone(ids[:8]), append([]int32{int32(tok.EOS())}, ids[8:]...)...), strings.TrimSpace(tok.Decode(enc[:8])), true},
	} {
		pieces, final, ended := feed(c.stops, c.ids)
		if final != c.want || ended != c.ended || strings.Join(pieces, "") != final {
			t.Errorf("%s: pieces %q final %q ended %v, want %q ended %v", c.name, pieces, final, ended, c.want, c.ended)
		}
		for _, p := range pieces {
			if !utf8.ValidString(p) {
				t.Errorf("%s: piece %q splits a character", c.name, p)
			}
		}
		if c.stops == nil && m.answer(c.ids) != c.want {
			t.Errorf("%s: answer %q, want %q", c.name, m.answer(c.ids), c.want)
		}
	}
}

func FuzzParseChatRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0.5,"top_p":0.9,"seed":-3,"stop":["a",""],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":null}],"stop":"x","n":1}`,
		`{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":64,"max_tokens":100000}`,
		`{"messages":[]}`, `{}`, `[]`, `null`, ``, `{"messages":[{"role":"tool"}]}`, `{"messages":[{"role":"user","content":{}}]}`,
		"{\"messages\": [\n{\"role\": \"user\",}]}", `{"messages":[{"role":"user","content":"a"}],"stop":[1]}`, `{"messages":[{"role":"user","content":"a"}],"temperature":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := parseChatRequest(body, 64)
		if e != nil {
			if req != nil || e.status != 400 || e.message == "" || !json.Valid(e.json()) {
				t.Fatalf("error %+v with request %+v", e, req)
			}
			return
		}
		if len(req.messages) == 0 || req.maxTokens < 0 || req.maxTokens > 64 || req.temperature < 0 || req.temperature > 2 ||
			req.topP < 0 || req.topP > 1 || len(req.stop) > 4 || slices.Contains(req.stop, "") || (req.includeUsage && !req.stream) {
			t.Fatalf("accepted out of range: %+v", req)
		}
		for _, m := range req.messages {
			if m.Role != "system" && m.Role != "user" && m.Role != "assistant" {
				t.Fatalf("role %q accepted", m.Role)
			}
		}
	})
}

// openaiNode locates node and the official OpenAI client library (npm
// package openai) that `make openai-node` installs into .cache/openai
// (git-ignored; HUMANLLM_OPENAI_NODE_DIR overrides). Without them the
// check skips, or fails under HUMANLLM_REQUIRE_OPENAI_NODE=1.
func openaiNode(t *testing.T) (node, modules string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := "official OpenAI client check: " + fmt.Sprintf(format, args...) + "; install it with `make openai-node`"
		if os.Getenv("HUMANLLM_REQUIRE_OPENAI_NODE") == "1" {
			t.Fatal(msg + " (required: HUMANLLM_REQUIRE_OPENAI_NODE=1)")
		}
		t.Skip(msg)
	}
	dir := os.Getenv("HUMANLLM_OPENAI_NODE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "openai")
	}
	modules, err := filepath.Abs(filepath.Join(dir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "openai", "index.mjs")); err != nil {
		missing("the npm package openai is not installed in %s", dir)
	}
	if node, err = exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	return node, modules
}
