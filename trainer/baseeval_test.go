package trainer

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// baseRecords returns the base evaluations of a run's log, and whether
// the first one precedes every step record.
func baseRecords(t *testing.T, dir string) ([]Record, bool) {
	t.Helper()
	recs, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	first, steps := true, 0
	for _, r := range recs {
		switch {
		case r.Type == "step":
			steps++
		case r.Type == "eval" && r.Base:
			if len(out) == 0 && steps > 0 {
				first = false
			}
			out = append(out, r)
		}
	}
	return out, first
}

// eval.at_start evaluates the starting model once, at step 0, before the
// first step: logged, in the metrics, in the plot and in the Result; it
// changes nothing of the trajectory; a resumed run neither repeats it nor
// loses it, also when resuming from a checkpoint of step 0.
func TestBaseEvalAtStart(t *testing.T) {
	base := t.TempDir()
	c := tinyConfig(filepath.Join(base, "straight"))
	c.Checkpoint.Every = 0
	tr := newTrainer(t, c, nil)
	res := run(t, tr)
	want := tr.Weights()
	gauge := testutil.ToFloat64(tr.Metrics().BaseEvalLoss.WithLabelValues("all"))
	tr.Close()
	recs, first := baseRecords(t, c.Out)
	if len(recs) != 1 || !first || recs[0].Step != 0 || recs[0].EvalLoss == nil || len(recs[0].Kinds) != 3 {
		t.Fatalf("base evaluations %+v (before the first step: %v); want one at step 0 with 3 kinds", recs, first)
	}
	b := *recs[0].EvalLoss
	// A fresh model is close to uniform over its 256 ids.
	if math.Abs(b-math.Log(256)) > 0.5 {
		t.Errorf("base eval loss %.4f, want about ln 256 = %.4f for fresh weights", b, math.Log(256))
	}
	if res.BaseEval == nil || *res.BaseEval.EvalLoss != b || gauge != b {
		t.Errorf("Result.BaseEval %+v, gauge %v; want loss %v", res.BaseEval, gauge, b)
	}
	if res.Eval == nil || res.Eval.Base || res.Eval.Step != c.MaxSteps || !(*res.Eval.EvalLoss < b) {
		t.Errorf("final eval %+v: want a tuned evaluation at step %d below the base %.4f", res.Eval, c.MaxSteps, b)
	}
	svg, _ := os.ReadFile(filepath.Join(c.Out, "loss.svg"))
	if !strings.Contains(string(svg), ">base ") || !strings.Contains(string(svg), ">tuned ") {
		t.Errorf("loss.svg does not label base and tuned:\n%s", svg)
	}

	// Without it: the same weights, bit for bit, and no base record.
	off := c
	off.Out = filepath.Join(base, "off")
	off.Eval.AtStart = false
	tr = newTrainer(t, off, nil)
	res = run(t, tr)
	if d := sameWeights(want, tr.Weights()); d != "" {
		t.Errorf("eval.at_start changed the trajectory: %s", d)
	}
	tr.Close()
	if recs, _ := baseRecords(t, off.Out); len(recs) != 0 || res.BaseEval != nil {
		t.Errorf("eval.at_start false still evaluated the base: %+v", recs)
	}

	// Resumed: not repeated, still reported.
	half := c
	half.Out = filepath.Join(base, "resumed")
	half.StopAfter = c.MaxSteps / 2
	tr = newTrainer(t, half, nil)
	run(t, tr)
	tr.Close()
	resumed := half
	resumed.StopAfter, resumed.Resume = 0, "auto"
	tr = newTrainer(t, resumed, nil)
	res = run(t, tr)
	if d := sameWeights(want, tr.Weights()); d != "" {
		t.Errorf("resumed weights differ: %s", d)
	}
	gauge = testutil.ToFloat64(tr.Metrics().BaseEvalLoss.WithLabelValues("all"))
	tr.Close()
	if recs, _ := baseRecords(t, resumed.Out); len(recs) != 1 || *recs[0].EvalLoss != b {
		t.Errorf("resumed run: base evaluations %+v, want the one of the start (%v)", recs, b)
	}
	if res.BaseEval == nil || *res.BaseEval.EvalLoss != b || gauge != b {
		t.Errorf("resumed run: Result.BaseEval %+v, gauge %v, want %v", res.BaseEval, gauge, b)
	}

	// Interrupted before the first step (checkpoint of step 0), resumed.
	z := c
	z.Out = filepath.Join(base, "zero")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr = newTrainer(t, z, nil)
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	tr.Close()
	z.Resume = "auto"
	tr = newTrainer(t, z, nil)
	if tr.ResumedFrom() == "" {
		t.Fatal("did not resume from the step-0 checkpoint")
	}
	run(t, tr)
	if d := sameWeights(want, tr.Weights()); d != "" {
		t.Errorf("step-0 resume: weights differ: %s", d)
	}
	tr.Close()
	if recs, _ := baseRecords(t, z.Out); len(recs) != 1 {
		t.Errorf("step-0 resume: %d base evaluations, want 1", len(recs))
	}
}

