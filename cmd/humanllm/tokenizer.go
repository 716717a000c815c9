package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/safetensors"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/trainer"
	"github.com/humanllm/humanllm/trainer/data"
)

func newTokenizer() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokenizer",
		Short: "Tokenizer tools: train a byte-level BPE tokenizer on chat-messages data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newTokenizerTrain())
	return cmd
}

// tokenizerPatterns are the pre-tokenizer regexes --pattern names.
var tokenizerPatterns = map[string]string{
	"gpt2":   tokenizer.PatternGPT2,
	"llama3": tokenizer.PatternLlama3,
	"qwen2":  tokenizer.PatternQwen2,
}

// defaultMinFrequency is the least count of a pair that is still merged,
// for `tokenizer train` and data.tokenizer train:N alike.
const defaultMinFrequency = 2

func newTokenizerTrain() *cobra.Command {
	var dataPath, out, pattern string
	var vocab, minFreq int
	cmd := &cobra.Command{
		Use:   "train --data PATH --vocab-size N --out tokenizer.json",
		Short: "Train a byte-level BPE tokenizer on chat-messages JSONL and save it as tokenizer.json",
		Long: `tokenizer train learns a byte-level BPE tokenizer (the algorithm of Hugging Face's
BpeTrainer, deterministic) from the content of every message of a chat-messages
JSONL file, the format humanllm prepare writes, and saves it as a Hugging Face
tokenizer.json (written atomically) that humanllm train --tokenizer, the
tokenizers library and Transformers read.

--data is a prepare output directory (its train.jsonl: the held-out test.jsonl is
not looked at) or a JSONL file. The vocabulary holds the special tokens
` + fmt.Sprint(chat.TrainSpecials) + `
(ids 0-6: <|endoftext|> is EOS and the default pad, <|begin_of_text|> BOS),
the 256 byte symbols, and merges until --vocab-size ids or until no pair occurs
--min-frequency times (then it is smaller, and says so). One tokenizer serves the
plain, chatml and llama3 templates.

humanllm train --tokenizer train:N does the same on the run's training split
when a run starts, and keeps the result in the run directory.

Progress goes to stderr; the summary (vocabulary, merges, bytes per token on
the training text) to stdout.`,
		Example: `  humanllm tokenizer train --data out/demo --vocab-size 4096 --out tokenizer.json
  humanllm tokenizer train --data reddit.jsonl --vocab-size 32000 --pattern llama3 --out tok/tokenizer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataPath == "" {
				return errors.New("tokenizer train: --data is required (a prepare output directory or a chat-messages JSONL file)")
			}
			if out == "" {
				return errors.New("tokenizer train: --out is required")
			}
			if vocab < trainer.MinTrainedVocab {
				return fmt.Errorf("tokenizer train: --vocab-size %d is below %d (256 bytes + %d special tokens)", vocab, trainer.MinTrainedVocab, len(chat.TrainSpecials))
			}
			pat, ok := tokenizerPatterns[pattern]
			if !ok {
				return fmt.Errorf("tokenizer train: --pattern %q: one of gpt2, llama3, qwen2", pattern)
			}
			path, err := data.ResolvePath(dataPath, "train")
			if err != nil {
				return err
			}
			samples, err := data.ReadFile(path)
			if err != nil {
				return err
			}
			_, err = trainTokenizer(samples, path, vocab, tokenizer.TrainOptions{Pattern: pat, MinFrequency: minFreq}, out, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataPath, "data", "", "training text: a humanllm prepare output directory (its train.jsonl) or a chat-messages JSONL file")
	f.IntVar(&vocab, "vocab-size", 4096, "vocabulary size: special tokens + 256 bytes + merges")
	f.StringVar(&out, "out", "", "tokenizer.json to write (atomically)")
	f.StringVar(&pattern, "pattern", "gpt2", "pre-tokenizer regex: gpt2, llama3 or qwen2 (the same as those models')")
	f.IntVar(&minFreq, "min-frequency", defaultMinFrequency, "a pair seen fewer times is not merged (the vocabulary may then stay smaller)")
	return cmd
}

// trainTokenizer trains on the message contents of samples (read from
// src), reports progress on stderr and a summary on stdout, and saves the
// tokenizer atomically to out.
func trainTokenizer(samples []tasks.Sample, src string, vocab int, o tokenizer.TrainOptions, out string, stdout, stderr io.Writer) (*tokenizer.HF, error) {
	var texts, bytes int
	for t := range chat.Texts(samples) {
		texts++
		bytes += len(t)
	}
	fmt.Fprintf(stderr, "tokenizer: training on %s: %d samples, %d messages, %s of text; vocabulary %d\n", src, len(samples), texts, trainer.ByteSize(int64(bytes)), vocab)
	start := time.Now()
	last := start
	o.Progress = func(done, total int) {
		if now := time.Now(); now.Sub(last) >= time.Second || done == total {
			last = now
			fmt.Fprintf(stderr, "tokenizer: merges %d/%d (%.0f%%)\n", done, total, 100*float64(done)/float64(total))
		}
	}
	h, err := chat.TrainTokenizer(samples, vocab, o)
	if err != nil {
		return nil, fmt.Errorf("tokenizer train: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	if err := h.Save(out); err != nil {
		return nil, fmt.Errorf("tokenizer train: %w", err)
	}
	var tokens int
	for t := range chat.Texts(samples) {
		tokens += len(h.Encode(t))
	}
	merges := h.VocabSize() - len(chat.TrainSpecials) - 256
	fmt.Fprintf(stdout, "wrote %s: %d ids (%d special, 256 bytes, %d merges) in %s; %.2f bytes per token on the training text\n",
		out, h.VocabSize(), len(chat.TrainSpecials), merges, time.Since(start).Round(time.Millisecond), float64(bytes)/float64(max(tokens, 1)))
	if h.VocabSize() < vocab {
		fmt.Fprintf(stdout, "  (%d ids fewer than the %d asked: no further pair occurs %d times in this text)\n", vocab-h.VocabSize(), vocab, max(o.MinFrequency, 1))
	}
	return h, nil
}

// runTokenizer handles data.tokenizer train:N for humanllm train. A new run
// trains the tokenizer on the training split and saves it as the run
// directory's tokenizer.json; a resumed run reads that file (copied from
// the checkpoint's run directory if --resume names one elsewhere) and
// never retrains. It returns the file to render with ("" when data.tokenizer
// is not train:N), its SHA-256 and its vocabulary size; a fresh model's
// vocab_size is set to that size.
func runTokenizer(cfg *trainer.Config, stdout, stderr io.Writer) (path, sum string, vocab int, err error) {
	n, ok, err := trainer.TrainedTokenizer(cfg.Data.Tokenizer)
	if !ok || err != nil {
		return "", "", 0, err
	}
	path = filepath.Join(cfg.Out, trainer.TrainedTokenizerFile)
	latest, err := trainer.Latest(cfg.Out)
	if err != nil {
		return "", "", 0, err
	}
	resuming := cfg.Resume != "" && (cfg.Resume != "auto" || latest != "")
	switch {
	case resuming:
		if cfg.Resume != "auto" && !fileExists(path) {
			src := filepath.Join(filepath.Dir(filepath.Clean(cfg.Resume)), trainer.TrainedTokenizerFile)
			if b, err := os.ReadFile(src); err == nil {
				if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
					return "", "", 0, err
				}
				if err := safetensors.WriteAtomic(path, b); err != nil {
					return "", "", 0, err
				}
			}
		}
		if !fileExists(path) {
			return "", "", 0, fmt.Errorf("resume: data.tokenizer is %s, but the tokenizer trained when the run started, %s, is missing: the checkpoints' token ids belong to it (restore it, or start a new run)",
				cfg.Data.Tokenizer, path)
		}
		fmt.Fprintf(stderr, "tokenizer: %s (trained when the run started)\n", path)
	case latest != "":
		return "", "", 0, fmt.Errorf("run directory %s already has checkpoints (newest %s): resume with --resume auto, or give another --out", cfg.Out, filepath.Base(latest))
	default:
		trainPath, err := data.ResolvePath(cfg.Data.Path, "train")
		if err != nil {
			return "", "", 0, err
		}
		samples, err := data.ReadFile(trainPath)
		if err != nil {
			return "", "", 0, err
		}
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return "", "", 0, err
		}
		if _, err := trainTokenizer(samples, trainPath, n, tokenizer.TrainOptions{MinFrequency: defaultMinFrequency}, path, stdout, stderr); err != nil {
			return "", "", 0, err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", 0, err
	}
	tok, err := tokenizer.ParseHF(b)
	if err != nil {
		return "", "", 0, fmt.Errorf("%s: %w", path, err)
	}
	s := sha256.Sum256(b)
	vocab = tok.VocabSize()
	if cfg.Model.Source == "fresh" && cfg.Model.Fresh.Vocab != vocab {
		fmt.Fprintf(stderr, "model: fresh vocab_size %d -> %d, the trained tokenizer's\n", cfg.Model.Fresh.Vocab, vocab)
		cfg.Model.Fresh.Vocab = vocab
	}
	return path, hex.EncodeToString(s[:]), vocab, nil
}
