package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/humanllm/humanllm/internal/config"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/load"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/trainer"
	"github.com/humanllm/humanllm/trainer/data"
)

// newRenderer returns the chat-template renderer (model/chat) that turns
// samples into token ids with the completion-only mask, for the model being
// trained; tests replace it.
var newRenderer = func(cfg trainer.Config) (data.Renderer, error) {
	tok, err := loadTokenizer(cfg.Data.Tokenizer, cfg.Model)
	if err != nil {
		return nil, err
	}
	tpl, err := chat.New(cfg.Data.Template, tok)
	if err != nil {
		return nil, fmt.Errorf("data.template: %w", err)
	}
	return chat.Renderer{T: tpl}, nil
}

// loadTokenizer opens data.tokenizer (see load.Tokenizer for the forms).
// A llama2.c tokenizer file does not record its vocabulary size: for a
// fresh model it is model.fresh.vocab_size, else every piece in the file.
func loadTokenizer(src string, m trainer.ModelSource) (tokenizer.Tokenizer, error) {
	vocab := 0
	if m.Source == "fresh" {
		vocab = m.Fresh.Vocab
	}
	if src == "" {
		return nil, errors.New("data.tokenizer: no tokenizer given (--tokenizer)")
	}
	tok, err := openTokenizer(src, vocab)
	if err != nil {
		return nil, fmt.Errorf("data.%w", err)
	}
	return tok, nil
}

// openTokenizer is load.Tokenizer, and the hint that a train:N spec names
// a tokenizer that only exists in its run directory.
func openTokenizer(src string, vocab int) (tokenizer.Tokenizer, error) {
	if strings.HasPrefix(src, trainer.TrainedTokenizerPrefix) {
		return nil, fmt.Errorf("tokenizer %s: a tokenizer trained by humanllm train is the run directory's %s; give that file", src, trainer.TrainedTokenizerFile)
	}
	tok, err := load.Tokenizer(src, vocab)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", src, err)
	}
	return tok, nil
}

// resolveModelDefaults fills data.tokenizer when it is empty: the
// embedded tok512 for a fresh model, else the tokenizer the imported
// model (or another run's checkpoint) carries; and data.template from a
// run's checkpoint (runTrain guesses it from the tokenizer otherwise). It
// returns the opened model so that it is read once.
func resolveModelDefaults(cfg *trainer.Config, stderr io.Writer) (*openedModel, error) {
	if isModelPreset(cfg.Model.Source) {
		// A shape preset (configs/model-*.yaml) is a fresh model of that
		// shape: the resolved config records the shape itself.
		f := cfg.Model.Fresh
		if err := config.Load(&f, cfg.Model.Source, nil, nil); err != nil {
			return nil, fmt.Errorf("model.source: %w", err)
		}
		cfg.Model.Source, cfg.Model.Fresh = "fresh", f
	}
	if cfg.Model.Source == "fresh" {
		c := cfg.Model.Fresh.Config()
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("model.fresh: %w", err)
		}
		if err := checkTrainingFloor(c, *cfg, "fresh", stderr); err != nil {
			return nil, err
		}
	}
	var om *openedModel
	if cfg.Model.Source != "fresh" {
		if !isCheckpointOrRun(cfg.Model.Source) {
			// Refuse a model that cannot be trained here before reading
			// its tensors: weights, gradients and both AdamW moments in
			// float32 are the floor, whatever the engine.
			c, err := load.Peek(cfg.Model.Source)
			if err != nil {
				return nil, fmt.Errorf("model.source: %w", err)
			}
			if err := checkTrainingFloor(c, *cfg, cfg.Model.Source, stderr); err != nil {
				return nil, err
			}
		}
		var err error
		if om, err = openModel(cfg.Model.Source); err != nil {
			return nil, fmt.Errorf("model.source: %w", err)
		}
		fmt.Fprintf(stderr, "model %s\n", om.describe())
	}
	if cfg.Data.Tokenizer == "" {
		switch {
		case om == nil:
			cfg.Data.Tokenizer = "builtin:tok512"
		case om.Tokenizer != "":
			cfg.Data.Tokenizer = om.Tokenizer
		default:
			return nil, fmt.Errorf("model.source %s carries no tokenizer: give data.tokenizer (--tokenizer)", cfg.Model.Source)
		}
	}
	if cfg.Data.Template == "" && om != nil {
		cfg.Data.Template = om.Template // a run's, an HF model's own chat_template, else guessed below
	}
	return om, nil
}

