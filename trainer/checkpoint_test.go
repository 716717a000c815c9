package trainer

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama"
)

func testCheckpoint(t testing.TB, step int) *Checkpoint {
	t.Helper()
	cfg := model.Config{Dim: 8, HiddenDim: 16, NLayers: 1, NHeads: 2, NKVHeads: 2, Vocab: 16, MaxSeqLen: 8, RopeTheta: 10000, RMSEps: 1e-5}
	w, err := llama.InitWeights(cfg, uint64(step))
	if err != nil {
		t.Fatal(err)
	}
	ck := &Checkpoint{Weights: w, M: map[string][]float32{}, V: map[string][]float32{},
		State: CheckpointState{State: State{Step: step, OptStep: step, BestEvalStep: -1}, ModelConfig: cfg,
			Schedule: Schedule{Kind: "constant", LR: 1e-3}, ConfigHash: "h", TrainConfig: []byte(`{}`)}}
	for _, tn := range w.Tensors {
		m, v := make([]float32, len(tn.Data)), make([]float32, len(tn.Data))
		for i := range m {
			m[i], v[i] = float32(i)*1e-3, float32(step)*1e-4
		}
		ck.M[tn.Name], ck.V[tn.Name] = m, v
	}
	return ck
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, 7)
	p, err := SaveCheckpoint(dir, ck, false)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "ckpt-00000007" {
		t.Errorf("name %s", p)
	}
	got, err := LoadCheckpoint(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameWeights(ck.Weights, got.Weights); d != "" {
		t.Error(d)
	}
	for name, m := range ck.M {
		for i := range m {
			if got.M[name][i] != m[i] || got.V[name][i] != ck.V[name][i] {
				t.Fatalf("moments of %s differ", name)
			}
		}
	}
	if got.State.Step != 7 || got.State.OptStep != 7 || got.State.Format != stateFormat || len(got.State.Files) != 2 {
		t.Errorf("state %+v", got.State)
	}
	// The weights file is a plain safetensors model with HF names.
	if _, err := os.Stat(filepath.Join(p, modelFile)); err != nil {
		t.Error(err)
	}
	// Saving the same step again keeps the complete one.
	if p2, err := SaveCheckpoint(dir, testCheckpoint(t, 7), false); err != nil || p2 != p {
		t.Errorf("re-save: %v %s", err, p2)
	}
}

// A crash mid-save leaves a temporary directory or a ckpt without DONE:
// Latest ignores both, LoadCheckpoint refuses the latter, the next save
// removes them. A damaged file fails its checksum.
func TestCheckpointAtomicityAndChecksums(t *testing.T) {
	dir := t.TempDir()
	good, err := SaveCheckpoint(dir, testCheckpoint(t, 4), false)
	if err != nil {
		t.Fatal(err)
	}
	// Half-written newer states.
	tmp := filepath.Join(dir, tmpPrefix+"00000009-123")
	os.MkdirAll(tmp, 0o755)
	os.WriteFile(filepath.Join(tmp, modelFile), []byte("partial"), 0o644)
	half, err := SaveCheckpoint(dir, testCheckpoint(t, 8), false)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(half, doneFile)) // killed before DONE
	if latest, err := Latest(dir); err != nil || latest != good {
		t.Fatalf("Latest = %q, %v; want %s", latest, err, good)
	}
	if _, err := LoadCheckpoint(half); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "DONE") {
		t.Errorf("incomplete checkpoint: %v", err)
	}
	// A DONE of another step (a torn directory) does not count either.
	os.WriteFile(filepath.Join(half, doneFile), []byte(`{"step":3,"state_sha256":"x"}`), 0o644)
	if latest, _ := Latest(dir); latest != good {
		t.Errorf("Latest took a DONE naming another step: %s", latest)
	}
	os.Remove(filepath.Join(half, doneFile))

	// The next save cleans up.
	if _, err := SaveCheckpoint(dir, testCheckpoint(t, 5), false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tmp, half} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", p, err)
		}
	}

	// Corruption: one flipped byte in each file.
	for _, f := range []string{modelFile, optimFile, stateFile} {
		p, err := SaveCheckpoint(t.TempDir(), testCheckpoint(t, 2), false)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(p, f))
		b[len(b)/2] ^= 0x10
		os.WriteFile(filepath.Join(p, f), b, 0o644)
		_, err = LoadCheckpoint(p)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), f) {
			t.Errorf("flipped byte in %s: %v", f, err)
		}
	}
	// A truncated file.
	p, _ := SaveCheckpoint(t.TempDir(), testCheckpoint(t, 2), false)
	os.Truncate(filepath.Join(p, optimFile), 100)
	if _, err := LoadCheckpoint(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("truncated file: %v", err)
	}
}

