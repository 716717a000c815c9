package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/humanllm/humanllm/internal/stepprof"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestHelpExplainsFlagsWithDefaults(t *testing.T) {
	out, err := run(t, "prepare", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--input", "--out", `--source string`, `(default "auto")`, "--shard", "--strict", "--seed uint", "(default 2025)", "--config", "train.jsonl", "report.json", `(default "user")`} {
		if !strings.Contains(out, want) {
			t.Errorf("prepare --help lacks %q", want)
		}
	}
	out, err = run(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prepare", "bench", "HUMANLLM_"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "prepare", "--out", dir); err == nil || !strings.Contains(err.Error(), "input") {
		t.Errorf("missing --input: %v", err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("filter:\n  min_chars_psot: 3\n"), 0o644)
	_, err := run(t, "prepare", "--config", cfg, "--demo", "--out", dir)
	if err == nil || !strings.Contains(err.Error(), "min_chars_psot") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("unknown config key: %v", err)
	}
	if _, err := run(t, "prepare", "--demo", "--out", dir, "--shard", "3/2"); err == nil || !strings.Contains(err.Error(), "shard") {
		t.Errorf("bad shard: %v", err)
	}
	if _, err := run(t, "prepare", "--demo", "--out", dir, "--source", "myspace"); err == nil || !strings.Contains(err.Error(), "myspace") {
		t.Errorf("bad source: %v", err)
	}
}

func TestPrepareDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HUMANLLM_SPLIT_TEST_FRACTION", "0.2")
	out, err := run(t, "prepare", "--config", "../../configs/demo.yaml", "--demo", "--out", dir, "--seed", "7")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"records in", "record_filter", "item_selection", "wrote"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"train.jsonl", "test.jsonl", "report.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
}

// bench kernels measures every requested implementation on the same shape
// and reports ratios; a tiny run checks the plumbing, not the speed.
func TestBenchKernelsJSON(t *testing.T) {
	out, err := run(t, "bench", "kernels", "--shapes", "33x17x65:TN", "--threads", "1", "--impls", "ours,generic,gonum", "--min-time", "1ms", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep kernelReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Rows) < 2 {
		t.Fatalf("want a row per implementation, got %+v", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.M != 33 || r.N != 17 || r.K != 65 || r.Trans != "TN" || r.Threads != 1 || !(r.GFLOPS > 0) || r.Reps < 3 {
			t.Errorf("row %+v", r)
		}
	}
	if _, err := run(t, "bench", "kernels", "--impls", "mkl"); err == nil || !strings.Contains(err.Error(), "mkl") {
		t.Errorf("unknown impl: %v", err)
	}
	if _, err := run(t, "bench", "kernels", "--shapes", "12x3"); err == nil || !strings.Contains(err.Error(), "12x3") {
		t.Errorf("bad shape: %v", err)
	}
}

// bench train runs our real step on the benchmark model and reports it;
// a two-step run checks the plumbing and the report's fields.
func TestBenchTrainJSON(t *testing.T) {
	out, err := run(t, "bench", "train", "--model", "small", "--batch", "1", "--warmup", "0", "--steps", "2", "--threads", "1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []trainRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 1 || rows[0].Impl != "ours" || !(rows[0].TokensPerS > 0) || !(rows[0].StepMSMedian > 0) || !(rows[0].PeakRSSMB > 0) || !(rows[0].GFLOPS > 0) {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].Profile != nil {
		t.Errorf("a profile without --profile: %+v", rows[0].Profile)
	}
	// --profile writes a pprof file of our timed steps per thread count and
	// its breakdown, in the JSON and in the text table.
	dir := filepath.Join(t.TempDir(), "prof")
	out, err = run(t, "bench", "train", "--model", "small", "--batch", "1", "--warmup", "1", "--steps", "3", "--threads", "1", "--json", "--profile", dir)
	if err != nil {
		t.Fatal(err)
	}
	rows = nil
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b := rows[0].Profile
	if b == nil || b.Steps != 3 || len(b.Rows) != len(stepprof.Categories) || b.File != filepath.Join(dir, "ours-small-1threads.pprof") {
		t.Fatalf("profile %+v", b)
	}
	f, err := os.Open(b.File)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	again, err := stepprof.Analyze(p, 3)
	if err != nil || again.Seconds != b.Seconds {
		t.Errorf("the file's profile gives %v s (%v), the report %v s", again.Seconds, err, b.Seconds)
	}
	var pct float64
	for _, r := range b.Rows {
		pct += r.Percent
	}
	if b.Seconds > 0 && math.Abs(pct-100) > 1e-6 {
		t.Errorf("percentages sum to %v", pct)
	}
	out, err = run(t, "bench", "train", "--model", "small", "--batch", "1", "--warmup", "0", "--steps", "1", "--threads", "1", "--profile", dir)
	if err != nil || !strings.Contains(out, "CPU ms/step") || !strings.Contains(out, "graph/tape") {
		t.Errorf("text report without the breakdown (%v):\n%s", err, out)
	}
	if _, err := run(t, "bench", "train", "--model", "huge"); err == nil || !strings.Contains(err.Error(), "huge") {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := run(t, "bench", "train", "--peers", "--peer-script", "/nonexistent.py"); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("missing peer script: %v", err)
	}
}