// trainFlagKeys maps each flag to the config key it overrides.
var trainFlagKeys = map[string]string{
	"out": "out", "resume": "resume", "seed": "seed", "threads": "threads", "device": "device", "gemm-precision": "gemm_precision", "max-steps": "max_steps", "stop-after": "stop_after",
	"micro-batch": "micro_batch", "grad-accum": "grad_accum",
	"model": "model.source", "data": "data.path", "eval-data": "data.eval_path", "seq-len": "data.seq_len",
	"pack": "data.pack", "overlong": "data.overlong", "tokenizer": "data.tokenizer", "template": "data.template",
	"ops": "engine.ops", "kernels": "engine.kernels",
	"lr": "schedule.lr", "min-lr": "schedule.min_lr", "schedule": "schedule.kind", "warmup": "schedule.warmup_steps",
	"weight-decay": "optim.weight_decay", "grad-clip": "optim.grad_clip",
	"eval-every": "eval.every", "patience": "eval.patience", "eval-at-start": "eval.at_start",
	"ckpt-every": "checkpoint.every", "keep-last": "checkpoint.keep_last",
	"metrics-port": "metrics.port", "log-every": "log.every", "quiet": "log.quiet",
	"push-url": "metrics.push_url", "push-job": "metrics.push_job", "push-interval": "metrics.push_interval",
}

