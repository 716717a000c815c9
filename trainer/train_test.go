package trainer

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama2c"
	"github.com/humanllm/humanllm/trainer/data"
	"github.com/humanllm/humanllm/trainer/trainertest"
)

// tinyConfig is a 2-layer, 16-wide fresh model on byte tokens, B=2 x T=32,
// two micro-batches per step.
func tinyConfig(dir string) Config {
	c := DefaultConfig()
	c.Out = dir
	c.MaxSteps = 8
	c.MicroBatch = 2
	c.GradAccum = 2
	c.Model.Fresh = FreshModel{Dim: 16, HiddenDim: 32, NLayers: 2, NHeads: 2, NKVHeads: 1, Vocab: 256, MaxSeqLen: 32, RopeTheta: 10000, RMSEps: 1e-5}
	c.Data = DataConfig{SeqLen: 32, Overlong: "truncate"}
	c.Engine = Engine{Ops: "builtin", Kernels: "cpu"}
	c.Schedule = Schedule{Kind: "cosine", LR: 3e-3, MinLR: 3e-4, WarmupSteps: 2}
	c.Eval = EvalConfig{Every: 4, AtStart: true}
	c.Checkpoint = CheckpointConfig{Every: 4, KeepLast: 2}
	c.Log.Every = 1
	return c
}

func testData(t testing.TB, c Config, n int) (train, eval []data.Tokenized) {
	t.Helper()
	train, _, err := data.Prepare(trainertest.Samples(n, 1), trainertest.Renderer{}, c.Data.Loader())
	if err != nil {
		t.Fatal(err)
	}
	eval, _, err = data.Prepare(trainertest.Samples(12, 2, "action", "style", "profile"), trainertest.Renderer{}, c.Data.Loader())
	if err != nil {
		t.Fatal(err)
	}
	return train, eval
}

func freshWeights(c Config) func() (*model.Weights, error) {
	return func() (*model.Weights, error) { return llama.InitWeights(c.Model.Fresh.Config(), c.Seed) }
}

