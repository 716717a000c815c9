package trainer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

// Metrics are the trainer's Prometheus metrics. Registry holds the
// training metrics (humanllm_train_*); /metrics serves them together with
// the Go runtime and process metrics of Runtime. A Pushgateway receives
// only Registry's: the runtime metrics describe the pushing process, which
// is gone when the gateway is scraped, and the gateway exports its own
// under the same names.
type Metrics struct {
	Registry, Runtime *prometheus.Registry

	Loss, LR, GradNorm, TokensPerSec, TokensSeen, TrainedTokensSeen, Step, Skipped, Epoch prometheus.Gauge
	// EvalLoss is the last evaluation's loss per kind, BaseEvalLoss the
	// step-0 evaluation's (the model before training).
	EvalLoss, BaseEvalLoss *prometheus.GaugeVec
	CheckpointSave         prometheus.Histogram
	// CheckpointBytes is the size of the last checkpoint written,
	// CheckpointLoad the time to load and verify the one resumed from.
	CheckpointBytes, CheckpointLoad prometheus.Gauge
	// Running is 1 while Run trains; Failed is 1 when Run ended with an
	// error (an interruption included).
	Running, Failed prometheus.Gauge

	srv  *http.Server
	push *pusher
}

// NewMetrics registers every metric in new registries.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	g := func(name, help string) prometheus.Gauge {
		m := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "humanllm", Subsystem: "train", Name: name, Help: help})
		r.MustRegister(m)
		return m
	}
	gv := func(name, help string) *prometheus.GaugeVec {
		m := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "humanllm", Subsystem: "train", Name: name, Help: help}, []string{"kind"})
		r.MustRegister(m)
		return m
	}
	m := &Metrics{Registry: r, Runtime: prometheus.NewRegistry(),
		Loss:              g("loss", "Training loss of the last step (mean cross-entropy over its trained tokens)."),
		LR:                g("learning_rate", "Learning rate of the last step."),
		GradNorm:          g("grad_norm", "Global L2 norm of the last step's gradient, before clipping."),
		TokensPerSec:      g("tokens_per_second", "Non-padding input tokens per second over the last step."),
		TokensSeen:        g("tokens_seen", "Non-padding input tokens processed since the start of the run."),
		TrainedTokensSeen: g("trained_tokens_seen", "Trained (target) tokens processed since the start of the run."),
		Step:              g("step", "Steps taken (applied or skipped)."),
		Skipped:           g("skipped_steps", "Steps skipped because of a non-finite loss or gradient."),
		Epoch:             g("epoch", "Fractional epoch of the training data."),
		EvalLoss:          gv("eval_loss", "Held-out loss of the last evaluation, per task kind (kind=\"all\": every kind together)."),
		BaseEvalLoss:      gv("base_eval_loss", "Held-out loss of the starting model, evaluated at step 0 before training (eval.at_start), per task kind."),
		CheckpointBytes:   g("checkpoint_bytes", "Size on disk of the last checkpoint written (weights, optimizer state, state.json)."),
		CheckpointLoad:    g("checkpoint_load_seconds", "Time to load and verify the checkpoint this process resumed from (0: a new run)."),
		Running:           g("running", "1 while the trainer is training, 0 once it has returned."),
		Failed:            g("failed", "1 when the run ended with an error (an interruption included), 0 otherwise."),
		CheckpointSave: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "humanllm", Subsystem: "train", Name: "checkpoint_save_seconds",
			Help: "Time to write a checkpoint.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
	}
	r.MustRegister(m.CheckpointSave)
	m.Runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Serve exposes /metrics on addr (host:port; port 0 picks a free one) and
// returns the address it listens on.
func (m *Metrics) Serve(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{m.Registry, m.Runtime}, promhttp.HandlerOpts{Registry: m.Registry}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener died; training goes on without metrics
		}
	}()
	return ln.Addr(), nil
}

// Close stops the server and the background pushes, if any.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	m.push.stop()
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}

// pushTimeout bounds one push (connection, request and answer).
const pushTimeout = 10 * time.Second

// pushQueue is how many event pushes may wait; more are dropped, as the
// waiting ones gather the newest values anyway.
const pushQueue = 16

