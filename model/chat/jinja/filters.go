package jinja

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

var (
	upperCaser = cases.Upper(language.Und)
	lowerCaser = cases.Lower(language.Und)
)

func jsUpper(s string) string { return upperCaser.String(s) }
func jsLower(s string) string { return lowerCaser.String(s) }

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

// jsCapitalize is charAt(0).toUpperCase() + slice(1) (the rest unchanged;
// charAt(0) of an astral character is a surrogate half, left as it is).
func jsCapitalize(s string) string {
	r, w := utf8.DecodeRuneInString(s)
	if w == 0 || r > 0xFFFF || r == utf8.RuneError && w == 1 {
		return s
	}
	return jsUpper(s[:w]) + s[w:]
}

// jsTitle is value.replace(/\b\w/g, c => c.toUpperCase()) (ASCII words).
func jsTitle(s string) string {
	b := []byte(s)
	for i := range b {
		if isWordByte(b[i]) && (i == 0 || !isWordByte(b[i-1])) && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }

// stringMethod returns the method or property name of a string.
func stringMethod(s, name string) Value {
	noArgs := func(f func(string) string) Func {
		return func([]Value, *Dict) (Value, error) { return f(s), nil }
	}
	switch name {
	case "upper":
		return noArgs(jsUpper)
	case "lower":
		return noArgs(jsLower)
	case "strip":
		return noArgs(jsTrim)
	case "title":
		return noArgs(jsTitle)
	case "capitalize":
		return noArgs(jsCapitalize)
	case "length":
		return Int(jsLen(s))
	case "rstrip":
		return noArgs(func(s string) string { return strings.TrimRightFunc(s, isJSSpace) })
	case "lstrip":
		return noArgs(func(s string) string { return strings.TrimLeftFunc(s, isJSSpace) })
	case "startswith", "endswith":
		test := strings.HasPrefix
		if name == "endswith" {
			test = strings.HasSuffix
		}
		return Func(func(args []Value, _ *Dict) (Value, error) {
			if len(args) == 0 {
				return nil, errorf("%s() requires at least one argument", name)
			}
			switch p := args[0].(type) {
			case string:
				return test(s, p), nil
			case *List:
				for _, it := range p.Items {
					ps, ok := it.(string)
					if !ok {
						return nil, errorf("%s() tuple elements must be strings", name)
					}
					if test(s, ps) {
						return true, nil
					}
				}
				return false, nil
			}
			return nil, errorf("%s() argument must be a string or tuple of strings", name)
		})
	case "split":
		return Func(func(args []Value, _ *Dict) (Value, error) { return split(s, args) })
	case "replace":
		return Func(func(args []Value, kw *Dict) (Value, error) { return replaceMethod(s, args, kw) })
	}
	return nil
}

// split is Python's str.split(sep=None, maxsplit=-1) as implemented there.
func split(s string, args []Value) (Value, error) {
	var sep Value
	if len(args) > 0 {
		sep = args[0]
	}
	max := -1.0
	if len(args) > 1 {
		m, ok := args[1].(Int)
		if !ok {
			return nil, errorf("maxsplit argument must be a number")
		}
		max = float64(m)
	}
	var parts []string
	switch sp := sep.(type) {
	case nil:
		text := strings.TrimLeftFunc(s, isJSSpace)
		for len(text) > 0 {
			i := strings.IndexFunc(text, func(r rune) bool { return !isJSSpace(r) })
			if i < 0 {
				break
			}
			rest := text[i:]
			j := strings.IndexFunc(rest, isJSSpace)
			if j < 0 {
				j = len(rest)
			}
			if max != -1 && float64(len(parts)) >= max {
				parts = append(parts, rest)
				break
			}
			parts = append(parts, rest[:j])
			text = rest[j:]
		}
	case string:
		if sp == "" {
			return nil, errorf("empty separator")
		}
		parts = strings.Split(s, sp)
		if max != -1 && float64(len(parts)) > max {
			m := int(math.Max(max, 0))
			parts = append(parts[:m:m], strings.Join(parts[m:], sp))
		}
	default:
		return nil, errorf("sep argument must be a string or null")
	}
	out := &List{Items: make([]Value, len(parts))}
	for i, p := range parts {
		out.Items[i] = p
	}
	return out, nil
}

func replaceMethod(s string, args []Value, kw *Dict) (Value, error) {
	if len(args) < 2 {
		return nil, errorf("replace() requires at least two arguments")
	}
	old, ok1 := args[0].(string)
	nw, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, errorf("replace() arguments must be strings")
	}
	var count Value
	if len(args) > 2 {
		count = args[2]
	} else if kw != nil {
		if c, ok := kw.Get("count"); ok {
			count = c
		}
	}
	n := -1
	switch c := count.(type) {
	case nil:
	case Int:
		if c >= 0 {
			n = int(c)
		}
	default:
		return nil, errorf("replace() count argument must be a number or null")
	}
	if old == "" {
		// (?=) matches before every code point and at the end.
		rs := runes(s)
		var b strings.Builder
		done := 0
		for i := 0; i <= len(rs); i++ {
			if n < 0 || done < n {
				b.WriteString(nw)
				done++
			}
			if i < len(rs) {
				b.WriteString(rs[i])
			}
		}
		return b.String(), nil
	}
	return strings.Replace(s, old, nw, n), nil
}

