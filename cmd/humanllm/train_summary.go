package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/humanllm/humanllm/trainer"
)

// printTrainSummary prints the end of a train run: the held-out evaluation
// per task kind next to the starting model's (eval.at_start), and the
// checkpoints' size and save/load times.
func printTrainSummary(w io.Writer, res *trainer.Result, runDir string) {
	if ev := res.Eval; ev != nil && ev.EvalLoss != nil {
		base := res.BaseEval
		if base != nil && base.EvalLoss == nil {
			base = nil
		}
		if base != nil {
			fmt.Fprintf(w, "eval loss %.4f (ppl %.2f) at step %d; base model (step 0) %.4f (ppl %.2f)\n",
				*ev.EvalLoss, *ev.EvalPPL, ev.Step, *base.EvalLoss, *base.EvalPPL)
			fmt.Fprintf(w, "  %-16s %10s %10s %9s %10s %10s\n", "kind", "base loss", "loss", "change", "base ppl", "ppl")
		} else {
			fmt.Fprintf(w, "eval loss %.4f (ppl %.2f) at step %d\n", *ev.EvalLoss, *ev.EvalPPL, ev.Step)
		}
		kinds := make([]string, 0, len(ev.Kinds))
		for k := range ev.Kinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			ke := ev.Kinds[k]
			if b, ok := kindOf(base, k); ok {
				fmt.Fprintf(w, "  %-16s %10.4f %10.4f %+9.4f %10.2f %10.2f  (%d samples, %d tokens)\n", k, b.Loss, ke.Loss, ke.Loss-b.Loss, b.PPL, ke.PPL, ke.Samples, ke.Tokens)
				continue
			}
			fmt.Fprintf(w, "  %-16s loss %.4f  ppl %8.2f  (%d samples, %d tokens)\n", k, ke.Loss, ke.PPL, ke.Samples, ke.Tokens)
		}
	}
	cs := res.Checkpoints
	if cs.Saved > 0 {
		fmt.Fprintf(w, "checkpoints: %d written, each %s (the last), save %s mean / %s max",
			cs.Saved, trainer.ByteSize(cs.LastBytes), msString(cs.SaveTotal/time.Duration(cs.Saved)), msString(cs.SaveMax))
		if cs.Load > 0 {
			fmt.Fprintf(w, "; resumed from one of %s, loaded and verified in %s", trainer.ByteSize(cs.LoadBytes), msString(cs.Load))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "checkpoint %s\nrun directory %s (config.yaml, metrics.jsonl, loss.svg)\n", res.Checkpoint, runDir)
}

func kindOf(r *trainer.Record, k string) (trainer.KindEval, bool) {
	if r == nil {
		return trainer.KindEval{}, false
	}
	ke, ok := r.Kinds[k]
	return ke, ok && !ke.NonFinite
}

func msString(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1e3) }
