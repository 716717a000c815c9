package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/model/llama"
)

type scoreResult struct {
	Loss   float64 `json:"loss"`
	PPL    float64 `json:"ppl"`
	Tokens int     `json:"tokens"` // predicted positions (ids minus one)
	Argmax []int   `json:"argmax"` // most likely next id after each position
	IDs    []int32 `json:"ids,omitempty"`
}

func newScore() *cobra.Command {
	var modelPath, ids, text, tokSrc string
	var noBOS bool
	cmd := &cobra.Command{
		Use:   "score --model PATH (--ids 1,2,3 | --text TEXT)",
		Short: "Teacher-forced cross-entropy, perplexity and per-position argmax of a sequence, as JSON",
		Long: `score runs a sequence through the model once (teacher forcing) and prints

  {"loss": mean cross-entropy of predicting ids[i+1] after ids[..i],
   "ppl": exp(loss), "tokens": predictions scored,
   "argmax": the most likely next id after each position, "ids": the ids scored}

--ids scores token ids as given; --text encodes the text with the model's
tokenizer (or --tokenizer) and puts BOS first unless --no-bos. It is the quick
check after an import or an export: the same model in every format scores the
same. The forward pass is the float64 reference (model/llama.Reference).`,
		Example: `  humanllm score --model ../shared/models/stories260K/stories260K.bin --ids 1,403,407,261,378
  humanllm score --model runs/demo/model-q8_0.gguf --text "Once upon a time"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (ids == "") == (text == "") {
				return errors.New("score: give exactly one of --ids or --text")
			}
			m, err := openModel(modelPath)
			if err != nil {
				return err
			}
			var seq []int32
			if ids != "" {
				if seq, err = parseIDs(ids, m.Weights.Config.Vocab); err != nil {
					return fmt.Errorf("--ids: %w", err)
				}
			} else {
				tok, err := m.tokenizer(tokSrc)
				if err != nil {
					return err
				}
				if bos := tok.BOS(); bos >= 0 && !noBOS {
					seq = append(seq, int32(bos))
				}
				for _, id := range tok.Encode(text) {
					seq = append(seq, int32(id))
				}
			}
			if len(seq) < 2 {
				return fmt.Errorf("score: %d token(s): at least 2 are needed to score a prediction", len(seq))
			}
			if len(seq) > m.Weights.Config.MaxSeqLen {
				return fmt.Errorf("score: %d tokens, longer than the model's context of %d", len(seq), m.Weights.Config.MaxSeqLen)
			}
			r, err := scoreIDs(m, seq)
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", modelPathHelp)
	f.StringVar(&ids, "ids", "", "comma-separated token ids to score")
	f.StringVar(&text, "text", "", "text to encode and score")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer for --text (default: the run's, or the model file's own)")
	f.BoolVar(&noBOS, "no-bos", false, "with --text, do not put BOS first")
	return cmd
}

func scoreIDs(m *openedModel, seq []int32) (scoreResult, error) {
	ref, err := llama.NewReference(m.Weights)
	if err != nil {
		return scoreResult{}, err
	}
	logits, err := ref.Logits(seq)
	if err != nil {
		return scoreResult{}, err
	}
	r := scoreResult{Argmax: make([]int, len(seq)), IDs: seq, Tokens: len(seq) - 1}
	var sum float64
	for i, row := range logits {
		best, mx := 0, math.Inf(-1)
		for j, v := range row {
			if v > mx {
				best, mx = j, v
			}
		}
		r.Argmax[i] = best
		if i+1 < len(seq) {
			var z float64
			for _, v := range row {
				z += math.Exp(v - mx)
			}
			sum += mx + math.Log(z) - row[seq[i+1]]
		}
	}
	r.Loss = sum / float64(r.Tokens)
	r.PPL = math.Exp(r.Loss)
	return r, nil
}
