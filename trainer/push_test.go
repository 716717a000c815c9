package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/trainer/data"
)

// pushgatewayBin is the real Prometheus Pushgateway that `make pushgateway`
// unpacks from Debian's prometheus-pushgateway package into the
// git-ignored .cache/pushgateway (HUMANLLM_PUSHGATEWAY overrides). Without
// it the test skips, or fails under HUMANLLM_REQUIRE_PUSHGATEWAY=1.
func pushgatewayBin(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HUMANLLM_PUSHGATEWAY")
	if p == "" {
		_, file, _, _ := runtime.Caller(0)
		p = filepath.Join(filepath.Dir(file), "..", ".cache", "pushgateway", "usr", "bin", "prometheus-pushgateway")
	}
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("no Pushgateway at %s (make pushgateway installs it)", p)
		if os.Getenv("HUMANLLM_REQUIRE_PUSHGATEWAY") == "1" {
			t.Fatal(msg + " (required: HUMANLLM_REQUIRE_PUSHGATEWAY=1)")
		}
		t.Skip(msg)
	}
	return p
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startPushgateway runs the real Pushgateway on a free loopback port until
// the test ends and returns its URL.
func startPushgateway(t *testing.T) string {
	t.Helper()
	bin := pushgatewayBin(t)
	addr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pushgateway log:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway at %s not ready: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gatewayGroup scrapes the gateway's /metrics (parsed with expfmt) and
// returns the samples of the group {job, run}: "name" or
// `name{kind="x"}` → value, plus the metric names seen with that job.
func gatewayGroup(t *testing.T, url, job, run string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("gateway /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["job"] != job || labels["run"] != run {
				continue
			}
			key := name
			if k, ok := labels["kind"]; ok {
				key = fmt.Sprintf("%s{kind=%q}", name, k)
			}
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			default:
				out[key] = math.NaN()
			}
		}
	}
	return out
}

// hookModel calls before ahead of every training micro-batch.
type hookModel struct {
	Model
	before func()
}

func (m *hookModel) Run(b *data.Batch) (float64, error) {
	m.before()
	return m.Model.Run(b)
}

