package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/humanllm/humanllm/internal/config"
	"github.com/humanllm/humanllm/trainer"
	"github.com/humanllm/humanllm/trainer/data"
	"github.com/humanllm/humanllm/trainer/trainertest"
)

func TestTrainHelpExplainsFlags(t *testing.T) {
	out, err := run(t, "train", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--config", "--out", "--resume", "--model", `(default "fresh")`, "--data", "--max-steps int", "(default 100)",
		"--seed uint", "(default 1)", "--threads", "--grad-accum", "--lr", "--metrics-port", "ckpt-<step>", "DONE", "SIGINT", "HUMANLLM_"} {
		if !strings.Contains(out, want) {
			t.Errorf("train --help lacks %q", want)
		}
	}
}

// configs/sft-demo.yaml lists every key train accepts and loads cleanly.
func TestTrainPresetDocumentsEveryKey(t *testing.T) {
	const preset = "../../configs/sft-demo.yaml"
	b, err := os.ReadFile(preset)
	if err != nil {
		t.Fatal(err)
	}
	def := trainer.DefaultConfig()
	for _, k := range config.Keys(&def) {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(b), leaf+":") {
			t.Errorf("%s does not document key %s", preset, k)
		}
	}
	cfg := trainer.DefaultConfig()
	if err := config.Load(&cfg, preset, nil, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Out = "x"
	if err := cfg.Validate(); err != nil {
		t.Errorf("%s does not validate: %v", preset, err)
	}
	if reflect.DeepEqual(cfg.Model, def.Model) {
		t.Errorf("%s did not load (model section equals the defaults)", preset)
	}
}

