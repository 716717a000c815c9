package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama2c"
	"github.com/humanllm/humanllm/model/tokenizer"
	"github.com/humanllm/humanllm/trainer"
	"github.com/humanllm/humanllm/trainer/data"
)

// testDataDir writes a prepare-like directory: train.jsonl and test.jsonl.
func testDataDir(t *testing.T, dir string) string {
	t.Helper()
	d := filepath.Join(dir, "data")
	os.MkdirAll(d, 0o755)
	writeJSONL(t, filepath.Join(d, "train.jsonl"), 40, 1)
	writeJSONL(t, filepath.Join(d, "test.jsonl"), 8, 2)
	return d
}

// tokenizer train: deterministic, the training split only (a directory and
// its train.jsonl give the same file), progress on stderr, atomic write,
// and bad input named.
func TestTokenizerTrainCommand(t *testing.T) {
	dir := t.TempDir()
	d := testDataDir(t, dir)
	outDir := filepath.Join(dir, "tok")
	out1 := filepath.Join(outDir, "tokenizer.json")
	out, err := run(t, "tokenizer", "train", "--data", d, "--vocab-size", "300", "--out", out1)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"tokenizer: training on " + filepath.Join(d, "train.jsonl") + ": 40 samples, 80 messages", "merges", "wrote " + out1, "bytes per token"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	got, err := os.ReadFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	// The same as the library on the same samples.
	samples, err := data.ReadFile(filepath.Join(d, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := chat.TrainTokenizer(samples, 300, tokenizer.TrainOptions{MinFrequency: defaultMinFrequency})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	h.WriteJSON(&want)
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("tokenizer train wrote something else than chat.TrainTokenizer on train.jsonl")
	}
	tok, err := tokenizer.LoadHF(out1)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() > 300 || tok.VocabSize() < 263+20 || tok.EOS() != 0 {
		t.Errorf("vocabulary %d, EOS %d", tok.VocabSize(), tok.EOS())
	}
	if s := "the cat sat on the mat"; tok.Decode(tok.Encode(s)) != s || len(tok.Encode(s)) >= len(s)/2 {
		t.Errorf("%q: %v", s, tok.Encode(s))
	}
	out2 := filepath.Join(outDir, "from-file.json")
	if out, err := run(t, "tokenizer", "train", "--data", filepath.Join(d, "train.jsonl"), "--vocab-size", "300", "--out", out2); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b, _ := os.ReadFile(out2); !bytes.Equal(b, got) {
		t.Error("a directory and its train.jsonl give different tokenizers")
	}
	ents, _ := os.ReadDir(outDir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	// Another pattern gives a tokenizer the HF reader takes too.
	out3 := filepath.Join(outDir, "llama3.json")
	if out, err := run(t, "tokenizer", "train", "--data", d, "--vocab-size", "280", "--pattern", "llama3", "--out", out3); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if tok, err := tokenizer.LoadHF(out3); err != nil || tok.Decode(tok.Encode("a big dog")) != "a big dog" {
		t.Errorf("llama3 pattern: %v", err)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}`+"\n"+`{"messages":[{"role":"user","content":5}]}`+"\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", d, "--vocab-size", "100", "--out", out1}, "263"},
		{[]string{"--vocab-size", "300", "--out", out1}, "--data"},
		{[]string{"--data", d, "--vocab-size", "300"}, "--out"},
		{[]string{"--data", d, "--vocab-size", "300", "--out", out1, "--pattern", "bert"}, "bert"},
		{[]string{"--data", bad, "--vocab-size", "300", "--out", out1}, "bad.jsonl:2"},
		{[]string{"--data", filepath.Join(dir, "nope"), "--vocab-size", "300", "--out", out1}, "nope"},
	} {
		if _, err := run(t, append([]string{"tokenizer", "train"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %q", c.args, err, c.want)
		}
	}
	if b, _ := os.ReadFile(out1); !bytes.Equal(b, got) {
		t.Error("a failed run changed the output file")
	}
	help, _ := run(t, "tokenizer", "--help")
	if !strings.Contains(help, "train") {
		t.Errorf("tokenizer --help:\n%s", help)
	}
	help, _ = run(t, "tokenizer", "train", "--help")
	for _, want := range []string{"--vocab-size int", "(default 4096)", "--pattern", `(default "gpt2")`, "--min-frequency", "(default 2)", "atomically"} {
		if !strings.Contains(help, want) {
			t.Errorf("tokenizer train --help lacks %q", want)
		}
	}
}

// train --tokenizer train:N trains the tokenizer when the run starts, keeps
// it in the run directory, sizes the fresh model by it, and every later
// command uses that file: resume (never retraining, refusing a changed or
// missing file), export, generate and eval. An imported model of another
// vocabulary is refused.
func TestTrainWithTrainedTokenizer(t *testing.T) {
	dir := t.TempDir()
	d := testDataDir(t, dir)
	for k, v := range map[string]string{
		"HUMANLLM_MODEL_FRESH_DIM": "16", "HUMANLLM_MODEL_FRESH_HIDDEN_DIM": "32", "HUMANLLM_MODEL_FRESH_N_LAYERS": "1",
		"HUMANLLM_MODEL_FRESH_N_HEADS": "2", "HUMANLLM_MODEL_FRESH_N_KV_HEADS": "2", "HUMANLLM_MODEL_FRESH_MAX_SEQ_LEN": "64",
	} {
		t.Setenv(k, v)
	}
	runDir := filepath.Join(dir, "run")
	args := []string{"train", "--config", "../../configs/sft-demo.yaml", "--data", d, "--out", runDir, "--tokenizer", "train:300",
		"--template", "chatml", "--seq-len", "64", "--micro-batch", "2", "--grad-accum", "1", "--threads", "1",
		"--eval-every", "2", "--ckpt-every", "2", "--warmup", "1", "--max-steps", "4"}
	out, err := run(t, append(args, "--stop-after", "2")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tokPath := filepath.Join(runDir, "tokenizer.json")
	tb, err := os.ReadFile(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.ParseHF(tb)
	if err != nil {
		t.Fatal(err)
	}
	v := tok.VocabSize()
	for _, want := range []string{"tokenizer: training on", "fresh vocab_size 512 -> " + itoa(v), "eval  step 0 (base model)", "paused at step 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run output lacks %q:\n%s", want, out)
		}
	}
	cfgYAML, _ := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if !strings.Contains(string(cfgYAML), "tokenizer: train:300") || !strings.Contains(string(cfgYAML), "vocab_size: "+itoa(v)) {
		t.Errorf("config.yaml:\n%s", cfgYAML)
	}
	sum := sha256.Sum256(tb)
	ck, err := trainer.LoadCheckpoint(filepath.Join(runDir, trainer.CheckpointName(2)))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Weights.Config.Vocab != v || ck.State.TokenizerSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("checkpoint: vocabulary %d (want %d), tokenizer %s", ck.Weights.Config.Vocab, v, ck.State.TokenizerSHA256)
	}

	// Resume: the saved tokenizer, not a new one; the same trajectory.
	out, err = run(t, append(args, "--resume", "auto")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "training on") || !strings.Contains(out, "trained when the run started") || strings.Contains(out, "options differ") ||
		strings.Contains(out, "step 0 (base") || !strings.Contains(out, "trained 4 steps") || !strings.Contains(out, "base model (step 0)") {
		t.Errorf("resume output:\n%s", out)
	}
	if b, _ := os.ReadFile(tokPath); !bytes.Equal(b, tb) {
		t.Error("resuming rewrote tokenizer.json")
	}

	// export hf carries the tokenizer; generate and eval run on it.
	hf := filepath.Join(dir, "hf")
	if out, err := run(t, "export", "--checkpoint", runDir, "--format", "hf", "--out", hf); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(hf, "tokenizer.json")); !bytes.Equal(b, tb) {
		t.Error("export hf did not carry the run's tokenizer.json")
	}
	var cj map[string]any
	b, _ := os.ReadFile(filepath.Join(hf, "config.json"))
	if json.Unmarshal(b, &cj) != nil || cj["vocab_size"] != float64(v) || cj["eos_token_id"] != float64(0) {
		t.Errorf("hf config.json: %s", b)
	}
	if out, err := run(t, "generate", "--checkpoint", runDir, "--data", filepath.Join(d, "test.jsonl"), "--sample", "0", "--max-new", "4"); err != nil || !strings.Contains(out, "generated") {
		t.Errorf("generate: %v\n%s", err, out)
	}
	if out, err := run(t, "eval", "--model", runDir, "--data", d, "--max-gen", "0", "--json"); err != nil || !strings.Contains(out, `"loss"`) {
		t.Errorf("eval: %v\n%s", err, out)
	}
	if _, err := run(t, "generate", "--checkpoint", runDir, "--tokenizer", "train:300", "--prompt", "hi"); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("train:N given to generate: %v", err)
	}

	// A changed tokenizer file is refused; so is a missing one.
	more := append(args[:len(args)-1:len(args)-1], "6", "--resume", "auto")
	other, err := chat.TrainTokenizer(nil, 280, tokenizer.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other.Save(tokPath)
	if _, err := run(t, more...); err == nil || !strings.Contains(err.Error(), "tokenizer file differs") {
		t.Errorf("changed tokenizer: %v", err)
	}
	os.Remove(tokPath)
	if _, err := run(t, more...); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("missing tokenizer: %v", err)
	}
	// A new run over the checkpoints does not retrain over the run's file.
	os.WriteFile(tokPath, tb, 0o644)
	if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "--resume auto") {
		t.Errorf("new run over checkpoints: %v", err)
	}
	if b, _ := os.ReadFile(tokPath); !bytes.Equal(b, tb) {
		t.Error("a refused new run rewrote tokenizer.json")
	}
	// Resuming a checkpoint into another run directory takes its tokenizer along.
	fork := append([]string{}, more...)
	fork[6] = filepath.Join(dir, "fork")
	fork[len(fork)-1] = filepath.Join(runDir, trainer.CheckpointName(4))
	if out, err := run(t, fork...); err != nil || !strings.Contains(out, "trained 6 steps") {
		t.Errorf("fork: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "fork", "tokenizer.json")); !bytes.Equal(b, tb) {
		t.Error("the fork did not take the run's tokenizer.json")
	}

	// An imported model whose vocabulary is not the tokenizer's.
	w, err := llama.InitWeights(trainer.FreshModel{Dim: 16, HiddenDim: 32, NLayers: 1, NHeads: 2, NKVHeads: 2, Vocab: 512, MaxSeqLen: 64, RopeTheta: 10000, RMSEps: 1e-5}.Config(), 1)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "m.bin")
	if err := llama2c.Write(bin, w); err != nil {
		t.Fatal(err)
	}
	imp := append([]string{}, args...)
	imp[6] = filepath.Join(dir, "run-imported") // --out
	if _, err := run(t, append(imp, "--model", bin)...); err == nil || !strings.Contains(err.Error(), "the tokenizer has "+itoa(v)+" ids but the model's vocabulary is 512") {
		t.Errorf("imported model of another vocabulary: %v", err)
	}
	if _, err := run(t, append(imp, "--tokenizer", "train:12")...); err == nil || !strings.Contains(err.Error(), "train:N needs a vocabulary size") {
		t.Errorf("train:12: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
