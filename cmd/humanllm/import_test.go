package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

// TestImportScoreGenerateEveryFormat takes stories260K (llama2.c), exports
// it to Hugging Face (f32) and GGUF (F32, F16, Q8_0) with the CLI, and checks
// through `score` and `generate --prompt-ids` that every format is the same
// model: the teacher-forced cross-entropy of expected.json (0.40356 ± 1e-4;
// Q8_0 within 2e-2) and the greedy ids (exactly, F16/Q8_0 on the first 16).
// It then fine-tunes starting from the GGUF file (whose tokenizer comes with
// it) and from the HF directory (--tokenizer given).
func TestImportScoreGenerateEveryFormat(t *testing.T) {
	bin := sharedtest.Path(t, "models/stories260K/stories260K.bin")
	b, err := os.ReadFile(sharedtest.Path(t, "models/stories260K/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Greedy struct {
			IDs []int `json:"ids"`
		} `json:"greedy_from_bos"`
		TF struct {
			IDs    []int   `json:"ids"`
			MeanCE float64 `json:"mean_ce"`
		} `json:"teacher_forced_loss"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	idList := make([]string, len(exp.TF.IDs))
	for i, id := range exp.TF.IDs {
		idList[i] = strconv.Itoa(id)
	}
	dir := t.TempDir()
	hfDir := filepath.Join(dir, "hf")
	if out, err := run(t, "export", "--model", bin, "--tokenizer", "builtin:tok512", "--format", "hf", "--out", hfDir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	formats := []struct {
		path       string
		tol        float64
		greedyExac int
	}{{bin, 1e-4, 64}, {hfDir, 1e-4, 64}}
	for _, dt := range []string{"f32", "f16", "q8_0"} {
		g := filepath.Join(dir, "s-"+dt+".gguf")
		out, err := run(t, "export", "--model", bin, "--tokenizer", "builtin:tok512", "--format", "gguf", "--dtype", dt, "--out", g)
		if err != nil || !strings.Contains(out, ".Modelfile") {
			t.Fatalf("%v\n%s", err, out)
		}
		mf, err := os.ReadFile(strings.TrimSuffix(g, ".gguf") + ".Modelfile")
		if err != nil || !strings.Contains(string(mf), "FROM ./s-"+dt+".gguf") {
			t.Fatalf("Modelfile: %v\n%s", err, mf)
		}
		tol, n := 1e-4, 64
		switch dt {
		case "f16":
			tol, n = 2e-3, 16
		case "q8_0":
			tol, n = 2e-2, 16
		}
		formats = append(formats, struct {
			path       string
			tol        float64
			greedyExac int
		}{g, tol, n})
	}
	for _, f := range formats {
		out, err := run(t, "score", "--model", f.path, "--ids", strings.Join(idList, ","))
		if err != nil {
			t.Fatalf("score %s: %v\n%s", f.path, err, out)
		}
		var sr scoreResult
		if err := json.Unmarshal([]byte(out), &sr); err != nil {
			t.Fatalf("score %s: %v\n%s", f.path, err, out)
		}
		if math.Abs(sr.Loss-exp.TF.MeanCE) > f.tol || sr.Tokens != len(idList)-1 || len(sr.Argmax) != len(idList) {
			t.Errorf("score %s: loss %.6f (want %.5f ± %g), %d tokens, %d argmax", filepath.Base(f.path), sr.Loss, exp.TF.MeanCE, f.tol, sr.Tokens, len(sr.Argmax))
		}
		args := []string{"generate", "--model", f.path, "--prompt-ids", "1", "--max-new-tokens", "64", "--json"}
		if f.path == bin || f.path == hfDir {
			args = append(args, "--tokenizer", "builtin:tok512")
		}
		out, err = run(t, args...)
		if err != nil {
			t.Fatalf("generate %s: %v\n%s", f.path, err, out)
		}
		var gr struct {
			IDs  []int  `json:"ids"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(out), &gr); err != nil {
			t.Fatalf("generate %s: %v\n%s", f.path, err, out)
		}
		if len(gr.IDs) < f.greedyExac || !slices.Equal(gr.IDs[:f.greedyExac], exp.Greedy.IDs[:f.greedyExac]) {
			t.Errorf("generate %s: greedy ids %v, want the first %d of %v", filepath.Base(f.path), gr.IDs, f.greedyExac, exp.Greedy.IDs[:f.greedyExac])
		}
		if !strings.HasPrefix(gr.Text, "Once upon a time") {
			t.Errorf("generate %s: text %q", filepath.Base(f.path), gr.Text)
		}
	}
	// Fine-tune from the imported formats.
	data := filepath.Join(dir, "train.jsonl")
	writeJSONL(t, data, 24, 3)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"gguf", []string{"--model", filepath.Join(dir, "s-f32.gguf")}},
		{"hf", []string{"--model", hfDir, "--tokenizer", "builtin:tok512"}},
	} {
		runDir := filepath.Join(dir, "run-"+tc.name)
		args := append([]string{"train", "--data", data, "--out", runDir, "--max-steps", "2", "--micro-batch", "2",
			"--seq-len", "64", "--eval-every", "0", "--quiet"}, tc.args...)
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("train from %s: %v\n%s", tc.name, err, out)
		}
		cfg, err := os.ReadFile(filepath.Join(runDir, "config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(cfg), "template: plain") {
			t.Errorf("train from %s: resolved config lacks the template:\n%s", tc.name, cfg)
		}
		if out, err := run(t, "generate", "--model", runDir, "--prompt", "Tell me a story.", "--max-new-tokens", "4"); err != nil || !strings.Contains(out, "generated") {
			t.Errorf("generate from the %s-started run: %v\n%s", tc.name, err, out)
		}
	}
	// A model file without a tokenizer needs --tokenizer, said clearly.
	if _, err := run(t, "train", "--data", data, "--out", filepath.Join(dir, "r3"), "--model", bin, "--max-steps", "1"); err == nil || !strings.Contains(err.Error(), "carries no tokenizer") {
		t.Errorf("train from a .bin without --tokenizer: %v", err)
	}
	if _, err := run(t, "score", "--model", bin, "--ids", "1,9999"); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Errorf("score with an out-of-range id: %v", err)
	}
}

