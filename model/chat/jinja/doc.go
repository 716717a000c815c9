// Package jinja renders Hugging Face chat templates (the chat_template of a
// tokenizer_config.json) exactly as the Hugging Face Jinja engine
// @huggingface/jinja does (the engine of transformers.js and the Hub), which
// the parity tests check against the real npm package.
//
// It is the Jinja subset that engine implements, with its semantics where
// they differ from Python's Jinja2: values print as JavaScript prints them
// ({{ true }} is "true", {{ 1.0 }} is "1.0", 1.0 ~ "" is "1"), == is
// JavaScript's loose equality on plain values and identity on lists and
// dicts, string lengths count UTF-16 code units, and the template is
// pre-processed as transformers does (trim_blocks, lstrip_blocks, a single
// trailing newline dropped, {% generation %} tags removed).
//
// Supported: text, {{ expressions }}, {# comments #}, whitespace control
// ({%- -%} {{- -}} {#- -#}); statements if/elif/else, for (tuple unpacking,
// "if" filter, else, break, continue, loop.index/index0/revindex/revindex0/
// first/last/length/previtem/nextitem), set (names, tuples, namespace
// attributes, {% set x %}…{% endset %}), macro (positional, keyword and
// default arguments), filter blocks; expressions with strings, integers,
// floats, lists, tuples, dicts, attribute and item access, slicing, calls
// with keyword arguments, not/and/or, comparisons, in/not in, + - * / // %
// **, ~, a if b else c; the filters and tests of @huggingface/jinja (trim,
// length, upper, lower, title, capitalize, tojson with indent/ensure_ascii/
// separators/sort_keys, default, join, string, items, list, first, last,
// reverse, sort, unique, int, float, abs, indent, replace, selectattr,
// rejectattr, map(attribute=…), dictsort, safe; defined, undefined, none,
// string, number, integer, mapping, iterable, sequence, boolean, true,
// false, odd, even, lower, upper, callable, equalto/eq); the string methods
// (strip, lstrip, rstrip, upper, lower, title, capitalize, startswith,
// endswith, split, replace) and dict methods (get, items, keys, values);
// the globals namespace(), range(), raise_exception(), strftime_now() and
// true/false/none (also True/False/None).
//
// Not supported ({% call %} blocks, *args/**kwargs unpacking, macro
// varargs/kwargs, tests with arguments) is refused with an error. Known
// differences: indexing a string by UTF-16 unit in the middle of a
// surrogate pair gives U+FFFD where JavaScript keeps the lone surrogate;
// a ** b with a non-integer result may differ from V8's Math.pow in the
// last digit; tojson(sort_keys=true) orders keys case-insensitively rather
// than by the ICU collation of localeCompare; upper/lower use Go's Unicode
// tables, not V8's.
// Every error names the line and column of the template.
package jinja
