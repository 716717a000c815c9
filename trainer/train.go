package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cuda"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/safetensors"
	"github.com/humanllm/humanllm/trainer/data"
)

// ErrNonFinite is wrapped by Run when too many steps in a row had a
// non-finite loss or gradient.
var ErrNonFinite = errors.New("training diverged: non-finite loss or gradient")

// Options are what New needs besides the Config.
type Options struct {
	Config Config
	// Weights returns the starting weights. It is not called when the run
	// resumes from a checkpoint, whose weights are used.
	Weights func() (*model.Weights, error)
	// Train and Eval are the rendered samples (data.Prepare); Eval may be
	// empty (no evaluation).
	Train, Eval []data.Tokenized
	// NewModel builds the model; nil: Config.Engine.Factory.
	NewModel ModelFactory
	// Optimizer runs the AdamW update; nil: PlainAdamW. A ResidentModel
	// (Config.Device cuda, engine.ops resident) runs its own on its device.
	Optimizer kernels.Optimizer
	// Stderr receives the progress line and notes; nil: silent.
	Stderr io.Writer
	// Terminal: Stderr is a terminal (one line rewritten every step).
	Terminal bool
	// MetricsAddr serves /metrics there (e.g. "127.0.0.1:0"); "" uses
	// Config.Metrics (port 0: no server). Metrics are collected either way.
	MetricsAddr string
	// TokenizerVocab, when > 0, is the size of the tokenizer the data was
	// rendered with, which must be the model's vocabulary size (set for a
	// tokenizer trained for this run: its ids mean nothing to another
	// model's embeddings).
	TokenizerVocab int
	// TokenizerSHA256, when set, identifies the tokenizer file of the run;
	// it is stored in checkpoints, and resuming with another one is
	// refused.
	TokenizerSHA256 string
}

// Trainer runs supervised fine-tuning: gradient accumulation normalised
// by trained tokens, AdamW with a schedule and clipping, a non-finite
// guard, evaluation with early stopping, and checkpoints that resume
// bit-exactly.
type Trainer struct {
	cfg         Config
	sched       Schedule
	runDir      string
	modelCfg    model.Config
	subset      []byte
	hash        string
	newModel    ModelFactory
	model       Model
	resident    ResidentModel // model, when it runs the whole step on its device
	evalModel   Model
	params      []*Param
	opt         *AdamW
	loader      *data.Loader
	evalSets    []evalSet
	micro       []data.Batch
	st          State
	rng         *rand.PCG
	log         *runLog
	metrics     *Metrics
	metricsAddr string
	prog        progress
	unlock      func()
	device      io.Closer // the GPU of Config.Device cuda, nil on the CPU

	lastSaved   int
	lastSaveDir string
	lastLR      float64
	resumedFrom string
	lastEval    *Record
	baseEval    *Record
	tokSHA      string
	ckStats     CheckpointStats
}

// CheckpointStats measures the checkpoints of one Trainer (one process).
type CheckpointStats struct {
	// Saved checkpoints, their total and longest save time, and the size
	// of the last one (every file of its directory).
	Saved         int
	SaveTotal     time.Duration
	SaveMax       time.Duration
	LastBytes     int64
	LastSaveTime  time.Duration
	LastSavedPath string
	// Load is the time to read and verify the checkpoint resumed from
	// (checksums included), LoadBytes its size; zero for a new run.
	Load      time.Duration
	LoadBytes int64
}

type evalSet struct {
	kind    string
	loader  *data.Loader
	samples int
}

