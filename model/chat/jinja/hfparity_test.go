package jinja_test

import (
	"errors"
	"strings"
	"testing"

	. "github.com/humanllm/humanllm/model/chat/jinja"
	"github.com/humanllm/humanllm/model/chat/jinja/jinjatest"
)

// fcase is a feature case: name, template, context JSON.
type fcase struct{ name, tpl, ctx string }

func toCases(fs []fcase) []jinjatest.Case {
	out := make([]jinjatest.Case, len(fs))
	for i, f := range fs {
		out[i] = jinjatest.Case{Name: f.name, Template: f.tpl, Context: f.ctx}
	}
	return out
}

// featureCases exercise each construct of the engine, including its
// JavaScript-flavoured corners.
var featureCases = toCases([]fcase{
	{"text", "Hello world!", `{}`},
	{"text and exprs", "0{{ 'A' }}1{{ 'B' }}{{ 'C' }}2", `{}`},
	{"trailing newline dropped", "a\n", `{}`},
	{"two trailing newlines", "a\n\n", `{}`},
	{"booleans", "|{{ true }}|{{ false }}|{{ True }}|{{ None }}|{{ none }}|", `{}`},
	{"logic", "{{ true and false }}{{ 1 and 2 }}{{ 0 or '' }}{{ 'a' or 'b' }}{{ not 0 }}{{ not not 'x' }}{{ [] or {} }}", `{}`},
	{"if elif else", "{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}many{% endif %}", `{"x": 3}`},
	{"if else", "{% if x %}yes{% else %}no{% endif %}", `{"x": []}`},
	{"nested if in for", "{% for i in xs %}{% if i is odd %}{{ i }}{% else %}-{% endif %}{% endfor %}", `{"xs": [1, 2, 3, 4, 5]}`},
	{"loop vars", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", `{"xs": ["a", "b", "c"]}`},
	{"loop previtem", "{% for x in xs %}{{ loop.previtem }}>{{ loop.nextitem }}|{% endfor %}", `{"xs": [1, 2, 3]}`},
	{"for else", "{% for x in [] %}A{% else %}B{% endfor %}", `{}`},
	{"for if", "{% for x in [1, 2, 3, 4] if x > 2 %}{{ x }}{{ loop.index }}{% endfor %}", `{}`},
	{"for unpack", "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}-{{ b }};{% endfor %}", `{}`},
	{"for dict keys", "{% for k in d %}{{ k }}={{ d[k] }};{% endfor %}", `{"d": {"z": 1, "a": 2, "m": [3]}}`},
	{"for items", "{% for k, v in d.items() %}{{ k }}:{{ v }} {% endfor %}{{ d | items | length }}", `{"d": {"x": "1", "y": true}}`},
	{"break continue", "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", `{"xs": [1, 2, 3, 4, 5]}`},
	{"scope", "{% set found = false %}{% for n in [1] %}{% set found = true %}{% endfor %}{{ found }}", `{}`},
	{"namespace", "{% set ns = namespace(found=false, n=1+1) %}{% for x in [1, 2] %}{% set ns.found = true %}{% endfor %}{{ ns.found }}{{ ns.n }}{{ ns }}", `{}`},
	{"namespace dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns['b'] }}{% if ns %}T{% endif %}{{ ns is mapping }}", `{}`},
	{"set tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set (c, d) = ['x', 'y'] %}{{ c }}{{ d }}", `{}`},
	{"set block", "{% set x %}Hello\n  world {{ 1 + 1 }}{% endset %}[{{ x }}]", `{}`},
	{"macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }}", `{}`},
	{"macro caller scope", "{% macro f() %}{{ x }}{% endmacro %}{% set x = 5 %}{{ f() }}", `{}`},
	{"numbers", "|{{ 5 }}|{{ -5 }}|{{ 1.5 }}|{{ 2.0 }}|{{ -0.0 }}|{{ 1e3 }}|", `{}`},
	{"arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 / 2 }} {{ 8 / 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1.5 * 2 }} {{ 3 - 5 }}", `{}`},
	{"float printing", "{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 100000000000000000000000.0 }} {{ 123456789012.5 }} {{ 0.000001 }} {{ 0.0000001 }}", `{}`},
	{"concat", "{{ 1 ~ '+' ~ 2.0 ~ '=' ~ 3 ~ ' ' ~ true ~ [1, 'a'] }}|{{ 'n' + 1 }}|{{ 2.0 + 'x' }}|{{ [1] + [2, 3] }}", `{}`},
	{"comparisons", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 3 > 4 }}{{ 1 == 1.0 }}{{ '1' == 1 }}{{ true == 1 }}{{ none == x }}{{ 'a' != 'b' }}", `{}`},
	{"object identity", "{% set a = [1] %}{% set b = [1] %}{{ a == a }}{{ a == b }}{{ m == messages[0] }}{{ messages[0] == messages[-1] }}", `{"messages": [{"r": 1}], "m": {"r": 1}}`},
	{"membership", "|{{ 1 in xs }}|{{ '1' in xs }}|{{ 'a' in 'abc' }}|{{ 'k' in d }}|{{ 'z' not in d }}|{{ 2 not in xs }}|{{ 1 in nope }}|", `{"xs": [1, 2.0, "b"], "d": {"k": 0}}`},
	{"strings", "{{ \"a\" + 'b' }}{{ 'c' 'd' }}{{ '\\n' }}|{{ '\\'' }}{{ \"\\\"\" }}{{ '\\\\' }}{{ '\\u00e9\\x41' }}", `{}`},
	{"string methods", "{{ '  A b  '.strip() }}|{{ 'x'.upper() }}{{ 'ABC'.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ '  y '.lstrip() }}|{{ ' z  '.rstrip() }}|", `{}`},
	{"startswith", "{{ s.startswith('ab') }}{{ s.endswith(('x', 'cd')) }}{{ s.startswith('b') }}", `{"s": "abcd"}`},
	{"split", "{{ '  a b  c '.split() | tojson }}{{ 'a,b,,c'.split(',') | tojson }}{{ 'a,b,c'.split(',', 1) | tojson }}{{ ' 1 2 3 '.split(none, 1) | tojson }}", `{}`},
	{"replace", "{{ 'aaa'.replace('a', 'b') }}{{ 'aaa'.replace('a', 'b', 2) }}{{ 'ab' | replace('b', 'c') }}{{ 'xy'.replace('', '-') }}{{ 'abab' | replace('a', '', count=1) }}", `{}`},
	{"string length utf16", "{{ s | length }} {{ s.length }} {{ s[0] }}{{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }}", `{"s": "a😀é日"}`},
	{"slicing", "{{ xs[1:] }}{{ xs[:2] }}{{ xs[-2:] }}{{ xs[::2] }}{{ xs[5::-1] }}{{ xs[1:-1] }}{{ xs[:] | length }}", `{"xs": [1, 2, 3, 4, 5]}`},
	{"indexing", "{{ xs[0] }}{{ xs[-1] }}{{ xs.1 }}{{ d['a']['b'] }}{{ d.a.b }}{{ xs[9] }}{{ d.zz }}|", `{"xs": ["p", "q", "r"], "d": {"a": {"b": "deep"}}}`},
	{"filters strings", "|{{ 'abc' | length }}|{{ 'aBc' | upper }}|{{ 'aBc' | lower }}|{{ 'test test' | capitalize }}|{{ 'test test' | title }}|{{ '  a b ' | trim }}|", `{}`},
	{"filters lists", "{{ xs | first }}{{ xs | last }}{{ xs | length }}{{ xs | reverse }}{{ xs | sort }}{{ xs | join(',') }}{{ xs | join }}{{ xs | unique }}{{ xs | list }}", `{"xs": [3, 1, 2, 1]}`},
	{"sort strings", "{{ ['b', 'A', 'c'] | sort }}{{ ['b', 'A', 'c'] | sort(case_sensitive=true) }}{{ [1, 3, 2] | sort(reverse=true) }}", `{}`},
	{"sort attribute", "{{ users | sort(attribute='age') | map(attribute='name') | join(' ') }}", `{"users": [{"name": "x", "age": 30}, {"name": "y", "age": 20}]}`},
	{"selectattr", "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }}", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}`},
	{"selectattr truthy", "{{ xs | selectattr('k') | length }}", `{"xs": [{"k": 0}, {"k": 1}, {"j": 1}]}`},
	{"tojson", "{{ d | tojson }}|{{ 'q\"\\n\\u2028é' | tojson }}|{{ 1.5 | tojson }}|{{ none | tojson }}|{{ [1, [2, {}], []] | tojson }}", `{"d": {"a": [1, 2.5, "x"], "b": {"c": null, "t": true}}}`},
	{"tojson indent", "{{ d | tojson(indent=2) }}|{{ [] | tojson(indent=4) }}|{{ [1, [2]] | tojson(indent=1) }}", `{"d": {"a": [1, 2], "b": {}, "c": {"d": "e"}}}`},
	{"tojson options", "{{ d | tojson(ensure_ascii=true) }}|{{ d | tojson(separators=(',', ':')) }}", `{"d": {"k": "é😀\u007f", "n": 1}}`},
	{"string filter", "{{ [1, 'a'] | string }}{{ 3 | string }}{{ 1.5 | string }}{{ 2.0 | string }}{{ true | string }}{{ 'x' | string }}", `{}`},
	{"int float", "{{ '12' | int + 1 }}{{ 'x' | int }}{{ 'x' | int(7) }}{{ 1.9 | int }}{{ '2.5' | float }}{{ 'q' | float }}{{ true | int }}", `{}`},
	{"default", "{{ x | default('d') }}{{ false | default('d') }}{{ false | default('d', true) }}{{ '' | default('e', boolean=true) }}{{ 0 | default('z') }}", `{}`},
	{"abs indent", "{{ -3 | abs }}{{ -2.5 | abs }}|{{ 'a\nb\n\nc' | indent }}|{{ 'a\nb' | indent(2, first=true) }}|{{ 'a\n\nb' | indent(1, blank=true) }}", `{}`},
	{"dict methods", "{{ d.get('a') }}{{ d.get('z') }}{{ d.get('z', 'dflt') }}{{ d.keys() }}{{ d.values() }}{{ d | length }}", `{"d": {"a": 1, "b": [2]}}`},
	{"dictsort", "{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}|{% for k, v in d | dictsort(by='value', reverse=true) %}{{ k }}{% endfor %}", `{"d": {"b": 2, "a": 3, "C": 1}}`},
	{"tests", "{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ n is none }}{{ x is string }}{{ d is mapping }}{{ 1 is number }}{{ 1.5 is integer }}{{ xs is iterable }}{{ 'A' is upper }}{{ 'a' is lower }}{{ true is boolean }}{{ x is not none }}", `{"x": "s", "n": null, "d": {}, "xs": []}`},
	{"test precedence", "{{ not x is defined }}{{ 1 + 1 is even }}", `{}`},
	{"ternary", "{{ 'a' if x else 'b' }}{{ 'c' if not x else 'd' if y else 'e' }}", `{"x": 0, "y": 1}`},
	{"select expr", "[{{ 'yes' if false }}]", `{}`},
	{"range", "{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(2, 8, 2) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}|{{ range(0) | length }}", `{}`},
	{"whitespace control", "a  {%- if true -%}  b  {%- endif -%}  c  {{- 'd' -}}  e {#- comment -#} f", `{}`},
	{"trim_blocks lstrip", "{% for x in xs %}\n    {% if x %}\n{{ x }}\n    {% endif %}\n{% endfor %}\nend\n", `{"xs": [1, 0, 2]}`},
	{"comments", "a{# one #}b{#- two -#}  c", `{}`},
	{"generation tag", "{% for m in messages %}{% generation %}{{ m }}{% endgeneration %} {%- generation -%} x {% endgeneration %}{% endfor %}", `{"messages": ["p", "q"]}`},
	{"braces in strings", "{{ '{{ not a tag }}' }}{{ \"{% if %}\" }}{{ {'a': {'b': 1}} }}", `{}`},
	{"filter block", "{% filter upper %}shout {{ 'it' }}{% endfilter %}", `{}`},
	{"unicode content", "{% for m in messages %}<{{ m.role }}>{{ m.content }}|{{ m.content | upper }}|{{ m.content | length }}{% endfor %}", `{"messages": [{"role": "user", "content": "straße ǆ ﬁ 日本 😀 İ"}]}`},
	{"raise", "{% if messages | length > 1 %}{{ raise_exception('Too many: ' ~ messages | length) }}{% endif %}ok", `{"messages": [1, 2]}`},
	{"raise not reached", "{% if false %}{{ raise_exception('x') }}{% endif %}ok", `{}`},
	{"short circuit", "{{ false and raise_exception('no') }}{{ true or raise_exception('no') }}", `{}`},
	{"undefined print", "[{{ nothing }}][{{ nothing.attr }}][{{ d.missing }}]", `{"d": {}}`},
	{"undefined op error", "{{ nothing + 1 }}", `{}`},
	{"none op error", "{{ none ~ 'x' }}", `{}`},
	{"unknown filter", "{{ 'x' | frobnicate }}", `{}`},
	{"loop over string error", "{% for c in 'abc' %}{{ c }}{% endfor %}", `{}`},
	{"string compare error", "{{ 'a' < 'b' }}", `{}`},
	{"syntax error", "{% if %}", `{}`},
	{"unclosed", "{% for x in xs %}{{ x }}", `{"xs": [1]}`},
	{"unknown tag", "{% frob %}", `{}`},
	{"bad escape", "{{ '\\q' }}", `{}`},
	{"unterminated string", "{{ 'abc }}", `{}`},
	{"array literal trailing comma", "{{ [1, 2, ] | length }}{{ (1, 2) }}{{ (3) }}", `{}`},
	{"unary minus", "{{ -x }}{{ -(1 + 2) }}{{ - 2 }}{{ +true }}{{ -1.5 | abs }}{{ (-2) ** 2 }}", `{"x": 4}`},
	{"message keys order", "{{ messages[0] }}{{ messages[0] | tojson }}", `{"messages": [{"role": "user", "content": "hi", "z": 1, "a": [1]}]}`},
	{"content list", "{% for part in m.content %}{% if part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}", `{"m": {"content": [{"type": "text", "text": "A"}, {"type": "image"}, {"type": "text", "text": "B"}]}}`},
	{"mixed types join", "{{ [1, none, true, 'a', 2.5, 3.0] | join('-') }}", `{}`},
	{"json int", "{{ x }} {{ y }} {{ x is integer }} {{ z }}", `{"x": 1.0, "y": 2.5, "z": 1e2}`},
})

// TestFeaturesMatchHF renders every feature case with @huggingface/jinja
// and with this package.
func TestFeaturesMatchHF(t *testing.T) {
	version, hf := jinjatest.RenderHF(t, featureCases)
	same, errs := jinjatest.CompareHF(t, featureCases, hf)
	t.Logf("@huggingface/jinja %s: %d of %d feature templates agree (%d of them are errors on both sides)", version, same, len(featureCases), errs)
}

func TestErrorPositions(t *testing.T) {
	for _, c := range []struct {
		tpl       string
		line, col int
		msg       string
	}{
		{"hello\n{% if %}", 2, 7, "unexpected '%}'"},
		{"a\n\n  {{ x +* y }}", 3, 9, "unexpected"},
		{"{% for x in xs %}\n{{ x }}", 2, 8, "expected {% endfor %}"},
		{"{{ 'abc }}", 1, 11, "end of input"},
		{"{% set x = 1 %}\n{% frob %}", 2, 4, "unknown statement"},
		{"{{ '\\q' }}", 1, 5, "escaped character"},
		{"x\n{{ @ }}", 2, 4, "unexpected character"},
		// Positions survive pre-processing (trim_blocks removes newlines).
		{"{% if true %}\n{% if true %}\n{% endif %}\n{{ 1 +* 2 }}", 4, 7, "unexpected"},
	} {
		_, err := Parse(c.tpl)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v is not an *Error", c.tpl, err)
			continue
		}
		if e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: got %v, want line %d column %d containing %q", c.tpl, err, c.line, c.col, c.msg)
		}
	}
	tpl, err := Parse("ok\n  {{ raise_exception('bad turn') }}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render(nil)
	var re *RaiseError
	if !errors.As(err, &re) || re.Msg != "bad turn" || re.Line != 2 || re.Col != 6 {
		t.Errorf("raise_exception: %#v", err)
	}
	tpl, _ = Parse("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}")
	if _, err := tpl.Render(nil); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("unbounded recursion: %v", err)
	}
	tpl, _ = Parse("{% for i in range(10000000) %}{% endfor %}")
	if _, err := tpl.Render(nil); err == nil || !strings.Contains(err.Error(), "range()") {
		t.Errorf("huge range: %v", err)
	}
}