func newTrain() *cobra.Command {
	def := trainer.DefaultConfig()
	var cfgFile string
	cmd := &cobra.Command{
		Use:   "train --config FILE --data PATH --out RUN_DIR [flags]",
		Short: "Fine-tune a Llama-family model on chat-messages SFT data, with exact resume",
		Long: `train fine-tunes a model on the chat-messages JSONL that humanllm prepare
writes (or any file in that format), with completion-only loss: assistant
tokens and their end-of-turn token are trained, everything else is masked.

The model starts from fresh random weights of the model.fresh shape
(--model fresh) or of a shape preset (--model configs/model-15m.yaml), or from a model you have (--model PATH): a Hugging Face
directory (Llama, SmolLM, Qwen2; safetensors f32/f16/bf16, sharded or
not), a GGUF file, a llama2.c .bin (stories260K) or another run's
checkpoint. Its tokenizer is used unless --tokenizer names another. Optimisation is AdamW (no decay on norms and biases) with
warmup + cosine/linear/constant LR, clipping by global norm and gradient
accumulation normalised by the trained tokens of the whole step. A step
whose loss or gradient is not finite is skipped; guard.max_consecutive_skips
in a row stop the run with a checkpoint of the last good weights.

The run directory (--out) receives:

  config.yaml      the resolved configuration
  metrics.jsonl    one JSON line per step, evaluation and event
  loss.svg         the loss curve (train and eval), at each eval and at the end
  ckpt-<step>/     checkpoints: model.safetensors, optimizer.safetensors,
                   state.json (step, data position, RNG, config hash,
                   checksums) and DONE, written last
  tokenizer.json   with --tokenizer train:N: the tokenizer trained on the
                   training split when the run started (resume, eval, export
                   and generate use it)

A new run with held-out data first evaluates the starting model (step 0,
--eval-at-start), so that the log, the metrics, loss.svg and the summary
show base against tuned; the summary also gives the checkpoints' size and
save/load times.

Checkpoints are written atomically (temporary directory, fsync, rename, then
DONE); --resume auto continues from the newest complete one and gives
bit-identical weights and losses to an uninterrupted run, at any --threads.
SIGINT or SIGTERM writes a checkpoint at the end of the current step and
exits (code 130); a second signal exits at once. With --metrics-port,
Prometheus metrics are served on http://127.0.0.1:PORT/metrics; with
--push-url they are pushed to a Pushgateway (after evaluations and
checkpoints, every --push-interval, and at the end, failures included).

Every option of configs/sft-demo.yaml can be set there, by a HUMANLLM_*
variable (HUMANLLM_SCHEDULE_LR=1e-4), or by the flags below.`,
		Example: `  humanllm train --config configs/sft-demo.yaml --data out/demo --out runs/demo
  humanllm train --config configs/sft-demo.yaml --data out/demo --out runs/demo --resume auto
  humanllm train --model stories260K.bin --data train.jsonl --out runs/s --max-steps 200 --threads 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := trainer.DefaultConfig()
			if err := config.Load(&cfg, cfgFile, cmd.Flags(), trainFlagKeys); err != nil {
				return err
			}
			return runTrain(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgFile, "config", "", "YAML config file (configs/sft-demo.yaml lists every key)")
	f.String("out", "", "run directory: config, log, loss plot, checkpoints (config: out)")
	f.String("resume", "", `"auto": continue from the newest complete checkpoint of --out (or start if none); a ckpt-<step> directory: continue from it; "": new run (config: resume)`)
	f.Int("stop-after", 0, "pause after this step with a checkpoint, as an interruption would; --resume auto continues the same run (config: stop_after)")
	f.String("tokenizer", "", "builtin:tok512 | tokenizer.json | GGUF file | llama2.c tokenizer .bin | GPT-2 or HF directory | train:N (a byte-level BPE tokenizer of N ids trained on the training split, kept as RUN_DIR/tokenizer.json; a fresh model's vocab_size follows it); default: the model's own, builtin:tok512 for a fresh model (config: data.tokenizer)")
	f.String("template", "", "chat template: plain | chatml | llama3; default: the one the tokenizer's special tokens call for (config: data.template)")
	f.String("model", def.Model.Source, `starting weights: "fresh" (random, shape from model.fresh), a shape preset (configs/model-260k|15m|135m|1b.yaml: fresh weights of that shape), a Hugging Face directory, a GGUF file, a llama2.c .bin, or another run's checkpoint (config: model.source)`)
	f.String("data", "", "training data: a humanllm prepare output directory (train.jsonl, test.jsonl) or a chat-messages JSONL file (config: data.path)")
	f.String("eval-data", "", "held-out JSONL; default: test.jsonl of a --data directory (config: data.eval_path)")
	f.Int("max-steps", def.MaxSteps, "optimizer steps to train (config: max_steps)")
	f.Uint64("seed", def.Seed, "seed of the data order and of fresh weights (config: seed)")
	f.Int("threads", def.Threads, "threads (GOMAXPROCS); 0 = all CPUs; results do not depend on it (config: threads)")
	f.String("device", def.Device, "where the kernels run: cpu (engine.kernels) or cuda (an NVIDIA GPU running the device-resident step of model/llama/resident, whatever --ops says; needs a binary built with -tags cuda, engine.kernels left at cpu) (config: device)")
	f.String("gemm-precision", def.GEMMPrecision, "matrix products on --device cuda: fp32 (cuBLAS SGEMM), tf32 (TF32 tensor cores) or bf16 (bf16 tensor cores, fp32 accumulation; weights, gradients and optimizer state stay fp32); the CPU computes in fp32 (config: gemm_precision)")
	f.Int("micro-batch", def.MicroBatch, "sequences per forward/backward pass (config: micro_batch)")
	f.Int("grad-accum", def.GradAccum, "micro-batches per optimizer step (config: grad_accum)")
	f.Int("seq-len", def.Data.SeqLen, "tokens per sequence (config: data.seq_len)")
	f.Bool("pack", def.Data.Pack, "pack several samples per sequence (needs --ops fused or resident, or --device cuda); false pads each sample (config: data.pack)")
	f.String("overlong", def.Data.Overlong, "samples longer than --seq-len: truncate (keep the start), keep_end (keep the end, where the answer is) or drop (config: data.overlong)")
	f.String("ops", def.Engine.Ops, "graph ops: builtin (gorgonia's), fused (kernels/gorgonia) or resident (no graph: the explicit step --device cuda runs, here on the CPU); fused and resident honour --pack (config: engine.ops)")
	f.String("kernels", def.Engine.Kernels, "matrix products and fused ops: cpu (SIMD), ref (plain Go) or gonum (builtin ops only) (config: engine.kernels)")
	f.Float64("lr", def.Schedule.LR, "peak learning rate (config: schedule.lr)")
	f.Float64("min-lr", def.Schedule.MinLR, "learning rate at the end of the decay (config: schedule.min_lr)")
	f.String("schedule", def.Schedule.Kind, "LR decay after warmup: cosine, linear or constant (config: schedule.kind)")
	f.Int("warmup", def.Schedule.WarmupSteps, "linear warmup steps (config: schedule.warmup_steps)")
	f.Float64("weight-decay", def.Optim.WeightDecay, "AdamW decoupled weight decay of matrices (config: optim.weight_decay)")
	f.Float64("grad-clip", def.Optim.GradClip, "largest global gradient norm; 0 = no clipping (config: optim.grad_clip)")
	f.Int("eval-every", def.Eval.Every, "evaluate every N steps; 0 = only at the end (config: eval.every)")
	f.Int("patience", def.Eval.Patience, "stop after N evaluations without improvement; 0 = never (config: eval.patience)")
	f.Bool("eval-at-start", def.Eval.AtStart, "evaluate the starting model at step 0 (new runs; base vs tuned in the log, metrics and plot) (config: eval.at_start)")
	f.Int("ckpt-every", def.Checkpoint.Every, "checkpoint every N steps; 0 = only at the end and on interruption (config: checkpoint.every)")
	f.Int("keep-last", def.Checkpoint.KeepLast, "complete checkpoints kept (plus those marked KEEP); 0 = all (config: checkpoint.keep_last)")
	f.Int("metrics-port", def.Metrics.Port, "serve Prometheus /metrics on 127.0.0.1:PORT; 0 = off (config: metrics.port)")
	f.String("push-url", def.Metrics.PushURL, `Prometheus Pushgateway (http://host:9091) to push the training metrics to at evaluations, checkpoints, every --push-interval and the end; "" = off; a failed push is a warning (config: metrics.push_url)`)
	f.String("push-job", def.Metrics.PushJob, "job label of the pushed metrics (grouping key: job and run=<base name of --out>) (config: metrics.push_job)")
	f.Duration("push-interval", def.Metrics.PushInterval, "also push this often; 0 = only at evaluations, checkpoints and the end (config: metrics.push_interval)")
	f.Int("log-every", def.Log.Every, "progress line every N steps when stderr is not a terminal (config: log.every)")
	f.BoolP("quiet", "q", def.Log.Quiet, "no progress line (config: log.quiet)")
	return cmd
}

// runTrain loads the data and the model and trains. The first SIGINT or
// SIGTERM makes the trainer checkpoint at the end of the step and return;
// a second one exits the process at once.
func runTrain(ctx context.Context, cfg trainer.Config, stdout, stderr io.Writer) error {
	if cfg.Out == "" && cfg.Resume != "" && cfg.Resume != "auto" {
		cfg.Out = filepath.Dir(filepath.Clean(cfg.Resume)) // the checkpoint's run directory
	}
	if cfg.Data.Path == "" {
		return errors.New("train: no data: give --data (a prepare output directory or a JSONL file)")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(stderr, "\nhumanllm train: stopping: a checkpoint is written at the end of this step (signal again to exit at once)")
				cancel()
				continue
			}
			fmt.Fprintln(stderr, "humanllm train: second signal: exiting now (the last complete checkpoint is intact)")
			os.Exit(130)
		}
	}()

	om, err := resolveModelDefaults(&cfg, stderr)
	if err != nil {
		return err
	}
	tokPath, tokSum, tokVocab, err := runTokenizer(&cfg, stdout, stderr)
	if err != nil {
		return err
	}
	rcfg := cfg
	if tokPath != "" {
		rcfg.Data.Tokenizer = tokPath // train:N: the run's trained tokenizer
	}
	if cfg.Data.Template == "" {
		tok, err := loadTokenizer(rcfg.Data.Tokenizer, rcfg.Model)
		if err != nil {
			return err
		}
		cfg.Data.Template = guessTemplate(tok)
		rcfg.Data.Template = cfg.Data.Template
	}
	r, err := newRenderer(rcfg)
	if err != nil {
		return err
	}
	trainPath, err := data.ResolvePath(cfg.Data.Path, "train")
	if err != nil {
		return err
	}
	train, err := loadSplit(trainPath, "train", r, cfg, stderr)
	if err != nil {
		return err
	}
	evalPath := cfg.Data.EvalPath
	if evalPath == "" {
		if st, err := os.Stat(cfg.Data.Path); err == nil && st.IsDir() {
			if p := filepath.Join(cfg.Data.Path, "test.jsonl"); fileExists(p) {
				evalPath = p
			}
		}
	}
	var eval []data.Tokenized
	if evalPath != "" {
		if eval, err = loadSplit(evalPath, "eval", r, cfg, stderr); err != nil {
			return err
		}
	}
	isTerm := false
	if f, ok := stderr.(*os.File); ok {
		isTerm = term.IsTerminal(int(f.Fd()))
	}
	tr, err := trainer.New(trainer.Options{
		Config:   cfg,
		Weights:  func() (*model.Weights, error) { return loadModel(cfg, om) },
		Train:    train,
		Eval:     eval,
		Stderr:   stderr,
		Terminal: isTerm,

		TokenizerVocab:  tokVocab,
		TokenizerSHA256: tokSum,
	})
	if err != nil {
		return err
	}
	defer tr.Close()
	res, err := tr.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained %d steps in %s (%.0f tokens/s overall, evaluation and checkpoints included), %d skipped\n", res.Steps, res.Elapsed.Round(1e9), res.TokensPerSec, res.Skipped)
	if res.Stopped != "" {
		fmt.Fprintf(stdout, "stopped early: %s\n", res.Stopped)
	}
	printTrainSummary(stdout, res, cfg.Out)
	return nil
}