// New prepares a run: it locks and fills the run directory, resumes from
// a checkpoint when Config.Resume asks for it, and builds the model.
func New(o Options) (_ *Trainer, err error) {
	cfg := o.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(o.Train) == 0 {
		return nil, fmt.Errorf("data: no training sample with a trained token")
	}
	if cfg.Threads > 0 {
		runtime.GOMAXPROCS(cfg.Threads)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockRunDir(cfg.Out)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, sched: cfg.ResolvedSchedule(), runDir: cfg.Out, unlock: unlock, lastSaved: -1,
		prog: progress{out: o.Stderr, terminal: o.Terminal, every: cfg.Log.Every}}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	if cfg.Log.Quiet {
		t.prog.out = nil
	}
	t.subset, t.hash = cfg.TrainingSubset()

	removeStaleFiles(cfg.Out)

	// Resume or start.
	ckDir, err := t.resolveResume()
	if err != nil {
		return nil, err
	}
	var ck *Checkpoint
	var w *model.Weights
	if ckDir != "" {
		t0 := time.Now()
		if ck, err = LoadCheckpoint(ckDir); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		t.ckStats.Load, t.ckStats.LoadBytes = time.Since(t0), dirBytes(ckDir)
		if ck.State.TokenizerSHA256 != "" && o.TokenizerSHA256 != "" && ck.State.TokenizerSHA256 != o.TokenizerSHA256 {
			return nil, fmt.Errorf("resume from %s: the tokenizer file differs from the one the checkpoint was trained with (SHA-256 %.12s, now %.12s): its token ids would not mean the same",
				ckDir, ck.State.TokenizerSHA256, o.TokenizerSHA256)
		}
		w = ck.Weights
		t.st = ck.State.State
		// Resuming asks to go on: the reason of an early stop is checked
		// again as training goes, and a non-finite stop gets a full
		// guard.max_consecutive_skips again.
		if t.st.Stopped == "non_finite" {
			t.st.ConsecutiveSkips = 0
		}
		t.st.Stopped = ""
		t.resumedFrom = ckDir
		if ck.State.ConfigHash != t.hash {
			t.prog.note("warning: the training options differ from those of %s, so this run will not match an uninterrupted one:", ckDir)
			for _, d := range diffJSON(ck.State.TrainConfig, t.subset) {
				t.prog.note("  %s", d)
			}
		}
		if t.st.Step >= cfg.MaxSteps {
			t.prog.note("%s is at step %d, max_steps is %d: nothing to train", ckDir, t.st.Step, cfg.MaxSteps)
		}
	} else {
		if o.Weights == nil {
			return nil, fmt.Errorf("trainer: no starting weights")
		}
		if w, err = o.Weights(); err != nil {
			return nil, err
		}
		t.st = State{BestEvalStep: -1, DataSeed: cfg.Seed}
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	t.modelCfg = w.Config
	t.tokSHA = o.TokenizerSHA256
	if o.TokenizerVocab > 0 && o.TokenizerVocab != w.Config.Vocab {
		return nil, fmt.Errorf("the tokenizer has %d ids but the model's vocabulary is %d: a tokenizer trained for this run (data.tokenizer %s) needs a fresh model (model.source fresh, whose vocab_size follows it) or a model of that vocabulary",
			o.TokenizerVocab, w.Config.Vocab, cfg.Data.Tokenizer)
	}
	if cfg.Data.SeqLen > w.Config.MaxSeqLen {
		return nil, fmt.Errorf("data.seq_len %d exceeds the model's max_seq_len %d", cfg.Data.SeqLen, w.Config.MaxSeqLen)
	}
	if err := checkVocab(o.Train, o.Eval, cfg.Data.PadID, w.Config.Vocab); err != nil {
		return nil, err
	}
	if cfg.Engine.Ops == "builtin" && cfg.Device != "cuda" { // the gorgonia graph in RAM
		est, err := w.Config.CheckFitsInRAM(cfg.MicroBatch, cfg.Data.SeqLen)
		if errors.Is(err, model.ErrWontFit) {
			return nil, err
		}
		t.prog.note("memory: %s", est)
	}

	// RNG (reserved: nothing draws from it yet, but it is saved and
	// restored so that stochastic features keep resume exact).
	t.rng = rand.NewPCG(cfg.Seed, 0x7f4a7c159e3779b9)
	if len(t.st.RNG) > 0 {
		if err := t.rng.UnmarshalBinary(t.st.RNG); err != nil {
			return nil, fmt.Errorf("resume: rng state: %w", err)
		}
	}

	// Model and optimizer.
	t.newModel = o.NewModel
	if t.newModel == nil {
		var k kernels.Kernels // nil: engine.kernels
		if cfg.Device == "cuda" {
			dev, err := cuda.OpenCompiled(cuda.Options{TF32: cfg.GEMMPrecision == "tf32", BF16: cfg.GEMMPrecision == "bf16"})
			if err != nil {
				return nil, err
			}
			t.device, k = dev, dev
			t.prog.note("device: %s, device-resident step (model/llama/resident)", dev.Name())
			t.newModel = ResidentFactory(dev.Device(), cfg.Data.Pack)
		} else if t.newModel, err = cfg.Engine.FactoryOn(cfg.Data.Pack, k); err != nil {
			return nil, err
		}
	}
	if t.model, err = t.newModel(w, cfg.MicroBatch, cfg.Data.SeqLen, false); err != nil {
		return nil, err
	}
	t.resident, _ = t.model.(ResidentModel)
	impl := o.Optimizer
	if impl == nil {
		impl = PlainAdamW{}
	}
	t.opt = &AdamW{Config: cfg.Optim, Impl: impl, Step: t.st.OptStep}
	for i, s := range t.model.Params() {
		v := t.model.Value(i)
		if len(v) != s.Size() {
			return nil, fmt.Errorf("trainer: parameter %s has %d values for shape %v", s.Name, len(v), s.Shape)
		}
		p := &Param{Name: s.Name, Shape: s.Shape, Value: v, Decay: Decays(s.Shape, cfg.Optim.DecayNorms)}
		if t.resident == nil { // a ResidentModel keeps its gradient on its device
			p.Grad = make([]float32, len(v))
		}
		if ck != nil {
			p.M, p.V = ck.M[s.Name], ck.V[s.Name]
			if len(p.M) != len(v) || len(p.V) != len(v) {
				return nil, fmt.Errorf("resume: optimizer state of %s does not match the model", s.Name)
			}
		} else {
			p.M, p.V = make([]float32, len(v)), make([]float32, len(v))
		}
		t.params = append(t.params, p)
	}
	t.opt.Params = t.params
	if t.resident != nil {
		ms, vs := t.moments()
		if err := t.resident.Push(ms, vs); err != nil {
			return nil, err
		}
	}

	// Data.
	if t.loader, err = data.NewLoader(o.Train, cfg.Data.Loader(), cfg.MicroBatch, cfg.Seed, true); err != nil {
		return nil, err
	}
	t.loader.SetPosition(t.st.Data)
	t.micro = make([]data.Batch, cfg.GradAccum)
	if err := t.buildEvalSets(o.Eval); err != nil {
		return nil, err
	}

	// Run directory: log, resolved config, metrics.
	keep := -1
	if ck != nil {
		keep = t.st.Step
	}
	if t.log, err = openRunLog(t.runDir, keep); err != nil {
		return nil, err
	}
	if err := writeConfig(t.runDir, cfg); err != nil {
		return nil, err
	}
	t.metrics = NewMetrics()
	addr := o.MetricsAddr
	if addr == "" && cfg.Metrics.Port > 0 {
		addr = fmt.Sprintf("%s:%d", cfg.Metrics.Host, cfg.Metrics.Port)
	}
	if addr != "" {
		a, err := t.metrics.Serve(addr)
		if err != nil {
			return nil, err
		}
		t.metricsAddr = a.String()
		t.prog.note("metrics: http://%s/metrics", t.metricsAddr)
	}
	if cfg.Metrics.PushURL != "" {
		run := filepath.Base(absPath(t.runDir))
		if err := t.metrics.StartPush(cfg.Metrics.PushURL, cfg.Metrics.PushJob, map[string]string{"run": run}, cfg.Metrics.PushInterval); err != nil {
			return nil, err
		}
		every := "at evaluations, checkpoints and the end"
		if cfg.Metrics.PushInterval > 0 {
			every += fmt.Sprintf(", and every %s", cfg.Metrics.PushInterval)
		}
		t.prog.note("metrics: pushing to %s (job %q, run %q) %s", redactURL(cfg.Metrics.PushURL), cfg.Metrics.PushJob, run, every)
	}
	// A resumed run keeps its base evaluation (in the log it kept).
	for i := range t.log.hist {
		if r := t.log.hist[i]; r.Type == "eval" && r.Base {
			t.baseEval = &r
			t.publishEval(r, t.metrics.BaseEvalLoss)
		}
	}
	t.publishState()
	ev := Record{Type: "event", Step: t.st.Step, Event: "start", Message: fmt.Sprintf("config %s", t.hash[:12])}
	if ck != nil {
		ev.Event, ev.Message = "resume", fmt.Sprintf("from %s, config %s", ckDir, t.hash[:12])
		ev.Bytes, ev.DurationMS = t.ckStats.LoadBytes, ms(t.ckStats.Load)
		t.metrics.CheckpointLoad.Set(t.ckStats.Load.Seconds())
		t.prog.note("resuming from %s (step %d, epoch %d): loaded and verified %s in %.0f ms",
			ckDir, t.st.Step, t.st.Data.Epoch, ByteSize(t.ckStats.LoadBytes), ms(t.ckStats.Load))
	}
	if err := t.log.add(ev); err != nil {
		return nil, err
	}
	return t, nil
}

// resolveResume returns the checkpoint to resume from ("" for a new run).
func (t *Trainer) resolveResume() (string, error) {
	switch t.cfg.Resume {
	case "":
		latest, err := Latest(t.runDir)
		if err != nil {
			return "", err
		}
		if latest != "" {
			return "", fmt.Errorf("run directory %s already has checkpoints (newest %s): resume with --resume auto, or give another --out", t.runDir, filepath.Base(latest))
		}
		return "", nil
	case "auto":
		latest, err := Latest(t.runDir)
		if err != nil {
			return "", err
		}
		if latest == "" {
			t.prog.note("resume auto: no complete checkpoint in %s, starting a new run", t.runDir)
		}
		return latest, nil
	}
	// An explicit checkpoint: the run directory must not hold newer
	// complete checkpoints, which belong to another trajectory and would
	// be taken by a later --resume auto.
	dir := t.cfg.Resume
	ck, err := readDone(dir)
	if err != nil {
		return dir, nil // LoadCheckpoint says what is wrong with it
	}
	cs, err := ListCheckpoints(t.runDir)
	if err != nil {
		return "", err
	}
	var newer []string
	for _, c := range cs {
		if c.Complete && c.Step > ck.Step {
			newer = append(newer, filepath.Base(c.Dir))
		}
	}
	if len(newer) > 0 {
		return "", fmt.Errorf("resume from %s (step %d): run directory %s holds newer checkpoints %v that resuming would mix with a new trajectory; move or delete them, or give another --out",
			dir, ck.Step, t.runDir, newer)
	}
	return dir, nil
}

// removeStaleFiles deletes the temporary files of atomic writes
// (safetensors.WriteAtomic: .<name>.tmp-*) that a killed run left in the
// run directory. Only the lock holder calls it.
func removeStaleFiles(runDir string) {
	ents, err := os.ReadDir(runDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
			os.Remove(filepath.Join(runDir, n))
		}
	}
}

