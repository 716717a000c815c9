package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/tasks"
)

func newServe() *cobra.Command {
	var (
		ckpt, modelPath, addr, name, tokSrc, tplName string
		allowRemote                                  bool
		cfg                                          serveConfig
		grace                                        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve --model PATH [--addr 127.0.0.1:8080]",
		Short: "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models)",
		Long: `serve loads a model (a training checkpoint, a run directory — its newest
complete checkpoint —, a Hugging Face directory, a GGUF file or a llama2.c .bin)
with its run's or file's tokenizer and chat template and answers OpenAI chat completions requests, so that prepare's llm synthesis
backend (synth.llm.base_url: http://127.0.0.1:8080/v1) and any OpenAI client
can use it:

  POST /v1/chat/completions  messages (system, developer, user, assistant; text
                             content), max_tokens / max_completion_tokens,
                             temperature (default 1; 0 = greedy), top_p, seed,
                             stop (a string or up to 4), n (1 only), stream
                             (server-sent events, stream_options.include_usage)
  GET  /v1/models            the one model (its id: --model-name, or
                             <run>-<ckpt-step>, or the file name); the request's "model" is not
                             checked: every request gets this model
  GET  /health               {"status":"ok"} once the model is loaded

Bad requests get the OpenAI error JSON {"error":{"message","type","param","code"}}
with status 400 (invalid JSON, with its line and column; a missing or invalid
field), 404 (unknown path), 405 (wrong method), 413 (body over
--max-request-bytes) or 503 (more than --queue requests waiting). As OpenAI
does, max_tokens over --max-tokens-cap is refused (400), not clamped, and a
prompt that leaves no room in the model's context is refused
(context_length_exceeded); an answer that reaches the end of the context
stops there with finish_reason "length". Unknown fields are ignored.
usage.completion_tokens counts every generated token, the end-of-turn one
included.

One generation runs at a time (the others wait, up to --queue), so a small
machine is not oversubscribed; a client that disconnects stops its
generation. It listens on loopback unless --allow-remote is given (there is
no authentication). SIGINT/SIGTERM stop accepting connections and give
running requests --shutdown-timeout to finish. Each request is logged on
stderr (method, path, status, tokens, duration).`,
		Example: `  humanllm serve --model runs/demo
  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"Write your next review of a guitar tuner."}],"temperature":0,"max_tokens":64}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt != "" && modelPath != "" && ckpt != modelPath {
				return errors.New("serve: --checkpoint and --model are the same option; give one")
			}
			if ckpt == "" {
				ckpt = modelPath
			}
			if ckpt == "" {
				return errors.New("serve: --model is required")
			}
			if cfg.maxBody < 1 || cfg.maxTokensCap < 1 || cfg.queue < 0 {
				return errors.New("serve: --max-request-bytes and --max-tokens-cap must be positive, --queue not negative")
			}
			stderr := cmd.ErrOrStderr()
			loopback, err := loopbackAddr(addr)
			if err != nil {
				return err
			}
			if !loopback && !allowRemote {
				return fmt.Errorf("serve: --addr %s is not a loopback address; the server has no authentication, so binding it needs --allow-remote", addr)
			}
			fmt.Fprintf(stderr, "serve: loading %s\n", ckpt)
			m, err := loadChatModel(ckpt, tokSrc, tplName, stderr)
			if err != nil {
				return err
			}
			if name != "" {
				m.name = name
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			if !loopback {
				fmt.Fprintf(stderr, "serve: WARNING: listening on %s, reachable from other machines, without authentication\n", ln.Addr())
			}
			s := newServer(m, cfg, stderr)
			fmt.Fprintf(stderr, "serve: model %s (%s parameters, context %d tokens, template %s); listening on http://%s (OpenAI base URL http://%s/v1)\n",
				m.name, paramCount(m.ref.Config), m.contextLen(), m.tpl.Name(), ln.Addr(), ln.Addr())
			return s.serve(cmd.Context(), ln, grace)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", modelPathHelp)
	f.StringVar(&ckpt, "checkpoint", "", "the same as --model")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (port 0: any free port); a non-loopback host needs --allow-remote")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow a non-loopback --addr (there is no authentication; a warning is printed)")
	f.StringVar(&name, "model-name", "", "model id in responses and /v1/models (default <run>-<ckpt-step>)")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer (default: the run's data.tokenizer)")
	f.StringVar(&tplName, "template", "", "chat template (default: the run's data.template)")
	f.Int64Var(&cfg.maxBody, "max-request-bytes", 1<<20, "largest request body in bytes (larger: 413)")
	f.IntVar(&cfg.maxTokensCap, "max-tokens-cap", 4096, "largest max_tokens a request may ask for (larger: 400, as OpenAI); also the default when a request gives none")
	f.IntVar(&cfg.queue, "queue", 16, "requests that may wait while one generates (more: 503)")
	f.DurationVar(&grace, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long running requests may take to finish before they are stopped")
	return cmd
}

// loopbackAddr reports whether addr's host is a loopback address
// ("localhost", 127.0.0.0/8, ::1); an empty host means every interface.
func loopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("serve: --addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

type serveConfig struct {
	maxBody      int64 // request body cap in bytes
	maxTokensCap int   // largest max_tokens
	queue        int   // requests that may wait for the generation slot
}

// server answers the OpenAI API with one model, one generation at a time.
type server struct {
	m       *chatModel
	cfg     serveConfig
	created int64
	slot    chan struct{} // holds the running generation
	waiting atomic.Int64  // requests waiting for or holding the slot
	log     *log.Logger
	// afterToken, when set (tests), runs after each generated token with
	// the number of tokens the request has generated.
	afterToken func(n int)
}

func newServer(m *chatModel, cfg serveConfig, logw io.Writer) *server {
	return &server{m: m, cfg: cfg, created: time.Now().Unix(), slot: make(chan struct{}, 1),
		log: log.New(logw, "serve: ", log.LstdFlags)}
}

// serve answers on ln until ctx is done, then shuts down gracefully:
// no new connections, and running requests get grace to finish before
// their generations are stopped and their connections closed.
func (s *server) serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          log.New(s.log.Writer(), "serve: http: ", log.LstdFlags),
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Printf("shutting down: no new connections; running requests have %s to finish", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Printf("shutdown: %v; stopping the running requests", err)
		stop()
		hs.Close()
	}
	<-done
	s.log.Printf("stopped")
	return nil
}

// apiError is an OpenAI error response.
type apiError struct {
	status               int
	message, param, code string
}

func (e *apiError) Error() string { return e.message }

func badRequest(param, code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...), param: param, code: code}
}

// errorJSON is the OpenAI error shape:
// {"error":{"message":…,"type":…,"param":…|null,"code":…|null}}.
type errorJSON struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func (e *apiError) json() []byte {
	var v errorJSON
	v.Error.Message, v.Error.Type = e.message, "invalid_request_error"
	if e.status >= 500 {
		v.Error.Type = "server_error"
	}
	if e.param != "" {
		v.Error.Param = &e.param
	}
	if e.code != "" {
		v.Error.Code = &e.code
	}
	b, _ := json.Marshal(v)
	return b
}

// writeError writes e as an OpenAI error response.
func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(e.json(), '\n'))
}

// reqLog records what the request log line reports.
type reqLog struct {
	http.ResponseWriter
	status           int
	prompt, complete int
	note             string
}

func (r *reqLog) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *reqLog) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and the deadlines.
func (r *reqLog) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *reqLog) fail(e *apiError) {
	r.note = e.message
	writeError(r, e)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rl := &reqLog{ResponseWriter: w}
	defer func() {
		status := "-" // nothing sent: the client left first
		if rl.status != 0 {
			status = strconv.Itoa(rl.status)
		}
		line := fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, status)
		if rl.prompt > 0 {
			line += fmt.Sprintf(" prompt_tokens=%d completion_tokens=%d", rl.prompt, rl.complete)
		}
		// one line whatever the client sent
		line = strings.Map(func(c rune) rune {
			if unicode.IsControl(c) {
				return ' '
			}
			return c
		}, fmt.Sprintf("%s %.3fs %s", line, time.Since(start).Seconds(), rl.note))
		s.log.Print(line)
	}()
	path := r.URL.Path
	var allow string
	switch {
	case path == "/v1/chat/completions":
		allow = http.MethodPost
	case path == "/v1/models", path == "/health", strings.HasPrefix(path, "/v1/models/"):
		allow = http.MethodGet
	default:
		rl.fail(&apiError{status: http.StatusNotFound, message: fmt.Sprintf("Invalid URL (%s %s): this server answers POST /v1/chat/completions and GET /v1/models", r.Method, path), code: "unknown_url"})
		return
	}
	if r.Method != allow && !(allow == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", allow)
		rl.fail(&apiError{status: http.StatusMethodNotAllowed, message: fmt.Sprintf("Method %s is not allowed for %s; use %s", r.Method, path, allow), code: "method_not_allowed"})
		return
	}
	switch {
	case path == "/v1/chat/completions":
		s.chat(rl, r)
	case path == "/health":
		writeJSON(rl, map[string]string{"status": "ok"})
	case path == "/v1/models":
		writeJSON(rl, map[string]any{"object": "list", "data": []any{s.modelObject()}})
	default:
		if id := strings.TrimPrefix(path, "/v1/models/"); id != s.m.name {
			rl.fail(&apiError{status: http.StatusNotFound, message: fmt.Sprintf("The model '%s' does not exist; this server serves '%s'", id, s.m.name), param: "model", code: "model_not_found"})
			return
		}
		writeJSON(rl, s.modelObject())
	}
}

func (s *server) modelObject() map[string]any {
	return map[string]any{"id": s.m.name, "object": "model", "created": s.created, "owned_by": "humanllm"}
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// chatRequest is a parsed and checked chat completions request.
type chatRequest struct {
	messages     []tasks.Message
	maxTokens    int // 0: not given
	temperature  float64
	topP         float64
	seed         uint64
	seeded       bool
	stop         []string
	stream       bool
	includeUsage bool
}

// wire form of a request: pointers and raw values tell "absent" from zero
// and allow the several shapes OpenAI accepts.
type chatRequestJSON struct {
	Messages            []messageJSON   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	N                   *int            `json:"n"`
	Stream              *bool           `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type messageJSON struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// parseChatRequest decodes and checks a request body; maxTokensCap is the
// largest max_tokens accepted. Errors are 400s naming the field (and, for
// invalid JSON, the line and column).
func parseChatRequest(body []byte, maxTokensCap int) (*chatRequest, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("", "", "The request body is empty; send a JSON object with \"messages\"")
	}
	var in chatRequestJSON
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, jsonError(body, err)
	}
	req := &chatRequest{temperature: 1, topP: 1}
	if in.Messages == nil {
		return nil, badRequest("messages", "missing_required_parameter", "Missing required parameter: 'messages'")
	}
	if len(in.Messages) == 0 {
		return nil, badRequest("messages", "empty_array", "Invalid 'messages': empty array; expected at least one message")
	}
	for i, m := range in.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant":
		case "developer": // OpenAI's newer name for system
			role = "system"
		case "":
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "missing_required_parameter", "Missing required parameter: 'messages[%d].role'", i)
		default:
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "invalid_value",
				"Invalid value for 'messages[%d].role': %q; this server supports 'system', 'developer', 'user' and 'assistant'", i, m.Role)
		}
		text, err := messageText(m.Content)
		if err != nil {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "invalid_type", "Invalid 'messages[%d].content': %v", i, err)
		}
		req.messages = append(req.messages, tasks.Message{Role: role, Content: text})
	}
	if in.N != nil && *in.N != 1 {
		return nil, badRequest("n", "invalid_value", "Invalid 'n': %d; this server generates one choice per request (n must be 1)", *in.N)
	}
	param, mt := "max_tokens", in.MaxTokens
	if in.MaxCompletionTokens != nil { // the current name wins
		param, mt = "max_completion_tokens", in.MaxCompletionTokens
	}
	if mt != nil {
		switch {
		case *mt < 1:
			return nil, badRequest(param, "integer_below_min_value", "Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead", param, *mt)
		case *mt > maxTokensCap:
			return nil, badRequest(param, "", "%s is too large: %d. This model supports at most %d completion tokens, whereas you provided %d", param, *mt, maxTokensCap, *mt)
		}
		req.maxTokens = *mt
	}
	if t := in.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return nil, badRequest("temperature", "invalid_value", "Invalid 'temperature': %v; expected a number from 0 to 2", *t)
		}
		req.temperature = *t
	}
	if p := in.TopP; p != nil {
		if *p < 0 || *p > 1 {
			return nil, badRequest("top_p", "invalid_value", "Invalid 'top_p': %v; expected a number from 0 to 1", *p)
		}
		req.topP = *p
	}
	if in.Seed != nil {
		req.seed, req.seeded = uint64(*in.Seed), true
	}
	stops, err := stopStrings(in.Stop)
	if err != nil {
		return nil, badRequest("stop", "invalid_type", "Invalid 'stop': %v", err)
	}
	req.stop = stops
	req.stream = in.Stream != nil && *in.Stream
	if in.StreamOptions != nil {
		if !req.stream {
			return nil, badRequest("stream_options", "invalid_value", "Invalid 'stream_options': only allowed when 'stream' is true")
		}
		req.includeUsage = in.StreamOptions.IncludeUsage
	}
	return req, nil
}

