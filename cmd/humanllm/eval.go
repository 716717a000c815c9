package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/synth"
	"github.com/humanllm/humanllm/trainer/data"
)

// evalKind is one task kind's figures for one model.
type evalKind struct {
	Kind       string   `json:"kind"`
	Samples    int      `json:"samples"`
	Tokens     int      `json:"tokens"`
	Loss       float64  `json:"loss"`
	Perplexity float64  `json:"perplexity"`
	ExactMatch *float64 `json:"exact_match,omitempty"`      // item_selection: generated title == the real one
	StyleSim   *float64 `json:"style_similarity,omitempty"` // style: measured-feature similarity of generations to the real text
	Generated  int      `json:"generated,omitempty"`
}

type evalReport struct {
	Model string     `json:"model"`
	Kinds []evalKind `json:"kinds"`
	Loss  float64    `json:"loss"`
}

func newEval() *cobra.Command {
	var (
		modelPath, baseline, dataPath, tokSrc, tplName string
		maxGen, maxSamples                             int
		asJSON                                         bool
	)
	cmd := &cobra.Command{
		Use:   "eval --model PATH --data test.jsonl [--baseline PATH]",
		Short: "Loss and perplexity per task kind, item-selection accuracy and style similarity, base vs tuned",
		Long: `eval scores a model on chat-messages samples (prepare's test.jsonl: held-out users):

  loss / perplexity   per task kind, on the assistant tokens (completion-only, as in training)
  exact_match         item_selection: greedy generation equals the real item title exactly
  style_similarity    style tasks: 1 − mean relative difference of measured writing features
                      (sentence and text length, vocabulary richness, punctuation, casing,
                      first-person rate, formality; tasks/synth.MeasureStyle) between the
                      generated and the real text, in [0, 1]

With --baseline it scores a second model (e.g. the base model before fine-tuning)
on the same samples and prints both side by side: the HumanLLM paper's comparison.
--model and --baseline take a checkpoint, a run directory, a Hugging Face\ndirectory, a GGUF file or a llama2.c .bin. The chat template and tokenizer are\n--model's run's (or its file's own) unless given.`,
		Example: `  humanllm eval --model runs/demo --data out/demo/test.jsonl
  humanllm eval --model runs/s --baseline ../shared/models/stories260K/stories260K.bin --data out/demo --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || dataPath == "" {
				return errors.New("eval: --model and --data are required")
			}
			om, err := openModel(modelPath)
			if err != nil {
				return err
			}
			w := om.Weights
			tok, tpl, err := om.chatSetup(tokSrc, tplName, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			path, err := data.ResolvePath(dataPath, "test")
			if err != nil {
				return err
			}
			samples, err := data.ReadFile(path)
			if err != nil {
				return err
			}
			if maxSamples > 0 && len(samples) > maxSamples {
				samples = samples[:maxSamples]
			}
			reports := []evalReport{}
			for _, m := range []string{modelPath, baseline} {
				if m == "" {
					continue
				}
				mw := w
				if m != modelPath {
					bm, err := openModel(m)
					if err != nil {
						return fmt.Errorf("--baseline: %w", err)
					}
					mw = bm.Weights
					if mw.Config.Vocab != w.Config.Vocab {
						return fmt.Errorf("--baseline: vocabulary %d differs from the model's %d (the same tokenizer must serve both)", mw.Config.Vocab, w.Config.Vocab)
					}
				}
				r, err := evaluate(mw, tok, tpl, samples, maxGen, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				r.Model = m
				reports = append(reports, r)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(reports)
			}
			printEval(cmd.OutOrStdout(), reports)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", modelPathHelp)
	f.StringVar(&baseline, "baseline", "", "a second model (any --model form) scored on the same samples, e.g. the base model")
	f.StringVar(&dataPath, "data", "", "chat-messages JSONL, or a prepare output directory (its test.jsonl)")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer (default: the model's run's data.tokenizer, or the model file's own)")
	f.StringVar(&tplName, "template", "", "chat template: plain | chatml | llama3 (default: the run's, else guessed from the tokenizer)")
	f.IntVar(&maxGen, "max-gen", 16, "samples per generation metric (item_selection, style), 0 = none; generation is the slow part")
	f.IntVar(&maxSamples, "max-samples", 0, "score only the first N samples (0 = all)")
	f.BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

func evaluate(w *model.Weights, tok tokenizer.Tokenizer, tpl *chat.Template, samples []tasks.Sample, maxGen int, progress io.Writer) (evalReport, error) {
	c := w.Config
	k := cpu.Implementation{}
	ggops.Use(k)
	defer ggops.UseGonum()
	T := c.MaxSeqLen
	gr, err := llama.NewGraph(w, 1, T, llama.GraphOptions{Ops: &llama.FusedOps{K: k}, NoGrad: true})
	if err != nil {
		return evalReport{}, err
	}
	defer gr.Close()
	ref, err := llama.NewReference(w)
	if err != nil {
		return evalReport{}, err
	}
	type acc struct {
		n, tokens       int
		sum             float64
		gen, match      int
		simSum          float64
		simN            int
		genItem, genSty int
	}
	by := map[string]*acc{}
	ids, tg := make([]int32, T), make([]int32, T)
	var total float64
	var totalTok int
	for si, s := range samples {
		kind, _, _ := strings.Cut(s.Task, ".")
		a := by[kind]
		if a == nil {
			a = &acc{}
			by[kind] = a
		}
		x, tr, err := tpl.Render(s.Messages, false)
		if err != nil {
			return evalReport{}, fmt.Errorf("sample %d: %w", si, err)
		}
		if len(x) > T { // keep the end: the answer, as training's keep_end
			x, tr = x[len(x)-T:], tr[len(tr)-T:]
		}
		n := 0
		for i := range T {
			ids[i], tg[i] = 0, data.IgnoreIndex
			if i < len(x) {
				ids[i] = x[i]
				if i+1 < len(x) && tr[i+1] {
					tg[i] = x[i+1]
					n++
				}
			}
		}
		if n == 0 {
			continue
		}
		loss, err := gr.Run(ids, tg)
		if err != nil {
			return evalReport{}, err
		}
		a.n++
		a.tokens += n
		a.sum += loss * float64(n)
		total += loss * float64(n)
		totalTok += n
		// Generation metrics on the first maxGen samples of each kind.
		gen := func() (string, string, error) {
			last := len(s.Messages) - 1
			for last >= 0 && s.Messages[last].Role != "assistant" {
				last--
			}
			p, _, err := tpl.Render(s.Messages[:last], true)
			if err != nil {
				return "", "", err
			}
			maxNew := min(128, T/2)
			if len(p) > T-maxNew {
				p = p[len(p)-(T-maxNew):]
			}
			stop := tpl.StopIDs()
			out, err := ref.GenerateWith(p, llama.GenerateOptions{MaxNew: maxNew, Stop: stop})
			if err != nil {
				return "", "", err
			}
			g := make([]int, 0, len(out))
			for _, id := range out {
				if slices.Contains(stop, id) {
					break
				}
				g = append(g, int(id))
			}
			return strings.TrimSpace(tok.Decode(g)), strings.TrimSpace(s.Messages[last].Content), nil
		}
		switch {
		case kind == tasks.TaskItemSelection && a.genItem < maxGen:
			a.genItem++
			g, real, err := gen()
			if err != nil {
				return evalReport{}, err
			}
			a.gen++
			if g == real {
				a.match++
			}
		case kind == tasks.TaskStyle && a.genSty < maxGen:
			a.genSty++
			g, real, err := gen()
			if err != nil {
				return evalReport{}, err
			}
			a.gen++
			a.simSum += styleSimilarity(synth.MeasureStyle([]string{g}), synth.MeasureStyle([]string{real}))
			a.simN++
		}
		if progress != nil && (si+1)%50 == 0 {
			fmt.Fprintf(progress, "eval: %d/%d samples\n", si+1, len(samples))
		}
	}
	var r evalReport
	for kind, a := range by {
		if a.n == 0 {
			continue
		}
		ek := evalKind{Kind: kind, Samples: a.n, Tokens: a.tokens, Loss: a.sum / float64(a.tokens), Generated: a.gen}
		ek.Perplexity = math.Exp(ek.Loss)
		if kind == tasks.TaskItemSelection && a.gen > 0 {
			v := float64(a.match) / float64(a.gen)
			ek.ExactMatch = &v
		}
		if a.simN > 0 {
			v := a.simSum / float64(a.simN)
			ek.StyleSim = &v
		}
		r.Kinds = append(r.Kinds, ek)
	}
	sort.Slice(r.Kinds, func(i, j int) bool { return r.Kinds[i].Kind < r.Kinds[j].Kind })
	if totalTok > 0 {
		r.Loss = total / float64(totalTok)
	}
	return r, nil
}

// styleSimilarity is 1 − the mean relative difference |a−b| / max(|a|, |b|)
// over measured writing features; 1 when they are all equal.
func styleSimilarity(a, b synth.StyleFeatures) float64 {
	fa := []float64{a.MeanSentenceWords, a.MeanTextWords, a.MATTR, a.ExclaimPerSentence, a.QuestionPerSentence,
		a.EllipsisPerSentence, a.CommasPerSentence, a.LowercaseShare}
	fb := []float64{b.MeanSentenceWords, b.MeanTextWords, b.MATTR, b.ExclaimPerSentence, b.QuestionPerSentence,
		b.EllipsisPerSentence, b.CommasPerSentence, b.LowercaseShare}
	var s float64
	for i := range fa {
		m := max(math.Abs(fa[i]), math.Abs(fb[i]))
		if m > 0 {
			s += math.Abs(fa[i]-fb[i]) / m
		}
	}
	return 1 - s/float64(len(fa))
}

func printEval(w io.Writer, rs []evalReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hdr := "KIND\tSAMPLES"
	for i := range rs {
		name := "MODEL"
		if i == 1 {
			name = "BASELINE"
		}
		hdr += fmt.Sprintf("\t%s LOSS\tPPL\tEXACT\tSTYLE", name)
	}
	fmt.Fprintln(tw, hdr)
	opt := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	for i, k := range rs[0].Kinds {
		line := fmt.Sprintf("%s\t%d", k.Kind, k.Samples)
		for _, r := range rs {
			kk := r.Kinds[i]
			line += fmt.Sprintf("\t%.4f\t%.2f\t%s\t%s", kk.Loss, kk.Perplexity, opt(kk.ExactMatch), opt(kk.StyleSim))
		}
		fmt.Fprintln(tw, line)
	}
	line := "all\t"
	for _, r := range rs {
		line += fmt.Sprintf("\t%.4f\t%.2f\t\t", r.Loss, math.Exp(r.Loss))
	}
	fmt.Fprintln(tw, line)
	tw.Flush()
	for i, r := range rs {
		role := "model"
		if i == 1 {
			role = "baseline"
		}
		fmt.Fprintf(w, "%s: %s\n", role, r.Model)
	}
}
