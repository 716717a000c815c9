package jinja_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model/chat/jinja/jinjatest"
)

// randomContext is the variables of the random expressions.
const randomContext = `{"s": "Hello World", "e": "", "n": 3, "z": 0, "f": 2.5, "g": -1.0, "t": true, "no": null,
 "xs": [3, 1, "b", 2.0], "ys": ["b", "A", "c"], "d": {"k": "v", "n": 2, "l": [1, 2]}, "ed": {},
 "ms": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " yo "}], "u8": "éß日 ǅx"}`

type exprGen struct{ r *rand.Rand }

func (g exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g exprGen) expr(depth int) string {
	if depth <= 0 || g.r.IntN(4) == 0 {
		return g.leaf(depth)
	}
	switch g.r.IntN(9) {
	case 0:
		return g.pick("not ", "-", "+") + g.expr(depth-1)
	case 1, 2:
		op := g.pick("+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "and", "or", "in", "not in")
		return "(" + g.expr(depth-1) + " " + op + " " + g.expr(depth-1) + ")"
	case 3, 4:
		f := g.pick("length", "upper", "lower", "trim", "title", "capitalize", "string", "tojson", "first", "last",
			"reverse", "sort", "join", "join(', ')", "unique", "list", "int", "float", "abs", "default('dflt')",
			"default('x', true)", "items", "safe", "indent", "indent(2, true)", "tojson(indent=2)", "replace('l', 'L')",
			"sort(reverse=true)", "map(attribute='role')", "selectattr('role', 'equalto', 'user')", "dictsort", "int(7)")
		return "(" + g.expr(depth-1) + " | " + f + ")"
	case 5:
		return "(" + g.expr(depth-1) + " is " + g.pick("", "not ") + g.pick("defined", "undefined", "none", "string",
			"number", "integer", "mapping", "iterable", "sequence", "boolean", "odd", "even", "true", "false", "lower", "upper", "callable") + ")"
	case 6:
		switch g.r.IntN(5) {
		case 0:
			return g.expr(depth-1) + "[" + g.pick("0", "1", "-1", "5", "'k'", "'role'", "n") + "]"
		case 1:
			return g.expr(depth-1) + "[" + g.pick("1:", ":2", "::-1", "1:-1", "-2:", "::2") + "]"
		case 2:
			return g.expr(depth-1) + "." + g.pick("k", "role", "content", "length", "0", "nope")
		case 3:
			return g.expr(depth-1) + "." + g.pick("strip()", "upper()", "lower()", "title()", "capitalize()",
				"split()", "split('l')", "startswith('H')", "endswith(('d', 'x'))", "replace('o', '0', 1)",
				"get('k')", "get('q', 9)", "items()", "keys()", "values()", "lstrip()", "rstrip()")
		default:
			return "(" + g.expr(depth-1) + " if " + g.expr(depth-1) + " else " + g.expr(depth-1) + ")"
		}
	case 7:
		return "[" + g.expr(depth-1) + ", " + g.expr(depth-1) + "]"
	default:
		return "{" + g.pick("'a'", "'b'") + ": " + g.expr(depth-1) + "}"
	}
}

func (g exprGen) leaf(depth int) string {
	switch g.r.IntN(3) {
	case 0:
		return g.pick("0", "1", "2", "7", "-3", "0.5", "2.0", "-1.5", "10")
	case 1:
		return g.pick("'a'", "''", "'Hello World'", "' x '", "'éß'", "'1'", "\"q'\"", "'a\\nb'")
	}
	if g.r.IntN(8) == 0 {
		return g.pick("no", "nope", "none")
	}
	return g.pick("s", "e", "n", "z", "f", "g", "t", "xs", "ys", "d", "ed", "ms", "u8", "true", "false")
}

// TestRandomExpressionsMatchHF renders random expressions over values of
// every type with @huggingface/jinja and with this package: the same text,
// or an error on both sides.
func TestRandomExpressionsMatchHF(t *testing.T) {
	g := exprGen{rand.New(rand.NewPCG(5, 6))}
	var cases []jinjatest.Case
	seen := map[string]bool{}
	for len(cases) < 5000 {
		e := g.expr(3)
		if seen[e] {
			continue
		}
		seen[e] = true
		tpl := "{{ " + e + " }}"
		if strings.Contains(e, "ms") && g.r.IntN(2) == 0 {
			tpl = "{% for m in ms %}" + strings.ReplaceAll(tpl, "ms", "m") + "|{% endfor %}"
		}
		cases = append(cases, jinjatest.Case{Name: fmt.Sprintf("random %d", len(cases)), Template: tpl, Context: randomContext})
	}
	version, hf := jinjatest.RenderHF(t, cases)
	same, errs := jinjatest.CompareHF(t, cases, hf)
	t.Logf("@huggingface/jinja %s: %d of %d random expressions agree (%d render, %d fail on both sides)", version, same, len(cases), len(cases)-errs, errs)
}

// block generates a random template fragment with statements, whitespace
// control and text with spaces, tabs and newlines (the pre-processing of
// trim_blocks/lstrip_blocks and the {%- -%} stripping).
func (g exprGen) block(depth int) string {
	var b strings.Builder
	for n := g.r.IntN(4); n >= 0; n-- {
		switch k := g.r.IntN(9); {
		case k < 3:
			b.WriteString(g.pick("a", " ", "\n", "\t", "  \n  ", "\n\n", "x y", " \r\n", "é "))
		case k == 3:
			b.WriteString(g.open("{{") + " " + g.expr(1) + " " + g.close("}}"))
		case k == 4:
			b.WriteString(g.open("{#") + g.pick(" c ", "", "-") + g.close("#}"))
		case k == 5 && depth > 0:
			b.WriteString(g.open("{%") + " if " + g.expr(1) + " " + g.close("%}") + g.block(depth-1))
			if g.r.IntN(2) == 0 {
				b.WriteString(g.open("{%") + " else " + g.close("%}") + g.block(depth-1))
			}
			b.WriteString(g.open("{%") + " endif " + g.close("%}"))
		case k == 6 && depth > 0:
			b.WriteString(g.open("{%") + " for " + g.pick("x", "m") + " in " + g.pick("xs", "ms", "ys", "[]") + " " + g.close("%}") + g.block(depth-1))
			b.WriteString(g.open("{%") + " endfor " + g.close("%}"))
		case k == 7:
			b.WriteString(g.open("{%") + " set " + g.pick("v", "w") + " = " + g.expr(1) + " " + g.close("%}"))
		default:
			b.WriteString(g.pick("{% generation %}", "{%- generation -%}", "{% endgeneration %}", "\n  {% generation %}\n"))
		}
	}
	return b.String()
}

func (g exprGen) open(tag string) string {
	if g.r.IntN(3) == 0 {
		return g.pick("", "  ", "\n", "\t ") + tag + "-"
	}
	return g.pick("", "  ", "\n   ") + tag
}

func (g exprGen) close(tag string) string {
	if g.r.IntN(3) == 0 {
		return "-" + tag + g.pick("", "\n", "  \n")
	}
	return tag + g.pick("", "\n", " ", "\n\n")
}

// TestRandomTemplatesMatchHF renders random templates (statements, text
// and whitespace control) with @huggingface/jinja and with this package.
func TestRandomTemplatesMatchHF(t *testing.T) {
	g := exprGen{rand.New(rand.NewPCG(7, 8))}
	var cases []jinjatest.Case
	for i := range 3000 {
		cases = append(cases, jinjatest.Case{Name: fmt.Sprintf("template %d", i), Template: g.block(3), Context: randomContext})
	}
	version, hf := jinjatest.RenderHF(t, cases)
	same, errs := jinjatest.CompareHF(t, cases, hf)
	t.Logf("@huggingface/jinja %s: %d of %d random templates agree (%d render, %d fail on both sides)", version, same, len(cases), len(cases)-errs, errs)
}