// messageText reads a message content: a string, or an array of text
// parts ({"type":"text","text":…}) joined by newlines; null is "".
func messageText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("expected a string or an array of text parts")
	}
	texts := make([]string, 0, len(parts))
	for i, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", fmt.Errorf("part %d is of type %q; this server reads text parts ({\"type\":\"text\",\"text\":…}) only", i, p.Type)
		}
		texts = append(texts, *p.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// stopStrings reads stop: null, a string or an array of up to 4 strings;
// empty strings are dropped.
func stopStrings(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		raw = json.RawMessage(`[` + string(raw) + `]`)
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("expected a string or an array of strings")
	}
	if len(list) > 4 {
		return nil, fmt.Errorf("%d stop sequences; at most 4", len(list))
	}
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// jsonError turns a decoding error into a 400 that says where.
func jsonError(body []byte, err error) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(body, se.Offset)
		return badRequest("", "invalid_json", "We could not parse the JSON body of your request: %v at line %d, column %d (byte %d)", se, line, col, se.Offset)
	case errors.As(err, &te):
		line, col := lineCol(body, te.Offset)
		if te.Field == "" {
			return badRequest("", "invalid_json", "The request body must be a JSON object, not %s", jsonKind(te.Value))
		}
		return badRequest(te.Field, "invalid_type", "Invalid type for '%s': expected %s, got %s (line %d, column %d)", te.Field, typeName(te.Type), jsonKind(te.Value), line, col)
	}
	return badRequest("", "invalid_json", "We could not parse the JSON body of your request: %v", err)
}

