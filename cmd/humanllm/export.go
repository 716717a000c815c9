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
	"github.com/humanllm/humanllm/model/gguf"
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
	var ckpt, format, dtype, out, tokSrc string
	cmd := &cobra.Command{
		Use:   "export --checkpoint DIR --format hf|gguf [--dtype f32|f16|bf16|q8_0] --out PATH",
		Short: "Export a checkpoint's weights for llama.cpp/ollama (GGUF) or Hugging Face (safetensors)",
		Long: `export writes the weights of a training checkpoint (a ckpt-<step> directory, or a
run directory: its newest complete checkpoint) in a format other tools load:

  --format gguf  one .gguf file (GGUF v3, llama architecture, tokenizer included) for
                 llama.cpp and ollama; --dtype f32, f16, bf16 or q8_0 for the matrices
                 (norms stay f32). The tokenizer must be a llama2.c SentencePiece one
                 (builtin:tok512 or a tokenizer .bin).
  --format hf    a Hugging Face model directory: config.json (LlamaForCausalLM),
                 generation_config.json and model.safetensors (--dtype f32, f16 or bf16),
                 plus tokenizer.json when the run used one.

The tokenizer is the one of the run (config.yaml beside the checkpoint) unless
--tokenizer names another. Files are written atomically.`,
		Example: `  humanllm export --checkpoint runs/demo --format gguf --dtype q8_0 --out runs/demo/model-q8_0.gguf
  humanllm export --checkpoint runs/demo/ckpt-00000150 --format hf --out runs/demo/hf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" || out == "" {
				return errors.New("export: --checkpoint and --out are required")
			}
			ck, cfg, err := loadRun(ckpt)
			if err != nil {
				return err
			}
			if tokSrc == "" {
				tokSrc = cfg.Data.Tokenizer
			}
			w := ck.Weights
			switch format {
			case "gguf":
				return exportGGUF(cmd.OutOrStdout(), w, tokSrc, dtype, out)
			case "hf":
				return exportHF(cmd.OutOrStdout(), w, tokSrc, dtype, out)
			}
			return fmt.Errorf("--format: %q is not hf or gguf", format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&ckpt, "checkpoint", "", "checkpoint directory (ckpt-<step>) or run directory (its newest complete checkpoint)")
	f.StringVar(&format, "format", "gguf", "gguf (llama.cpp, ollama) or hf (Hugging Face safetensors directory)")
	f.StringVar(&dtype, "dtype", "f32", "weight type: f32, f16, bf16, or q8_0 (gguf only)")
	f.StringVar(&out, "out", "", "output file (gguf) or directory (hf)")
	f.StringVar(&tokSrc, "tokenizer", "", "tokenizer to embed (default: the run's data.tokenizer)")
	return cmd
}

func exportGGUF(stdout io.Writer, w *model.Weights, tokSrc, dtype, out string) error {
	tt, err := gguf.ParseTensorType(strings.ToUpper(dtype))
	if err != nil {
		return fmt.Errorf("--dtype: %w", err)
	}
	var raw []byte
	switch {
	case tokSrc == "builtin:tok512":
		raw = demodata.Tok512()
	case strings.HasSuffix(tokSrc, ".bin"):
		if raw, err = os.ReadFile(tokSrc); err != nil {
			return err
		}
	default:
		return fmt.Errorf("export: GGUF export needs a llama2.c SentencePiece tokenizer (builtin:tok512 or a tokenizer .bin); the run used %q", tokSrc)
	}
	vocab, err := gguf.DecodeLlama2cVocab(raw, w.Config.Vocab)
	if err != nil {
		return err
	}
	if err := gguf.WriteLlama(out, w, gguf.Options{Type: tt, Name: "humanllm", Vocab: vocab}); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Fprintf(stdout, "wrote %s (GGUF, %s, %.1f MB, %s parameters)\n", out, strings.ToUpper(dtype), float64(st.Size())/1e6, paramCount(w))
	return nil
}

func paramCount(w *model.Weights) string {
	n := 0
	for _, s := range w.Config.ParamSpecs() {
		n += s.Size()
	}
	return fmt.Sprintf("%.2fM", float64(n)/1e6)
}

func exportHF(stdout io.Writer, w *model.Weights, tokSrc, dtype, out string) error {
	dt := strings.ToUpper(dtype)
	switch dt {
	case "F32", "F16", "BF16":
	default:
		return fmt.Errorf("--dtype: %q: hf export writes f32, f16 or bf16", dtype)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	c := w.Config
	var ts []safetensors.Tensor
	for _, s := range c.ParamSpecs() {
		t := w.Get(s.Name)
		ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: t.Shape, Data: t.Data, DType: dt})
	}
	if err := safetensors.WriteFile(filepath.Join(out, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	torchDtype := map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dt]
	bos, eos := 1, 2
	if tok, err := loadTokenizer(tokSrc, trainer.ModelSource{Source: "fresh", Fresh: trainer.FreshModel{Vocab: c.Vocab}}); err == nil {
		bos, eos = tok.BOS(), tok.EOS()
	}
	hfc := map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama",
		"hidden_size": c.Dim, "intermediate_size": c.HiddenDim, "num_hidden_layers": c.NLayers,
		"num_attention_heads": c.NHeads, "num_key_value_heads": c.NKVHeads, "head_dim": c.HeadDim(),
		"vocab_size": c.Vocab, "max_position_embeddings": c.MaxSeqLen, "rope_theta": c.RopeTheta,
		"rms_norm_eps": c.RMSEps, "tie_word_embeddings": c.TiedEmbeddings, "attention_bias": c.QKVBias,
		"hidden_act": "silu", "torch_dtype": torchDtype, "bos_token_id": bos, "eos_token_id": eos,
	}
	gen := map[string]any{"bos_token_id": bos, "eos_token_id": eos, "do_sample": false}
	for name, v := range map[string]any{"config.json": hfc, "generation_config.json": gen} {
		b, _ := json.MarshalIndent(v, "", "  ")
		if err := safetensors.WriteAtomic(filepath.Join(out, name), append(b, '\n')); err != nil {
			return err
		}
	}
	note := ""
	if strings.HasSuffix(tokSrc, ".json") {
		if _, err := tokenizer.LoadHF(tokSrc); err == nil {
			b, err := os.ReadFile(tokSrc)
			if err != nil {
				return err
			}
			if err := safetensors.WriteAtomic(filepath.Join(out, "tokenizer.json"), b); err != nil {
				return err
			}
			note = " + tokenizer.json"
		}
	} else {
		note = fmt.Sprintf(" (tokenizer %s has no Hugging Face tokenizer.json form; use the GGUF export for a self-contained model)", tokSrc)
	}
	fmt.Fprintf(stdout, "wrote %s: config.json, generation_config.json, model.safetensors (%s, %s parameters)%s\n", out, dt, paramCount(w), note)
	return nil
}
