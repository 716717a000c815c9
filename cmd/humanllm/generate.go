package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/trainer/data"
)

func newGenerate() *cobra.Command {
	var (
		ckpt, dataPath, prompt, tokSrc, tplName string
		sample, maxNew, topK                    int
		temperature, topP                       float64
		seed                                    uint64
	)
	cmd := &cobra.Command{
		Use:   "generate --checkpoint DIR (--data test.jsonl [--sample N] | --prompt TEXT)",
		Short: "Answer as a person: generate the assistant turn of a held-out sample or of a prompt",
		Long: `generate loads a checkpoint (a ckpt-<step> directory, or a run directory: its
newest complete checkpoint) and writes the assistant's answer:

  --data FILE --sample N  the N-th sample of a chat-messages JSONL (e.g. prepare's
                          test.jsonl: a held-out user): its messages up to the last
                          assistant turn are the prompt, and the real answer is shown
                          beside the generated one
  --prompt TEXT           a single user turn

The chat template and tokenizer are the run's (config.yaml beside the
checkpoint) unless --template / --tokenizer say otherwise. Temperature 0 is
greedy decoding; generation stops at the end-of-turn token or --max-new.`,
		Example: `  humanllm generate --checkpoint runs/demo --data out/demo/test.jsonl --sample 0
  humanllm generate --checkpoint runs/demo --prompt "Write your next review of a guitar tuner." --temperature 0.8 --top-p 0.9`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" {
				return errors.New("generate: --checkpoint is required")
			}
			if (dataPath == "") == (prompt == "") {
				return errors.New("generate: give exactly one of --data or --prompt")
			}
			m, err := loadChatModel(ckpt, tokSrc, tplName)
			if err != nil {
				return err
			}
			var msgs []tasks.Message
			var real, task string
			if prompt != "" {
				msgs = []tasks.Message{{Role: "user", Content: prompt}}
			} else {
				path, err := data.ResolvePath(dataPath, "test")
				if err != nil {
					return err
				}
				ss, err := data.ReadFile(path)
				if err != nil {
					return err
				}
				if sample < 0 || sample >= len(ss) {
					return fmt.Errorf("--sample %d: %s has %d samples", sample, path, len(ss))
				}
				s := ss[sample]
				last := len(s.Messages) - 1
				for last >= 0 && s.Messages[last].Role != "assistant" {
					last--
				}
				msgs, real, task = s.Messages[:last], s.Messages[last].Content, s.Task
			}
			ids, _, err := m.tpl.Render(msgs, true)
			if err != nil {
				return err
			}
			// Keep the end of a long prompt, as training's keep_end did,
			// with room for the answer.
			if room := m.contextLen() - maxNew; room > 0 && len(ids) > room {
				ids = ids[len(ids)-room:]
			}
			out, err := m.ref.GenerateWith(ids, llama.GenerateOptions{MaxNew: maxNew, Temperature: temperature, TopK: topK, TopP: topP, Seed: seed, Stop: m.stop})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if task != "" {
				fmt.Fprintf(w, "task       %s (sample %d of %s)\n", task, sample, dataPath)
				fmt.Fprintf(w, "prompt     ...%s\n", tail(msgs[len(msgs)-1].Content, 300))
			}
			fmt.Fprintf(w, "generated  %s\n", m.answer(out))
			if real != "" {
				fmt.Fprintf(w, "real       %s\n", tail(real, 600))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ckpt, "checkpoint", "", "checkpoint directory (ckpt-<step>) or run directory (its newest complete checkpoint)")
	f.StringVar(&dataPath, "data", "", "chat-messages JSONL (or a prepare output directory: its test.jsonl)")
	f.IntVar(&sample, "sample", 0, "index of the sample of --data")
	f.StringVar(&prompt, "prompt", "", "a user turn to answer instead of a sample")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer (default: the run's data.tokenizer)")
	f.StringVar(&tplName, "template", "", "chat template (default: the run's data.template)")
	f.IntVar(&maxNew, "max-new", 120, "tokens to generate at most")
	f.Float64Var(&temperature, "temperature", 0, "0 = greedy; otherwise sample at this temperature")
	f.IntVar(&topK, "top-k", 0, "sample among the K most likely tokens (0: all)")
	f.Float64Var(&topP, "top-p", 0, "nucleus sampling mass (0: off)")
	f.Uint64Var(&seed, "seed", 1, "sampling seed")
	return cmd
}

// tail is the last n bytes of s (at a rune boundary), on one line.
func tail(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && s[i]&0xC0 == 0x80 {
		i++
	}
	return s[i:]
}
