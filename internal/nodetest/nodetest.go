// Package nodetest runs Node.js scripts for the tests that check our output
// with a real reference implementation shipped as npm packages (llama.cpp
// through node-llama-cpp, Hugging Face tokenizers and @huggingface/jinja).
// A Makefile target of the same name installs each set of packages into the
// git-ignored .cache/<name> of the repository. When node or the packages are
// missing the test is skipped with a message naming the make target, or
// fails when HUMANLLM_REQUIRE_<NAME>=1 (as .ci/run sets it);
// HUMANLLM_<NAME>_DIR overrides the folder.
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Install is one npm install made by `make <Name>` into .cache/<Name>.
type Install struct {
	Name  string   // make target and folder under .cache
	What  string   // the check that needs it, for messages
	Probe []string // files under node_modules that show it is installed
}

var (
	// LlamaCpp is node-llama-cpp with its prebuilt llama.cpp (`make llamacpp`).
	LlamaCpp = Install{Name: "llamacpp", What: "real llama.cpp check", Probe: []string{"node-llama-cpp/dist/index.js"}}
	// HFJS is Hugging Face's tokenizers Node binding and @huggingface/jinja
	// (`make hfjs`).
	HFJS = Install{Name: "hfjs", What: "Hugging Face parity check", Probe: []string{"tokenizers/index.js", "@huggingface/jinja/dist/index.js"}}
)

func (in Install) env(format string) string {
	return fmt.Sprintf(format, strings.ToUpper(in.Name))
}

// Required reports whether a missing install must fail the test.
func (in Install) Required() bool { return os.Getenv(in.env("HUMANLLM_REQUIRE_%s")) == "1" }

// Dir is the install folder: $HUMANLLM_<NAME>_DIR or <repo>/.cache/<name>.
func (in Install) Dir() string {
	if d := os.Getenv(in.env("HUMANLLM_%s_DIR")); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0) // <repo>/internal/nodetest/nodetest.go
	return filepath.Join(filepath.Dir(file), "..", "..", ".cache", in.Name)
}

// Locate returns the node binary and the node_modules folder, skipping the
// test (or failing it when required) if either is missing.
func (in Install) Locate(t testing.TB) (node, modules string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := in.What + ": " + fmt.Sprintf(format, args...) + "; install it with `make " + in.Name + "`"
		if in.Required() {
			t.Fatal(msg + " (required: " + in.env("HUMANLLM_REQUIRE_%s") + "=1)")
		}
		t.Skip(msg)
	}
	dir := in.Dir()
	modules = filepath.Join(dir, "node_modules")
	for _, p := range in.Probe {
		if _, err := os.Stat(filepath.Join(modules, p)); err != nil {
			missing("%s is not installed in %s", p, dir)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	return node, modules
}

// Run runs `node script NODE_MODULES args...` with stdin (may be nil) and
// returns its standard output; a failure or a run past timeout fails the
// test with both outputs.
func (in Install) Run(t testing.TB, timeout time.Duration, stdin io.Reader, script string, args ...string) []byte {
	t.Helper()
	node, modules := in.Locate(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script, modules}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := stdout.String()
		if len(out) > 4000 {
			out = out[:4000] + "…"
		}
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, out, stderr.String())
	}
	return stdout.Bytes()
}

// RunJSONL runs script (as Run) with the JSON encoding of in, one value a
// line, on its standard input; the script answers a first line (returned
// as head) and then one line per input line (decoded into rows).
func RunJSONL[T any](t testing.TB, in Install, timeout time.Duration, script string, lines []any, args ...string) (head json.RawMessage, rows []T) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, v := range lines {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	out := in.Run(t, timeout, &buf, script, args...)
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&head); err != nil {
		t.Fatalf("node %s: first output line: %v", script, err)
	}
	for dec.More() {
		var r T
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("node %s: output line %d: %v", script, len(rows)+2, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != len(lines) {
		t.Fatalf("node %s answered %d of %d lines", script, len(rows), len(lines))
	}
	return head, rows
}
