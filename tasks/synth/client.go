package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/humanllm/humanllm/tasks"
)

// LLMConfig configures the OpenAI-compatible chat completions client and the
// llm synthesis backend.
type LLMConfig struct {
	// BaseURL of the server, e.g. http://127.0.0.1:8000/v1; requests go to
	// BaseURL + "/chat/completions" ("/v1/chat/completions" when BaseURL has
	// no path; used as is when it already ends in /chat/completions).
	BaseURL string `mapstructure:"base_url"`
	// Model is the model name sent in each request.
	Model string `mapstructure:"model"`
	// APIKeyEnv names the environment variable holding the API key. When
	// it is unset or empty no Authorization header is sent (local servers).
	APIKeyEnv   string  `mapstructure:"api_key_env"`
	Temperature float64 `mapstructure:"temperature"`
	MaxTokens   int     `mapstructure:"max_tokens"`
	// Concurrency bounds the requests in flight across all calls of one
	// client.
	Concurrency int `mapstructure:"concurrency"`
	// Retries is how many times a request is retried after a 429, a 5xx, a
	// timeout or a network error (so 1+Retries attempts).
	Retries int `mapstructure:"retries"`
	// Backoff is the base of the exponential backoff (doubled per attempt,
	// capped at 60s, with jitter); a Retry-After header overrides it.
	Backoff time.Duration `mapstructure:"backoff"`
	// Timeout limits one HTTP attempt.
	Timeout time.Duration `mapstructure:"timeout"`
	// CacheDir holds one file per distinct request (sha256 of model,
	// temperature and messages); "" disables the cache.
	CacheDir string `mapstructure:"cache_dir"`
	// PromptDir holds *.tmpl files that override the embedded prompt
	// templates of the same name; "" uses the embedded ones.
	PromptDir string `mapstructure:"prompt_dir"`
	// MaxHistoryChars caps the history text put into one prompt.
	MaxHistoryChars int `mapstructure:"max_history_chars"`
	// MaxThoughts caps the thoughts kept per user.
	MaxThoughts int `mapstructure:"max_thoughts"`
	// LLMTopics asks the model for each record's topic (one call per
	// record) instead of the heuristic topic.
	LLMTopics bool `mapstructure:"llm_topics"`
}

// DefaultLLMConfig returns the defaults: the paper's generator
// (Llama-3.3-70B-Instruct, temperature 0.3), 2048 output tokens, 8 requests
// in flight, 5 retries from a 1s backoff, 120s per request, cache in
// .humanllm-cache/llm, 24,000 history characters, 20 thoughts, heuristic
// topics.
func DefaultLLMConfig() LLMConfig {
	return LLMConfig{
		Model:           "meta-llama/Llama-3.3-70B-Instruct",
		APIKeyEnv:       "OPENAI_API_KEY",
		Temperature:     0.3,
		MaxTokens:       2048,
		Concurrency:     8,
		Retries:         5,
		Backoff:         time.Second,
		Timeout:         120 * time.Second,
		CacheDir:        ".humanllm-cache/llm",
		MaxHistoryChars: 24000,
		MaxThoughts:     20,
	}
}

func (c LLMConfig) withDefaults() LLMConfig {
	d := DefaultLLMConfig()
	if c.APIKeyEnv == "" {
		c.APIKeyEnv = d.APIKeyEnv
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = d.MaxTokens
	}
	if c.Concurrency <= 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.Backoff <= 0 {
		c.Backoff = d.Backoff
	}
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxHistoryChars <= 0 {
		c.MaxHistoryChars = d.MaxHistoryChars
	}
	if c.MaxThoughts <= 0 {
		c.MaxThoughts = d.MaxThoughts
	}
	return c
}

//go:embed prompts/*.tmpl
var embeddedPrompts embed.FS

