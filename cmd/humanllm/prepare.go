package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/humanllm/humanllm/internal/config"
	"github.com/humanllm/humanllm/tasks/prepare"
)

func newPrepare() *cobra.Command {
	def := prepare.DefaultConfig()
	var (
		cfgFile   string
		demo      bool
		quiet     bool
		printJSON bool
	)
	cmd := &cobra.Command{
		Use:   "prepare --input PATH... --out DIR [flags]",
		Short: "Turn user logs into action, thought, style, profile and item-selection SFT tasks",
		Long: `prepare reads logs (files, directories, globs, .gz/.zst, or - for stdin),
recognises each file's format (Reddit Pushshift NDJSON or CSV, Twitter API v1.1
JSON or CSV, Blog Authorship Corpus XML, Amazon reviews 2014/2018/2023, or a
generic JSONL with a field mapping in the config), applies the HumanLLM
filters, groups records by user (spilling to disk, so memory stays flat),
synthesises profiles, writing-style descriptions and thoughts, formulates the
tasks, checks them, and writes:

  DIR/train.jsonl   chat-messages samples ({"messages":[...],"task":...,"source":...,"user":...})
  DIR/test.jsonl    held-out samples (whole users by default)
  DIR/report.json   counts in and out of every stage, with the reason for each drop

Outputs are written to temporary files and renamed at the end: an interrupted
run leaves the previous outputs intact. Running the N shards of --shard i/N and
concatenating their train.jsonl (and test.jsonl) in order gives exactly the
unsharded output. Every option of configs/prepare.yaml can be set there, by a
HUMANLLM_* variable, or by the flags below.`,
		Example: `  humanllm prepare --demo --out out/demo
  humanllm prepare --config configs/prepare.yaml --input dumps/RC_2019-01.zst --out out/reddit
  zcat tweets.json.gz | humanllm prepare --input - --source twitter --out out/tw
  humanllm prepare --input ../shared/data --out out/all --shard 0/4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := prepare.DefaultConfig()
			keys := map[string]string{
				"input": "input", "out": "out", "source": "source", "strict": "strict",
				"shard": "shard", "seed": "seed", "salt": "salt", "workers": "workers",
				"split": "split.mode", "test-fraction": "split.test_fraction",
				"synth": "synth.backend", "llm-base-url": "synth.llm.base_url", "llm-model": "synth.llm.model",
				"spill-dir": "spill_dir",
			}
			if err := config.Load(&cfg, cfgFile, cmd.Flags(), keys); err != nil {
				return err
			}
			if demo {
				cfg.Inputs = append(cfg.Inputs, prepare.DemoInput)
			}
			var status io.Writer
			if !quiet && term.IsTerminal(int(os.Stderr.Fd())) {
				status = os.Stderr
			}
			rep, err := prepare.Prepare(cmd.Context(), cfg, status)
			if err != nil {
				return err
			}
			if printJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.Print(cmd.OutOrStdout())
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/train.jsonl, %s/test.jsonl, %s/report.json\n", cfg.Out, cfg.Out, cfg.Out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgFile, "config", "", "YAML config file (see configs/prepare.yaml for every key)")
	f.StringSlice("input", nil, "input file, directory, glob or - for stdin; repeat or comma-separate (config: input)")
	f.String("out", "", "output directory for train.jsonl, test.jsonl, report.json (config: out)")
	f.String("source", def.Source, "format: auto, reddit, twitter, blogger, amazon or jsonl (config: source)")
	f.Bool("strict", def.Strict, "stop at the first malformed record instead of counting and skipping it (config: strict)")
	f.String("shard", "", "process only shard i/N of the users (by user hash), e.g. 0/4 (config: shard)")
	f.Uint64("seed", def.Seed, "seed for negatives, sampling and the train/test split (config: seed)")
	f.String("salt", def.Salt, "salt of the user-id hash written instead of user ids (config: salt)")
	f.Int("workers", def.Workers, "parallel workers; 0 = one per CPU (config: workers)")
	f.String("split", def.Split.Mode, "train/test split: user (hold out whole users) or sample (the paper's per-sample 90/10) (config: split.mode)")
	f.Float64("test-fraction", def.Split.TestFraction, "share of users (or samples) in test.jsonl (config: split.test_fraction)")
	f.String("synth", def.Synth.Backend, "synthesis backend: heuristic (no model) or llm (OpenAI-compatible endpoint) (config: synth.backend)")
	f.String("llm-base-url", def.Synth.LLM.BaseURL, "OpenAI-compatible base URL for --synth llm, e.g. http://127.0.0.1:8000/v1 (config: synth.llm.base_url)")
	f.String("llm-model", def.Synth.LLM.Model, "model name sent to the endpoint (config: synth.llm.model)")
	f.String("spill-dir", "", "directory for temporary per-user shards (default: inside --out) (config: spill_dir)")
	f.BoolVar(&demo, "demo", false, "add the embedded demo excerpt (real logs of every source, ~0.6 MB) to the inputs")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress line on stderr (it is off anyway when stderr is not a terminal)")
	f.BoolVar(&printJSON, "json", false, "print the report as JSON instead of tables")
	return cmd
}

// loadConfigFile applies a YAML file and HUMANLLM_* variables over cfg.
func loadConfigFile(cfg *prepare.Config, file string) error {
	return config.Load(cfg, file, nil, nil)
}
