package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/trainer/data"
)

func newGenerate() *cobra.Command {
	var (
		modelPath, dataPath, prompt, promptIDs, msgsPath, tokSrc, tplName string
		sample, maxNew, topK                                              int
		temperature, topP                                                 float64
		seed                                                              uint64
		asJSON                                                            bool
	)
	cmd := &cobra.Command{
		Use:   "generate --model PATH (--prompt TEXT | --messages FILE | --data test.jsonl [--sample N] | --prompt-ids 1,2,3)",
		Short: "Answer as a person: generate the assistant turn of a held-out sample, of messages or of a prompt",
		Long: `generate loads a model — a training checkpoint (ckpt-<step>), a run directory
(its newest complete checkpoint), a Hugging Face directory, a GGUF file or a
llama2.c .bin — and writes the assistant's answer to one of:

  --prompt TEXT           a single user turn
  --messages FILE         a JSON array of {"role","content"} messages (or one
                          chat-messages JSONL record); the assistant answers the last turn
  --data FILE --sample N  the N-th sample of a chat-messages JSONL (e.g. prepare's
                          test.jsonl: a held-out user): its messages up to the last
                          assistant turn are the prompt, and the real answer is shown
                          beside the generated one
  --prompt-ids 1,2,3      raw token ids, continued without any chat template (the
                          quick check after an import or export)

The tokenizer and chat template are the run's (config.yaml beside a checkpoint)
or the model file's own, unless --tokenizer / --template say otherwise; with
no template known, the tokenizer's special tokens choose chatml, llama3 or plain.
Temperature 0 is greedy decoding; generation stops at the end-of-turn token or
--max-new-tokens. --json prints {"ids":[...],"text":...}.`,
		Example: `  humanllm generate --model runs/demo --data out/demo/test.jsonl --sample 0
  humanllm generate --model runs/demo --prompt "Write your next review of a guitar tuner." --temperature 0.8 --top-p 0.9
  humanllm generate --model stories260K.bin --tokenizer builtin:tok512 --prompt-ids 1 --max-new-tokens 32 --json
  humanllm generate --model runs/demo/model-q8_0.gguf --prompt "hi"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := 0
			for _, s := range []string{dataPath, prompt, promptIDs, msgsPath} {
				if s != "" {
					given++
				}
			}
			if given != 1 {
				return errors.New("generate: give exactly one of --prompt, --messages, --data or --prompt-ids")
			}
			om, err := openModel(modelPath)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			opts := llama.GenerateOptions{MaxNew: maxNew, Temperature: temperature, TopK: topK, TopP: topP, Seed: seed}
			if promptIDs != "" {
				return generateIDs(w, om, promptIDs, tokSrc, opts, asJSON)
			}
			m, err := om.chatModel(tokSrc, tplName, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var msgs []tasks.Message
			var real, task string
			switch {
			case prompt != "":
				msgs = []tasks.Message{{Role: "user", Content: prompt}}
			case msgsPath != "":
				if msgs, err = readMessages(msgsPath); err != nil {
					return err
				}
			default:
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
			if task != "" && !asJSON {
				fmt.Fprintf(w, "task       %s (sample %d of %s)\n", task, sample, dataPath)
				fmt.Fprintf(w, "prompt     ...%s\n", tail(msgs[len(msgs)-1].Content, 300))
			}
			// Stream the answer to stdout as it is sampled (text that can
			// no longer change: see answerText).
			ans := m.newAnswer(nil)
			opts.Stop = m.stop
			if !asJSON {
				fmt.Fprint(w, "generated  ")
				opts.OnToken = func(id int32) error {
					ans.add(id)
					fmt.Fprint(w, ans.next())
					return nil
				}
			}
			out, err := m.ref.GenerateContext(cmd.Context(), ids, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(w).Encode(generated{IDs: trimStop(out, m.stop), Text: m.answer(out)})
			}
			rest, _ := ans.rest()
			fmt.Fprintln(w, rest)
			if real != "" {
				fmt.Fprintf(w, "real       %s\n", tail(real, 600))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", modelPathHelp)
	f.StringVar(&modelPath, "checkpoint", "", "same as --model (kept for older scripts)")
	f.StringVar(&dataPath, "data", "", "chat-messages JSONL (or a prepare output directory: its test.jsonl)")
	f.IntVar(&sample, "sample", 0, "index of the sample of --data")
	f.StringVar(&prompt, "prompt", "", "a user turn to answer")
	f.StringVar(&msgsPath, "messages", "", `JSON file: [{"role":"system|user|assistant","content":"..."}, ...] or {"messages":[...]}`)
	f.StringVar(&promptIDs, "prompt-ids", "", "comma-separated token ids to continue, without a chat template")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer (default: the run's data.tokenizer, or the model file's own)")
	f.StringVar(&tplName, "template", "", "chat template: plain | chatml | llama3 (default: the run's, else guessed from the tokenizer)")
	f.IntVar(&maxNew, "max-new-tokens", 120, "tokens to generate at most")
	f.IntVar(&maxNew, "max-new", 120, "same as --max-new-tokens")
	f.Float64Var(&temperature, "temperature", 0, "0 = greedy; otherwise sample at this temperature")
	f.IntVar(&topK, "top-k", 0, "sample among the K most likely tokens (0: all)")
	f.Float64Var(&topP, "top-p", 0, "nucleus sampling mass (0: off)")
	f.Uint64Var(&seed, "seed", 1, "sampling seed")
	f.BoolVar(&asJSON, "json", false, `print {"ids":[...],"text":"..."} (the generated ids without the stop token)`)
	_ = f.MarkHidden("checkpoint")
	_ = f.MarkHidden("max-new")
	return cmd
}

// generated is generate's --json output.
type generated struct {
	IDs  []int  `json:"ids"`
	Text string `json:"text"`
}

// trimStop returns out up to (without) its first stop id.
func trimStop(out, stop []int32) []int {
	ids := make([]int, 0, len(out))
	for _, id := range out {
		if slices.Contains(stop, id) {
			break
		}
		ids = append(ids, int(id))
	}
	return ids
}

// generateIDs continues raw token ids without a chat template; the
// tokenizer (when the model has one, or --tokenizer names one) decodes
// the text and gives the stop ids (EOS).
func generateIDs(w io.Writer, om *openedModel, idList, tokSrc string, opts llama.GenerateOptions, asJSON bool) error {
	ids, err := parseIDs(idList, om.Weights.Config.Vocab)
	if err != nil {
		return fmt.Errorf("--prompt-ids: %w", err)
	}
	var tok tokenizer.Tokenizer
	if tokSrc != "" || om.Tokenizer != "" {
		if tok, err = om.tokenizer(tokSrc); err != nil {
			return err
		}
		opts.Stop = stopTokens(tok)
	}
	ref, err := llama.NewReference(om.Weights)
	if err != nil {
		return err
	}
	out, err := ref.GenerateWith(ids, opts)
	if err != nil {
		return err
	}
	g := generated{IDs: trimStop(out, opts.Stop)}
	if tok != nil {
		g.Text = tok.Decode(g.IDs)
	}
	if asJSON {
		return json.NewEncoder(w).Encode(g)
	}
	if tok == nil {
		fmt.Fprintf(w, "generated ids %v (no tokenizer: --tokenizer to decode)\n", g.IDs)
		return nil
	}
	fmt.Fprintf(w, "generated ids %v\ngenerated  %s\n", g.IDs, g.Text)
	return nil
}

// readMessages reads --messages: a JSON array of messages, or an object
// with a "messages" array (a chat-messages JSONL record).
func readMessages(path string) ([]tasks.Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var msgs []tasks.Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		var rec struct {
			Messages []tasks.Message `json:"messages"`
		}
		if err2 := json.Unmarshal(b, &rec); err2 != nil {
			return nil, fmt.Errorf("--messages %s: %w (want a JSON array of {\"role\",\"content\"} or {\"messages\": [...]})", path, err)
		}
		msgs = rec.Messages
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("--messages %s: no messages", path)
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return nil, fmt.Errorf("--messages %s: message %d: role %q is not system, user or assistant", path, i, m.Role)
		}
	}
	if msgs[len(msgs)-1].Role == "assistant" {
		return nil, fmt.Errorf("--messages %s: the last message is the assistant's; end with the turn to answer", path)
	}
	return msgs, nil
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