// TestTrainRefusesModelThatWillNotFit: an HF directory whose config.json
// describes a ~200B-parameter model is refused from its config alone, with
// the estimate, before any tensor is read (there are none to read).
func TestTrainRefusesModelThatWillNotFit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.MkdirAll(big, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"model_type":"llama","hidden_size":16384,"intermediate_size":53248,"num_hidden_layers":64,
	"num_attention_heads":128,"num_key_value_heads":8,"vocab_size":128256,"max_position_embeddings":4096}`
	if err := os.WriteFile(filepath.Join(big, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "train.jsonl")
	writeJSONL(t, data, 4, 1)
	out, err := run(t, "train", "--model", big, "--tokenizer", "builtin:tok512", "--data", data, "--out", filepath.Join(dir, "run"), "--max-steps", "1")
	if err == nil || !strings.Contains(err.Error(), "will not fit") || !strings.Contains(out, "parameters") {
		t.Fatalf("a 200B model was not refused up front: %v\n%s", err, out)
	}
}

// TestHFExportCarriesChatTemplate: a run with a byte-level BPE tokenizer
// and the chatml template exports an HF directory whose
// tokenizer_config.json holds the template as Jinja; opened again, that
// directory renders conversations to the same ids and mask as the run's
// native template, and generate answers from it with the same greedy ids.
func TestHFExportCarriesChatTemplate(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	writeJSONL(t, data, 24, 5)
	runDir := filepath.Join(dir, "run")
	t.Setenv("HUMANLLM_MODEL_FRESH_DIM", "32")
	t.Setenv("HUMANLLM_MODEL_FRESH_HIDDEN_DIM", "64")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_LAYERS", "1")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_HEADS", "2")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_KV_HEADS", "2")
	if out, err := run(t, "train", "--data", data, "--out", runDir, "--tokenizer", "train:300", "--template", "chatml",
		"--max-steps", "2", "--micro-batch", "2", "--seq-len", "64", "--eval-every", "0", "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	hfDir := filepath.Join(dir, "hf")
	if out, err := run(t, "export", "--model", runDir, "--format", "hf", "--out", hfDir); err != nil || !strings.Contains(out, "chat_template") {
		t.Fatalf("%v\n%s", err, out)
	}
	run1, err := openModel(runDir)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := openModel(hfDir)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Template != filepath.Join(hfDir, "tokenizer_config.json") {
		t.Fatalf("imported template %q", imp.Template)
	}
	_, native, err := run1.chatSetup("", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, jinja, err := imp.chatSetup("", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []tasks.Message{{Role: "system", Content: "You are Ann."}, {Role: "user", Content: "Hi there"},
		{Role: "assistant", Content: "Hello, how are you?"}, {Role: "user", Content: "Fine."}, {Role: "assistant", Content: "Good to hear!"}}
	for _, gen := range []bool{false, true} {
		m := msgs
		if gen {
			m = msgs[:4]
		}
		a, am, err := native.Render(m, gen)
		if err != nil {
			t.Fatal(err)
		}
		b, bm, err := jinja.Render(m, gen)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) || !slices.Equal(am, bm) {
			t.Errorf("generation=%v: exported Jinja template renders\n%v %v\nthe run's chatml\n%v %v", gen, b, bm, a, am)
		}
	}
	if !slices.Equal(native.StopIDs(), jinja.StopIDs()) {
		t.Errorf("stop ids %v vs %v", native.StopIDs(), jinja.StopIDs())
	}
	var answers []string
	for _, p := range []string{runDir, hfDir} {
		out, err := run(t, "generate", "--model", p, "--prompt", "Tell me about your day.", "--max-new-tokens", "8", "--json")
		if err != nil {
			t.Fatalf("generate %s: %v\n%s", p, err, out)
		}
		answers = append(answers, out[strings.Index(out, "{"):])
	}
	if answers[0] != answers[1] {
		t.Errorf("the run and its HF export answer differently:\n%s%s", answers[0], answers[1])
	}
}