func newTrainer(t testing.TB, c Config, edit func(*Options)) *Trainer {
	t.Helper()
	train, eval := testData(t, c, 48)
	o := Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}
	if edit != nil {
		edit(&o)
	}
	tr, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func run(t testing.TB, tr *Trainer) *Result {
	t.Helper()
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// stepLosses reads the logged step losses (bits) of a run directory.
func stepLosses(t testing.TB, dir string) []uint64 {
	t.Helper()
	recs, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, r := range recs {
		if r.Type == "step" {
			if r.Loss == nil {
				t.Fatalf("step %d logged no loss", r.Step)
			}
			out = append(out, math.Float64bits(*r.Loss))
		}
	}
	return out
}

func sameWeights(a, b *model.Weights) string {
	for _, ta := range a.Tensors {
		tb := b.Get(ta.Name)
		if tb == nil {
			return ta.Name + " missing"
		}
		for i := range ta.Data {
			if math.Float32bits(ta.Data[i]) != math.Float32bits(tb.Data[i]) {
				return ta.Name + " differs"
			}
		}
	}
	return ""
}

// TestExactResume trains 2N steps straight and N + N with a fresh Trainer
// resuming from the checkpoint in between, and demands bit-identical
// weights, AdamW moments and logged losses, at GOMAXPROCS 1 and 2, for the
// builtin graph (padding) and the fused one (packing).
func TestExactResume(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	engines := []struct {
		name string
		e    Engine
		pack bool
	}{
		{"builtin", Engine{Ops: "builtin", Kernels: "cpu"}, false},
		{"builtin-gonum", Engine{Ops: "builtin", Kernels: "gonum"}, false},
		{"fused-packed", Engine{Ops: "fused", Kernels: "cpu"}, true},
		{"resident-packed", Engine{Ops: "resident", Kernels: "cpu"}, true},
	}
	var byProcs [][]uint64
	for _, procs := range []int{1, 2} {
		for _, eng := range engines {
			if testing.Short() && procs == 2 && eng.name != "builtin" {
				continue
			}
			runtime.GOMAXPROCS(procs)
			base := t.TempDir()
			cfg := tinyConfig(filepath.Join(base, "straight"))
			cfg.Engine, cfg.Data.Pack = eng.e, eng.pack
			cfg.Checkpoint.Every = 0
			straight := newTrainer(t, cfg, nil)
			run(t, straight)
			wantW := straight.Weights()
			straight.Close()
			wantLoss := stepLosses(t, cfg.Out)

			cfg.Out = filepath.Join(base, "resumed")
			half := cfg
			half.MaxSteps = cfg.MaxSteps / 2
			half.Schedule.TotalSteps = cfg.MaxSteps // same LRs as the straight run
			cfg.Schedule.TotalSteps = cfg.MaxSteps
			first := newTrainer(t, half, nil)
			run(t, first)
			first.Close()
			cfg.Resume = "auto"
			second := newTrainer(t, cfg, nil)
			if second.ResumedFrom() == "" {
				t.Fatal("did not resume")
			}
			run(t, second)
			gotW := second.Weights()
			second.Close()
			if d := sameWeights(wantW, gotW); d != "" {
				t.Errorf("%s GOMAXPROCS %d: resumed weights differ from the straight run: %s", eng.name, procs, d)
			}
			if got := stepLosses(t, cfg.Out); !slices.Equal(got, wantLoss) {
				t.Errorf("%s GOMAXPROCS %d: logged losses differ:\n got %v\nwant %v", eng.name, procs, got, wantLoss)
			}
			a, err := LoadCheckpoint(filepath.Join(base, "straight", CheckpointName(cfg.MaxSteps)))
			if err != nil {
				t.Fatal(err)
			}
			b, err := LoadCheckpoint(filepath.Join(base, "resumed", CheckpointName(cfg.MaxSteps)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{modelFile, optimFile} {
				if a.State.Files[f] != b.State.Files[f] {
					t.Errorf("%s GOMAXPROCS %d: %s differs between the straight and the resumed run", eng.name, procs, f)
				}
			}
			if a.State.Data != b.State.Data || a.State.OptStep != b.State.OptStep || a.State.TokensSeen != b.State.TokensSeen {
				t.Errorf("%s GOMAXPROCS %d: state differs: %+v vs %+v", eng.name, procs, a.State.State, b.State.State)
			}
			if eng.name == "builtin" {
				byProcs = append(byProcs, wantLoss)
			}
		}
	}
	// Not required, but worth knowing: the thread count does not change
	// the results either.
	if len(byProcs) == 2 && !slices.Equal(byProcs[0], byProcs[1]) {
		t.Errorf("losses at GOMAXPROCS 1 and 2 differ")
	}
}

// TestExactResumeStories260K does the same on the real stories260K model
// (B=2, T=32, no accumulation) at GOMAXPROCS 1 and 2; at this size the
// classifier's SGEMM (64x512x64) is split over 2 goroutines, so the
// comparison across thread counts is a real one.
func TestExactResumeStories260K(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	bin := sharedtest.Path(t, "models/stories260K/stories260K.bin")
	load := func(o *Options) { o.Weights = func() (*model.Weights, error) { return llama2c.Read(bin) } }
	var byProcs []*model.Weights
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		base := t.TempDir()
		cfg := tinyConfig(filepath.Join(base, "straight"))
		cfg.Model.Source = bin
		cfg.GradAccum = 1
		cfg.MaxSteps = 6
		cfg.Schedule.TotalSteps = 6
		cfg.Checkpoint.Every = 3
		straight := newTrainer(t, cfg, load)
		run(t, straight)
		want := straight.Weights()
		straight.Close()
		cfg.Out = filepath.Join(base, "resumed")
		half := cfg
		half.MaxSteps = 3
		tr := newTrainer(t, half, load)
		run(t, tr)
		tr.Close()
		cfg.Resume = filepath.Join(cfg.Out, CheckpointName(3))
		tr = newTrainer(t, cfg, load)
		run(t, tr)
		got := tr.Weights()
		tr.Close()
		if d := sameWeights(want, got); d != "" {
			t.Errorf("stories260K GOMAXPROCS %d: %s", procs, d)
		}
		if a, b := stepLosses(t, filepath.Join(base, "straight")), stepLosses(t, cfg.Out); !slices.Equal(a, b) {
			t.Errorf("stories260K GOMAXPROCS %d: losses differ: %v vs %v", procs, a, b)
		}
		byProcs = append(byProcs, want)
	}
	if d := sameWeights(byProcs[0], byProcs[1]); d != "" {
		t.Errorf("stories260K: GOMAXPROCS 1 and 2 give different weights: %s", d)
	}
}

// graphFactory builds builtin float32 graphs.
func graphFactory(t testing.TB) ModelFactory {
	f, err := Engine{Ops: "builtin", Kernels: "cpu"}.Factory(false)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bareTrainer is just enough Trainer to call accumulate.
func bareTrainer(t testing.TB, m Model) *Trainer {
	tr := &Trainer{model: m}
	for i, s := range m.Params() {
		n := len(m.Value(i))
		tr.params = append(tr.params, &Param{Name: s.Name, Shape: s.Shape, Value: m.Value(i), Grad: make([]float32, n)})
	}
	return tr
}

// TestAccumulationEqualsOneBigBatch: two micro-batches of one row with
// different trained-token counts, accumulated, give the loss and gradient
// of one batch of both rows (the mean over all trained tokens, not the
// mean of the two means).
func TestAccumulationEqualsOneBigBatch(t *testing.T) {
	c := tinyConfig(t.TempDir())
	train, _ := testData(t, c, 16)
	w, _ := llama.InitWeights(c.Model.Fresh.Config(), 3)
	f := graphFactory(t)
	big, err := f(w, 2, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	small, err := f(w, 1, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	l, _ := data.NewLoader(train, c.Data.Loader(), 2, 1, true)
	var both data.Batch
	for {
		copyBatch(&both, l.Next())
		r0, r1 := rowBatch(&both, 0), rowBatch(&both, 1)
		if r0.TrainedTokens != r1.TrainedTokens {
			break
		}
	}
	r0, r1 := rowBatch(&both, 0), rowBatch(&both, 1)
	tb, ts := bareTrainer(t, big), bareTrainer(t, small)
	wantLoss, _, err := tb.accumulate([]data.Batch{both}, both.TrainedTokens)
	if err != nil {
		t.Fatal(err)
	}
	gotLoss, _, err := ts.accumulate([]data.Batch{r0, r1}, both.TrainedTokens)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gotLoss-wantLoss) > 1e-6*wantLoss {
		t.Errorf("accumulated loss %.9g, one batch %.9g", gotLoss, wantLoss)
	}
	// The mean of the two micro-batch means would be wrong.
	l0, _ := small.Run(&r0)
	l1, _ := small.Run(&r1)
	if naive := (l0 + l1) / 2; math.Abs(naive-wantLoss) < 1e-4*wantLoss {
		t.Fatalf("test is weak: mean of means %.6g equals the token mean %.6g", naive, wantLoss)
	}
	var maxG, maxD float64
	for i, p := range tb.params {
		for j, g := range p.Grad {
			maxG = math.Max(maxG, math.Abs(float64(g)))
			maxD = math.Max(maxD, math.Abs(float64(g)-float64(ts.params[i].Grad[j])))
		}
	}
	if maxD > 1e-5*maxG {
		t.Errorf("accumulated gradient differs from the big batch's by %g (max |g| %g)", maxD, maxG)
	}
}

func rowBatch(b *data.Batch, r int) data.Batch {
	T := b.T
	out := data.Batch{B: 1, T: T,
		Inputs:    slices.Clone(b.Inputs[r*T : (r+1)*T]),
		Targets:   slices.Clone(b.Targets[r*T : (r+1)*T]),
		Positions: slices.Clone(b.Positions[r*T : (r+1)*T]),
		Start:     slices.Clone(b.Start[r*T : (r+1)*T])}
	for _, tg := range out.Targets {
		if tg != data.IgnoreIndex {
			out.TrainedTokens++
		}
	}
	return out
}

// TestZeroTokenMicroBatch: a micro-batch without trained tokens
// contributes nothing (bit for bit), and a step without any is no NaN and
// no update.
func TestZeroTokenMicroBatch(t *testing.T) {
	c := tinyConfig(t.TempDir())
	train, _ := testData(t, c, 16)
	w, _ := llama.InitWeights(c.Model.Fresh.Config(), 3)
	m, err := graphFactory(t)(w, 2, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l, _ := data.NewLoader(train, c.Data.Loader(), 2, 1, true)
	var full, empty data.Batch
	copyBatch(&full, l.Next())
	copyBatch(&empty, &full)
	for i := range empty.Targets {
		empty.Targets[i] = data.IgnoreIndex
	}
	empty.TrainedTokens = 0
	a, b := bareTrainer(t, m), bareTrainer(t, m)
	la, _, _ := a.accumulate([]data.Batch{full}, full.TrainedTokens)
	ga := make([][]float32, len(a.params))
	for i, p := range a.params {
		ga[i] = slices.Clone(p.Grad)
	}
	lb, ran, err := b.accumulate([]data.Batch{empty, full, empty}, full.TrainedTokens)
	if err != nil || !ran {
		t.Fatal(err, ran)
	}
	if math.Float64bits(la) != math.Float64bits(lb) {
		t.Errorf("loss with empty micro-batches %v, without %v", lb, la)
	}
	for i, p := range b.params {
		if !slices.Equal(ga[i], p.Grad) {
			t.Fatalf("gradient of %s changed by empty micro-batches", p.Name)
		}
	}
	if l, ran, err := b.accumulate([]data.Batch{empty, empty}, 0); err != nil || ran || l != 0 {
		t.Errorf("all-empty step: loss %v ran %v err %v", l, ran, err)
	}
	// The graph itself on an all-ignored batch: no NaN either.
	if l, err := m.Run(&empty); err != nil || math.IsNaN(l) {
		t.Errorf("graph on an all-ignored batch: %v %v", l, err)
	}
}

// nanModel wraps a Model and poisons the gradient (or loss) of chosen runs.
type nanModel struct {
	Model
	runs     int
	poison   func(run int) bool
	lossOnly bool
	loss     float64
}

func (m *nanModel) Run(b *data.Batch) (float64, error) {
	m.runs++
	l, err := m.Model.Run(b)
	m.loss = l
	if err == nil && m.poison(m.runs) && m.lossOnly {
		return math.NaN(), nil
	}
	return l, err
}

func (m *nanModel) Grad(i int) []float32 {
	g := m.Model.Grad(i)
	if m.poison(m.runs) && !m.lossOnly && i == 1 {
		g[0] = float32(math.Inf(1))
	}
	return g
}

func TestNonFiniteGuard(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.GradAccum = 1
	c.Eval.Every = 0
	c.Checkpoint.Every = 0
	f := graphFactory(t)
	var nm *nanModel
	wrap := func(poison func(int) bool, lossOnly bool) func(*Options) {
		return func(o *Options) {
			o.NewModel = func(w *model.Weights, b, tt int, noGrad bool) (Model, error) {
				m, err := f(w, b, tt, noGrad)
				if err != nil || noGrad {
					return m, err
				}
				nm = &nanModel{Model: m, poison: poison, lossOnly: lossOnly}
				return nm, nil
			}
		}
	}
	// One poisoned step (3) is skipped: counted, no update, training goes on.
	tr := newTrainer(t, c, wrap(func(r int) bool { return r == 3 }, false))
	var before *model.Weights
	for i := range 3 {
		if i == 2 {
			before = tr.Weights()
		}
		rec, err := tr.step()
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if !rec.Skipped || rec.GradNorm != nil || tr.State().Skipped != 1 {
				t.Fatalf("poisoned step not skipped: %+v", rec)
			}
			if d := sameWeights(before, tr.Weights()); d != "" {
				t.Fatalf("skipped step changed weights: %s", d)
			}
		}
	}
	if tr.State().OptStep != 2 || tr.State().Step != 3 {
		t.Fatalf("state after skip: %+v", tr.State())
	}
	rec, _ := tr.step()
	if rec.Skipped || tr.State().ConsecutiveSkips != 0 || tr.State().OptStep != 3 {
		t.Fatalf("training did not go on: %+v %+v", rec, tr.State())
	}
	tr.Close()

	// A NaN loss from step 3 on: K=3 in a row stop the run with a
	// checkpoint holding the weights of the last good step.
	c.Out = t.TempDir()
	c.Guard.MaxConsecutiveSkips = 3
	tr = newTrainer(t, c, wrap(func(r int) bool { return r >= 3 }, true))
	defer tr.Close()
	res, err := tr.Run(context.Background())
	if !errors.Is(err, ErrNonFinite) || res.Stopped != "non_finite" || !strings.Contains(err.Error(), "steps 3-5") {
		t.Fatalf("run: %v %+v", err, res)
	}
	ck, err := LoadCheckpoint(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Step != 5 || ck.State.OptStep != 2 || ck.State.Skipped != 3 || ck.State.Stopped != "non_finite" {
		t.Errorf("checkpoint state %+v", ck.State.State)
	}
	if d := sameWeights(ck.Weights, tr.Weights()); d != "" {
		t.Errorf("checkpoint is not the last good state: %s", d)
	}
	if stepLossesNil(t, c.Out) != 3 {
		t.Error("skipped steps should be logged without a loss")
	}
}

func stepLossesNil(t testing.TB, dir string) int {
	recs, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == "step" && r.Skipped && r.Loss == nil {
			n++
		}
	}
	return n
}

// TestInterruptCheckpointsAndResumes cancels the context mid-run (what
// SIGINT does in the command): a checkpoint of that step is written, the
// error wraps context.Canceled, and resuming finishes like a straight run.
func TestInterruptCheckpointsAndResumes(t *testing.T) {
	base := t.TempDir()
	c := tinyConfig(filepath.Join(base, "straight"))
	c.Checkpoint.Every = 0
	c.Eval.Every = 0
	tr := newTrainer(t, c, nil)
	run(t, tr)
	want := tr.Weights()
	tr.Close()

	c.Out = filepath.Join(base, "interrupted")
	ctx, cancel := context.WithCancel(context.Background())
	f := graphFactory(t)
	tr = newTrainer(t, c, func(o *Options) {
		o.NewModel = func(w *model.Weights, b, tt int, noGrad bool) (Model, error) {
			m, err := f(w, b, tt, noGrad)
			if err != nil || noGrad {
				return m, err
			}
			return &nanModel{Model: m, poison: func(r int) bool {
				if r == 5 { // during step 3 (2 micro-batches a step)
					cancel()
				}
				return false
			}}, nil
		}
	})
	_, err := tr.Run(ctx)
	tr.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	latest, _ := Latest(c.Out)
	if filepath.Base(latest) != CheckpointName(3) {
		t.Fatalf("latest checkpoint %q, want step 3", latest)
	}
	c.Resume = "auto"
	tr = newTrainer(t, c, nil)
	run(t, tr)
	if d := sameWeights(want, tr.Weights()); d != "" {
		t.Errorf("interrupted+resumed differs from straight: %s", d)
	}
	tr.Close()
}

func TestEvalPerKindAndEarlyStopping(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 20
	c.Eval = EvalConfig{Every: 2, Patience: 2, MinDelta: 10, AtStart: true} // nothing improves by 10 nats; the base evaluation does not count
	c.Checkpoint.Every = 0
	tr := newTrainer(t, c, nil)
	defer tr.Close()
	res := run(t, tr)
	if res.Stopped != "early_stopping" || res.Steps != 6 {
		t.Fatalf("early stopping: stopped %q at step %d, want early_stopping at 6 (evals at 2, 4, 6)", res.Stopped, res.Steps)
	}
	if res.Eval == nil || len(res.Eval.Kinds) != 3 || res.Eval.EvalLoss == nil {
		t.Fatalf("eval record %+v", res.Eval)
	}
	var tok int64
	var sum float64
	for k, ke := range res.Eval.Kinds {
		if ke.Loss <= 0 || math.Abs(ke.PPL-math.Exp(ke.Loss)) > 1e-9*ke.PPL || ke.Samples != 4 {
			t.Errorf("kind %s: %+v", k, ke)
		}
		tok += ke.Tokens
		sum += ke.Loss * float64(ke.Tokens)
	}
	if math.Abs(sum/float64(tok)-*res.Eval.EvalLoss) > 1e-9 {
		t.Errorf("overall eval loss %g is not the token-weighted mean %g", *res.Eval.EvalLoss, sum/float64(tok))
	}
	ck, err := LoadCheckpoint(res.Checkpoint)
	if err != nil || ck.State.Stopped != "early_stopping" || ck.State.BestEvalStep != 2 {
		t.Fatalf("final checkpoint: %v %+v", err, ck.State.State)
	}
	for _, f := range []string{"loss.svg", "config.yaml", logFile} {
		if st, err := os.Stat(filepath.Join(c.Out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(c.Out, "loss.svg"))
	if !strings.Contains(string(svg), "<polyline") || !strings.Contains(string(svg), "<circle") {
		t.Errorf("loss.svg lacks the curves")
	}
}

func TestRunDirectoryRules(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 2
	c.Checkpoint.Every = 1
	tr := newTrainer(t, c, nil)
	train, eval := testData(t, c, 48)
	// A second trainer on the same directory is refused while the first
	// holds it.
	if _, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("concurrent trainer: %v", err)
	}
	run(t, tr)
	tr.Close()
	// A new run over checkpoints is refused; resume auto is the way.
	if _, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}); err == nil || !strings.Contains(err.Error(), "--resume auto") {
		t.Errorf("new run over checkpoints: %v", err)
	}
	c.Resume = filepath.Join(c.Out, "ckpt-00000009")
	if _, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("resume from a missing checkpoint: %v", err)
	}
	// Resuming from an older checkpoint of the same directory would mix
	// trajectories (a later resume auto would take ckpt-2).
	c.Resume = filepath.Join(c.Out, "ckpt-00000001")
	if _, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}); err == nil || !strings.Contains(err.Error(), "newer checkpoints [ckpt-00000002]") {
		t.Errorf("resume from an older checkpoint: %v", err)
	}
	// Temporary files of killed atomic writes are cleaned up.
	stale := filepath.Join(c.Out, ".loss.svg.tmp-123")
	os.WriteFile(stale, []byte("x"), 0o644)
	// A changed option is reported.
	c.Resume = "auto"
	c.Schedule.LR = 1e-3
	c.MaxSteps = 3
	var warn strings.Builder
	tr, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c), Stderr: &warn})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file left: %v", err)
	}
	if !strings.Contains(warn.String(), "schedule.lr: 0.003 -> 0.001") || !strings.Contains(warn.String(), "max_steps: 2 -> 3") {
		t.Errorf("config change warning:\n%s", warn.String())
	}
	// Bad vocabulary.
	c.Out, c.Resume = t.TempDir(), ""
	c.Model.Fresh.Vocab = 100
	if _, err := New(Options{Config: c, Train: train, Eval: eval, Weights: freshWeights(c)}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("ids beyond the vocabulary: %v", err)
	}
}

