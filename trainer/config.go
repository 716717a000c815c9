package trainer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/trainer/data"
)

// Config is every option of a training run (configs/sft-demo.yaml lists
// them all with their defaults). Keys are the mapstructure tags.
type Config struct {
	// Out is the run directory: resolved config, metrics.jsonl, loss.svg
	// and checkpoints.
	Out string `json:"out" mapstructure:"out" yaml:"out"`
	// Resume: "" starts a new run (refused if Out already has
	// checkpoints), "auto" resumes from Out's newest complete checkpoint
	// (or starts new when there is none), anything else is a checkpoint
	// directory to resume from.
	Resume string `json:"resume" mapstructure:"resume" yaml:"resume"`
	// Seed drives the data order (and fresh weights).
	Seed uint64 `json:"seed" mapstructure:"seed" yaml:"seed"`
	// Threads sets GOMAXPROCS (0: leave it). Results do not depend on it.
	Threads int `json:"threads" mapstructure:"threads" yaml:"threads"`
	// Device runs the kernels on "cpu" (engine.kernels) or "cuda" (an
	// NVIDIA GPU: the device-resident step of model/llama/resident on
	// kernels/cuda's Device, whatever engine.ops says; needs a binary
	// built with -tags cuda). Not part of the trajectory's config hash: a run may resume on
	// the other device.
	Device string `json:"device" mapstructure:"device" yaml:"device"`
	// GEMMPrecision is the arithmetic of the matrix products on device
	// cuda: "fp32" (cuBLAS SGEMM), "tf32" (TF32 tensor cores) or "bf16"
	// (operands rounded to bfloat16 on bf16 tensor cores; fp32
	// accumulation, fp32 weights, activations, gradients and optimizer
	// state everywhere else). The CPU computes in fp32 only. Like device,
	// not part of the config hash.
	GEMMPrecision string `json:"gemm_precision" mapstructure:"gemm_precision" yaml:"gemm_precision"`
	// MaxSteps is the number of optimizer steps of the run.
	MaxSteps int `json:"max_steps" mapstructure:"max_steps" yaml:"max_steps"`
	// StopAfter pauses the run after this step with a checkpoint, as an
	// interruption would, without changing the trajectory (it is not a
	// training option: --resume auto continues the same run); 0 = never.
	StopAfter int `json:"stop_after" mapstructure:"stop_after" yaml:"stop_after"`
	// MicroBatch sequences run through the graph at once; GradAccum
	// micro-batches make one step.
	MicroBatch int `json:"micro_batch" mapstructure:"micro_batch" yaml:"micro_batch"`
	GradAccum  int `json:"grad_accum" mapstructure:"grad_accum" yaml:"grad_accum"`

	Model      ModelSource      `json:"model" mapstructure:"model" yaml:"model"`
	Data       DataConfig       `json:"data" mapstructure:"data" yaml:"data"`
	Engine     Engine           `json:"engine" mapstructure:"engine" yaml:"engine"`
	Schedule   Schedule         `json:"schedule" mapstructure:"schedule" yaml:"schedule"`
	Optim      AdamWConfig      `json:"optim" mapstructure:"optim" yaml:"optim"`
	Eval       EvalConfig       `json:"eval" mapstructure:"eval" yaml:"eval"`
	Checkpoint CheckpointConfig `json:"checkpoint" mapstructure:"checkpoint" yaml:"checkpoint"`
	Guard      GuardConfig      `json:"guard" mapstructure:"guard" yaml:"guard"`
	Log        LogConfig        `json:"log" mapstructure:"log" yaml:"log"`
	Metrics    MetricsConfig    `json:"metrics" mapstructure:"metrics" yaml:"metrics"`
}

// ModelSource says where the starting weights come from.
type ModelSource struct {
	// Source is "fresh" (random weights of Fresh's shape, from Seed) or the
	// path of a llama2.c .bin checkpoint (stories260K.bin, ...).
	Source string     `json:"source" mapstructure:"source" yaml:"source"`
	Fresh  FreshModel `json:"fresh" mapstructure:"fresh" yaml:"fresh"`
}

