package prepare

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/humanllm/humanllm/tasks/filter"
	"github.com/humanllm/humanllm/tasks/formulate"
	"github.com/humanllm/humanllm/tasks/qc"
	"github.com/humanllm/humanllm/tasks/source"
	"github.com/humanllm/humanllm/tasks/synth"
)

// Config is everything `humanllm prepare` can be told. Keys (mapstructure
// tags) are documented in configs/prepare.yaml.
type Config struct {
	// Inputs are files, directories, globs or "-" (stdin).
	Inputs []string `mapstructure:"input"`
	// Out is the output directory (train.jsonl, test.jsonl, report.json).
	Out string `mapstructure:"out"`
	// Source forces an adapter: auto, reddit, twitter, blogger, amazon, jsonl.
	Source string `mapstructure:"source"`
	// Strict makes the first malformed record fatal.
	Strict bool `mapstructure:"strict"`
	// Salt keys the user-id hash; change it to unlink outputs across runs.
	Salt string `mapstructure:"salt"`
	// Seed drives every random choice (negatives, splits, sampling).
	Seed uint64 `mapstructure:"seed"`
	// Workers is the number of parallel workers (0 = GOMAXPROCS).
	Workers int `mapstructure:"workers"`
	// Shard is "i/N": process only the i-th of N user-hash ranges.
	Shard string `mapstructure:"shard"`
	// MaxUserRecords caps the records kept per user (the latest win).
	MaxUserRecords int `mapstructure:"max_user_records"`
	// SpillDir holds the temporary per-user-hash shards ("" = inside Out).
	SpillDir string `mapstructure:"spill_dir"`
	// SpillMaxMB bounds one in-memory group: larger spill files are split.
	SpillMaxMB int `mapstructure:"spill_max_mb"`
	// MalformedExamples is how many malformed records the report lists.
	MalformedExamples int `mapstructure:"malformed_examples"`

	Split     SplitConfig      `mapstructure:"split"`
	Sources   source.Options   `mapstructure:"sources"`
	Filter    filter.Config    `mapstructure:"filter"`
	Synth     SynthConfig      `mapstructure:"synth"`
	QC        qc.Options       `mapstructure:"qc"`
	Formulate formulate.Config `mapstructure:"formulate"`
}

// SplitConfig chooses how samples are divided into train and test.
type SplitConfig struct {
	// Mode is "user" (hold out whole users, default) or "sample" (the
	// paper's per-sample 90/10, which lets users leak into test).
	Mode string `mapstructure:"mode"`
	// TestFraction is the share that goes to test.jsonl.
	TestFraction float64 `mapstructure:"test_fraction"`
}

// SynthConfig selects and configures the synthesis backend.
type SynthConfig struct {
	// Backend is "heuristic" (deterministic, no model) or "llm".
	Backend string `mapstructure:"backend"`
	// Judge scores the llm backend's personas, profiles and thoughts with
	// the paper's judge (1-10 per criterion, its thresholds) and drops what
	// fails. It costs one more call per artifact; ignored by heuristic.
	Judge     bool                  `mapstructure:"judge"`
	Heuristic synth.HeuristicConfig `mapstructure:"heuristic"`
	LLM       synth.LLMConfig       `mapstructure:"llm"`
}

// DefaultConfig returns the paper's settings.
func DefaultConfig() Config {
	return Config{
		Inputs:            []string{},
		Source:            "auto",
		Salt:              "humanllm",
		Seed:              2025,
		MaxUserRecords:    2000,
		SpillMaxMB:        128,
		MalformedExamples: 5,
		Split:             SplitConfig{Mode: "user", TestFraction: 0.1},
		Filter:            filter.Default(),
		Synth:             SynthConfig{Backend: "heuristic", Judge: true, Heuristic: synth.DefaultHeuristicConfig(), LLM: synth.DefaultLLMConfig()},
		QC:                qc.DefaultOptions(),
		Formulate:         formulate.Default(),
		Sources:           source.DefaultOptions(),
	}
}

// Validate checks the configuration once, naming the offending key.
func (c *Config) Validate() error {
	if len(c.Inputs) == 0 {
		return fmt.Errorf("input: at least one input path is required (--input)")
	}
	if c.Out == "" {
		return fmt.Errorf("out: an output directory is required (--out)")
	}
	switch c.Source {
	case "auto", "reddit", "twitter", "blogger", "amazon", "jsonl":
	default:
		return fmt.Errorf("source: %q is not one of auto, reddit, twitter, blogger, amazon, jsonl", c.Source)
	}
	switch c.Split.Mode {
	case "user", "sample":
	default:
		return fmt.Errorf("split.mode: %q is not user or sample", c.Split.Mode)
	}
	if c.Split.TestFraction < 0 || c.Split.TestFraction >= 1 {
		return fmt.Errorf("split.test_fraction: %v must be in [0, 1)", c.Split.TestFraction)
	}
	switch c.Synth.Backend {
	case "heuristic", "llm":
	default:
		return fmt.Errorf("synth.backend: %q is not heuristic or llm", c.Synth.Backend)
	}
	if c.Synth.Heuristic.MaxHistoryChars < 0 {
		return fmt.Errorf("synth.heuristic.max_history_chars: %d must be >= 0 (0 = the whole history)", c.Synth.Heuristic.MaxHistoryChars)
	}
	if c.Synth.Backend == "llm" && c.Synth.LLM.BaseURL == "" {
		return fmt.Errorf("synth.llm.base_url: required with synth.backend llm")
	}
	if _, _, err := c.shard(); err != nil {
		return err
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers: %d must be >= 0", c.Workers)
	}
	if c.MaxUserRecords <= 0 {
		return fmt.Errorf("max_user_records: %d must be > 0", c.MaxUserRecords)
	}
	if c.SpillMaxMB <= 0 {
		return fmt.Errorf("spill_max_mb: %d must be > 0", c.SpillMaxMB)
	}
	if err := c.Formulate.Validate(); err != nil {
		return fmt.Errorf("formulate: %w", err)
	}
	return nil
}

func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// shard parses "i/N"; "" means 0/1.
func (c *Config) shard() (i, n uint64, err error) {
	if c.Shard == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(c.Shard, "/")
	i, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return 0, 0, fmt.Errorf("shard: %q must be i/N with 0 <= i < N", c.Shard)
	}
	return i, n, nil
}