func checkVocab(train, eval []data.Tokenized, pad int32, vocab int) error {
	if pad < 0 || int(pad) >= vocab {
		return fmt.Errorf("data.pad_id %d outside the model's vocabulary [0, %d)", pad, vocab)
	}
	for _, set := range [][]data.Tokenized{train, eval} {
		for i, s := range set {
			for _, id := range s.IDs {
				if id < 0 || int(id) >= vocab {
					return fmt.Errorf("data: sample %d has token id %d outside the model's vocabulary [0, %d): the renderer's tokenizer does not belong to this model", i, id, vocab)
				}
			}
		}
	}
	return nil
}

func (t *Trainer) buildEvalSets(eval []data.Tokenized) error {
	byKind := map[string][]data.Tokenized{}
	for _, s := range eval {
		k := s.Kind
		if k == "" {
			k = "other"
		}
		byKind[k] = append(byKind[k], s)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		l, err := data.NewLoader(byKind[k], t.cfg.Data.Loader(), t.cfg.MicroBatch, 0, false)
		if err != nil {
			return fmt.Errorf("eval data (%s): %w", k, err)
		}
		t.evalSets = append(t.evalSets, evalSet{kind: k, loader: l, samples: len(byKind[k])})
	}
	return nil
}

func writeConfig(runDir string, cfg Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	hdr := "# The resolved configuration of the last start of this run (defaults < file < HUMANLLM_* < flags).\n"
	return safetensors.WriteAtomic(filepath.Join(runDir, "config.yaml"), append([]byte(hdr), b...))
}

