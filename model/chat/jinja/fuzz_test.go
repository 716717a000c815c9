package jinja_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/humanllm/humanllm/model/chat/jinja"
)

// FuzzParse: any template text parses or fails with an *Error naming a
// line and column inside the template, never panics; a parsed template
// renders or fails with an error, never panics.
func FuzzParse(f *testing.F) {
	for _, c := range featureCases {
		f.Add(c.Template)
	}
	g := exprGen{rand.New(rand.NewPCG(1, 1))}
	for range 40 {
		f.Add(g.block(3))
		f.Add("{{ " + g.expr(3) + " }}")
	}
	for _, s := range []string{"{{", "{%", "{#", "{{ 'a", "{% if x %}", "{% for %}", "{{ x[ }}", "{{ (((((1 }}", "-}}", "{%- -%}",
		"{{ '\\u12' }}", "{{ 1..2 }}", "{% set %}", "{% macro m( %}", "\xff{{ \xfe }}", "{{ {'a': 1}} }}"} {
		f.Add(s)
	}
	ctxV, err := ParseJSON([]byte(randomContext))
	if err != nil {
		f.Fatal(err)
	}
	ctx := ctxV.(*Dict)
	f.Fuzz(func(t *testing.T, tpl string) {
		if len(tpl) > 1<<12 {
			return
		}
		p, err := Parse(tpl)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): %T %v is not an *Error", tpl, err, err)
			}
			lines := strings.Count(tpl, "\n") + 1
			if e.Line < 1 || e.Line > lines || e.Col < 1 || e.Msg == "" {
				t.Fatalf("Parse(%q): bad position or message in %v (%d lines)", tpl, err, lines)
			}
			return
		}
		if _, err := p.Render(ctx); err != nil && err.Error() == "" {
			t.Fatalf("Render(%q): empty error", tpl)
		}
	})
}
