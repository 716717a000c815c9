// Package jinjatest renders templates with the real Hugging Face Jinja
// engine (@huggingface/jinja, installed by `make hfjs`) and compares the
// results with package jinja, for the parity tests of model/chat/jinja and
// model/chat. Without the npm package the tests skip, or fail under
// HUMANLLM_REQUIRE_HFJS=1 (internal/nodetest).
package jinjatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/humanllm/humanllm/internal/nodetest"
	"github.com/humanllm/humanllm/model/chat/jinja"
)

// HFResult is one answer of testdata/hf_jinja.mjs.
type HFResult struct {
	Out   *string `json:"out"`
	Error string  `json:"error"`
	Raise bool    `json:"raise"`
}

// Case is a template and the JSON of its variables.
type Case struct {
	Name     string
	Template string
	Context  string // JSON object
}

// RenderHF renders the cases with @huggingface/jinja (`make hfjs`), in one
// node process running model/chat/jinja/testdata/hf_jinja.mjs.
func RenderHF(t *testing.T, cases []Case) (version string, res []HFResult) {
	t.Helper()
	lines := make([]any, len(cases))
	for i, c := range cases {
		lines[i] = map[string]any{"template": c.Template, "context": json.RawMessage(c.Context)}
	}
	_, file, _, _ := runtime.Caller(0) // <repo>/model/chat/jinja/jinjatest/jinjatest.go
	script := filepath.Join(filepath.Dir(file), "..", "testdata", "hf_jinja.mjs")
	head, rows := nodetest.RunJSONL[HFResult](t, nodetest.HFJS, 5*time.Minute, script, lines)
	var h struct {
		Jinja string `json:"jinja"`
	}
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	return h.Jinja, rows
}

// CompareHF renders the cases with this package and compares them with
// HF's results: the same text, or both an error (with the same message
// for raise_exception). It returns the number of cases that agree and the
// number of those that are errors on both sides.
func CompareHF(t *testing.T, cases []Case, hf []HFResult) (same, errs int) {
	t.Helper()
	for i, c := range cases {
		got, err := Render(c)
		if Check(t, fmt.Sprintf("%s (template %q, context %s)", c.Name, c.Template, c.Context), got, err, hf[i]) {
			same++
			if err != nil {
				errs++
			}
		}
	}
	return same, errs
}

// Render renders a case with package jinja.
func Render(c Case) (string, error) {
	tpl, err := jinja.Parse(c.Template)
	if err != nil {
		return "", err
	}
	v, err := jinja.ParseJSON([]byte(c.Context))
	if err != nil {
		return "", err
	}
	d, _ := v.(*jinja.Dict)
	return tpl.Render(d)
}

// Check compares one rendering of ours (text or error) with HF's result:
// the same text, or both an error (the same message for raise_exception).
func Check(t *testing.T, name, got string, err error, h HFResult) bool {
	t.Helper()
	switch {
	case h.Out != nil && err != nil:
		t.Errorf("%s: HF renders %q, we fail: %v", name, *h.Out, err)
	case h.Out != nil && got != *h.Out:
		t.Errorf("%s: output differs\nours: %q\nHF:   %q", name, got, *h.Out)
	case h.Out == nil && err == nil:
		t.Errorf("%s: HF fails (%s), we render %q", name, h.Error, got)
	case h.Out == nil && h.Raise:
		var re *jinja.RaiseError
		if !errors.As(err, &re) || re.Msg != h.Error {
			t.Errorf("%s: HF raises %q, we fail with %v", name, h.Error, err)
			return false
		}
		return true
	default:
		return true
	}
	return false
}