// Close releases the model, the metrics server and the run directory lock.
func (t *Trainer) Close() error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.model != nil {
		errs = append(errs, t.model.Close())
		t.model = nil
	}
	if t.evalModel != nil {
		errs = append(errs, t.evalModel.Close())
		t.evalModel = nil
	}
	if t.device != nil {
		errs = append(errs, t.device.Close())
		t.device = nil
	}
	errs = append(errs, t.metrics.Close(), t.log.close())
	t.log = nil
	if t.unlock != nil {
		t.unlock()
		t.unlock = nil
	}
	return errors.Join(errs...)
}

// State returns the trainer's progress.
func (t *Trainer) State() State { return t.st }

// MetricsAddr is where /metrics is served ("" when it is not).
func (t *Trainer) MetricsAddr() string { return t.metricsAddr }

// Metrics returns the trainer's metrics.
func (t *Trainer) Metrics() *Metrics { return t.metrics }

// ResumedFrom is the checkpoint the run resumed from ("" for a new run).
func (t *Trainer) ResumedFrom() string { return t.resumedFrom }

// Weights returns a copy of the current weights.
func (t *Trainer) Weights() *model.Weights {
	t.pull(false)
	return t.weightsView().Clone()
}

// moments lists every parameter's AdamW m and v slices.
func (t *Trainer) moments() (m, v [][]float32) {
	for _, p := range t.params {
		m, v = append(m, p.M), append(v, p.V)
	}
	return m, v
}

// pull brings the host copies of a ResidentModel's parameters (and, with
// state, AdamW's moments) up to date before they are read.
func (t *Trainer) pull(state bool) {
	if t.resident == nil {
		return
	}
	var ms, vs [][]float32
	if state {
		ms, vs = t.moments()
	}
	t.resident.Pull(ms, vs)
}

// weightsView shares the live parameter storage.
func (t *Trainer) weightsView() *model.Weights {
	w := &model.Weights{Config: t.modelCfg}
	for _, p := range t.params {
		w.Tensors = append(w.Tensors, &model.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Value})
	}
	return w
}

// Result summarises a finished (or stopped) run.
type Result struct {
	Steps        int     // steps done
	Loss         float64 // loss of the last applied step (NaN if none in this process)
	Eval         *Record // the last evaluation, if any
	Checkpoint   string  // the last checkpoint written
	Stopped      string  // "", "early_stopping", "non_finite" or "interrupted"
	Skipped      int     // non-finite steps skipped in the whole run
	TokensPerSec float64 // mean over this process's steps
	Elapsed      time.Duration
	// BaseEval is the evaluation of the starting model at step 0
	// (eval.at_start), from this process or the log of the run it resumed.
	BaseEval *Record
	// Checkpoints measures this process's checkpoint saves and load.
	Checkpoints CheckpointStats
}