// FreshModel is the shape of a fresh Llama model.
type FreshModel struct {
	Dim            int     `json:"dim" mapstructure:"dim" yaml:"dim"`
	HiddenDim      int     `json:"hidden_dim" mapstructure:"hidden_dim" yaml:"hidden_dim"`
	NLayers        int     `json:"n_layers" mapstructure:"n_layers" yaml:"n_layers"`
	NHeads         int     `json:"n_heads" mapstructure:"n_heads" yaml:"n_heads"`
	NKVHeads       int     `json:"n_kv_heads" mapstructure:"n_kv_heads" yaml:"n_kv_heads"`
	Vocab          int     `json:"vocab_size" mapstructure:"vocab_size" yaml:"vocab_size"`
	MaxSeqLen      int     `json:"max_seq_len" mapstructure:"max_seq_len" yaml:"max_seq_len"`
	RopeTheta      float64 `json:"rope_theta" mapstructure:"rope_theta" yaml:"rope_theta"`
	RMSEps         float64 `json:"rms_eps" mapstructure:"rms_eps" yaml:"rms_eps"`
	TiedEmbeddings bool    `json:"tied_embeddings" mapstructure:"tied_embeddings" yaml:"tied_embeddings"`
}

// Config converts to a model.Config (rotate-half RoPE).
func (f FreshModel) Config() model.Config {
	return model.Config{Dim: f.Dim, HiddenDim: f.HiddenDim, NLayers: f.NLayers, NHeads: f.NHeads, NKVHeads: f.NKVHeads,
		Vocab: f.Vocab, MaxSeqLen: f.MaxSeqLen, RopeTheta: f.RopeTheta, RMSEps: f.RMSEps, TiedEmbeddings: f.TiedEmbeddings}
}

// DataConfig says what is trained on and how samples become sequences.
type DataConfig struct {
	// Path is a humanllm prepare output directory (train.jsonl, and
	// test.jsonl for evaluation) or a chat-messages JSONL file.
	Path string `json:"path" mapstructure:"path" yaml:"path"`
	// EvalPath is the held-out JSONL; "" uses Path's test.jsonl when Path
	// is a directory, and no evaluation otherwise.
	EvalPath string `json:"eval_path" mapstructure:"eval_path" yaml:"eval_path"`
	SeqLen   int    `json:"seq_len" mapstructure:"seq_len" yaml:"seq_len"`
	// Pack several samples per sequence (needs engine.ops fused or
	// resident, or device cuda); false
	// pads each sample to seq_len.
	Pack bool `json:"pack" mapstructure:"pack" yaml:"pack"`
	// Overlong: "truncate" or "drop" samples longer than seq_len.
	Overlong string `json:"overlong" mapstructure:"overlong" yaml:"overlong"`
	// PadID fills unused positions (never a target).
	PadID int32 `json:"pad_id" mapstructure:"pad_id" yaml:"pad_id"`
	// Tokenizer is builtin:tok512 (stories260K's, embedded), a llama2.c
	// tokenizer .bin, a Hugging Face tokenizer.json, a GGUF file's
	// vocabulary, a directory with GPT-2's encoder.json and vocab.bpe (or an
	// HF model's tokenizer.json), or train:N: a byte-level BPE tokenizer of
	// N ids trained on the training split when the run starts and saved as
	// the run directory's tokenizer.json (TrainedTokenizer), which resuming,
	// eval, export and generate then use. "" means the model's own
	// (builtin:tok512 for a fresh model); the command resolves it before
	// the config is saved.
	Tokenizer string `json:"tokenizer" mapstructure:"tokenizer" yaml:"tokenizer"`
	// Template is the chat template: chatml, llama3 or plain, or the path
	// of a tokenizer_config.json whose Jinja chat_template is used; ""
	// chooses the model's own (an HF directory's chat_template) or the one
	// the tokenizer's special tokens call for.
	Template string `json:"template" mapstructure:"template" yaml:"template"`
}

// TrainedTokenizerPrefix starts a data.tokenizer value that asks for a
// tokenizer trained on the data: "train:8000".
const TrainedTokenizerPrefix = "train:"