// dictMethod returns a dict's method.
func dictMethod(d *Dict, name string) Value {
	switch name {
	case "get":
		return Func(func(args []Value, _ *Dict) (Value, error) {
			if len(args) == 0 {
				return nil, errorf("get() needs a key")
			}
			k, ok := args[0].(string)
			if !ok {
				return nil, errorf("dict key must be a string, got %s", typeName(args[0]))
			}
			if v, ok := d.Get(k); ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		})
	case "items":
		return Func(func([]Value, *Dict) (Value, error) { return items(d), nil })
	case "keys":
		return Func(func([]Value, *Dict) (Value, error) {
			out := &List{}
			for _, k := range d.keys {
				out.Items = append(out.Items, k)
			}
			return out, nil
		})
	case "values":
		return Func(func([]Value, *Dict) (Value, error) {
			out := &List{}
			for _, k := range d.keys {
				out.Items = append(out.Items, d.m[k])
			}
			return out, nil
		})
	case "dictsort":
		return Func(func(args []Value, kw *Dict) (Value, error) { return dictsort(d, args, kw) })
	}
	return nil
}

func items(d *Dict) *List {
	out := &List{}
	for _, k := range d.keys {
		out.Items = append(out.Items, &List{Items: []Value{k, d.m[k]}})
	}
	return out
}

// arg returns positional argument i, else keyword name, else def.
func arg(args []Value, kw *Dict, i int, name string, def Value) Value {
	if i < len(args) {
		return args[i]
	}
	if kw != nil {
		if v, ok := kw.Get(name); ok {
			return v
		}
	}
	return def
}

func dictsort(d *Dict, args []Value, kw *Dict) (Value, error) {
	cs, ok1 := arg(args, kw, 0, "case_sensitive", false).(bool)
	by, ok2 := arg(args, kw, 1, "by", "key").(string)
	rev, ok3 := arg(args, kw, 2, "reverse", false).(bool)
	if !ok1 || !ok2 || !ok3 || by != "key" && by != "value" {
		return nil, errorf("dictsort(case_sensitive: bool, by: 'key' or 'value', reverse: bool)")
	}
	l := items(d)
	idx := 0
	if by == "value" {
		idx = 1
	}
	if err := sortValues(l.Items, func(v Value) Value { return v.(*List).Items[idx] }, cs, rev); err != nil {
		return nil, err
	}
	return l, nil
}

// compare is compareRuntimeValues.
func compare(a, b Value, caseSensitive bool) (int, error) {
	_, an := a.(undefinedT)
	_, bn := b.(undefinedT)
	switch {
	case a == nil && b == nil, an && bn:
		return 0, nil
	case a == nil || b == nil || an || bn:
		return 0, errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	x, aok := numLike(a)
	y, bok := numLike(b)
	if aok && bok {
		switch {
		case x < y:
			return -1, nil
		case x > y:
			return 1, nil
		}
		return 0, nil
	}
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	if !caseSensitive {
		as, bs = jsLower(as), jsLower(bs)
	}
	return utf16Less(as, bs), nil
}

func sortValues(vs []Value, key func(Value) Value, caseSensitive, reverse bool) error {
	var err error
	sort.SliceStable(vs, func(i, j int) bool {
		c, e := compare(key(vs[i]), key(vs[j]), caseSensitive)
		if e != nil && err == nil {
			err = e
		}
		if reverse {
			c = -c
		}
		return c < 0
	})
	return err
}

// attrPath is getAttributeValue: "a.b.0" through dicts and lists.
func attrPath(v Value, path string) Value {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case *Dict:
			nv, ok := x.Get(part)
			if !ok {
				return Undefined
			}
			v = nv
		case *Namespace:
			nv, ok := x.d.Get(part)
			if !ok {
				return Undefined
			}
			v = nv
		case *List:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x.Items) {
				return Undefined
			}
			v = x.Items[i]
		default:
			return Undefined
		}
	}
	return v
}