// The real Pushgateway receives the training metrics (and not the Go
// runtime ones) after the base evaluation, after each evaluation and
// checkpoint while training goes on, and at the end; a failed run is
// pushed with failed=1, in its own group.
func TestPushgateway(t *testing.T) {
	url := startPushgateway(t)
	const job = "humanllm_test"
	base := t.TempDir()
	c := tinyConfig(filepath.Join(base, "run-a"))
	c.MaxSteps = 4
	c.Eval.Every, c.Checkpoint.Every = 2, 2
	c.Metrics.PushURL, c.Metrics.PushJob, c.Metrics.PushInterval = url, job, 0

	var tr *Trainer
	// Poll the gateway (bounded) until it shows what was pushed.
	waitFor := func(what string, ok func(g map[string]float64) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			g := gatewayGroup(t, url, job, "run-a")
			if ok(g) {
				return
			}
			if time.Now().After(deadline) {
				ok, failed := tr.Metrics().PushCounts()
				t.Fatalf("the gateway never showed %s; it has %v (pushes: %d ok, %d failed: %q)", what, g, ok, failed, tr.Metrics().TakePushWarnings())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	seen := map[int]bool{}
	f := graphFactory(t)
	var stderr strings.Builder
	tr = newTrainer(t, c, func(o *Options) {
		o.Stderr = &stderr
		o.NewModel = func(w *model.Weights, b, tt int, noGrad bool) (Model, error) {
			m, err := f(w, b, tt, noGrad)
			if err != nil || noGrad {
				return m, err
			}
			return &hookModel{Model: m, before: func() {
				step := tr.State().Step
				if seen[step] {
					return
				}
				seen[step] = true
				switch step {
				case 0: // the base evaluation was pushed before the first step
					waitFor("the base evaluation", func(g map[string]float64) bool {
						return g[`humanllm_train_base_eval_loss{kind="all"}`] > 0 && g["humanllm_train_running"] == 1 && g["humanllm_train_step"] == 0
					})
				case 2: // the step-2 evaluation and checkpoint, while training goes on
					waitFor("the step-2 evaluation and checkpoint", func(g map[string]float64) bool {
						return g["humanllm_train_step"] == 2 && g[`humanllm_train_eval_loss{kind="all"}`] > 0 &&
							g[`humanllm_train_eval_loss{kind="all"}`] != g[`humanllm_train_base_eval_loss{kind="all"}`] &&
							g["humanllm_train_checkpoint_save_seconds_count"] == 1 && g["humanllm_train_checkpoint_bytes"] > 0
					})
				}
			}}, nil
		}
	})
	res := run(t, tr)
	tr.Close()
	if !seen[0] || !seen[2] {
		t.Fatalf("the hook did not run at steps 0 and 2: %v", seen)
	}
	ok, failed := tr.Metrics().PushCounts()
	if ok < 3 || failed != 0 {
		t.Errorf("pushes: %d ok, %d failed; want >= 3 ok (base eval, step 2, the end) and none failed\n%s", ok, failed, stderr.String())
	}
	if !strings.Contains(stderr.String(), "metrics: pushing to "+url) || strings.Contains(stderr.String(), "warning") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	g := gatewayGroup(t, url, job, "run-a")
	want := map[string]float64{
		"humanllm_train_step":                          4,
		"humanllm_train_running":                       0,
		"humanllm_train_failed":                        0,
		"humanllm_train_skipped_steps":                 0,
		"humanllm_train_loss":                          res.Loss,
		`humanllm_train_eval_loss{kind="all"}`:         *res.Eval.EvalLoss,
		`humanllm_train_eval_loss{kind="action"}`:      res.Eval.Kinds["action"].Loss,
		`humanllm_train_base_eval_loss{kind="all"}`:    *res.BaseEval.EvalLoss,
		`humanllm_train_base_eval_loss{kind="style"}`:  res.BaseEval.Kinds["style"].Loss,
		"humanllm_train_checkpoint_bytes":              float64(res.Checkpoints.LastBytes),
		"humanllm_train_checkpoint_save_seconds_count": 2,
		"humanllm_train_checkpoint_load_seconds":       0,
		"push_failure_time_seconds":                    0,
	}
	for k, v := range want {
		if got, ok := g[k]; !ok || got != v {
			t.Errorf("gateway %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if g["push_time_seconds"] < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("push_time_seconds %v", g["push_time_seconds"])
	}
	for k := range g {
		if strings.HasPrefix(k, "go_") || strings.HasPrefix(k, "process_") {
			t.Errorf("runtime metric %s was pushed", k)
		}
	}

	// A failed (here: interrupted) run is pushed as such, in its own group.
	c.Out = filepath.Join(base, "run-b")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr = newTrainer(t, c, nil)
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	tr.Close()
	gb := gatewayGroup(t, url, job, "run-b")
	if gb["humanllm_train_failed"] != 1 || gb["humanllm_train_running"] != 0 || gb["humanllm_train_step"] != 0 || gb["humanllm_train_checkpoint_save_seconds_count"] != 1 {
		t.Errorf("failed run on the gateway: %v", gb)
	}
	if g2 := gatewayGroup(t, url, job, "run-a"); g2["humanllm_train_step"] != 4 || g2["humanllm_train_failed"] != 0 {
		t.Errorf("run-a's group changed: %v", g2)
	}
}

// A Pushgateway that is down or answers errors costs a warning, once per
// series of failures, never the run; credentials in the URL go as basic
// auth and are not printed.
func TestPushFailureIsAWarning(t *testing.T) {
	// Down: nothing listens.
	c := tinyConfig(filepath.Join(t.TempDir(), "down"))
	c.MaxSteps = 4
	c.Metrics.PushURL = "http://user:s3cret@" + freeAddr(t)
	c.Metrics.PushInterval = time.Millisecond
	var stderr strings.Builder
	tr := newTrainer(t, c, func(o *Options) { o.Stderr = &stderr })
	res := run(t, tr)
	tr.Close()
	if res.Steps != 4 {
		t.Fatalf("trained %d steps", res.Steps)
	}
	ok, failed := tr.Metrics().PushCounts()
	out := stderr.String()
	if ok != 0 || failed < 2 || strings.Count(out, "warning: metrics push to") != 1 || !strings.Contains(out, "warning: final metrics push") {
		t.Errorf("%d ok, %d failed pushes; want 0 and >= 2, one warning for the series and one for the final push:\n%s", ok, failed, out)
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("the password was printed:\n%s", out)
	}

	// Failing, then working: the recovery is reported; basic auth is sent.
	var mu sync.Mutex
	var calls int
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		u, p, _ := r.BasicAuth()
		auth = append(auth, u+":"+p)
		if calls <= 2 {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c = tinyConfig(filepath.Join(t.TempDir(), "flaky"))
	c.MaxSteps = 6
	c.Eval.Every, c.Checkpoint.Every = 1, 1
	c.Metrics.PushURL = strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	c.Metrics.PushInterval = 0
	stderr.Reset()
	tr = newTrainer(t, c, func(o *Options) { o.Stderr = &stderr })
	run(t, tr)
	tr.Close()
	out = stderr.String()
	if !strings.Contains(out, "503") || !strings.Contains(out, "works again") || strings.Contains(out, "s3cret") {
		t.Errorf("flaky gateway:\n%s", out)
	}
	mu.Lock()
	for _, a := range auth {
		if a != "user:s3cret" {
			t.Errorf("basic auth %q", a)
		}
	}
	mu.Unlock()

	// A URL that is not one is refused up front.
	c.Metrics.PushURL = "ftp://gateway"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "metrics.push_url") {
		t.Errorf("bad push URL: %v", err)
	}
}