// TrainedTokenizerFile is the name of the trained tokenizer in the run
// directory.
const TrainedTokenizerFile = "tokenizer.json"

// MinTrainedVocab is the smallest vocabulary a trained tokenizer can have:
// the 256 byte-level symbols and humanllm's special tokens
// (model/chat.TrainSpecials).
var MinTrainedVocab = 256 + len(chat.TrainSpecials)

// TrainedTokenizer parses a data.tokenizer value of the form train:N: ok
// is false for any other value, err names a bad N.
func TrainedTokenizer(src string) (vocab int, ok bool, err error) {
	rest, ok := strings.CutPrefix(src, TrainedTokenizerPrefix)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < MinTrainedVocab {
		return 0, true, fmt.Errorf("data.tokenizer %q: train:N needs a vocabulary size N >= %d (256 bytes + %d special tokens), e.g. train:4096",
			src, MinTrainedVocab, MinTrainedVocab-256)
	}
	return n, true, nil
}

// Loader is the data.Config of these options.
func (d DataConfig) Loader() data.Config {
	return data.Config{SeqLen: d.SeqLen, Pack: d.Pack, Overlong: d.Overlong, PadID: d.PadID}
}

// EvalConfig schedules evaluation and early stopping.
type EvalConfig struct {
	// Every N steps (0: only at the end, when there is eval data).
	Every int `json:"every" mapstructure:"every" yaml:"every"`
	// AtStart evaluates the starting (base) model at step 0, before the
	// first step, so that every run shows base against tuned. Only a new
	// run does it (a resumed one has it in its log); it does not count for
	// early stopping.
	AtStart bool `json:"at_start" mapstructure:"at_start" yaml:"at_start"`
	// MaxBatches per task kind (0: the whole held-out set).
	MaxBatches int `json:"max_batches" mapstructure:"max_batches" yaml:"max_batches"`
	// Patience: stop after this many evaluations without an improvement of
	// the eval loss by more than MinDelta (0: never stop early).
	Patience int     `json:"patience" mapstructure:"patience" yaml:"patience"`
	MinDelta float64 `json:"min_delta" mapstructure:"min_delta" yaml:"min_delta"`
}

// CheckpointConfig schedules checkpoints.
type CheckpointConfig struct {
	// Every N steps (0: only at the end and on interruption).
	Every int `json:"every" mapstructure:"every" yaml:"every"`
	// KeepLast complete checkpoints are kept (0: all).
	KeepLast int `json:"keep_last" mapstructure:"keep_last" yaml:"keep_last"`
	// KeepEvery marks the checkpoints of multiples of this step KEEP (never
	// pruned); 0: none. `touch ckpt-N/KEEP` does the same by hand.
	KeepEvery int `json:"keep_every" mapstructure:"keep_every" yaml:"keep_every"`
}

// GuardConfig bounds non-finite steps.
type GuardConfig struct {
	// MaxConsecutiveSkips non-finite steps in a row stop the run with a
	// checkpoint of the last good weights.
	MaxConsecutiveSkips int `json:"max_consecutive_skips" mapstructure:"max_consecutive_skips" yaml:"max_consecutive_skips"`
}

// LogConfig controls what is printed.
type LogConfig struct {
	// Every N steps a plain progress line is printed when stderr is not a
	// terminal (a terminal gets a line updated every step).
	Every int `json:"every" mapstructure:"every" yaml:"every"`
	// Quiet prints no progress line.
	Quiet bool `json:"quiet" mapstructure:"quiet" yaml:"quiet"`
}