// Run trains until MaxSteps, early stopping, too many non-finite steps in
// a row, or ctx's cancellation (SIGINT/SIGTERM in the command), which
// writes a checkpoint at the step boundary and returns an error wrapping
// ctx.Err(). A new run starts with an evaluation of the starting model
// (eval.at_start); the run ends with an evaluation (when there is eval
// data), a checkpoint, loss.svg and a last metrics push, also when it
// fails.
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	t.metrics.Running.Set(1)
	t.metrics.Failed.Set(0)
	res, err := t.run(ctx)
	t.metrics.Running.Set(0)
	if err != nil {
		t.metrics.Failed.Set(1)
	}
	t.metrics.FinalPush() // a failure is a warning, reported below
	t.pushWarnings()
	return res, err
}

func (t *Trainer) run(ctx context.Context) (*Result, error) {
	res := &Result{Loss: math.NaN()}
	start, startStep := time.Now(), t.st.Step
	var tokens int64
	defer func() {
		res.Steps, res.Skipped, res.Elapsed = t.st.Step, t.st.Skipped, time.Since(start)
		if s := res.Elapsed.Seconds(); s > 0 {
			res.TokensPerSec = float64(tokens) / s
		}
		res.Checkpoint = t.lastSaveDir
		res.Eval = t.lastEval
		res.BaseEval = t.baseEval
		res.Checkpoints = t.ckStats
		t.writePlot()
	}()
	if t.cfg.Eval.AtStart && len(t.evalSets) > 0 && t.st.Step == 0 && t.baseEval == nil {
		if err := t.evalBase(); err != nil {
			return res, err
		}
	}
	lastEvalStep := -1
	for t.st.Step < t.cfg.MaxSteps && t.st.Stopped == "" {
		if err := ctx.Err(); err != nil {
			res.Stopped = "interrupted"
			dir, serr := t.save("interrupted")
			if serr != nil {
				return res, fmt.Errorf("interrupted at step %d, and the checkpoint failed: %w", t.st.Step, serr)
			}
			t.prog.note("interrupted at step %d: checkpoint %s written; continue with --resume auto", t.st.Step, dir)
			return res, fmt.Errorf("interrupted at step %d (checkpoint %s): %w", t.st.Step, dir, err)
		}
		rec, err := t.step()
		if err != nil {
			return res, fmt.Errorf("step %d: %w", t.st.Step+1, err)
		}
		tokens += int64(rec.Tokens)
		if rec.Loss != nil && !rec.Skipped {
			res.Loss = *rec.Loss
		}
		done := t.st.Step - startStep
		eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(t.cfg.MaxSteps-t.st.Step))
		t.prog.step(rec, t.cfg.MaxSteps, eta)
		if err := t.log.add(rec); err != nil {
			return res, fmt.Errorf("log: %w", err)
		}
		if rec.Skipped && t.st.ConsecutiveSkips >= t.cfg.Guard.MaxConsecutiveSkips {
			t.st.Stopped = "non_finite"
			res.Stopped = t.st.Stopped
			dir, serr := t.save("non_finite")
			if serr != nil {
				return res, fmt.Errorf("%w: %d steps in a row (the last at step %d), and saving the last good state failed: %v",
					ErrNonFinite, t.st.ConsecutiveSkips, t.st.Step, serr)
			}
			t.prog.note("stopped: %d steps in a row had a non-finite loss or gradient", t.st.ConsecutiveSkips)
			return res, fmt.Errorf("%w: %d steps in a row (steps %d-%d) were skipped; %s holds the weights of the last good step %d "+
				"(its data position is after the skipped batches). Lower schedule.lr or optim.grad_clip, or inspect those batches, then resume from it",
				ErrNonFinite, t.st.ConsecutiveSkips, t.st.Step-t.st.ConsecutiveSkips+1, t.st.Step, dir, t.st.OptStep)
		}
		if t.cfg.Eval.Every > 0 && t.st.Step%t.cfg.Eval.Every == 0 && len(t.evalSets) > 0 {
			if err := t.evalAndMaybeStop(); err != nil {
				return res, err
			}
			lastEvalStep = t.st.Step
		}
		if t.cfg.Checkpoint.Every > 0 && t.st.Step%t.cfg.Checkpoint.Every == 0 && t.st.Step < t.cfg.MaxSteps && t.st.Stopped == "" {
			if _, err := t.save(""); err != nil {
				return res, err
			}
		}
		if t.cfg.StopAfter > 0 && t.st.Step >= t.cfg.StopAfter && t.st.Step < t.cfg.MaxSteps && t.st.Stopped == "" {
			// A planned pause: the same run continues with --resume auto,
			// exactly as after an interruption.
			dir, err := t.save("")
			if err != nil {
				return res, err
			}
			res.Stopped = "stop_after"
			t.prog.note("paused at step %d (stop_after): checkpoint %s; continue with --resume auto", t.st.Step, dir)
			return res, nil
		}
	}
	if len(t.evalSets) > 0 && lastEvalStep != t.st.Step && (t.lastEval == nil || t.lastEval.Step != t.st.Step) {
		if err := t.evalAndMaybeStop(); err != nil {
			return res, err
		}
	}
	res.Stopped = t.st.Stopped
	if _, err := t.save(t.st.Stopped); err != nil {
		return res, err
	}
	if t.st.Stopped == "early_stopping" {
		t.prog.note("early stopping at step %d: no eval improvement in %d evaluations (best %.4f at step %d)",
			t.st.Step, t.st.EvalsSinceBest, t.st.BestEvalLoss, t.st.BestEvalStep)
	}
	return res, nil
}

