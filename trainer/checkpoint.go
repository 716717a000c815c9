package trainer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/safetensors"
	"github.com/humanllm/humanllm/trainer/data"
)

// Checkpoint layout. A run directory holds checkpoints ckpt-<step> (the
// step zero-padded to 8 digits, so names sort by step):
//
//	ckpt-00000200/
//	  model.safetensors      weights, F32, Hugging Face names
//	  optimizer.safetensors  AdamW moments: <name>.exp_avg, <name>.exp_avg_sq (F32)
//	  state.json             CheckpointState: step, schedule, RNG, data position,
//	                         counters, config hash, SHA-256 of the two files above
//	  DONE                   {"step":200,"state_sha256":...}, written last
//	  KEEP                   optional: never pruned (user or checkpoint.keep_every)
//
// Saving writes the files into .tmp-ckpt-<step>-<random>, fsyncs each file
// and the directory, renames it to ckpt-<step>, fsyncs the run directory,
// and only then writes DONE (fsynced too). A crash at any moment leaves
// either a temporary directory or a ckpt directory without DONE, both of
// which Latest ignores and the next save removes; the previous complete
// checkpoint is untouched.
const (
	ckptPrefix  = "ckpt-"
	tmpPrefix   = ".tmp-ckpt-"
	doneFile    = "DONE"
	keepFile    = "KEEP"
	stateFile   = "state.json"
	modelFile   = "model.safetensors"
	optimFile   = "optimizer.safetensors"
	stateFormat = "humanllm-checkpoint/1"
)

// ErrIncomplete is wrapped by LoadCheckpoint for a directory without DONE.
var ErrIncomplete = errors.New("checkpoint is incomplete (no DONE marker: the save was interrupted)")

// ErrCorrupt is wrapped by LoadCheckpoint when a checksum or a file does
// not match.
var ErrCorrupt = errors.New("checkpoint is corrupt")

// CheckpointState is state.json: everything besides the tensors that an
// exact resume needs.
type CheckpointState struct {
	Format string `json:"format"`
	State
	// Schedule is the resolved schedule (TotalSteps filled in); the LR of
	// any step is recomputed from it.
	Schedule Schedule `json:"schedule"`
	// LR is the learning rate of the last step taken (for display).
	LR float64 `json:"lr"`
	// ConfigHash is the SHA-256 of TrainConfig, the options that determine
	// the trajectory (see Config.TrainingSubset).
	ConfigHash  string          `json:"config_hash"`
	TrainConfig json.RawMessage `json:"train_config"`
	ModelConfig model.Config    `json:"model_config"`
	// TokenizerSHA256 identifies the tokenizer file the run was trained
	// with, when the run has its own (a tokenizer trained for it).
	TokenizerSHA256 string `json:"tokenizer_sha256,omitempty"`
	// Files maps each tensor file to its SHA-256 (hex) and Sizes to its
	// length in bytes.
	Files   map[string]string `json:"files"`
	Sizes   map[string]int64  `json:"sizes"`
	Created string            `json:"created"`
}

// State is the trainer's progress, saved in every checkpoint.
type State struct {
	// Step counts the steps taken, applied or skipped; the next step has
	// index Step (its LR is Schedule.At(Step)).
	Step int `json:"step"`
	// OptStep counts applied AdamW updates (bias correction).
	OptStep int `json:"opt_step"`
	// Data is where the training loader's next batch starts.
	Data data.Position `json:"data"`
	// DataSeed is the seed of the per-epoch shuffles (each epoch's order is
	// drawn from (DataSeed, epoch) alone).
	DataSeed uint64 `json:"data_seed"`
	// RNG is the trainer's own generator (PCG, MarshalBinary); reserved
	// for stochastic training features (dropout), not drawn from yet.
	RNG []byte `json:"rng"`
	// TokensSeen counts non-padding input tokens of applied and skipped
	// steps; TrainedTokensSeen the targets among them.
	TokensSeen        int64 `json:"tokens_seen"`
	TrainedTokensSeen int64 `json:"trained_tokens_seen"`
	// Skipped counts steps skipped for a non-finite loss or gradient;
	// ConsecutiveSkips those since the last applied step.
	Skipped          int `json:"skipped_steps"`
	ConsecutiveSkips int `json:"consecutive_skips"`
	// Early stopping: the best eval loss so far (valid when BestEvalStep
	// >= 0) and the evaluations since it.
	BestEvalLoss   float64 `json:"best_eval_loss"`
	BestEvalStep   int     `json:"best_eval_step"`
	EvalsSinceBest int     `json:"evals_since_best"`
	// Stopped says why training ended early ("", "early_stopping",
	// "non_finite").
	Stopped string `json:"stopped,omitempty"`
}

// Checkpoint is a checkpoint in memory.
type Checkpoint struct {
	Dir     string
	State   CheckpointState
	Weights *model.Weights
	// M and V are AdamW's moments by parameter name.
	M, V map[string][]float32
}

