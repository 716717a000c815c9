package trainer

import (
	"math"
	"path/filepath"
	"testing"
)

// Tolerances of the resident step (engine.ops resident, the device-resident
// code path on the host device) against the gorgonia graph (engine.ops
// fused), both on kernels/cpu: the same fp32 operations, gradients summed
// in another order, so trajectories drift apart by rounding only.
const (
	residentStep1Tol = 1e-6 // |Δ loss| at step 1 (same weights, same batch)
	residentLossTol  = 1e-5 // |Δ loss| at every step of 100 (measured: under 3e-7)
)

func residentConfig(dir, ops string) Config {
	c := tinyConfig(dir)
	c.MaxSteps = 100
	c.Schedule.TotalSteps = 100
	c.Engine = Engine{Ops: ops, Kernels: "cpu"}
	c.Data.Pack = true
	c.Optim.GradClip = 0.5 // clipping active on the device too
	c.Eval = EvalConfig{Every: 50}
	c.Checkpoint.Every = 0
	c.Log.Every = 1
	return c
}

// loggedLosses reads a run's step losses, indexed from step 1.
func loggedLosses(t *testing.T, dir string) []float64 {
	t.Helper()
	var out []float64
	for _, b := range stepLosses(t, dir) {
		out = append(out, math.Float64frombits(b))
	}
	return out
}

func compareLosses(t *testing.T, what string, got, want []float64, from int) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d step losses, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := from; i < len(want); i++ {
		d := math.Abs(got[i] - want[i])
		worst = math.Max(worst, d)
		tol := residentLossTol
		if i == 0 {
			tol = residentStep1Tol
		}
		if !(d <= tol) {
			t.Errorf("%s: step %d loss %.7f, graph %.7f", what, i+1, got[i], want[i])
		}
	}
	return worst
}

// TestResidentTrainingMatchesGraph: 100 steps (two micro-batches each,
// packed, clipped) with the resident step give the graph's losses within
// residentLossTol (step 1 within residentStep1Tol), the same evaluations
// within the same tolerance, and final weights close to the graph's.
func TestResidentTrainingMatchesGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	base := t.TempDir()
	runs := map[string][]float64{}
	var evals = map[string]float64{}
	for _, ops := range []string{"fused", "resident"} {
		c := residentConfig(filepath.Join(base, ops), ops)
		tr := newTrainer(t, c, nil)
		res := run(t, tr)
		tr.Close()
		runs[ops] = loggedLosses(t, c.Out)
		if res.Eval == nil || res.Eval.EvalLoss == nil {
			t.Fatalf("%s: no final evaluation", ops)
		}
		evals[ops] = *res.Eval.EvalLoss
	}
	worst := compareLosses(t, "resident vs graph", runs["resident"], runs["fused"], 0)
	if d := math.Abs(evals["resident"] - evals["fused"]); !(d <= residentLossTol) {
		t.Errorf("final eval loss %.6f resident, %.6f graph", evals["resident"], evals["fused"])
	}
	if !(runs["fused"][99] < runs["fused"][0]-0.5) {
		t.Errorf("the runs did not learn (loss %.3f -> %.3f): the comparison would be vacuous", runs["fused"][0], runs["fused"][99])
	}
	t.Logf("100 steps: loss %.4f -> %.4f; largest |resident - graph| step loss %.2g, eval %.6f vs %.6f",
		runs["fused"][0], runs["fused"][99], worst, evals["resident"], evals["fused"])
}

// TestResidentCheckpointsAreEngineIndependent: a run paused at step 50 on
// one path and resumed on the other (weights and AdamW moments go through
// the checkpoint: downloaded from the device, uploaded on resume) follows
// the uninterrupted graph run within the same tolerances at every step
// (a lost optimizer state would show from step 52 on).
func TestResidentCheckpointsAreEngineIndependent(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	base := t.TempDir()
	straight := residentConfig(filepath.Join(base, "straight"), "fused")
	tr := newTrainer(t, straight, nil)
	run(t, tr)
	tr.Close()
	want := loggedLosses(t, straight.Out)

	for _, ops := range [][2]string{{"resident", "fused"}, {"fused", "resident"}} {
		c := residentConfig(filepath.Join(base, ops[0]+"-then-"+ops[1]), ops[0])
		c.StopAfter = 50
		tr := newTrainer(t, c, nil)
		if res := run(t, tr); res.Stopped != "stop_after" {
			t.Fatalf("%v: stopped %q", ops, res.Stopped)
		}
		tr.Close()
		c.StopAfter, c.Resume, c.Engine.Ops = 0, "auto", ops[1]
		tr = newTrainer(t, c, nil)
		if tr.ResumedFrom() == "" {
			t.Fatalf("%v: did not resume", ops)
		}
		run(t, tr)
		tr.Close()
		got := loggedLosses(t, c.Out)
		worst := compareLosses(t, ops[0]+" then "+ops[1], got, want, 0)
		t.Logf("%s then %s: step 100 loss %.5f, uninterrupted graph %.5f (largest step difference %.2g)", ops[0], ops[1], got[99], want[99], worst)
	}
}