// step takes one optimizer step: GradAccum micro-batches, loss and
// gradient normalised by the trained tokens of all of them, non-finite
// guard, clipping, AdamW.
func (t *Trainer) step() (Record, error) {
	t0 := time.Now()
	lr := t.sched.At(t.st.Step)
	rec := Record{Type: "step", LR: lr}
	for k := range t.micro {
		b := t.loader.Next()
		copyBatch(&t.micro[k], b)
		rec.TrainedTokens += b.TrainedTokens
		for _, s := range b.Segments {
			rec.Tokens += s.Len
		}
	}
	t.st.Data = t.loader.Position()
	t.st.TokensSeen += int64(rec.Tokens)
	t.st.TrainedTokensSeen += int64(rec.TrainedTokens)
	t.lastLR = lr

	var loss float64
	var ran bool
	var err error
	if t.resident != nil {
		loss, ran, err = t.resident.Accumulate(t.micro, rec.TrainedTokens)
	} else {
		loss, ran, err = t.accumulate(t.micro, rec.TrainedTokens)
	}
	if err != nil {
		return rec, err
	}
	t.st.Step++
	rec.Step = t.st.Step
	rec.Epoch = t.epoch()
	switch {
	case !ran:
		// No trained token in the whole step: nothing to learn, no update,
		// no NaN (data.Prepare drops such samples, so this is rare).
	default:
		var norm float64
		if t.resident != nil {
			norm = t.resident.GradNorm()
		} else {
			norm = GlobalNorm(t.params)
		}
		rec.Loss, rec.GradNorm = finitePtr(loss), finitePtr(norm)
		if rec.Loss == nil || rec.GradNorm == nil {
			rec.Skipped = true
			t.st.Skipped++
			t.st.ConsecutiveSkips++
			break
		}
		coef := ClipCoef(norm, t.cfg.Optim.GradClip)
		rec.Clipped = coef != 1
		if t.resident != nil {
			if err := t.resident.Update(coef, t.opt.Advance(lr)); err != nil {
				return rec, err
			}
		} else {
			ScaleGrads(t.params, coef)
			t.opt.Update(lr)
		}
		t.st.OptStep = t.opt.Step
		t.st.ConsecutiveSkips = 0
	}
	rec.StepSeconds = time.Since(t0).Seconds()
	if rec.StepSeconds > 0 {
		rec.TokensPerSec = float64(rec.Tokens) / rec.StepSeconds
	}
	m := t.metrics
	if rec.Loss != nil {
		m.Loss.Set(*rec.Loss)
	}
	if rec.GradNorm != nil {
		m.GradNorm.Set(*rec.GradNorm)
	}
	m.LR.Set(lr)
	m.TokensPerSec.Set(rec.TokensPerSec)
	t.publishState()
	t.pushWarnings()
	return rec, nil
}

// push queues a metrics push (when a Pushgateway is configured) and
// prints the warnings of earlier pushes.
func (t *Trainer) push() {
	t.metrics.Push()
	t.pushWarnings()
}

// pushWarnings prints what the background pushes reported (from the
// training goroutine, which owns the progress line).
func (t *Trainer) pushWarnings() {
	for _, w := range t.metrics.TakePushWarnings() {
		t.prog.note("%s", w)
	}
}

func (t *Trainer) publishState() {
	m := t.metrics
	m.Step.Set(float64(t.st.Step))
	m.Skipped.Set(float64(t.st.Skipped))
	m.TokensSeen.Set(float64(t.st.TokensSeen))
	m.TrainedTokensSeen.Set(float64(t.st.TrainedTokensSeen))
	m.Epoch.Set(t.epoch())
}

// epoch is the fractional epoch of the loader's position.
func (t *Trainer) epoch() float64 {
	n := len(t.loader.Samples())
	return float64(t.st.Data.Epoch) + float64(t.st.Data.Next)/float64(n)
}