func TestKeepLastN(t *testing.T) {
	dir := t.TempDir()
	for step := 1; step <= 6; step++ {
		if _, err := SaveCheckpoint(dir, testCheckpoint(t, step), step == 2); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, CheckpointName(3), keepFile), nil, 0o644) // marked by hand
	removed, err := Prune(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v", removed)
	}
	cs, _ := ListCheckpoints(dir)
	var steps []string
	for _, c := range cs {
		steps = append(steps, strconv.Itoa(c.Step))
		if !c.Complete {
			t.Errorf("%s incomplete after prune", c.Dir)
		}
	}
	if got := strings.Join(steps, ","); got != "2,3,5,6" {
		t.Errorf("left %s, want 2,3,5,6 (the last 2 and the KEEP ones)", got)
	}
	if removed, _ := Prune(dir, 0); len(removed) != 0 {
		t.Error("keep_last 0 should keep everything")
	}
}

// The trainer prunes and marks keep_every checkpoints.
func TestTrainerKeepsCheckpoints(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 10
	c.Eval.Every = 0
	c.Checkpoint = CheckpointConfig{Every: 2, KeepLast: 2, KeepEvery: 4}
	tr := newTrainer(t, c, nil)
	run(t, tr)
	tr.Close()
	cs, _ := ListCheckpoints(c.Out)
	var steps []string
	for _, ck := range cs {
		steps = append(steps, strconv.Itoa(ck.Step))
	}
	if got := strings.Join(steps, ","); got != "4,8,10" {
		t.Errorf("checkpoints %s, want 4,8,10 (keep_every 4, the last 2)", got)
	}
}

func TestMetricsScrape(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 3
	c.Eval.Every = 3
	tr := newTrainer(t, c, func(o *Options) { o.MetricsAddr = "127.0.0.1:0" })
	defer tr.Close()
	addr := tr.MetricsAddr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("metrics address %q", addr)
	}
	run(t, tr)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		"humanllm_train_step 3",
		"humanllm_train_skipped_steps 0",
		"humanllm_train_loss ",
		"humanllm_train_learning_rate ",
		"humanllm_train_grad_norm ",
		"humanllm_train_tokens_per_second ",
		"humanllm_train_tokens_seen ",
		`humanllm_train_eval_loss{kind="all"}`,
		`humanllm_train_eval_loss{kind="action"}`,
		"humanllm_train_checkpoint_save_seconds_count 1",
		"go_goroutines ",
		"go_memstats_heap_alloc_bytes ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^humanllm_train_loss ([0-9.e+-]+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no loss sample")
	}
	if v, _ := strconv.ParseFloat(m[1], 64); !(v > 0 && v < 10) {
		t.Errorf("loss %v", v)
	}
	// Disabled by default.
	c2 := tinyConfig(t.TempDir())
	tr2 := newTrainer(t, c2, nil)
	if tr2.MetricsAddr() != "" {
		t.Errorf("metrics served with port 0: %s", tr2.MetricsAddr())
	}
	tr2.Close()
}