// lineCol is the 1-based line and column of the byte before offset off
// of b: the decoder's offsets point just past what it stumbled on.
func lineCol(b []byte, off int64) (line, col int) {
	i := int(min(max(off, 1), int64(len(b)))) - 1
	if i < 0 {
		return 1, 1
	}
	line = bytes.Count(b[:i], []byte("\n")) + 1
	col = i - bytes.LastIndexByte(b[:i], '\n')
	return line, col
}

// jsonKind names the JSON value of an UnmarshalTypeError ("number 1.5").
func jsonKind(v string) string {
	switch kind, rest, _ := strings.Cut(v, " "); kind {
	case "string":
		return "a string"
	case "object", "array":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "number":
		if rest != "" {
			return "the number " + rest
		}
		return "a number"
	}
	return v
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// errAnswerEnded stops generation once a stop string ended the answer.
var errAnswerEnded = errors.New("answer ended")

type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type deltaJSON struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        deltaJSON `json:"delta"`
	Logprobs     any       `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type messageOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type choiceJSON struct {
	Index        int        `json:"index"`
	Message      messageOut `json:"message"`
	Logprobs     any        `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type completionJSON struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Created int64      `json:"created"`
	Model   string     `json:"model"`
	Choices any        `json:"choices"`
	Usage   *usageJSON `json:"usage,omitempty"`
}