// accumulate runs the micro-batches and leaves in every Param.Grad the
// gradient of the mean loss over all trained tokens of the step:
// Σ_i (n_i/N)·∇mean_i, where mean_i is micro-batch i's mean loss over its
// n_i trained tokens and N = Σ n_i. It returns that loss, Σ (n_i/N)·mean_i,
// and whether any micro-batch had a trained token (micro-batches without
// one are not run: they contribute nothing). A non-finite micro-batch loss
// stops the accumulation and is returned as it is.
func (t *Trainer) accumulate(micro []data.Batch, n int) (float64, bool, error) {
	var loss float64
	first := true
	for k := range micro {
		b := &micro[k]
		if b.TrainedTokens == 0 {
			continue
		}
		l, err := t.model.Run(b)
		if err != nil {
			return 0, false, err
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return l, true, nil
		}
		w := float64(b.TrainedTokens) / float64(n)
		loss += w * l
		s := float32(w)
		for i, p := range t.params {
			g := t.model.Grad(i)
			if len(g) != len(p.Grad) {
				return 0, false, fmt.Errorf("trainer: gradient of %s has %d values, want %d", p.Name, len(g), len(p.Grad))
			}
			dst := p.Grad
			switch {
			case first && s == 1:
				copy(dst, g)
			case first:
				for j, v := range g {
					dst[j] = s * v
				}
			default:
				for j, v := range g {
					dst[j] += float32(s * v) // explicit rounding: no fused multiply-add
				}
			}
		}
		first = false
	}
	return loss, !first, nil
}

func copyBatch(dst, src *data.Batch) {
	dst.B, dst.T, dst.TrainedTokens = src.B, src.T, src.TrainedTokens
	dst.Inputs = append(dst.Inputs[:0], src.Inputs...)
	dst.Targets = append(dst.Targets[:0], src.Targets...)
	dst.Positions = append(dst.Positions[:0], src.Positions...)
	dst.Start = append(dst.Start[:0], src.Start...)
	dst.Segments = append(dst.Segments[:0], src.Segments...)
}

// Evaluate computes the held-out loss per task kind and overall (each
// kind's samples in their own batches, token-weighted means).
func (t *Trainer) Evaluate() (Record, error) {
	rec := Record{Type: "eval", Step: t.st.Step, Kinds: map[string]KindEval{}}
	if len(t.evalSets) == 0 {
		return rec, fmt.Errorf("no eval data")
	}
	t.pull(false)
	if t.evalModel == nil {
		m, err := t.newModel(t.weightsView(), t.cfg.MicroBatch, t.cfg.Data.SeqLen, true)
		if err != nil {
			return rec, fmt.Errorf("eval model: %w", err)
		}
		t.evalModel = m
	} else {
		for i, p := range t.params {
			copy(t.evalModel.Value(i), p.Value)
		}
	}
	var sum, tok float64
	for _, set := range t.evalSets {
		set.loader.SetPosition(data.Position{})
		var ksum, ktok float64
		nb := 0
		for b := set.loader.NextInEpoch(); b != nil; b = set.loader.NextInEpoch() {
			if t.cfg.Eval.MaxBatches > 0 && nb >= t.cfg.Eval.MaxBatches {
				break
			}
			nb++
			if b.TrainedTokens == 0 {
				continue
			}
			l, err := t.evalModel.Run(b)
			if err != nil {
				return rec, fmt.Errorf("eval (%s): %w", set.kind, err)
			}
			n := float64(b.TrainedTokens)
			ksum += l * n
			ktok += n
		}
		if ktok == 0 {
			continue
		}
		kl := ksum / ktok
		ke := KindEval{Tokens: int64(ktok), Samples: set.samples}
		if lp := finitePtr(kl); lp != nil {
			ke.Loss, ke.PPL = kl, math.Exp(kl)
		} else {
			ke.NonFinite = true
		}
		rec.Kinds[set.kind] = ke
		sum += ksum
		tok += ktok
	}
	if tok > 0 {
		rec.EvalLoss, rec.EvalPPL = finitePtr(sum/tok), finitePtr(math.Exp(sum/tok))
	}
	t.publishEval(rec, t.metrics.EvalLoss)
	return rec, nil
}

// publishEval sets g's per-kind gauges (kind "all": the overall loss; NaN
// where it was not finite).
func (t *Trainer) publishEval(r Record, g *prometheus.GaugeVec) {
	for k, ke := range r.Kinds {
		v := ke.Loss
		if ke.NonFinite {
			v = math.NaN()
		}
		g.WithLabelValues(k).Set(v)
	}
	if len(r.Kinds) > 0 {
		v := math.NaN()
		if r.EvalLoss != nil {
			v = *r.EvalLoss
		}
		g.WithLabelValues("all").Set(v)
	}
}

