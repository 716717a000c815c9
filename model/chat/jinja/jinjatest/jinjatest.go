// Package jinjatest renders templates with the real Hugging Face Jinja
// engine (@huggingface/jinja, installed by `make hfjs`) and compares the
// results with package jinja, for the parity tests of model/chat/jinja and
// model/chat. Without the npm package the tests skip, or fail under
// HUMANLLM_REQUIRE_HFJS=1 (internal/nodetest).
package jinjatest

import (
	"encoding/json"
	"errors"
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
// for raise_exception). It returns the number of cases that agree.
func CompareHF(t *testing.T, cases []Case, hf []HFResult) int {
	t.Helper()
	same := 0
	for i, c := range cases {
		got, err := Render(c)
		h := hf[i]
		switch {
		case h.Out != nil && err != nil:
			t.Errorf("%s: HF renders %q, we fail: %v\ntemplate: %q\ncontext: %s", c.Name, *h.Out, err, c.Template, c.Context)
		case h.Out != nil && got != *h.Out:
			t.Errorf("%s: output differs\nours: %q\nHF:   %q\ntemplate: %q\ncontext: %s", c.Name, got, *h.Out, c.Template, c.Context)
		case h.Out == nil && err == nil:
			t.Errorf("%s: HF fails (%s), we render %q\ntemplate: %q\ncontext: %s", c.Name, h.Error, got, c.Template, c.Context)
		case h.Out == nil && h.Raise:
			var re *jinja.RaiseError
			if !errors.As(err, &re) || re.Msg != h.Error {
				t.Errorf("%s: HF raises %q, we fail with %v", c.Name, h.Error, err)
			} else {
				same++
			}
		default:
			same++
		}
	}
	return same
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