func writeJSONL(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, s := range trainertest.Samples(n, seed, "action", "style") {
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

// train end to end on a tiny fresh model: a run of 4 steps, then --resume
// auto to 6; settings come from the preset, HUMANLLM_* variables and flags.
func TestTrainEndToEndAndResume(t *testing.T) {
	old := newRenderer
	newRenderer = func(trainer.Config) (data.Renderer, error) { return trainertest.Renderer{}, nil }
	defer func() { newRenderer = old }()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	os.MkdirAll(dataDir, 0o755)
	writeJSONL(t, filepath.Join(dataDir, "train.jsonl"), 40, 1)
	writeJSONL(t, filepath.Join(dataDir, "test.jsonl"), 8, 2)
	for k, v := range map[string]string{
		"HUMANLLM_MODEL_FRESH_DIM": "16", "HUMANLLM_MODEL_FRESH_HIDDEN_DIM": "32", "HUMANLLM_MODEL_FRESH_N_LAYERS": "1",
		"HUMANLLM_MODEL_FRESH_N_HEADS": "2", "HUMANLLM_MODEL_FRESH_N_KV_HEADS": "2", "HUMANLLM_MODEL_FRESH_MAX_SEQ_LEN": "32",
	} {
		t.Setenv(k, v)
	}
	runDir := filepath.Join(dir, "run")
	args := []string{"train", "--config", "../../configs/sft-demo.yaml", "--data", dataDir, "--out", runDir,
		"--seq-len", "32", "--micro-batch", "2", "--grad-accum", "1", "--threads", "1", "--eval-every", "2", "--ckpt-every", "2", "--warmup", "1"}
	out, err := run(t, append(args, "--max-steps", "4")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"data train:", "40 samples", "train step 4/4", "eval  step 4", "trained 4 steps", "action", "style", "ckpt-00000004"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	cfgYAML, _ := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if !strings.Contains(string(cfgYAML), "dim: 16") || !strings.Contains(string(cfgYAML), "seq_len: 32") {
		t.Errorf("resolved config.yaml lacks the overrides:\n%s", cfgYAML)
	}
	if _, err := run(t, append(args, "--max-steps", "6")...); err == nil || !strings.Contains(err.Error(), "--resume auto") {
		t.Errorf("a new run over checkpoints should be refused: %v", err)
	}
	out, err = run(t, append(args, "--max-steps", "6", "--resume", "auto")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "resuming from") || !strings.Contains(out, "trained 6 steps") || !strings.Contains(out, "max_steps: 4 -> 6") {
		t.Errorf("resume output:\n%s", out)
	}
	recs, err := trainer.ReadLog(runDir)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, r := range recs {
		if r.Type == "step" {
			steps++
		}
	}
	if steps != 6 {
		t.Errorf("metrics.jsonl has %d step records, want 6", steps)
	}
	// With the real renderer, an unknown chat template or a tokenizer that
	// does not exist is named.
	newRenderer = old
	if _, err := run(t, append(args, "--out", filepath.Join(dir, "r2"), "--template", "alpaca")...); err == nil || !strings.Contains(err.Error(), "alpaca") {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := run(t, append(args, "--out", filepath.Join(dir, "r2"), "--tokenizer", filepath.Join(dir, "nope.bin"))...); err == nil || !strings.Contains(err.Error(), "nope.bin") {
		t.Errorf("missing tokenizer: %v", err)
	}
	if _, err := run(t, "train", "--out", filepath.Join(dir, "r3")); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("no data: %v", err)
	}
}

// TestTrainChildProcess is not a test: it runs `humanllm train` with the
// test renderer when HUMANLLM_TRAIN_CHILD holds its arguments (one per
// line), the way main does (signal context, exit 130 on interruption), so
// that tests can signal or kill a real training process.
func TestTrainChildProcess(t *testing.T) {
	args := os.Getenv("HUMANLLM_TRAIN_CHILD")
	if args == "" {
		t.Skip("helper process")
	}
	newRenderer = func(trainer.Config) (data.Renderer, error) { return trainertest.Renderer{}, nil }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(strings.Split(args, "\n"))
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "humanllm:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
	os.Exit(0)
}

// startChild runs a training process and returns it with its stderr pipe.
func startChild(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainChildProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), "HUMANLLM_TRAIN_CHILD="+strings.Join(args, "\n"))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(pr), &stdout
}

// waitFor reads r until a line contains s, returning everything read.
func waitFor(t *testing.T, r *bufio.Reader, s string) string {
	t.Helper()
	var all strings.Builder
	for {
		line, err := r.ReadString('\n')
		all.WriteString(line)
		if strings.Contains(line, s) {
			return all.String()
		}
		if err != nil {
			t.Fatalf("child ended before %q:\n%s", s, all.String())
		}
	}
}

// SIGINT makes a real training process checkpoint and exit with 130; the
// run resumes from that checkpoint. Two signals in a row exit at once.
func TestTrainSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts training processes")
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	os.MkdirAll(dataDir, 0o755)
	writeJSONL(t, filepath.Join(dataDir, "train.jsonl"), 40, 1)
	runDir := filepath.Join(dir, "run")
	args := []string{"train", "--data", dataDir, "--out", runDir, "--seq-len", "32", "--micro-batch", "8", "--threads", "1",
		"--max-steps", "100000", "--ckpt-every", "0", "--eval-every", "0", "--log-every", "1"}
	env := map[string]string{"HUMANLLM_MODEL_FRESH_DIM": "64", "HUMANLLM_MODEL_FRESH_HIDDEN_DIM": "128", "HUMANLLM_MODEL_FRESH_N_LAYERS": "2",
		"HUMANLLM_MODEL_FRESH_MAX_SEQ_LEN": "32"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cmd, stderr, _ := startChild(t, args...)
	waitFor(t, stderr, "train step 3/")
	cmd.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(stderr)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after SIGINT: %v\n%s", err, rest)
	}
	if !strings.Contains(string(rest), "checkpoint is written at the end of this step") || !strings.Contains(string(rest), "interrupted at step") {
		t.Errorf("stderr after SIGINT:\n%s", rest)
	}
	latest, _ := trainer.Latest(runDir)
	ck, err := trainer.LoadCheckpoint(latest)
	if err != nil || ck.State.Step < 3 {
		t.Fatalf("checkpoint after SIGINT: %v %+v", err, ck)
	}
	// Resume from it for two more steps.
	cmd, stderr, stdout := startChild(t, append(args[:len(args)-8], "--max-steps", strconv.Itoa(ck.State.Step+2), "--resume", "auto")...)
	rest, _ = io.ReadAll(stderr)
	if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), "trained "+strconv.Itoa(ck.State.Step+2)+" steps") {
		t.Fatalf("resume: %v\n%s\n%s", err, rest, stdout)
	}
	// Two signals: out at once, without waiting for the step's checkpoint.
	runDir2 := filepath.Join(dir, "run2")
	args[4] = runDir2
	cmd, stderr, _ = startChild(t, args...)
	waitFor(t, stderr, "train step 2/")
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, stderr, "signal again to exit at once")
	cmd.Process.Signal(os.Interrupt)
	rest, _ = io.ReadAll(stderr)
	err = cmd.Wait()
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after two signals: %v\n%s", err, rest)
	}
	if !strings.Contains(string(rest), "second signal") && !strings.Contains(string(rest), "interrupted at step") {
		t.Errorf("stderr after two signals:\n%s", rest)
	}
}