// Every checkpoint's size and save time are measured, logged, in the
// metrics and in the Result; a resume measures the load.
func TestCheckpointSizeAndTimes(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 4
	c.Checkpoint = CheckpointConfig{Every: 2, KeepLast: 0}
	c.StopAfter = 2
	var stderr strings.Builder
	tr := newTrainer(t, c, func(o *Options) { o.Stderr = &stderr })
	res := run(t, tr)
	m := tr.Metrics()
	tr.Close()
	ck := filepath.Join(c.Out, CheckpointName(2))
	size := dirBytes(ck)
	cs := res.Checkpoints
	if cs.Saved != 1 || cs.LastBytes != size || cs.LastSavedPath != ck || cs.SaveTotal <= 0 || cs.SaveMax != cs.SaveTotal || cs.Load != 0 {
		t.Errorf("stats %+v, want 1 save of %d bytes", cs, size)
	}
	// The size is that of the weights, both moments and state.json.
	st, err := LoadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(ck, stateFile))
	done, _ := os.Stat(filepath.Join(ck, doneFile))
	if want := st.State.Sizes[modelFile] + st.State.Sizes[optimFile] + fi.Size() + done.Size(); size != want || st.State.Sizes[optimFile] < 2*st.State.Sizes[modelFile]-1024 {
		t.Errorf("checkpoint size %d, want %d (files %v)", size, want, st.State.Sizes)
	}
	if g := testutil.ToFloat64(m.CheckpointBytes); g != float64(size) {
		t.Errorf("checkpoint_bytes %v, want %d", g, size)
	}
	if n := testutil.CollectAndCount(m.CheckpointSave); n != 1 {
		t.Errorf("checkpoint_save_seconds has %d series", n)
	}
	if !strings.Contains(stderr.String(), "checkpoint "+CheckpointName(2)+": "+ByteSize(size)+" in ") {
		t.Errorf("no checkpoint line with its size:\n%s", stderr.String())
	}

	c.StopAfter, c.Resume = 0, "auto"
	stderr.Reset()
	tr = newTrainer(t, c, func(o *Options) { o.Stderr = &stderr })
	res = run(t, tr)
	m = tr.Metrics()
	tr.Close()
	if cs := res.Checkpoints; cs.Load <= 0 || cs.LoadBytes != size || cs.Saved != 1 {
		t.Errorf("resumed stats %+v, want a load of %d bytes and one save", cs, size)
	}
	if g := testutil.ToFloat64(m.CheckpointLoad); g <= 0 || g != res.Checkpoints.Load.Seconds() {
		t.Errorf("checkpoint_load_seconds %v, want %v", g, res.Checkpoints.Load.Seconds())
	}
	if !strings.Contains(stderr.String(), "loaded and verified "+ByteSize(size)+" in ") {
		t.Errorf("no load line:\n%s", stderr.String())
	}
	recs, _ := ReadLog(c.Out)
	var saves, loads int
	for _, r := range recs {
		switch {
		case r.Event == "checkpoint" && r.Bytes > 0 && r.DurationMS > 0:
			saves++
		case r.Event == "resume" && r.Bytes == size && r.DurationMS > 0:
			loads++
		}
	}
	if saves != 2 || loads != 1 {
		t.Errorf("metrics.jsonl: %d checkpoint and %d resume events with bytes and ms, want 2 and 1", saves, loads)
	}
}
