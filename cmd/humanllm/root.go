package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "humanllm",
		Short: "Turn people's public activity logs into SFT data and fine-tune models on it",
		Long: `humanllm follows the HumanLLM method (arXiv 2601.15793): logs from Reddit,
Twitter, Blogger and Amazon reviews are filtered, enriched and checked, then
formulated into tasks that teach a model to predict what a person does
(action), thinks (thought), how they write (style) and who they are (profile).

Every command reads its settings from, in increasing precedence: built-in
defaults, a YAML file (--config), HUMANLLM_* environment variables (the key
upper-cased, dots as underscores: HUMANLLM_FILTER_MIN_CHARS_POST), and flags.
Unknown keys in a config file are an error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.AddCommand(newPrepare(), newTrain(), newEval(), newGenerate(), newExport(), newScore(), newServe(), newTokenizer(), newBench())
	return root
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = fmt.Sprintf("%s (%s)", v, s.Value[:12])
			}
		}
		return v
	}
	return "unknown"
}