// readChat reads, parses and renders a chat completions request: the
// request and its prompt ids, or the error to answer.
func (s *server) readChat(w http.ResponseWriter, r *http.Request) (*chatRequest, []int32, *apiError) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(30 * time.Second)) // the body; no deadline while generating
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBody))
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
				message: fmt.Sprintf("The request body is larger than %d bytes (--max-request-bytes)", mb.Limit)}
		}
		return nil, nil, badRequest("", "", "Could not read the request body: %v", err)
	}
	req, aerr := parseChatRequest(body, s.cfg.maxTokensCap)
	if aerr != nil {
		return nil, nil, aerr
	}
	ids, _, err := s.m.tpl.Render(req.messages, true)
	if err != nil {
		return nil, nil, badRequest("messages", "invalid_value", "%v", err)
	}
	if n := s.m.contextLen(); len(ids) >= n {
		return nil, nil, badRequest("messages", "context_length_exceeded",
			"This model's maximum context length is %d tokens. However, your messages resulted in %d tokens, which leaves no room for an answer. Please reduce the length of the messages", n, len(ids))
	}
	return req, ids, nil
}

// acquire waits for the generation slot. It returns release, or an error
// to answer when the queue is full; neither when ctx ended first.
func (s *server) acquire(ctx context.Context) (release func(), busy *apiError) {
	if s.waiting.Add(1) > int64(s.cfg.queue)+1 {
		s.waiting.Add(-1)
		return nil, &apiError{status: http.StatusServiceUnavailable, code: "server_busy",
			message: fmt.Sprintf("The server is busy: one request is generating and %d are waiting (--queue); retry later", s.cfg.queue)}
	}
	select {
	case s.slot <- struct{}{}:
		return func() { <-s.slot; s.waiting.Add(-1) }, nil
	case <-ctx.Done():
		s.waiting.Add(-1)
		return nil, nil
	}
}