// pusher pushes Registry to a Pushgateway from its own goroutine, so that a
// slow or absent gateway never holds training up.
type pusher struct {
	p        *push.Pusher
	where    string // URL without credentials and grouping, for messages
	queue    chan struct{}
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	pushMu   sync.Mutex // one push at a time
	mu       sync.Mutex // guards the fields below (never held during a push)
	ok, fail int
	failing  bool
	warnings []string
}

// parsePushURL checks a Pushgateway URL (a bare host:port gets http://).
func parsePushURL(raw string) (*url.URL, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metrics.push_url %q: not an http(s)://host:port URL of a Pushgateway", redactURL(raw))
	}
	return u, nil
}

// redactURL hides a password in a URL for messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// StartPush pushes Registry to the Pushgateway at rawURL under job and the
// grouping labels: when Push is called (queued, sent in the background),
// every interval (0: never), and by FinalPush. Credentials in the URL
// (user:password@) are sent as basic auth. Push failures never stop
// training: they are collected as warnings (TakePushWarnings), the first of
// a series only.
func (m *Metrics) StartPush(rawURL, job string, grouping map[string]string, interval time.Duration) error {
	u, err := parsePushURL(rawURL)
	if err != nil {
		return err
	}
	user := u.User
	u.User = nil
	p := push.New(u.String(), job).Gatherer(m.Registry).Client(&http.Client{Timeout: pushTimeout})
	if user != nil {
		pw, _ := user.Password()
		p.BasicAuth(user.Username(), pw)
	}
	for k, v := range grouping {
		p.Grouping(k, v)
	}
	if err := p.Error(); err != nil {
		return fmt.Errorf("metrics push: %w", err)
	}
	ps := &pusher{p: p, where: u.String(), queue: make(chan struct{}, pushQueue), quit: make(chan struct{}), done: make(chan struct{})}
	m.push = ps
	go ps.loop(interval)
	return nil
}

func (ps *pusher) loop(interval time.Duration) {
	defer close(ps.done)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ps.quit:
			return
		case <-ps.queue:
		case <-tick:
		}
		ps.pushNow(false)
	}
}

// pushNow pushes once and records the outcome: a warning for the first
// failure of a series (any failure when final) and for the recovery.
func (ps *pusher) pushNow(final bool) error {
	ps.pushMu.Lock()
	defer ps.pushMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	err := ps.p.PushContext(ctx)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	switch {
	case err != nil:
		ps.fail++
		if final {
			ps.warnings = append(ps.warnings, fmt.Sprintf("warning: final metrics push to %s failed: %v", ps.where, err))
		} else if !ps.failing {
			ps.warnings = append(ps.warnings, fmt.Sprintf("warning: metrics push to %s failed (training goes on; further failures are not reported until a push succeeds): %v", ps.where, err))
		}
		ps.failing = true
	default:
		ps.ok++
		if ps.failing {
			ps.warnings = append(ps.warnings, fmt.Sprintf("metrics push to %s works again", ps.where))
		}
		ps.failing = false
	}
	return err
}

func (ps *pusher) stop() {
	if ps == nil {
		return
	}
	ps.stopOnce.Do(func() {
		close(ps.quit)
		<-ps.done
	})
}

// Push queues a push of the current values (no-op without StartPush). It
// never blocks.
func (m *Metrics) Push() {
	if m == nil || m.push == nil {
		return
	}
	select {
	case m.push.queue <- struct{}{}:
	default: // pushes are waiting already; they will carry these values
	}
}

// FinalPush stops the background pushes and pushes once more, waiting for
// the answer (at most pushTimeout). A failure is returned and also
// recorded as a warning.
func (m *Metrics) FinalPush() error {
	if m == nil || m.push == nil {
		return nil
	}
	m.push.stop()
	return m.push.pushNow(true)
}

// TakePushWarnings returns the push warnings not taken yet.
func (m *Metrics) TakePushWarnings() []string {
	if m == nil || m.push == nil {
		return nil
	}
	m.push.mu.Lock()
	defer m.push.mu.Unlock()
	w := m.push.warnings
	m.push.warnings = nil
	return w
}

// PushCounts returns the numbers of successful and failed pushes.
func (m *Metrics) PushCounts() (ok, failed int) {
	if m == nil || m.push == nil {
		return 0, 0
	}
	m.push.mu.Lock()
	defer m.push.mu.Unlock()
	return m.push.ok, m.push.fail
}