func loadSplit(path, split string, r data.Renderer, cfg trainer.Config, stderr io.Writer) ([]data.Tokenized, error) {
	samples, err := data.ReadFile(path)
	if err != nil {
		return nil, err
	}
	toks, st, err := data.Prepare(samples, r, cfg.Data.Loader())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !cfg.Log.Quiet {
		fmt.Fprintf(stderr, "data %s: %s: %d samples, %d kept, %d truncated, %d dropped (longer than %d tokens), %d without a trained token; %d tokens, %d trained\n",
			split, path, st.Samples, st.Kept, st.Truncated, st.Dropped, cfg.Data.SeqLen, st.NoTarget, st.Tokens, st.TrainedTokens)
	}
	return toks, nil
}

// isModelPreset reports whether model.source names a shape preset file.
func isModelPreset(src string) bool {
	return strings.HasSuffix(src, ".yaml") || strings.HasSuffix(src, ".yml")
}

// checkTrainingFloor prints the parameter count and the memory that
// training c needs at the least (weights, gradients and both AdamW
// moments in float32), and refuses a model that cannot have it, before
// anything is allocated.
func checkTrainingFloor(c model.Config, cfg trainer.Config, what string, stderr io.Writer) error {
	est := c.Memory(cfg.MicroBatch, cfg.Data.SeqLen)
	est.Activations = 0
	fmt.Fprintf(stderr, "model %s: %s parameters; weights + gradients + AdamW state need %s\n",
		what, model.HumanCount(c.ParamCount()), model.HumanBytes(est.Total()))
	if avail, err := model.MemAvailable(); err == nil {
		if err := model.CheckFits(est, avail); err != nil {
			return fmt.Errorf("model %s: %w", what, err)
		}
	}
	return nil
}

// loadModel returns the starting weights named by model.source: fresh
// random ones, or those of the model opened already.
func loadModel(cfg trainer.Config, om *openedModel) (*model.Weights, error) {
	if cfg.Model.Source == "fresh" {
		return llama.InitWeights(cfg.Model.Fresh.Config(), cfg.Seed)
	}
	if om == nil {
		return nil, fmt.Errorf("model.source %s: not opened", cfg.Model.Source)
	}
	return om.Weights, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