// MetricsConfig exposes Prometheus metrics.
type MetricsConfig struct {
	// Port serves /metrics on Host:Port; 0 disables it.
	Port int    `json:"port" mapstructure:"port" yaml:"port"`
	Host string `json:"host" mapstructure:"host" yaml:"host"`
	// PushURL is a Prometheus Pushgateway (http://host:9091; user:password@
	// in it is sent as basic auth) that receives the training metrics after
	// each evaluation, each checkpoint, every PushInterval, and at the end
	// of the run, failures included; "" disables pushing. A failed push is
	// a warning: training goes on.
	PushURL string `json:"push_url" mapstructure:"push_url" yaml:"push_url"`
	// PushJob is the job label of the pushed group; the group also has
	// run=<base name of the run directory>.
	PushJob string `json:"push_job" mapstructure:"push_job" yaml:"push_job"`
	// PushInterval pushes periodically as well (0: only at evaluations,
	// checkpoints and the end).
	PushInterval time.Duration `json:"push_interval" mapstructure:"push_interval" yaml:"push_interval"`
}

// DefaultConfig is the built-in defaults (a small fresh model).
func DefaultConfig() Config {
	return Config{
		Seed: 1, MaxSteps: 100, MicroBatch: 4, GradAccum: 1, Device: "cpu", GEMMPrecision: "fp32",
		Model: ModelSource{Source: "fresh", Fresh: FreshModel{
			Dim: 64, HiddenDim: 172, NLayers: 4, NHeads: 4, NKVHeads: 4, Vocab: 512, MaxSeqLen: 256,
			RopeTheta: 10000, RMSEps: 1e-5,
		}},
		Data:       DataConfig{SeqLen: 256, Pack: false, Overlong: "truncate", Tokenizer: "", Template: ""},
		Engine:     Engine{Ops: "builtin", Kernels: "cpu"},
		Schedule:   Schedule{Kind: "cosine", LR: 5e-4, MinLR: 5e-5, WarmupSteps: 10},
		Optim:      AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, GradClip: 1},
		Eval:       EvalConfig{Every: 50, AtStart: true},
		Checkpoint: CheckpointConfig{Every: 50, KeepLast: 3},
		Guard:      GuardConfig{MaxConsecutiveSkips: 5},
		Log:        LogConfig{Every: 10},
		Metrics:    MetricsConfig{Host: "127.0.0.1", PushJob: "humanllm_train", PushInterval: 30 * time.Second},
	}
}

// Validate names the first bad option.
func (c Config) Validate() error {
	switch {
	case c.Out == "":
		return fmt.Errorf("out: a run directory is needed (--out)")
	case c.MaxSteps < 1:
		return fmt.Errorf("max_steps: %d must be >= 1", c.MaxSteps)
	case c.StopAfter < 0:
		return fmt.Errorf("stop_after: %d must be >= 0", c.StopAfter)
	case c.MicroBatch < 1:
		return fmt.Errorf("micro_batch: %d must be >= 1", c.MicroBatch)
	case c.GradAccum < 1:
		return fmt.Errorf("grad_accum: %d must be >= 1", c.GradAccum)
	case c.Threads < 0:
		return fmt.Errorf("threads: %d must be >= 0", c.Threads)
	case c.Model.Source == "":
		return fmt.Errorf("model.source: give fresh or a model path (--model)")
	case c.Eval.Every < 0 || c.Eval.MaxBatches < 0 || c.Eval.Patience < 0 || c.Eval.MinDelta < 0:
		return fmt.Errorf("eval: every, max_batches, patience and min_delta must be >= 0")
	case c.Checkpoint.Every < 0 || c.Checkpoint.KeepLast < 0 || c.Checkpoint.KeepEvery < 0:
		return fmt.Errorf("checkpoint: every, keep_last and keep_every must be >= 0")
	case c.Guard.MaxConsecutiveSkips < 1:
		return fmt.Errorf("guard.max_consecutive_skips: %d must be >= 1", c.Guard.MaxConsecutiveSkips)
	case c.Log.Every < 1:
		return fmt.Errorf("log.every: %d must be >= 1", c.Log.Every)
	case c.Metrics.Port < 0 || c.Metrics.Port > 65535:
		return fmt.Errorf("metrics.port: %d is not a port (0 disables metrics)", c.Metrics.Port)
	case c.Metrics.PushInterval < 0:
		return fmt.Errorf("metrics.push_interval: %s must be >= 0", c.Metrics.PushInterval)
	case c.Metrics.PushURL != "" && c.Metrics.PushJob == "":
		return fmt.Errorf("metrics.push_job: a job name is needed to push to %s", redactURL(c.Metrics.PushURL))
	}
	if c.Metrics.PushURL != "" {
		if _, err := parsePushURL(c.Metrics.PushURL); err != nil {
			return err
		}
	}
	if _, _, err := TrainedTokenizer(c.Data.Tokenizer); err != nil {
		return err
	}
	if err := c.Data.Loader().Validate(); err != nil {
		return fmt.Errorf("data.%w", err)
	}
	if err := c.Engine.Validate(); err != nil {
		return err
	}
	switch c.Device {
	case "cpu":
	case "cuda":
		if c.Engine.Kernels != "cpu" {
			return fmt.Errorf("device: cuda runs kernels/cuda in place of engine.kernels, which must be left at cpu (it is %s)", c.Engine.Kernels)
		}
	default:
		return fmt.Errorf("device: %q is not cpu or cuda", c.Device)
	}
	switch c.GEMMPrecision {
	case "fp32":
	case "tf32", "bf16":
		if c.Device != "cuda" {
			return fmt.Errorf("gemm_precision: %s needs device cuda (the CPU kernels compute in fp32)", c.GEMMPrecision)
		}
	default:
		return fmt.Errorf("gemm_precision: %q is not fp32, tf32 or bf16", c.GEMMPrecision)
	}
	if c.Data.Pack && c.Engine.Ops == "builtin" && c.Device != "cuda" {
		return fmt.Errorf("data.pack needs engine.ops fused or resident (builtin ops cannot keep packed samples apart); set data.pack false to pad instead")
	}
	if err := c.Schedule.Validate(); err != nil {
		return err
	}
	return c.Optim.Validate()
}

