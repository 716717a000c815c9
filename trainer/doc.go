// Package trainer is the SFT loop of humanllm train: it trains a Model (the
// llama gorgonia graph, through GraphModel) on rendered chat samples
// (trainer/data) and resumes bit-exactly.
//
// A ResidentModel (model/llama/resident: device cuda, or engine.ops
// resident on the CPU) runs the whole step on its device instead: the
// trainer hands it the micro-batches, reads back the loss and the gradient
// norm, and passes the clipping coefficient and AdamW's hyper-parameters;
// parameters and moments come down only for checkpoints and evaluation,
// and checkpoints are the same files either way (a run resumes across
// engines and devices).
//
//   - Steps: GradAccum micro-batches from a data.Loader; the loss and the
//     gradient are those of the mean over every trained token of the step
//     (micro-batch i, with n_i trained tokens and graph loss mean_i, is
//     weighted n_i/N). Micro-batches without trained tokens are not run; a
//     step without any makes no update and no NaN.
//   - Optimizer: AdamW (decoupled weight decay, none on 1-D tensors by
//     default, bias correction) through a kernels.Optimizer (PlainAdamW by
//     default, bit-identical to kernels/ref's), a warmup + cosine / linear /
//     constant Schedule recomputed from the step, clipping by global norm
//     (the pre-clip norm is reported).
//   - Guard: a non-finite loss or gradient skips the step (counted);
//     Guard.MaxConsecutiveSkips in a row stop the run with a checkpoint.
//   - Checkpoints (checkpoint.go): ckpt-<step> directories written
//     atomically and marked complete by DONE, verified by SHA-256 on load,
//     pruned to the last N plus those marked KEEP; Latest finds the newest
//     complete one.
//   - Evaluation per task kind with early stopping, a progress line,
//     metrics.jsonl, config.yaml, loss.svg and Prometheus metrics.
//
// Determinism: nothing in a step depends on goroutine scheduling (the tape
// runs on one goroutine, every reduction has a fixed order, the kernels'
// results do not depend on the thread count), so training N steps, saving,
// and resuming in a new Trainer gives the weights, moments and losses of an
// uninterrupted run, bit for bit, at any GOMAXPROCS (TestExactResume).
package trainer