// EmbeddedPrompts returns the built-in prompt templates by file name.
func EmbeddedPrompts() map[string]string {
	out := map[string]string{}
	ents, _ := fs.ReadDir(embeddedPrompts, "prompts")
	for _, e := range ents {
		b, _ := fs.ReadFile(embeddedPrompts, "prompts/"+e.Name())
		out[e.Name()] = string(b)
	}
	return out
}

// Stats are a client's counters.
type Stats struct {
	// Calls counts Chat calls; Requests counts HTTP attempts sent.
	Calls, Requests             int64
	CacheHits, CacheMisses      int64
	Retries, Errors             int64
	PromptTokens, CompletionTok int64
}

// Client talks to one OpenAI-compatible chat completions endpoint. It is
// safe for concurrent use.
type Client struct {
	cfg      LLMConfig
	endpoint string
	key      string
	http     *http.Client
	sem      chan struct{}
	tmpl     *template.Template

	calls, requests, hits, misses, retries, errs, ptok, ctok atomic.Int64
}

// NewClient checks cfg, loads the prompt templates and returns a client.
func NewClient(cfg LLMConfig) (*Client, error) {
	cfg = cfg.withDefaults()
	if cfg.BaseURL == "" {
		return nil, errors.New("synth.llm.base_url: required")
	}
	ep, err := endpointURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	t, err := loadTemplates(cfg.PromptDir)
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:      cfg,
		endpoint: ep,
		key:      os.Getenv(cfg.APIKeyEnv),
		http:     &http.Client{},
		sem:      make(chan struct{}, cfg.Concurrency),
		tmpl:     t,
	}, nil
}

func endpointURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("synth.llm.base_url: %q is not an http(s) URL", base)
	}
	switch {
	case strings.HasSuffix(u.Path, "/chat/completions"):
	case u.Path == "":
		u.Path = "/v1/chat/completions"
	default:
		u.Path += "/chat/completions"
	}
	return u.String(), nil
}

func loadTemplates(dir string) (*template.Template, error) {
	root := template.New("").Option("missingkey=error")
	for name, text := range EmbeddedPrompts() {
		if _, err := root.New(name).Parse(text); err != nil {
			return nil, fmt.Errorf("embedded prompt %s: %w", name, err)
		}
	}
	if dir == "" {
		return root, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("synth.llm.prompt_dir: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := root.New(filepath.Base(f)).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("prompt %s: %w", f, err)
		}
	}
	return root, nil
}

// Config returns the effective configuration (defaults filled in).
func (c *Client) Config() LLMConfig { return c.cfg }

// Render executes the prompt template name ("persona.tmpl") with data.
func (c *Client) Render(name string, data any) (string, error) {
	var b strings.Builder
	if err := c.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("prompt %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{
		Calls: c.calls.Load(), Requests: c.requests.Load(), CacheHits: c.hits.Load(), CacheMisses: c.misses.Load(),
		Retries: c.retries.Load(), Errors: c.errs.Load(), PromptTokens: c.ptok.Load(), CompletionTok: c.ctok.Load(),
	}
}

// Counters returns the counters for the run report, keys prefixed "llm_".
func (c *Client) Counters() map[string]int64 {
	s := c.Stats()
	return map[string]int64{
		"llm_calls": s.Calls, "llm_requests": s.Requests, "llm_cache_hits": s.CacheHits, "llm_cache_misses": s.CacheMisses,
		"llm_retries": s.Retries, "llm_errors": s.Errors, "llm_prompt_tokens": s.PromptTokens,
		"llm_completion_tokens": s.CompletionTok,
	}
}

type chatRequest struct {
	Model       string          `json:"model"`
	Messages    []tasks.Message `json:"messages"`
	Temperature float64         `json:"temperature"`
	MaxTokens   int             `json:"max_tokens,omitempty"`
}