// CheckpointName is the directory name of the checkpoint of step.
func CheckpointName(step int) string { return fmt.Sprintf("%s%08d", ckptPrefix, step) }

type done struct {
	Step        int    `json:"step"`
	StateSHA256 string `json:"state_sha256"`
}

// SaveCheckpoint writes ck into runDir as ckpt-<step> (see the layout
// above) and returns its path. keep marks it never to be pruned. When a
// complete checkpoint of that step already exists it is left as it is (a
// deterministic run reaches the same state at the same step) and its path
// returned; an incomplete one is replaced.
func SaveCheckpoint(runDir string, ck *Checkpoint, keep bool) (string, error) {
	step := ck.State.Step
	final := filepath.Join(runDir, CheckpointName(step))
	if _, err := os.Stat(filepath.Join(final, doneFile)); err == nil {
		return final, nil
	}
	if err := removeStale(runDir); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(runDir, fmt.Sprintf("%s%08d-", tmpPrefix, step))
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left after the rename
	st := ck.State
	st.Format = stateFormat
	st.Files, st.Sizes = map[string]string{}, map[string]int64{}
	st.Created = time.Now().UTC().Format(time.RFC3339)

	var wts, opt []safetensors.Tensor
	for _, t := range ck.Weights.Tensors {
		wts = append(wts, safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
		m, v := ck.M[t.Name], ck.V[t.Name]
		if len(m) != len(t.Data) || len(v) != len(t.Data) {
			return "", fmt.Errorf("checkpoint: optimizer state of %s has %d and %d values for %d weights", t.Name, len(m), len(v), len(t.Data))
		}
		opt = append(opt, safetensors.Tensor{Name: t.Name + ".exp_avg", Shape: t.Shape, Data: m},
			safetensors.Tensor{Name: t.Name + ".exp_avg_sq", Shape: t.Shape, Data: v})
	}
	meta := map[string]string{"format": "pt", "step": strconv.Itoa(step)}
	for _, f := range []struct {
		name string
		ts   []safetensors.Tensor
	}{{modelFile, wts}, {optimFile, opt}} {
		b, err := safetensors.Encode(f.ts, meta)
		if err != nil {
			return "", fmt.Errorf("checkpoint: %s: %w", f.name, err)
		}
		if err := writeSynced(filepath.Join(tmp, f.name), b); err != nil {
			return "", fmt.Errorf("checkpoint: %w", err)
		}
		sum := sha256.Sum256(b)
		st.Files[f.name] = hex.EncodeToString(sum[:])
		st.Sizes[f.name] = int64(len(b))
	}
	sj, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", fmt.Errorf("checkpoint: state: %w", err)
	}
	sj = append(sj, '\n')
	if err := writeSynced(filepath.Join(tmp, stateFile), sj); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if keep {
		if err := writeSynced(filepath.Join(tmp, keepFile), nil); err != nil {
			return "", fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.RemoveAll(final); err != nil { // an incomplete one
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncDir(runDir); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	sum := sha256.Sum256(sj)
	db, _ := json.Marshal(done{Step: step, StateSHA256: hex.EncodeToString(sum[:])})
	if err := writeSynced(filepath.Join(final, doneFile), append(db, '\n')); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncDir(final); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	return final, nil
}

// removeStale deletes temporary directories and incomplete checkpoints
// left by an interrupted save. Only one trainer uses a run directory at a
// time (see lockRunDir), so nothing else is writing them.
func removeStale(runDir string) error {
	ents, err := os.ReadDir(runDir)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(runDir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), tmpPrefix):
		case e.IsDir() && isCkptName(e.Name()) && !exists(filepath.Join(p, doneFile)):
		default:
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("checkpoint: removing stale %s: %w", p, err)
		}
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isCkptName(name string) bool {
	_, ok := stepOf(name)
	return ok
}

func stepOf(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, ckptPrefix)
	if !ok || s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// CheckpointInfo describes a checkpoint directory of a run.
type CheckpointInfo struct {
	Dir      string
	Step     int
	Complete bool // DONE present and naming this step
	Keep     bool // KEEP present
}

// ListCheckpoints returns the checkpoint directories of runDir by
// increasing step, complete or not (temporary directories are not listed).
func ListCheckpoints(runDir string) ([]CheckpointInfo, error) {
	ents, err := os.ReadDir(runDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var out []CheckpointInfo
	for _, e := range ents {
		step, ok := stepOf(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		p := filepath.Join(runDir, e.Name())
		ci := CheckpointInfo{Dir: p, Step: step, Keep: exists(filepath.Join(p, keepFile))}
		if d, err := readDone(p); err == nil && d.Step == step {
			ci.Complete = true
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

func readDone(dir string) (done, error) {
	var d done
	b, err := os.ReadFile(filepath.Join(dir, doneFile))
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%s: %w", doneFile, err)
	}
	return d, nil
}

// Latest returns the newest complete checkpoint of runDir, or "" when it
// has none. It checks the DONE marker only; LoadCheckpoint verifies the
// checksums.
func Latest(runDir string) (string, error) {
	cs, err := ListCheckpoints(runDir)
	if err != nil {
		return "", err
	}
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Complete {
			return cs[i].Dir, nil
		}
	}
	return "", nil
}

// Prune deletes complete checkpoints beyond the newest keepLast, except
// those marked KEEP, and returns the deleted paths. keepLast < 1 keeps
// everything. DONE is removed first, so an interrupted prune leaves an
// incomplete checkpoint (ignored, removed by the next save), never a
// complete-looking partial one.
func Prune(runDir string, keepLast int) ([]string, error) {
	if keepLast < 1 {
		return nil, nil
	}
	cs, err := ListCheckpoints(runDir)
	if err != nil {
		return nil, err
	}
	var complete []CheckpointInfo
	for _, c := range cs {
		if c.Complete {
			complete = append(complete, c)
		}
	}
	var removed []string
	for i, c := range complete {
		if i >= len(complete)-keepLast || c.Keep {
			continue
		}
		if err := os.Remove(filepath.Join(c.Dir, doneFile)); err != nil {
			return removed, fmt.Errorf("checkpoint: prune %s: %w", c.Dir, err)
		}
		if err := os.RemoveAll(c.Dir); err != nil {
			return removed, fmt.Errorf("checkpoint: prune %s: %w", c.Dir, err)
		}
		removed = append(removed, c.Dir)
	}
	return removed, nil
}

// LoadCheckpoint reads a checkpoint directory, verifying that it is
// complete (DONE), that state.json matches the checksum in DONE and that
// every tensor file matches its checksum and size in state.json.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	d, err := readDone(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(dir); serr != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", dir, serr)
			}
			return nil, fmt.Errorf("checkpoint %s: %w", dir, ErrIncomplete)
		}
		return nil, fmt.Errorf("checkpoint %s: %w: %v", dir, ErrCorrupt, err)
	}
	sj, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w: %v", dir, ErrCorrupt, err)
	}
	if sum := sha256.Sum256(sj); hex.EncodeToString(sum[:]) != d.StateSHA256 {
		return nil, fmt.Errorf("checkpoint %s: %w: %s does not match the checksum in %s", dir, ErrCorrupt, stateFile, doneFile)
	}
	ck := &Checkpoint{Dir: dir}
	dec := json.NewDecoder(bytes.NewReader(sj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ck.State); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, stateFile, err)
	}
	st := &ck.State
	if st.Format != stateFormat {
		return nil, fmt.Errorf("checkpoint %s: format %q, this build reads %q", dir, st.Format, stateFormat)
	}
	if st.Step != d.Step {
		return nil, fmt.Errorf("checkpoint %s: %w: %s says step %d, %s step %d", dir, ErrCorrupt, doneFile, d.Step, stateFile, st.Step)
	}
	files := map[string]*safetensors.File{}
	for _, name := range []string{modelFile, optimFile} {
		want, ok := st.Files[name]
		if !ok {
			return nil, fmt.Errorf("checkpoint %s: %w: %s has no checksum for %s", dir, ErrCorrupt, stateFile, name)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w: %v", dir, ErrCorrupt, err)
		}
		if int64(len(b)) != st.Sizes[name] {
			return nil, fmt.Errorf("checkpoint %s: %w: %s has %d bytes, %s says %d", dir, ErrCorrupt, name, len(b), stateFile, st.Sizes[name])
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
			return nil, fmt.Errorf("checkpoint %s: %w: %s does not match its SHA-256 in %s", dir, ErrCorrupt, name, stateFile)
		}
		f, err := safetensors.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, name, err)
		}
		files[name] = f
	}
	cfg := st.ModelConfig
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	ck.Weights = &model.Weights{Config: cfg}
	ck.M, ck.V = map[string][]float32{}, map[string][]float32{}
	for _, s := range cfg.ParamSpecs() {
		get := func(file, name string) ([]float32, error) {
			v, shape, err := files[file].Float32(name)
			if err != nil {
				return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, file, err)
			}
			if !slices.Equal(shape, s.Shape) {
				return nil, fmt.Errorf("checkpoint %s: %s: %s has shape %v, the model config wants %v", dir, file, name, shape, s.Shape)
			}
			return v, nil
		}
		w, err := get(modelFile, s.Name)
		if err != nil {
			return nil, err
		}
		if err := ck.Weights.Add(&model.Tensor{Name: s.Name, Shape: slices.Clone(s.Shape), Data: w}); err != nil {
			return nil, err
		}
		if ck.M[s.Name], err = get(optimFile, s.Name+".exp_avg"); err != nil {
			return nil, err
		}
		if ck.V[s.Name], err = get(optimFile, s.Name+".exp_avg_sq"); err != nil {
			return nil, err
		}
	}
	return ck, nil
}