// ResolvedSchedule is Schedule with TotalSteps defaulting to MaxSteps.
func (c Config) ResolvedSchedule() Schedule {
	s := c.Schedule
	if s.TotalSteps == 0 {
		s.TotalSteps = c.MaxSteps
	}
	return s
}

// trainingSubset holds the options that determine the trajectory of a run
// (weights and losses step by step). Run control (out, resume, threads,
// eval, checkpoint, guard, log, metrics) is left out: changing it does not
// change what is computed.
type trainingSubset struct {
	Seed       uint64      `json:"seed"`
	MaxSteps   int         `json:"max_steps"`
	MicroBatch int         `json:"micro_batch"`
	GradAccum  int         `json:"grad_accum"`
	Model      ModelSource `json:"model"`
	Data       DataConfig  `json:"data"`
	Engine     Engine      `json:"engine"`
	Schedule   Schedule    `json:"schedule"`
	Optim      AdamWConfig `json:"optim"`
}

// TrainingSubset returns the JSON of the trajectory-determining options
// and its SHA-256 (the config hash stored in checkpoints).
func (c Config) TrainingSubset() (json.RawMessage, string) {
	b, err := json.Marshal(trainingSubset{Seed: c.Seed, MaxSteps: c.MaxSteps, MicroBatch: c.MicroBatch, GradAccum: c.GradAccum,
		Model: c.Model, Data: c.Data, Engine: c.Engine, Schedule: c.ResolvedSchedule(), Optim: c.Optim})
	if err != nil {
		panic(err) // plain values only
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// diffJSON lists the dotted keys whose values differ between two JSON
// objects.
func diffJSON(a, b json.RawMessage) []string {
	var ma, mb map[string]any
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return []string{"(unreadable)"}
	}
	var out []string
	var walk func(prefix string, x, y map[string]any)
	walk = func(prefix string, x, y map[string]any) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			xv, yv := x[k], y[k]
			xm, xok := xv.(map[string]any)
			ym, yok := yv.(map[string]any)
			if xok && yok {
				walk(prefix+k+".", xm, ym)
				continue
			}
			xb, _ := json.Marshal(xv)
			yb, _ := json.Marshal(yv)
			if string(xb) != string(yb) {
				out = append(out, fmt.Sprintf("%s%s: %s -> %s", prefix, k, xb, yb))
			}
		}
	}
	walk("", ma, mb)
	sort.Strings(out)
	return out
}