// evalBase evaluates the starting model at step 0: logged (marked base),
// printed, plotted, in the base_eval_loss metrics and pushed. It does not
// count for early stopping, which compares the tuned model with itself.
func (t *Trainer) evalBase() error {
	rec, err := t.Evaluate()
	if err != nil {
		return err
	}
	rec.Base = true
	t.baseEval = &rec
	t.publishEval(rec, t.metrics.BaseEvalLoss)
	if err := t.log.add(rec); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	t.prog.note("%s", evalLine(rec, "eval  step 0 (base model)"))
	t.writePlot()
	t.push()
	return nil
}

// evalLine formats an evaluation for the progress output.
func evalLine(rec Record, head string) string {
	if rec.EvalLoss == nil {
		return head + "  loss nan" + kindsLine(rec.Kinds)
	}
	return fmt.Sprintf("%s  loss %.4f  ppl %.2f%s", head, *rec.EvalLoss, *rec.EvalPPL, kindsLine(rec.Kinds))
}

func (t *Trainer) evalAndMaybeStop() error {
	rec, err := t.Evaluate()
	if err != nil {
		return err
	}
	t.lastEval = &rec
	if err := t.log.add(rec); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	t.prog.note("%s", evalLine(rec, fmt.Sprintf("eval  step %d", rec.Step)))
	t.writePlot()
	t.push()
	if rec.EvalLoss == nil {
		return nil
	}
	l := *rec.EvalLoss
	if t.st.BestEvalStep < 0 || l < t.st.BestEvalLoss-t.cfg.Eval.MinDelta {
		t.st.BestEvalLoss, t.st.BestEvalStep, t.st.EvalsSinceBest = l, t.st.Step, 0
		return nil
	}
	t.st.EvalsSinceBest++
	if t.cfg.Eval.Patience > 0 && t.st.EvalsSinceBest >= t.cfg.Eval.Patience {
		t.st.Stopped = "early_stopping"
	}
	return nil
}

// save writes a checkpoint of the current state (once per step) and
// prunes old ones.
func (t *Trainer) save(reason string) (string, error) {
	if t.lastSaved == t.st.Step {
		return t.lastSaveDir, nil
	}
	t0 := time.Now()
	t.pull(true)
	st := t.st
	rng, err := t.rng.MarshalBinary()
	if err != nil {
		return "", err
	}
	st.RNG = rng
	ck := &Checkpoint{
		State: CheckpointState{State: st, Schedule: t.sched, LR: t.lastLR, ConfigHash: t.hash,
			TrainConfig: t.subset, ModelConfig: t.modelCfg, TokenizerSHA256: t.tokSHA},
		Weights: t.weightsView(),
		M:       map[string][]float32{},
		V:       map[string][]float32{},
	}
	for _, p := range t.params {
		ck.M[p.Name], ck.V[p.Name] = p.M, p.V
	}
	keep := t.cfg.Checkpoint.KeepEvery > 0 && t.st.Step%t.cfg.Checkpoint.KeepEvery == 0
	dir, err := SaveCheckpoint(t.runDir, ck, keep)
	if err != nil {
		return "", err
	}
	dur := time.Since(t0)
	size := dirBytes(dir)
	t.metrics.CheckpointSave.Observe(dur.Seconds())
	t.metrics.CheckpointBytes.Set(float64(size))
	cs := &t.ckStats
	cs.Saved++
	cs.SaveTotal += dur
	cs.SaveMax = max(cs.SaveMax, dur)
	cs.LastBytes, cs.LastSaveTime, cs.LastSavedPath = size, dur, dir
	t.lastSaved, t.lastSaveDir = t.st.Step, dir
	removed, err := Prune(t.runDir, t.cfg.Checkpoint.KeepLast)
	if err != nil {
		return dir, err
	}
	msg := fmt.Sprintf("%s: %s in %.0f ms", filepath.Base(dir), ByteSize(size), ms(dur))
	if reason != "" {
		msg += " (" + reason + ")"
	}
	if len(removed) > 0 {
		msg += fmt.Sprintf(", pruned %d", len(removed))
	}
	if err := t.log.add(Record{Type: "event", Step: t.st.Step, Event: "checkpoint", Message: msg, Bytes: size, DurationMS: ms(dur)}); err != nil {
		return dir, err
	}
	t.prog.note("checkpoint %s", msg)
	t.push()
	return dir, nil
}

// dirBytes is the total size of the files in dir (0 if unreadable).
func dirBytes(dir string) int64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// ByteSize formats a size in B, kB, MB or GB (powers of 1000).
func ByteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// absPath is p made absolute (p itself if that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writePlot writes loss.svg (errors are ignored: the plot is a courtesy).
func (t *Trainer) writePlot() {
	if t.log == nil {
		return
	}
	svg := LossSVG(t.log.hist, fmt.Sprintf("%s — step %d", filepath.Base(t.runDir), t.st.Step))
	_ = safetensors.WriteAtomic(filepath.Join(t.runDir, "loss.svg"), svg)
}
