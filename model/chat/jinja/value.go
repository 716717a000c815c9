package jinja

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Value is a template value: Undefined, nil (none), bool, Int, Float,
// string, *List, *Dict, *Namespace or Func.
type Value any

// Int and Float are numbers (JavaScript doubles) printed as integers or
// floats.
type (
	Int   float64
	Float float64
)

// undefinedT is the value of an unknown name or missing attribute.
type undefinedT struct{}

// Undefined is the undefined value.
var Undefined Value = undefinedT{}

// List is a list (or tuple) value.
type List struct {
	Items []Value
	Tuple bool
}

// Dict is a dict with keys in insertion order.
type Dict struct {
	keys []string
	m    map[string]Value
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{m: map[string]Value{}} }

// Set sets key (appended to the key order when new).
func (d *Dict) Set(key string, v Value) *Dict {
	if _, ok := d.m[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.m[key] = v
	return d
}

// Get returns the value of key.
func (d *Dict) Get(key string) (Value, bool) {
	v, ok := d.m[key]
	return v, ok
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []string { return d.keys }

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Namespace is a namespace() object.
type Namespace struct{ d *Dict }

// Func is a callable (a global function, a macro or a method); kw holds
// the keyword arguments (nil when there are none).
type Func func(args []Value, kw *Dict) (Value, error)

// kwargs marks a Dict passed as keyword arguments to a method.
type kwargs struct{ *Dict }

func typeName(v Value) string {
	switch v.(type) {
	case undefinedT:
		return "UndefinedValue"
	case nil:
		return "NullValue"
	case bool:
		return "BooleanValue"
	case Int:
		return "IntegerValue"
	case Float:
		return "FloatValue"
	case string:
		return "StringValue"
	case *List:
		if v.(*List).Tuple {
			return "TupleValue"
		}
		return "ArrayValue"
	case *Dict:
		return "ObjectValue"
	case *Namespace:
		return "NamespaceValue"
	case Func, *macroVal:
		return "FunctionValue"
	}
	return "unknown"
}

func isNumber(v Value) (float64, bool) {
	switch n := v.(type) {
	case Int:
		return float64(n), true
	case Float:
		return float64(n), true
	}
	return 0, false
}

// truthy is the value's truth as @huggingface/jinja has it.
func truthy(v Value) bool {
	switch x := v.(type) {
	case undefinedT, nil:
		return false
	case bool:
		return x
	case Int:
		return x != 0 && !math.IsNaN(float64(x))
	case Float:
		return x != 0 && !math.IsNaN(float64(x))
	case string:
		return x != ""
	case *List:
		return len(x.Items) > 0
	case *Dict:
		return x.Len() > 0
	}
	return true // namespaces and functions
}

// jsNum is JavaScript's Number.prototype.toString().
func jsNum(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n := x + 1 // position of the decimal point
	k := len(digits)
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	d := digits[:1]
	if k > 1 {
		d += "." + digits[1:]
	}
	return sign + d + "e" + es + strconv.Itoa(abs(n-1))
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// floatString is FloatValue.toString: integral values with ".0".
func floatString(f float64) string {
	if f == 0 && math.Signbit(f) {
		return "-0.0"
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if math.Abs(f) >= 1e21 {
			return jsNum(f)
		}
		return strconv.FormatFloat(f, 'f', 0, 64) + ".0"
	}
	return jsNum(f)
}

// strErr is str, failing where JavaScript's toString throws (a tuple
// cannot be converted to JSON).
func strErr(v Value) (string, error) {
	switch v.(type) {
	case *List, *Dict, *Namespace:
		return toJSON(v, jsonOpts{}, 0, false)
	}
	return str(v), nil
}

// str is RuntimeValue.toString(): how a value prints in {{ }}.
func str(v Value) string {
	switch x := v.(type) {
	case undefinedT, nil: // a NullValue's .value is undefined too
		return "undefined"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case Int:
		return jsNum(float64(x))
	case Float:
		return floatString(float64(x))
	case string:
		return x
	case *List, *Dict, *Namespace:
		s, _ := toJSON(v, jsonOpts{}, 0, false)
		return s
	}
	return "function"
}

// raw is String(value.value): the JavaScript value as + and ~ concatenate
// it (1.0 is "1"; a list joins its items' str with ",").
func raw(v Value) string {
	switch x := v.(type) {
	case Float:
		return jsNum(float64(x))
	case *List:
		parts := make([]string, len(x.Items))
		for i, it := range x.Items {
			parts[i] = str(it)
		}
		return strings.Join(parts, ",")
	case *Dict, *Namespace:
		return "[object Map]"
	}
	return str(v)
}

// looseEq is JavaScript's == on the values' .value.
func looseEq(a, b Value) bool {
	type prim int
	const (
		pUndef prim = iota
		pNull
		pBool
		pNum
		pStr
		pObj
	)
	kind := func(v Value) prim {
		switch v.(type) {
		case undefinedT:
			return pUndef
		case nil:
			return pNull
		case bool:
			return pBool
		case Int, Float:
			return pNum
		case string:
			return pStr
		}
		return pObj
	}
	ka, kb := kind(a), kind(b)
	if (ka == pUndef || ka == pNull) && (kb == pUndef || kb == pNull) {
		return true
	}
	if ka == pUndef || ka == pNull || kb == pUndef || kb == pNull {
		return false
	}
	if ka == pObj || kb == pObj {
		return ka == pObj && kb == pObj && sameObject(a, b)
	}
	if ka == kb {
		return strictEq(a, b)
	}
	return toNumber(a) == toNumber(b)
}

func sameObject(a, b Value) bool {
	switch x := a.(type) {
	case *List:
		y, ok := b.(*List)
		return ok && x == y
	case *Dict:
		y, ok := b.(*Dict)
		return ok && x == y
	case *Namespace:
		y, ok := b.(*Namespace)
		return ok && x.d == y.d
	}
	return false
}

// strictEq is JavaScript's === on the values' .value.
func strictEq(a, b Value) bool {
	if x, ok := isNumber(a); ok {
		y, ok := isNumber(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case undefinedT, nil: // both have the .value undefined
		_, ok := b.(undefinedT)
		return ok || b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return sameObject(a, b)
}

// toNumber is JavaScript's Number() on a primitive.
func toNumber(v Value) float64 {
	switch x := v.(type) {
	case bool:
		if x {
			return 1
		}
		return 0
	case Int:
		return float64(x)
	case Float:
		return float64(x)
	case string:
		s := strings.TrimFunc(x, isJSSpace)
		if s == "" {
			return 0
		}
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseUint(s[2:], 16, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
		switch s {
		case "Infinity", "+Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		if strings.ContainsAny(s, "_xXpPnN") {
			return math.NaN()
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

// jsLen is a string's JavaScript length (UTF-16 code units).
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// utf16Less compares strings as JavaScript's < does (by UTF-16 units).
func utf16Less(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

type jsonOpts struct {
	indent      int // 0: none
	ensureASCII bool
	separators  *[2]string
	sortKeys    bool
}

// jsonString is JSON.stringify of a string.
func jsonString(s string, ascii bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(hex2(int(r)))
		case ascii && r >= 0x7f:
			for _, u := range utf16.Encode([]rune{r}) {
				b.WriteString(`\u`)
				b.WriteString(hex2(int(u >> 8)))
				b.WriteString(hex2(int(u & 0xff)))
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hex2(v int) string {
	const h = "0123456789abcdef"
	return string([]byte{h[v>>4&15], h[v&15]})
}

// toJSON is @huggingface/jinja's toJSON; undefNull: undefined as null
// (tojson) or as "undefined" (printing).
func toJSON(v Value, o jsonOpts, depth int, undefNull bool) (string, error) {
	item, key := ", ", ": "
	if o.separators != nil {
		item, key = o.separators[0], o.separators[1]
	} else if o.indent > 0 {
		item = ","
	}
	switch x := v.(type) {
	case nil:
		return "null", nil
	case undefinedT:
		if undefNull {
			return "null", nil
		}
		return "undefined", nil
	case Int:
		return jsonNum(float64(x)), nil
	case Float:
		return jsonNum(float64(x)), nil
	case bool:
		return str(x), nil
	case string:
		return jsonString(x, o.ensureASCII), nil
	case *List, *Dict, *Namespace:
		if l, ok := x.(*List); ok && l.Tuple {
			return "", errorf("cannot convert a tuple to JSON")
		}
		ind := strings.Repeat(" ", o.indent)
		pad := "\n" + strings.Repeat(ind, depth)
		child := pad + ind
		if l, ok := x.(*List); ok {
			parts := make([]string, len(l.Items))
			for i, it := range l.Items {
				s, err := toJSON(it, o, depth+1, undefNull)
				if err != nil {
					return "", err
				}
				parts[i] = s
			}
			if o.indent > 0 && len(parts) > 0 {
				return "[" + child + strings.Join(parts, item+child) + pad + "]", nil
			}
			return "[" + strings.Join(parts, item) + "]", nil
		}
		d, _ := x.(*Dict)
		if ns, ok := x.(*Namespace); ok {
			d = ns.d
		}
		keys := append([]string(nil), d.keys...)
		if o.sortKeys {
			sort.SliceStable(keys, func(i, j int) bool { return localeLess(keys[i], keys[j]) })
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			s, err := toJSON(d.m[k], o, depth+1, undefNull)
			if err != nil {
				return "", err
			}
			p := jsonString(k, o.ensureASCII) + key + s
			if o.indent > 0 {
				p = child + p
			}
			parts[i] = p
		}
		if o.indent > 0 && len(parts) > 0 {
			return "{" + strings.Join(parts, item) + pad + "}", nil
		}
		return "{" + strings.Join(parts, item) + "}", nil
	}
	return "", errorf("cannot convert %s to JSON", typeName(v))
}

// localeLess approximates String.prototype.localeCompare for sort_keys:
// case-insensitive first, then lower case before upper case.
func localeLess(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a > b
}

func jsonNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	return jsNum(f)
}

// runes returns the string's code points as strings (Array.from).
func runes(s string) []string {
	out := make([]string, 0, len(s))
	for len(s) > 0 {
		_, w := utf8.DecodeRuneInString(s)
		out = append(out, s[:w])
		s = s[w:]
	}
	return out
}