func (in *interp) applyFilter(v Value, f node, e *env) (Value, error) {
	switch f := f.(type) {
	case *identNode:
		return simpleFilter(v, f.name)
	case *callNode:
		id, ok := f.callee.(*identNode)
		if !ok {
			return nil, errorf("unknown filter")
		}
		return in.callFilter(v, id.name, f.args, e)
	}
	return nil, errorf("unknown filter")
}

func simpleFilter(v Value, name string) (Value, error) {
	switch name {
	case "safe":
		return v, nil
	case "tojson":
		s, err := toJSON(v, jsonOpts{}, 0, true)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	switch x := v.(type) {
	case *List:
		switch name {
		case "list":
			return x, nil
		case "first":
			if len(x.Items) == 0 {
				return Undefined, nil
			}
			return x.Items[0], nil
		case "last":
			if len(x.Items) == 0 {
				return Undefined, nil
			}
			return x.Items[len(x.Items)-1], nil
		case "length":
			return Int(len(x.Items)), nil
		case "reverse":
			out := &List{Items: make([]Value, len(x.Items))}
			for i, it := range x.Items {
				out.Items[len(x.Items)-1-i] = it
			}
			return out, nil
		case "sort":
			out := &List{Items: append([]Value(nil), x.Items...)}
			return out, sortValues(out.Items, func(v Value) Value { return v }, false, false)
		case "join":
			return joinList(x, ""), nil
		case "string":
			return strErr(x)
		case "unique":
			out := &List{}
			for _, it := range x.Items {
				dup := false
				for _, o := range out.Items {
					if sameValueZero(o, it) {
						dup = true
						break
					}
				}
				if !dup {
					out.Items = append(out.Items, it)
				}
			}
			return out, nil
		}
		return nil, errorf("unknown list filter %q", name)
	case string:
		switch name {
		case "length", "upper", "lower", "title", "capitalize":
			m := stringMethod(x, name)
			if f, ok := m.(Func); ok {
				return f(nil, nil)
			}
			return m, nil
		case "trim":
			return jsTrim(x), nil
		case "indent":
			return indent(x, 4, false, false), nil
		case "join", "string":
			return x, nil
		case "int":
			return Int(parseIntJS(x, 0)), nil
		case "float":
			f := parseFloatJS(x)
			if math.IsNaN(f) {
				f = 0
			}
			return Float(f), nil
		}
		return nil, errorf("unknown string filter %q", name)
	case Int, Float:
		f, _ := isNumber(x)
		switch name {
		case "abs":
			if _, ok := x.(Int); ok {
				return Int(math.Abs(f)), nil
			}
			return Float(math.Abs(f)), nil
		case "int":
			return Int(math.Floor(f)), nil
		case "float":
			return Float(f), nil
		case "string":
			return str(x), nil
		}
		return nil, errorf("unknown number filter %q", name)
	case *Dict:
		switch name {
		case "items":
			return items(x), nil
		case "length":
			return Int(x.Len()), nil
		}
		if m := dictMethod(x, name); m != nil {
			return m.(Func)(nil, nil)
		}
		return nil, errorf("unknown dict filter %q", name)
	case bool:
		switch name {
		case "bool":
			return x, nil
		case "int":
			if x {
				return Int(1), nil
			}
			return Int(0), nil
		case "float":
			if x {
				return Float(1), nil
			}
			return Float(0), nil
		case "string":
			return str(x), nil
		}
		return nil, errorf("unknown boolean filter %q", name)
	}
	return nil, errorf("cannot apply filter %q to %s", name, typeName(v))
}

// sameValueZero is the equality of a JavaScript Set.
func sameValueZero(a, b Value) bool {
	x, aok := isNumber(a)
	y, bok := isNumber(b)
	if aok && bok {
		return x == y || math.IsNaN(x) && math.IsNaN(y)
	}
	return strictEq(a, b)
}

// joinList is Array.prototype.join of the items' values.
func joinList(l *List, sep string) string {
	parts := make([]string, len(l.Items))
	for i, it := range l.Items {
		switch it.(type) {
		case nil, undefinedT:
		default:
			parts[i] = raw(it)
		}
	}
	return strings.Join(parts, sep)
}

func indent(s string, width int, first, blank bool) string {
	lines := strings.Split(s, "\n")
	pad := strings.Repeat(" ", width)
	for i, l := range lines {
		if (!first && i == 0) || (!blank && l == "") {
			continue
		}
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// parseIntJS is parseInt(s, 10); def when it is NaN.
func parseIntJS(s string, def float64) float64 {
	s = strings.TrimLeftFunc(s, isJSSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return def
	}
	f, _ := strconv.ParseFloat(s[:j], 64)
	return f
}

// parseFloatJS is parseFloat(s).
func parseFloatJS(s string) float64 {
	s = strings.TrimLeftFunc(s, isJSSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j == i || j == i+1 && s[i] == '.' {
		return math.NaN()
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		m := k
		for m < len(s) && isDigit(s[m]) {
			m++
		}
		if m > k {
			j = m
		}
	}
	f, err := strconv.ParseFloat(s[:j], 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func (in *interp) callFilter(v Value, name string, argNodes []node, e *env) (Value, error) {
	args, kw, err := in.args(argNodes, e)
	if err != nil {
		return nil, err
	}
	switch name {
	case "tojson":
		o := jsonOpts{}
		switch ind := arg(nil, kw, 0, "indent", nil).(type) {
		case nil:
		case Int:
			o.indent = int(ind)
		default:
			return nil, errorf("tojson: indent must be a number")
		}
		var ok bool
		if o.ensureASCII, ok = arg(nil, kw, 0, "ensure_ascii", false).(bool); !ok {
			return nil, errorf("tojson: ensure_ascii must be a boolean")
		}
		if o.sortKeys, ok = arg(nil, kw, 0, "sort_keys", false).(bool); !ok {
			return nil, errorf("tojson: sort_keys must be a boolean")
		}
		switch sep := arg(nil, kw, 0, "separators", nil).(type) {
		case nil:
		case *List:
			if len(sep.Items) != 2 {
				return nil, errorf("tojson: separators must be a tuple of two strings")
			}
			a, ok1 := sep.Items[0].(string)
			b, ok2 := sep.Items[1].(string)
			if !ok1 || !ok2 {
				return nil, errorf("tojson: separators must be a tuple of two strings")
			}
			o.separators = &[2]string{a, b}
		default:
			return nil, errorf("tojson: separators must be a tuple of two strings")
		}
		s, err := toJSON(v, o, 0, true)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "join":
		sep, ok := arg(args, kw, 0, "separator", "").(string)
		if !ok {
			return nil, errorf("join: separator must be a string")
		}
		switch x := v.(type) {
		case string:
			return strings.Join(runes(x), sep), nil
		case *List:
			return joinList(x, sep), nil
		}
		return nil, errorf("cannot apply filter join to %s", typeName(v))
	case "int", "float":
		var def Value = Int(0)
		if name == "float" {
			def = Float(0)
		}
		def = arg(args, kw, 0, "default", def)
		switch x := v.(type) {
		case string:
			if name == "int" {
				f := parseIntJS(x, math.NaN())
				if math.IsNaN(f) {
					return def, nil
				}
				return Int(f), nil
			}
			f := parseFloatJS(x)
			if math.IsNaN(f) {
				return def, nil
			}
			return Float(f), nil
		case Int, Float:
			return x, nil
		case bool:
			return simpleFilter(x, name)
		}
		return nil, errorf("cannot apply filter %s to %s", name, typeName(v))
	case "default":
		def := Value("")
		if len(args) > 0 {
			def = args[0]
		}
		boolean, ok := arg(args, kw, 1, "boolean", false).(bool)
		if !ok {
			return nil, errorf("default: the boolean flag must be a boolean")
		}
		if _, u := v.(undefinedT); u || boolean && !truthy(v) {
			return def, nil
		}
		return v, nil
	}
	switch x := v.(type) {
	case *List:
		switch name {
		case "sort":
			rev, ok1 := arg(args, kw, 0, "reverse", false).(bool)
			cs, ok2 := arg(args, kw, 1, "case_sensitive", false).(bool)
			if !ok1 || !ok2 {
				return nil, errorf("sort: reverse and case_sensitive must be booleans")
			}
			key := func(v Value) Value { return v }
			switch a := arg(args, kw, 2, "attribute", nil).(type) {
			case nil:
			case string:
				key = func(v Value) Value { return attrPath(v, a) }
			case Int:
				p := jsNum(float64(a))
				key = func(v Value) Value { return attrPath(v, p) }
			default:
				return nil, errorf("sort: attribute must be a string, integer or none")
			}
			out := &List{Items: append([]Value(nil), x.Items...)}
			return out, sortValues(out.Items, key, cs, rev)
		case "selectattr", "rejectattr":
			for _, it := range x.Items {
				switch it.(type) {
				case *Dict, *Namespace:
				default:
					return nil, errorf("%s can only be applied to a list of dicts", name)
				}
			}
			for _, a := range argNodes {
				if _, ok := a.(*textNode); !ok {
					return nil, errorf("the arguments of %s must be strings", name)
				}
			}
			if len(args) == 0 {
				return nil, errorf("%s needs an attribute name", name)
			}
			attr := args[0].(string)
			test := func(v, _ Value) (bool, error) { return truthy(v), nil }
			var tv Value
			if len(args) > 1 {
				t, ok := tests[args[1].(string)]
				if !ok {
					return nil, errorf("unknown test %q", args[1])
				}
				test = t
				if len(args) > 2 {
					tv = args[2]
				}
			}
			out := &List{}
			for _, it := range x.Items {
				var d *Dict
				if dd, ok := it.(*Dict); ok {
					d = dd
				} else {
					d = it.(*Namespace).d
				}
				a, has := d.Get(attr)
				r := false
				if has {
					var err error
					if r, err = test(a, tv); err != nil {
						return nil, err
					}
				}
				if r == (name == "selectattr") {
					out.Items = append(out.Items, it)
				}
			}
			return out, nil
		case "map":
			var a Value
			ok := false
			if kw != nil {
				a, ok = kw.Get("attribute")
			}
			if !ok {
				return nil, errorf("map without attribute= is not supported")
			}
			as, ok := a.(string)
			if !ok {
				return nil, errorf("map: attribute must be a string")
			}
			def, hasDef := kw.Get("default") // kw is not nil here
			out := &List{}
			for _, it := range x.Items {
				switch it.(type) {
				case *Dict, *Namespace:
				default:
					return nil, errorf("map: items must be dicts")
				}
				v := attrPath(it, as)
				if _, u := v.(undefinedT); u && hasDef {
					v = def
				}
				out.Items = append(out.Items, v)
			}
			return out, nil
		}
		return nil, errorf("unknown list filter %q", name)
	case string:
		switch name {
		case "indent":
			w, ok := arg(args, kw, 0, "width", Int(4)).(Int)
			if !ok {
				return nil, errorf("indent: width must be a number")
			}
			first := truthy(arg(args, kw, 1, "first", false))
			blank := truthy(arg(args, kw, 2, "blank", false))
			return indent(x, int(w), first, blank), nil
		case "replace":
			return replaceMethod(x, args, kw)
		}
		return nil, errorf("unknown string filter %q", name)
	case *Dict:
		if m := dictMethod(x, name); m != nil {
			return m.(Func)(args, kw)
		}
		return nil, errorf("unknown dict filter %q", name)
	}
	return nil, errorf("cannot apply filter %q to %s", name, typeName(v))
}

// tests are the "is" tests; the second argument is the test's argument.
var tests = map[string]func(v, arg Value) (bool, error){
	"boolean": func(v, _ Value) (bool, error) { _, ok := v.(bool); return ok, nil },
	"callable": func(v, _ Value) (bool, error) {
		switch v.(type) {
		case Func, *macroVal:
			return true, nil
		}
		return false, nil
	},
	"odd": func(v, _ Value) (bool, error) {
		i, ok := v.(Int)
		if !ok {
			return false, errorf("cannot test odd on %s", typeName(v))
		}
		return math.Mod(float64(i), 2) != 0, nil
	},
	"even": func(v, _ Value) (bool, error) {
		i, ok := v.(Int)
		if !ok {
			return false, errorf("cannot test even on %s", typeName(v))
		}
		return math.Mod(float64(i), 2) == 0, nil
	},
	"false":   func(v, _ Value) (bool, error) { b, ok := v.(bool); return ok && !b, nil },
	"true":    func(v, _ Value) (bool, error) { b, ok := v.(bool); return ok && b, nil },
	"none":    func(v, _ Value) (bool, error) { return v == nil, nil },
	"string":  func(v, _ Value) (bool, error) { _, ok := v.(string); return ok, nil },
	"number":  func(v, _ Value) (bool, error) { _, ok := isNumber(v); return ok, nil },
	"integer": func(v, _ Value) (bool, error) { _, ok := v.(Int); return ok, nil },
	"iterable": func(v, _ Value) (bool, error) {
		switch x := v.(type) {
		case string:
			return true, nil
		case *List:
			return !x.Tuple, nil
		}
		return false, nil
	},
	"mapping": func(v, _ Value) (bool, error) { _, ok := v.(*Dict); return ok, nil },
	"sequence": func(v, _ Value) (bool, error) {
		switch v.(type) {
		case *List, *Dict, string:
			return true, nil
		}
		return false, nil
	},
	"lower":   func(v, _ Value) (bool, error) { s, ok := v.(string); return ok && s == jsLower(s), nil },
	"upper":   func(v, _ Value) (bool, error) { s, ok := v.(string); return ok && s == jsUpper(s), nil },
	"defined": func(v, _ Value) (bool, error) { _, u := v.(undefinedT); return !u, nil },
	"undefined": func(v, _ Value) (bool, error) {
		_, u := v.(undefinedT)
		return u, nil
	},
	"equalto": func(a, b Value) (bool, error) { return strictEq(a, b), nil },
	"eq":      func(a, b Value) (bool, error) { return strictEq(a, b), nil },
}

// namespaceFn is the namespace() global.
func namespaceFn(args []Value, kw *Dict) (Value, error) {
	if len(args) > 1 {
		return nil, errorf("namespace expected at most 1 argument, got %d", len(args))
	}
	d := NewDict()
	if len(args) == 1 {
		switch src := args[0].(type) {
		case *Dict:
			for _, k := range src.keys {
				d.Set(k, src.m[k])
			}
		case *List:
			for _, pair := range src.Items {
				var kv []Value
				switch p := pair.(type) {
				case *List:
					kv = p.Items
				case string:
					for _, r := range runes(p) {
						kv = append(kv, r)
					}
				}
				if len(kv) != 2 {
					return nil, errorf("namespace expected a dict or a list of [key, value] pairs")
				}
				k, ok := kv[0].(string)
				if !ok {
					return nil, errorf("namespace keys must be strings")
				}
				d.Set(k, kv[1])
			}
		default:
			return nil, errorf("%s is not iterable", typeName(src))
		}
	}
	if kw != nil {
		for _, k := range kw.keys {
			d.Set(k, kw.m[k])
		}
	}
	return &Namespace{d}, nil
}

// rangeFn is range(start, stop, step) on the arguments' numbers.
func rangeFn(args []Value, _ *Dict) (Value, error) {
	nums := make([]float64, len(args))
	for i, a := range args {
		f, ok := numLike(a)
		if !ok {
			return nil, errorf("range() arguments must be numbers, got %s", typeName(a))
		}
		nums[i] = f
	}
	var start, stop, step float64 = 0, 0, 1
	switch len(nums) {
	case 0:
		return nil, errorf("range() needs at least one argument")
	case 1:
		stop = nums[0]
	case 2:
		start, stop = nums[0], nums[1]
	default:
		start, stop, step = nums[0], nums[1], nums[2]
	}
	if step == 0 {
		return nil, errorf("range() step must not be zero")
	}
	out := &List{}
	for i := start; step > 0 && i < stop || step < 0 && i > stop; i += step {
		if len(out.Items) >= maxRange {
			return nil, errorf("range() of more than %d items", maxRange)
		}
		if i == math.Trunc(i) {
			out.Items = append(out.Items, Int(i))
		} else {
			out.Items = append(out.Items, Float(i))
		}
	}
	return out, nil
}

// strftimeNow is strftime_now(format) with %Y %m %d %b %B %H %M %%.
func strftimeNow(args []Value, _ *Dict) (Value, error) {
	if len(args) == 0 {
		return nil, errorf("strftime_now() needs a format")
	}
	f, ok := args[0].(string)
	if !ok {
		return nil, errorf("strftime_now() format must be a string")
	}
	t := time.Now()
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'M':
			b.WriteString(t.Format("04"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String(), nil
}
