package trainer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the trainer's Prometheus metrics, in their own registry
// (with the Go runtime and process collectors).
type Metrics struct {
	Registry *prometheus.Registry

	Loss, LR, GradNorm, TokensPerSec, TokensSeen, TrainedTokensSeen, Step, Skipped, Epoch prometheus.Gauge
	EvalLoss                                                                              *prometheus.GaugeVec
	CheckpointSave                                                                        prometheus.Histogram

	srv *http.Server
}

// NewMetrics registers every metric in a new registry.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	g := func(name, help string) prometheus.Gauge {
		m := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "humanllm", Subsystem: "train", Name: name, Help: help})
		r.MustRegister(m)
		return m
	}
	m := &Metrics{Registry: r,
		Loss:              g("loss", "Training loss of the last step (mean cross-entropy over its trained tokens)."),
		LR:                g("learning_rate", "Learning rate of the last step."),
		GradNorm:          g("grad_norm", "Global L2 norm of the last step's gradient, before clipping."),
		TokensPerSec:      g("tokens_per_second", "Non-padding input tokens per second over the last step."),
		TokensSeen:        g("tokens_seen", "Non-padding input tokens processed since the start of the run."),
		TrainedTokensSeen: g("trained_tokens_seen", "Trained (target) tokens processed since the start of the run."),
		Step:              g("step", "Steps taken (applied or skipped)."),
		Skipped:           g("skipped_steps", "Steps skipped because of a non-finite loss or gradient."),
		Epoch:             g("epoch", "Fractional epoch of the training data."),
		EvalLoss: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "humanllm", Subsystem: "train", Name: "eval_loss",
			Help: "Held-out loss of the last evaluation, per task kind (kind=\"all\": every kind together)."}, []string{"kind"}),
		CheckpointSave: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "humanllm", Subsystem: "train", Name: "checkpoint_save_seconds",
			Help: "Time to write a checkpoint.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
	}
	r.MustRegister(m.EvalLoss, m.CheckpointSave,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener died; training goes on without metrics
		}
	}()
	return ln.Addr(), nil
}

// Close stops the server, if any.
func (m *Metrics) Close() error {
	if m == nil || m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}
