package gguf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/humanllm/humanllm/internal/nodetest"
	"github.com/humanllm/humanllm/internal/sharedtest"
)

// The real-llama.cpp check runs the prebuilt llama.cpp that the npm
// package node-llama-cpp ships, installed by `make llamacpp` into
// .cache/llamacpp (internal/nodetest: skipped without it, failed under
// HUMANLLM_REQUIRE_LLAMACPP=1).

type llamacppModel struct {
	Path   string  `json:"path"`
	BOS    int     `json:"bos"`
	EOS    int     `json:"eos"`
	IDs    []int   `json:"ids"`
	MS     float64 `json:"ms"`
	Text   string  `json:"text"`
	Tokens [][]int `json:"tokens"`
}

type llamacppResult struct {
	NodeLlamaCpp string          `json:"nodeLlamaCpp"`
	LlamaCpp     json.RawMessage `json:"llamaCpp"`
	BuildType    string          `json:"buildType"`
	GPU          any             `json:"gpu"`
	SystemInfo   string          `json:"systemInfo"`
	Models       []llamacppModel `json:"models"`
}

// runLlamaCpp greedily generates steps tokens from BOS with each model and
// tokenises texts.
func runLlamaCpp(t *testing.T, models []string, steps int, texts []string) llamacppResult {
	t.Helper()
	job, _ := json.Marshal(map[string]any{"models": models, "steps": steps, "texts": texts})
	jobPath := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(jobPath, job, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout := nodetest.LlamaCpp.Run(t, 5*time.Minute, nil, filepath.Join("testdata", "llamacpp_greedy.mjs"), jobPath)
	var res llamacppResult
	for _, line := range strings.Split(string(stdout), "\n") {
		if s, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(s), &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(res.Models) != len(models) {
		t.Fatalf("no result from llama.cpp\nstdout:\n%s", stdout)
	}
	return res
}

type expectedJSON struct {
	Greedy struct {
		Steps int    `json:"steps"`
		IDs   []int  `json:"ids"`
		Text  string `json:"text"`
	} `json:"greedy_from_bos"`
	Encode struct {
		Cases []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids_with_bos"`
		} `json:"cases"`
	} `json:"encode_cases"`
}

func commonPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestLlamaCppStories260K loads our stories260K exports (F32, F16, Q8_0)
// in real llama.cpp and compares its greedy generation from BOS with the
// reference ids of expected.json, and its tokeniser (from our vocab
// metadata) with the llama2.c encoder's ids.
func TestLlamaCppStories260K(t *testing.T) {
	nodetest.LlamaCpp.Locate(t) // skip early when llama.cpp is absent
	w, v := loadStories(t)
	var exp expectedJSON
	b, err := os.ReadFile(sharedtest.Path(t, "models/stories260K/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	types := []TensorType{F32, F16, Q8_0}
	var paths []string
	for _, typ := range types {
		p := filepath.Join(dir, "stories260K-"+typ.String()+".gguf")
		if err := WriteLlama(p, w, Options{Type: typ, Name: "stories260K", Vocab: v}); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(p)
		t.Logf("%s: %d bytes", filepath.Base(p), st.Size())
		paths = append(paths, p)
	}
	var texts []string
	for _, c := range exp.Encode.Cases {
		texts = append(texts, c.Text)
	}
	res := runLlamaCpp(t, paths, exp.Greedy.Steps, texts)
	t.Logf("node-llama-cpp %s, llama.cpp %s (%s, gpu %v)", res.NodeLlamaCpp, res.LlamaCpp, res.BuildType, res.GPU)
	t.Logf("system info: %s", res.SystemInfo)

	// Minimum greedy match length (of 256) each export must reach.
	minMatch := map[TensorType]int{F32: 64, F16: 64, Q8_0: 16}
	for i, typ := range types {
		m := res.Models[i]
		if m.BOS != v.BOS || m.EOS != v.EOS {
			t.Errorf("%v: llama.cpp reads bos %d eos %d", typ, m.BOS, m.EOS)
		}
		n := commonPrefix(m.IDs, exp.Greedy.IDs)
		t.Logf("%v: llama.cpp greedy ids match the reference for %d of %d tokens (%.0f ms)", typ, n, len(exp.Greedy.IDs), m.MS)
		if n < minMatch[typ] {
			t.Errorf("%v: only the first %d greedy ids match (want >= %d)\ngot  %v\nwant %v", typ, n, minMatch[typ], m.IDs, exp.Greedy.IDs)
		}
		if n == len(exp.Greedy.IDs) && m.Text != exp.Greedy.Text {
			t.Errorf("%v: llama.cpp detokenises the greedy ids to\n%q\nwant\n%q", typ, m.Text, exp.Greedy.Text)
		}
		same := 0
		for j, c := range exp.Encode.Cases {
			if got := m.Tokens[j]; commonPrefix(got, c.IDs[1:]) != len(c.IDs)-1 || len(got) != len(c.IDs)-1 {
				t.Errorf("%v: llama.cpp tokenises %q as %v, llama2.c as %v", typ, c.Text, got, c.IDs[1:])
			} else {
				same++
			}
		}
		t.Logf("%v: llama.cpp's tokeniser (from our vocab metadata) agrees with llama2.c's encoder on %d of %d texts", typ, same, len(exp.Encode.Cases))
	}
}
