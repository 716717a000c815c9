package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/internal/config"
	"github.com/humanllm/humanllm/internal/demodata"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/gguf"
	"github.com/humanllm/humanllm/model/hf"
	"github.com/humanllm/humanllm/model/load"
	"github.com/humanllm/humanllm/model/safetensors"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/trainer"
)

// runConfig reads the resolved config.yaml of the run a checkpoint belongs
// to (its parent directory), for the tokenizer and chat template; the
// defaults when there is none.
func runConfig(ckptDir string) (trainer.Config, error) {
	cfg := trainer.DefaultConfig()
	p := filepath.Join(filepath.Dir(filepath.Clean(ckptDir)), "config.yaml")
	if _, err := os.Stat(p); err != nil {
		return cfg, nil
	}
	if err := config.Load(&cfg, p, nil, nil); err != nil {
		return cfg, fmt.Errorf("%s: %w", p, err)
	}
	if _, ok, _ := trainer.TrainedTokenizer(cfg.Data.Tokenizer); ok { // the run's own
		cfg.Data.Tokenizer = filepath.Join(filepath.Dir(p), trainer.TrainedTokenizerFile)
	}
	return cfg, nil
}

// resolveCheckpoint accepts a checkpoint directory or a run directory (its
// newest complete checkpoint).
func resolveCheckpoint(p string) (string, error) {
	if _, err := os.Stat(filepath.Join(p, "DONE")); err == nil {
		return p, nil
	}
	latest, err := trainer.Latest(p)
	if err != nil {
		return "", fmt.Errorf("--checkpoint %s: %w", p, err)
	}
	if latest == "" {
		return "", fmt.Errorf("--checkpoint %s: not a complete checkpoint, and no complete checkpoint in it", p)
	}
	return latest, nil
}

// loadRun loads a checkpoint (or a run directory's newest complete one)
// and the resolved config of its run.
func loadRun(p string) (*trainer.Checkpoint, trainer.Config, error) {
	dir, err := resolveCheckpoint(p)
	if err != nil {
		return nil, trainer.Config{}, err
	}
	ck, err := trainer.LoadCheckpoint(dir)
	if err != nil {
		return nil, trainer.Config{}, err
	}
	cfg, err := runConfig(dir)
	return ck, cfg, err
}