type chatResponse struct {
	Choices []struct {
		Message      tasks.Message `json:"message"`
		FinishReason string        `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
}

type cacheEntry struct {
	Model       string  `json:"model"`
	Temperature float64 `json:"temperature"`
	Content     string  `json:"content"`
}

// CacheKey is the hex sha256 of the request's model, temperature and
// messages: the name of its cache file.
func CacheKey(model string, temperature float64, msgs []tasks.Message) string {
	b, _ := json.Marshal(struct {
		Model       string          `json:"model"`
		Temperature float64         `json:"temperature"`
		Messages    []tasks.Message `json:"messages"`
	}{model, temperature, msgs})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (c *Client) cachePath(key string) string {
	return filepath.Join(c.cfg.CacheDir, key[:2], key+".json")
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("chat completions: HTTP %d: %s", e.Status, e.Body)
}

// Chat sends messages and returns the assistant's text, from the cache when
// the same request was answered before.
func (c *Client) Chat(ctx context.Context, msgs []tasks.Message) (string, error) {
	c.calls.Add(1)
	var key string
	if c.cfg.CacheDir != "" {
		key = CacheKey(c.cfg.Model, c.cfg.Temperature, msgs)
		if b, err := os.ReadFile(c.cachePath(key)); err == nil {
			var e cacheEntry
			if json.Unmarshal(b, &e) == nil {
				c.hits.Add(1)
				return e.Content, nil
			}
		}
		c.misses.Add(1)
	}
	body, err := json.Marshal(chatRequest{Model: c.cfg.Model, Messages: msgs, Temperature: c.cfg.Temperature, MaxTokens: c.cfg.MaxTokens})
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := 0; attempt <= c.cfg.Retries; attempt++ {
		if attempt > 0 {
			c.retries.Add(1)
		}
		text, retryAfter, retryable, err := c.attempt(ctx, body)
		if err == nil {
			if key != "" {
				if err := writeAtomic(c.cachePath(key), cacheEntry{c.cfg.Model, c.cfg.Temperature, text}); err != nil {
					return "", fmt.Errorf("llm cache: %w", err)
				}
			}
			return text, nil
		}
		lastErr = err
		if !retryable || ctx.Err() != nil || attempt == c.cfg.Retries {
			break
		}
		wait := retryAfter
		if wait <= 0 {
			d := c.cfg.Backoff << attempt
			if d > 60*time.Second || d <= 0 {
				d = 60 * time.Second
			}
			wait = d/2 + rand.N(d/2+1)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.errs.Add(1)
			return "", ctx.Err()
		case <-t.C:
		}
	}
	c.errs.Add(1)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return "", lastErr
}

// attempt sends one request, holding a concurrency slot.
func (c *Client) attempt(ctx context.Context, body []byte) (text string, retryAfter time.Duration, retryable bool, err error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", 0, false, ctx.Err()
	}
	defer func() { <-c.sem }()
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		// network error or this attempt's timeout: retry unless the
		// caller gave up
		return "", 0, ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return "", 0, ctx.Err() == nil, err
	}
	if resp.StatusCode/100 != 2 {
		ex := string(rb)
		if len(ex) > 300 {
			ex = ex[:300]
		}
		herr := &HTTPError{Status: resp.StatusCode, Body: ex}
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout
		return "", parseRetryAfter(resp.Header.Get("Retry-After")), retry, herr
	}
	var cr chatResponse
	if err := json.Unmarshal(rb, &cr); err != nil {
		return "", 0, true, fmt.Errorf("chat completions: bad response JSON: %w", err)
	}
	if len(cr.Choices) == 0 {
		return "", 0, true, errors.New("chat completions: response has no choices")
	}
	c.ptok.Add(cr.Usage.PromptTokens)
	c.ctok.Add(cr.Usage.CompletionTokens)
	return cr.Choices[0].Message.Content, 0, false, nil
}

// parseRetryAfter reads delta-seconds or an HTTP date, capped at 5 minutes.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		d = time.Duration(s * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		return 0
	}
	return min(d, 5*time.Minute)
}

// writeAtomic writes v as JSON to path through a temporary file in the same
// directory that is synced and renamed into place, so a reader sees either
// nothing or the whole file.
func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