func TestProgressLines(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.MaxSteps = 4
	c.Log.Every = 2
	var out strings.Builder
	tr := newTrainer(t, c, func(o *Options) { o.Stderr = &out })
	run(t, tr)
	tr.Close()
	s := out.String()
	for _, want := range []string{"train step 2/4", "train step 4/4", "epoch", "loss", "lr", "tok/s", "eta", "eval  step 4", "action", "checkpoint ckpt-00000004"} {
		if !strings.Contains(s, want) {
			t.Errorf("progress output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "train step 1/4") || strings.Contains(s, "\r") {
		t.Errorf("non-terminal output should be plain lines every 2 steps:\n%s", s)
	}
}

// stop_after pauses a run with a checkpoint and no error, and resuming it
// (without stop_after, which is not a training option) finishes like a
// straight run.
func TestStopAfterPausesTheSameRun(t *testing.T) {
	base := t.TempDir()
	c := tinyConfig(filepath.Join(base, "straight"))
	c.Checkpoint.Every = 0
	c.Eval.Every = 0
	tr := newTrainer(t, c, nil)
	run(t, tr)
	want := tr.Weights()
	tr.Close()

	c.Out = filepath.Join(base, "paused")
	c.StopAfter = 2
	tr = newTrainer(t, c, nil)
	res := run(t, tr)
	tr.Close()
	if res.Stopped != "stop_after" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	if latest, _ := Latest(c.Out); filepath.Base(latest) != CheckpointName(2) {
		t.Fatalf("latest checkpoint %q, want step 2", latest)
	}
	c.StopAfter, c.Resume = 0, "auto"
	tr = newTrainer(t, c, nil)
	run(t, tr)
	if d := sameWeights(want, tr.Weights()); d != "" {
		t.Errorf("paused+resumed differs from straight: %s", d)
	}
	tr.Close()
}
