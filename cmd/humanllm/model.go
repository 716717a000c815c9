package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/load"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/trainer"
)

// modelPathHelp is the --model flag text of the commands that read a model.
const modelPathHelp = "model: a training checkpoint (ckpt-<step>), a run directory (its newest complete checkpoint), a Hugging Face directory, a GGUF file or a llama2.c .bin"

// openedModel is a model read from any path humanllm accepts, with the
// tokenizer and chat template that go with it by default.
type openedModel struct {
	Weights *model.Weights
	// Path is what was opened: the checkpoint directory for a run
	// directory, else the path given.
	Path string
	// Kind is "checkpoint" or a load.Format.
	Kind string
	// Tokenizer is the default tokenizer spec: the run's data.tokenizer, or
	// the one the model file carries ("" if none).
	Tokenizer string
	// Template is the default chat template: the run's data.template, the
	// tokenizer_config.json of an HF directory with a chat_template (its
	// Jinja template), or "" (guessed from the tokenizer's special tokens).
	Template string
	// Checkpoint is the training checkpoint when Kind is "checkpoint".
	Checkpoint *trainer.Checkpoint
}

// isCheckpointOrRun reports whether p is a training checkpoint or a run
// directory holding one.
func isCheckpointOrRun(p string) bool {
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return false
	}
	if fileExists(filepath.Join(p, "DONE")) || fileExists(filepath.Join(p, "state.json")) {
		return true
	}
	latest, err := trainer.Latest(p)
	return err == nil && latest != ""
}

// openModel opens a training checkpoint or run directory (with its run's
// tokenizer and template), or any format model/load reads.
func openModel(p string) (*openedModel, error) {
	if p == "" {
		return nil, fmt.Errorf("no model given (--model)")
	}
	if isCheckpointOrRun(p) {
		dir, err := resolveCheckpoint(p)
		if err != nil {
			return nil, err
		}
		ck, cfg, err := loadRun(dir)
		if err != nil {
			return nil, err
		}
		return &openedModel{Weights: ck.Weights, Path: dir, Kind: "checkpoint", Checkpoint: ck,
			Tokenizer: cfg.Data.Tokenizer, Template: cfg.Data.Template}, nil
	}
	m, err := load.Open(p)
	if err != nil {
		return nil, err
	}
	return &openedModel{Weights: m.Weights, Path: p, Kind: string(m.Format), Tokenizer: m.TokenizerSpec, Template: m.TemplateSpec}, nil
}

// describe is one line about the model for stderr.
func (m *openedModel) describe() string {
	c := m.Weights.Config
	return fmt.Sprintf("%s (%s): %s parameters, dim %d, %d layers, %d heads (%d kv), vocab %d, context %d",
		m.Path, m.Kind, paramCount(c), c.Dim, c.NLayers, c.NHeads, c.NKVHeads, c.Vocab, c.MaxSeqLen)
}

// chatSetup opens the tokenizer and chat template for m: the given
// --tokenizer / --template when set, else m's defaults. A model file that
// carries no tokenizer needs --tokenizer; with no template known, the
// tokenizer's special tokens choose one (guessTemplate), which is said on
// note.
func (m *openedModel) chatSetup(tokSrc, tplName string, note io.Writer) (tokenizer.Tokenizer, *chat.Template, error) {
	tok, err := m.tokenizer(tokSrc)
	if err != nil {
		return nil, nil, err
	}
	if tplName == "" {
		tplName = m.Template
	}
	if tplName == "" {
		tplName = guessTemplate(tok)
		fmt.Fprintf(note, "chat template: %s (from the tokenizer's special tokens; --template to choose)\n", tplName)
	}
	tpl, err := chat.New(tplName, tok)
	if err != nil {
		return nil, nil, err
	}
	return tok, tpl, nil
}

// tokenizer opens tokSrc, or the model's default tokenizer when it is "".
func (m *openedModel) tokenizer(tokSrc string) (tokenizer.Tokenizer, error) {
	if tokSrc == "" {
		tokSrc = m.Tokenizer
	}
	if tokSrc == "" {
		return nil, fmt.Errorf("%s carries no tokenizer: give --tokenizer (builtin:tok512, a tokenizer.json, a GGUF file or a llama2.c tokenizer .bin)", m.Path)
	}
	tok, err := openTokenizer(tokSrc, m.Weights.Config.Vocab)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > m.Weights.Config.Vocab {
		return nil, fmt.Errorf("tokenizer %s has %d ids, more than the model's vocabulary of %d", tokSrc, tok.VocabSize(), m.Weights.Config.Vocab)
	}
	return tok, nil
}

// guessTemplate picks the shipped chat template whose special tokens the
// tokenizer has: chatml (<|im_start|>), llama3 (<|start_header_id|>), else
// plain.
func guessTemplate(tok tokenizer.Tokenizer) string {
	if _, ok := tok.TokenID("<|im_start|>"); ok {
		return "chatml"
	}
	if _, ok := tok.TokenID("<|start_header_id|>"); ok {
		return "llama3"
	}
	return "plain"
}

// stopTokens are the ids that end an assistant turn: EOS and the
// end-of-turn tokens of the shipped templates the tokenizer has.
func stopTokens(tok tokenizer.Tokenizer) []int32 {
	var stop []int32
	if eos := tok.EOS(); eos >= 0 {
		stop = append(stop, int32(eos))
	}
	for _, s := range []string{"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>"} {
		if id, ok := tok.TokenID(s); ok && !containsID(stop, int32(id)) {
			stop = append(stop, int32(id))
		}
	}
	return stop
}

func containsID(s []int32, id int32) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// parseIDs reads "1,2,3" (spaces allowed).
func parseIDs(s string, vocab int) ([]int32, error) {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var v int
		if _, err := fmt.Sscanf(f, "%d", &v); err != nil || fmt.Sprint(v) != f {
			return nil, fmt.Errorf("%q is not a token id", f)
		}
		if v < 0 || v >= vocab {
			return nil, fmt.Errorf("token id %d is outside the vocabulary [0, %d)", v, vocab)
		}
		out = append(out, int32(v))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no token ids in %q", s)
	}
	return out, nil
}