// options are the sampling options of req: max_tokens (default maxTokens),
// temperature, top_p (0: the top token only) and seed (random when absent).
func (req *chatRequest) options(maxTokens int, stop []int32) llama.GenerateOptions {
	o := llama.GenerateOptions{MaxNew: req.maxTokens, Temperature: req.temperature, Seed: req.seed, Stop: stop}
	if o.MaxNew == 0 {
		o.MaxNew = maxTokens
	}
	if !req.seeded {
		o.Seed = mrand.Uint64()
	}
	switch {
	case req.topP == 0: // the smallest set with mass >= 0: the top token
		o.TopK = 1
	case req.topP < 1:
		o.TopP = req.topP
	}
	return o
}

// chat answers POST /v1/chat/completions, streaming or not.
func (s *server) chat(w *reqLog, r *http.Request) {
	ctx := r.Context()
	req, ids, aerr := s.readChat(w, r)
	if aerr != nil {
		w.fail(aerr)
		return
	}
	w.prompt = len(ids)
	release, busy := s.acquire(ctx)
	if busy != nil {
		w.Header().Set("Retry-After", "1")
		w.fail(busy)
		return
	}
	if release == nil {
		w.note = "canceled while waiting"
		return
	}
	defer release()
	opts := req.options(s.cfg.maxTokensCap, s.m.stop)
	rc := http.NewResponseController(w)
	id := "chatcmpl-" + rand.Text()
	created := time.Now().Unix()
	ans := s.m.newAnswer(req.stop)
	chunk := func(delta deltaJSON, finish *string) error {
		return writeEvent(w, rc, completionJSON{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.m.name,
			Choices: []chunkChoice{{Delta: delta, FinishReason: finish}}})
	}
	if req.stream {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
		w.note = "stream"
		empty := ""
		if chunk(deltaJSON{Role: "assistant", Content: &empty}, nil) != nil {
			return
		}
	}
	generated := 0
	opts.OnToken = func(tok int32) error {
		generated++
		ended := ans.add(tok)
		if req.stream {
			if d := ans.next(); d != "" {
				if err := chunk(deltaJSON{Content: &d}, nil); err != nil {
					return err
				}
			}
		}
		if s.afterToken != nil {
			s.afterToken(generated)
		}
		if ended {
			return errAnswerEnded
		}
		return nil
	}
	out, err := s.m.ref.GenerateContext(ctx, ids, opts)
	w.complete = len(out)
	if err != nil && !errors.Is(err, errAnswerEnded) {
		if ctx.Err() != nil {
			w.note = strings.TrimSpace(w.note + " canceled: client gone")
			return
		}
		if req.stream {
			// the status is sent: report it in the stream, as OpenAI does
			w.note += " error: " + err.Error()
			e := &apiError{status: http.StatusInternalServerError, message: "generation failed: " + err.Error()}
			fmt.Fprintf(w, "data: %s\n\n", e.json())
			rc.Flush()
			return
		}
		w.fail(&apiError{status: http.StatusInternalServerError, message: "generation failed: " + err.Error()})
		return
	}
	finish := "length"
	if ans.ended {
		finish = "stop"
	}
	w.note = strings.TrimSpace(w.note + " finish_reason=" + finish)
	usage := &usageJSON{PromptTokens: len(ids), CompletionTokens: len(out), TotalTokens: len(ids) + len(out)}
	if !req.stream {
		writeJSON(w, completionJSON{ID: id, Object: "chat.completion", Created: created, Model: s.m.name, Usage: usage,
			Choices: []choiceJSON{{Message: messageOut{Role: "assistant", Content: ans.text(true)}, FinishReason: finish}}})
		return
	}
	d, ok := ans.rest()
	if !ok {
		s.log.Printf("warning: the decoded answer changed after it was streamed; the stream differs from the final text")
	}
	if d != "" && chunk(deltaJSON{Content: &d}, nil) != nil {
		return
	}
	if chunk(deltaJSON{}, &finish) != nil {
		return
	}
	if req.includeUsage {
		if writeEvent(w, rc, completionJSON{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.m.name,
			Choices: []chunkChoice{}, Usage: usage}) != nil {
			return
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	rc.Flush()
}

// writeEvent writes one server-sent event "data: <json>\n\n" and flushes
// it to the client.
func writeEvent(w io.Writer, rc *http.ResponseController, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
		return err
	}
	return rc.Flush()
}