func newExport() *cobra.Command {
	var modelPath, format, dtype, out, tokSrc, tplName string
	cmd := &cobra.Command{
		Use:   "export --model PATH --format hf|gguf [--dtype f32|f16|bf16|q8_0] --out PATH",
		Short: "Convert a checkpoint or any model humanllm reads to GGUF (llama.cpp, ollama) or Hugging Face safetensors",
		Long: `export writes a model — a training checkpoint (ckpt-<step>), a run directory (its
newest complete checkpoint), a Hugging Face directory, a GGUF file or a llama2.c
.bin — in a format other tools load:

  --format gguf  one .gguf file (GGUF v3, llama architecture, tokenizer included) for
                 llama.cpp and ollama; --dtype f32, f16, bf16 or q8_0 for the matrices
                 (norms stay f32). The tokenizer must be a SentencePiece one
                 (builtin:tok512, a llama2.c tokenizer .bin, or a GGUF file's).
                 An Ollama Modelfile (FROM, TEMPLATE, stop) is written beside it:
                 ollama create NAME -f OUT.Modelfile
  --format hf    a Hugging Face model directory: config.json (LlamaForCausalLM, or
                 Qwen2ForCausalLM with q/k/v biases), generation_config.json and
                 model.safetensors (--dtype f32, f16 or bf16), plus tokenizer.json
                 when the tokenizer is one.

The tokenizer and chat template are the run's (config.yaml beside a checkpoint)
or the model file's own unless --tokenizer / --template name others. Files are
written atomically.`,
		Example: `  humanllm export --model runs/demo --format gguf --dtype q8_0 --out runs/demo/model-q8_0.gguf
  humanllm export --model runs/demo/ckpt-00000150 --format hf --out runs/demo/hf
  humanllm export --model stories260K.bin --tokenizer builtin:tok512 --format gguf --out stories.gguf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || out == "" {
				return errors.New("export: --model and --out are required")
			}
			m, err := openModel(modelPath)
			if err != nil {
				return err
			}
			if tokSrc == "" {
				tokSrc = m.Tokenizer
			}
			switch format {
			case "gguf":
				if tplName == "" {
					tplName = m.Template
				}
				if strings.HasSuffix(tplName, ".json") {
					tplName = "" // an HF Jinja template: the Modelfile's is guessed from the tokenizer
				}
				return exportGGUF(cmd.OutOrStdout(), m.Weights, tokSrc, tplName, dtype, out)
			case "hf":
				if tplName == "" {
					tplName = m.Template
				}
				return exportHF(cmd.OutOrStdout(), m.Weights, tokSrc, tplName, dtype, out)
			}
			return fmt.Errorf("--format: %q is not hf or gguf", format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", modelPathHelp)
	f.StringVar(&modelPath, "checkpoint", "", "same as --model (kept for older scripts)")
	_ = f.MarkHidden("checkpoint")
	f.StringVar(&format, "format", "gguf", "gguf (llama.cpp, ollama) or hf (Hugging Face safetensors directory)")
	f.StringVar(&dtype, "dtype", "f32", "weight type: f32, f16, bf16, or q8_0 (gguf only)")
	f.StringVar(&out, "out", "", "output file (gguf) or directory (hf)")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer to embed (default: the run's data.tokenizer, or the model file's own)")
	f.StringVar(&tplName, "template", "", "chat template of the Ollama Modelfile: plain | chatml | llama3 (default: the run's, else guessed from the tokenizer)")
	return cmd
}

// ggufVocab reads a SentencePiece tokenizer in GGUF form: builtin:tok512,
// a llama2.c tokenizer .bin, or the vocabulary of a GGUF file.
func ggufVocab(tokSrc string, vocabSize int) (*gguf.Vocab, error) {
	var raw []byte
	var err error
	switch {
	case tokSrc == "builtin:tok512":
		raw = demodata.Tok512()
	case strings.HasSuffix(tokSrc, ".gguf"):
		f, err := gguf.ReadFile(tokSrc)
		if err != nil {
			return nil, err
		}
		v, err := gguf.VocabOf(f)
		if err == nil && v == nil {
			err = fmt.Errorf("%s carries no tokenizer", tokSrc)
		}
		return v, err
	case strings.HasSuffix(tokSrc, ".bin"):
		if raw, err = os.ReadFile(tokSrc); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("export: GGUF export needs a SentencePiece tokenizer (builtin:tok512, a llama2.c tokenizer .bin or a GGUF file); got %q", tokSrc)
	}
	return gguf.DecodeLlama2cVocab(raw, vocabSize)
}

func exportGGUF(stdout io.Writer, w *model.Weights, tokSrc, tplName, dtype, out string) error {
	tt, err := gguf.ParseTensorType(strings.ToUpper(dtype))
	if err != nil {
		return fmt.Errorf("--dtype: %w", err)
	}
	vocab, err := ggufVocab(tokSrc, w.Config.Vocab)
	if err != nil {
		return err
	}
	if tplName == "" {
		tok, err := load.Tokenizer(tokSrc, w.Config.Vocab)
		if err != nil {
			return err
		}
		tplName = guessTemplate(tok)
	}
	mf, err := chat.Modelfile("./"+filepath.Base(out), tplName)
	if err != nil {
		return err
	}
	if err := gguf.WriteLlama(out, w, gguf.Options{Type: tt, Name: "humanllm", Vocab: vocab}); err != nil {
		return err
	}
	mfPath := strings.TrimSuffix(out, ".gguf") + ".Modelfile"
	if err := safetensors.WriteAtomic(mfPath, []byte(mf)); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Fprintf(stdout, "wrote %s (GGUF, %s, %.1f MB, %s parameters) and %s (template %s)\n", out, strings.ToUpper(dtype), float64(st.Size())/1e6, paramCount(w.Config), mfPath, tplName)
	return nil
}

func paramCount(c model.Config) string {
	return fmt.Sprintf("%.2fM", float64(c.ParamCount())/1e6)
}

func exportHF(stdout io.Writer, w *model.Weights, tokSrc, tplName, dtype, out string) error {
	dt := strings.ToUpper(dtype)
	switch dt {
	case "F32", "F16", "BF16":
	default:
		return fmt.Errorf("--dtype: %q: hf export writes f32, f16 or bf16", dtype)
	}
	bos, eos := -1, -1
	var tok tokenizer.Tokenizer
	if tokSrc != "" {
		var err error
		if tok, err = load.Tokenizer(tokSrc, w.Config.Vocab); err != nil {
			return fmt.Errorf("tokenizer %s: %w", tokSrc, err)
		}
		bos, eos = tok.BOS(), tok.EOS()
	}
	if err := hf.Write(out, w, hf.WriteOptions{DType: dt, BOS: bos, EOS: eos}); err != nil {
		return err
	}
	note := ""
	if hft, ok := tok.(*tokenizer.HF); ok {
		// A tokenizer.json file (or an HF directory's) is copied as it
		// is; one built from GPT-2's files is written out.
		src := tokSrc
		if st, err := os.Stat(tokSrc); err == nil && st.IsDir() {
			src = filepath.Join(tokSrc, "tokenizer.json")
		}
		b, err := os.ReadFile(src)
		if err != nil || !strings.HasSuffix(src, ".json") {
			if b, err = hft.MarshalJSON(); err != nil {
				return err
			}
		}
		if err := safetensors.WriteAtomic(filepath.Join(out, "tokenizer.json"), b); err != nil {
			return err
		}
		note = " + tokenizer.json"
		if err := writeTokenizerConfig(out, tok, tplName, w.Config.MaxSeqLen); err != nil {
			return err
		}
		if tplName != "" {
			note += " + tokenizer_config.json (chat_template)"
		}
	} else if tokSrc != "" {
		note = fmt.Sprintf(" (tokenizer %s has no Hugging Face tokenizer.json form; use the GGUF export for a self-contained model)", tokSrc)
	}
	fmt.Fprintf(stdout, "wrote %s: config.json, generation_config.json, model.safetensors (%s, %s parameters)%s\n", out, dt, paramCount(w.Config), note)
	return nil
}

// writeTokenizerConfig writes the tokenizer_config.json of an HF export:
// the chat template as Jinja (an imported tokenizer_config.json is copied
// as it is; a shipped template is written as its chat.JinjaSource, which
// renders the same text with Hugging Face's engine), and the BOS/EOS
// spellings that template uses.
func writeTokenizerConfig(out string, tok tokenizer.Tokenizer, tplName string, ctx int) error {
	dst := filepath.Join(out, "tokenizer_config.json")
	if strings.HasSuffix(tplName, ".json") {
		b, err := os.ReadFile(tplName)
		if err != nil {
			return err
		}
		return safetensors.WriteAtomic(dst, b)
	}
	tc := map[string]any{"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": ctx, "clean_up_tokenization_spaces": false}
	for key, id := range map[string]int{"bos_token": tok.BOS(), "eos_token": tok.EOS()} {
		if s, ok := tok.Token(id); ok && id >= 0 {
			tc[key] = s
		}
	}
	if src, ok := chat.JinjaSource[tplName]; ok {
		tc["chat_template"] = src
	}
	b, err := json.MarshalIndent(tc, "", "  ")
	if err != nil {
		return err
	}
	return safetensors.WriteAtomic(dst, append(b, '\n'))
}
