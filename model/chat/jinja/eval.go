package jinja

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Template is a parsed template.
type Template struct {
	src  *source
	body []node
}

// Parse parses a template. Errors are *Error with the line and column.
func Parse(tpl string) (*Template, error) {
	s := preprocess(tpl)
	if !utf8.ValidString(tpl) {
		i := 0
		for i < len(tpl) {
			r, w := utf8.DecodeRuneInString(tpl[i:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			i += w
		}
		e := (&source{orig: tpl, pos: []int{i}}).errAt(0, "invalid UTF-8 in the template")
		return nil, e
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	body, err := parse(s, toks)
	if err != nil {
		return nil, err
	}
	return &Template{src: s, body: body}, nil
}

// Limits of one rendering (a template is code: it must not hang or exhaust
// memory).
const (
	maxOutput    = 64 << 20 // bytes of rendered text
	maxCallDepth = 200      // nested macro calls
	maxRange     = 1 << 20  // items of range()
	maxSteps     = 5_000_000
)

// plainError is an error raised without a position (e.g. by
// raise_exception); the interpreter adds the position of the node.
type plainError struct{ msg string }

func (e *plainError) Error() string { return e.msg }

func errorf(format string, args ...any) error { return &plainError{fmt.Sprintf(format, args...)} }

// RaiseError is the error of raise_exception(msg).
type RaiseError struct {
	Msg  string
	Line int
	Col  int
}

func (e *RaiseError) Error() string {
	return fmt.Sprintf("line %d, column %d: raise_exception: %s", e.Line, e.Col, e.Msg)
}

type env struct {
	vars   map[string]Value
	parent *env
}

func newEnv(parent *env) *env { return &env{vars: map[string]Value{}, parent: parent} }

func (e *env) lookup(name string) Value {
	for s := e; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v
		}
	}
	return Undefined
}

type breakErr struct{}
type continueErr struct{}

func (breakErr) Error() string    { return "break outside a loop" }
func (continueErr) Error() string { return "continue outside a loop" }

type interp struct {
	t     *Template
	out   int // bytes rendered so far (a bound, not exact)
	depth int
	steps int
}

// Render renders the template with the given variables (on top of the
// globals true, false, none, namespace, range, raise_exception,
// strftime_now). Values are those of this package (see Value; FromGo and
// ParseJSON build them).
func (t *Template) Render(vars *Dict) (string, error) {
	g := newEnv(nil)
	g.vars["namespace"] = Func(namespaceFn)
	for k, v := range map[string]Value{"false": false, "true": true, "none": nil, "False": false, "True": true, "None": nil} {
		g.vars[k] = v
	}
	g.vars["raise_exception"] = Func(func(args []Value, _ *Dict) (Value, error) {
		msg := "" // new Error(undefined)
		if len(args) > 0 && args[0] != nil && args[0] != Undefined {
			msg = raw(args[0])
		}
		return nil, &RaiseError{Msg: msg}
	})
	g.vars["range"] = Func(rangeFn)
	g.vars["strftime_now"] = Func(strftimeNow)
	if vars != nil {
		for _, k := range vars.keys {
			if _, ok := g.vars[k]; ok {
				return "", fmt.Errorf("variable %q is already declared", k)
			}
			g.vars[k] = vars.m[k]
		}
	}
	in := &interp{t: t}
	s, err := in.block(t.body, g)
	if err != nil {
		var b breakErr
		var c continueErr
		if errors.As(err, &b) || errors.As(err, &c) {
			return "", t.src.errAt(0, "%v", err)
		}
		return "", err
	}
	return s, nil
}

// wrap adds the position of n to an error that has none.
func (in *interp) wrap(n node, err error) error {
	var pe *plainError
	if errors.As(err, &pe) {
		return in.t.src.errAt(n.at(), "%s", pe.msg)
	}
	var re *RaiseError
	if errors.As(err, &re) && re.Line == 0 {
		e := in.t.src.errAt(n.at(), "")
		re.Line, re.Col = e.Line, e.Col
	}
	return err
}

func (in *interp) block(body []node, e *env) (string, error) {
	var b strings.Builder
	for _, n := range body {
		v, err := in.eval(n, e)
		if err != nil {
			return "", err
		}
		switch v.(type) {
		case undefinedT, nil:
			continue
		}
		s, err := strErr(v)
		if err != nil {
			return "", in.wrap(n, err)
		}
		if in.out += len(s); in.out > maxOutput {
			return "", in.t.src.errAt(n.at(), "output larger than %d bytes", maxOutput)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func (in *interp) eval(n node, e *env) (Value, error) {
	if in.steps++; in.steps > maxSteps {
		return nil, in.t.src.errAt(n.at(), "template takes more than %d steps", maxSteps)
	}
	v, err := in.eval1(n, e)
	if err != nil {
		return nil, in.wrap(n, err)
	}
	return v, nil
}

func (in *interp) eval1(n node, e *env) (Value, error) {
	switch n := n.(type) {
	case *textNode:
		return n.s, nil
	case *commentNode:
		return nil, nil
	case *intLit:
		return Int(n.v), nil
	case *floatLit:
		return Float(n.v), nil
	case *listLit, *tupleLit:
		var items []node
		tuple := false
		if l, ok := n.(*listLit); ok {
			items = l.items
		} else {
			items, tuple = n.(*tupleLit).items, true
		}
		out := &List{Items: make([]Value, len(items)), Tuple: tuple}
		for i, it := range items {
			v, err := in.eval(it, e)
			if err != nil {
				return nil, err
			}
			out.Items[i] = v
		}
		return out, nil
	case *dictLit:
		d := NewDict()
		for i, k := range n.keys {
			kv, err := in.eval(k, e)
			if err != nil {
				return nil, err
			}
			ks, ok := kv.(string)
			if !ok {
				return nil, errorf("dict keys must be strings, got %s", typeName(kv))
			}
			v, err := in.eval(n.vals[i], e)
			if err != nil {
				return nil, err
			}
			d.Set(ks, v)
		}
		return d, nil
	case *identNode:
		return e.lookup(n.name), nil
	case *memberNode:
		return in.member(n, e)
	case *callNode:
		args, kw, err := in.args(n.args, e)
		if err != nil {
			return nil, err
		}
		if kw != nil {
			args = append(args, kwargs{kw})
		}
		fn, err := in.eval(n.callee, e)
		if err != nil {
			return nil, err
		}
		pos, kwd := splitKwargs(args)
		if m, ok := fn.(*macroVal); ok {
			return in.callMacro(m, pos, kwd, e)
		}
		f, ok := fn.(Func)
		if !ok {
			return nil, errorf("cannot call %s (not a function)", typeName(fn))
		}
		return f(pos, kwd)
	case *unaryNode:
		v, err := in.eval(n.arg, e)
		if err != nil {
			return nil, err
		}
		if n.op == "not" {
			return !truthy(v), nil
		}
		sign := 1.0
		if n.op == "-" {
			sign = -1
		}
		switch x := v.(type) {
		case Int:
			return Int(sign * float64(x)), nil
		case Float:
			return Float(sign * float64(x)), nil
		case bool:
			if x {
				return Int(sign), nil
			}
			return Int(sign * 0), nil
		}
		return nil, errorf("unknown operator %q for %s", n.op, typeName(v))
	case *binaryNode:
		return in.binary(n, e)
	case *filterNode:
		v, err := in.eval(n.operand, e)
		if err != nil {
			return nil, err
		}
		return in.applyFilter(v, n.filter, e)
	case *filterStmt:
		s, err := in.block(n.body, e)
		if err != nil {
			return nil, err
		}
		return in.applyFilter(s, n.filter, e)
	case *testNode:
		v, err := in.eval(n.operand, e)
		if err != nil {
			return nil, err
		}
		t, ok := tests[n.test]
		if !ok {
			return nil, errorf("unknown test %q", n.test)
		}
		r, err := t(v, nil)
		if err != nil {
			return nil, err
		}
		return r != n.negate, nil
	case *selectNode:
		c, err := in.eval(n.test, e)
		if err != nil {
			return nil, err
		}
		if !truthy(c) {
			return Undefined, nil
		}
		return in.eval(n.lhs, e)
	case *ternaryNode:
		c, err := in.eval(n.cond, e)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return in.eval(n.yes, e)
		}
		return in.eval(n.no, e)
	case *ifNode:
		c, err := in.eval(n.test, e)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return in.block(n.body, e)
		}
		return in.block(n.alt, e)
	case *forNode:
		return in.forLoop(n, e)
	case *setNode:
		return nil, in.set(n, e)
	case *macroNode:
		e.vars[n.name] = in.macro(n)
		return nil, nil
	case *breakNode:
		return nil, breakErr{}
	case *continueNode:
		return nil, continueErr{}
	case *sliceNode:
		return nil, errorf("a slice is only allowed between [ and ]")
	case *kwArg:
		return nil, errorf("keyword argument %s= outside a call", n.key)
	}
	return nil, errorf("unknown node %T", n)
}

// splitKwargs separates a trailing keyword-arguments dict.
func splitKwargs(args []Value) ([]Value, *Dict) {
	if len(args) > 0 {
		if k, ok := args[len(args)-1].(kwargs); ok {
			return args[:len(args)-1], k.Dict
		}
	}
	return args, nil
}

// args evaluates call arguments: positional values, then keyword ones.
func (in *interp) args(nodes []node, e *env) ([]Value, *Dict, error) {
	var pos []Value
	var kw *Dict
	for _, a := range nodes {
		if _, ok := a.(*kwArg); ok {
			continue
		}
		v, err := in.eval(a, e)
		if err != nil {
			return nil, nil, err
		}
		pos = append(pos, v)
	}
	for _, a := range nodes {
		k, ok := a.(*kwArg)
		if !ok {
			continue
		}
		if kw == nil {
			kw = NewDict()
		}
		if _, dup := kw.Get(k.key); dup {
			return nil, nil, errorf("got multiple values for keyword argument %q", k.key)
		}
		v, err := in.eval(k.val, e)
		if err != nil {
			return nil, nil, err
		}
		kw.Set(k.key, v)
	}
	return pos, kw, nil
}

func (in *interp) member(n *memberNode, e *env) (Value, error) {
	obj, err := in.eval(n.obj, e)
	if err != nil {
		return nil, err
	}
	var prop Value
	switch {
	case n.computed:
		if s, ok := n.prop.(*sliceNode); ok {
			return in.slice(obj, s, e)
		}
		if prop, err = in.eval(n.prop, e); err != nil {
			return nil, err
		}
	default:
		switch p := n.prop.(type) {
		case *intLit:
			prop = Int(p.v)
		case *identNode:
			prop = p.name
		}
	}
	return getMember(obj, prop)
}

func getMember(obj, prop Value) (Value, error) {
	switch o := obj.(type) {
	case *Dict, *Namespace:
		key, ok := prop.(string)
		if !ok {
			return nil, errorf("cannot access a dict property with %s", typeName(prop))
		}
		if d, ok := o.(*Dict); ok {
			if v, ok := d.Get(key); ok {
				return v, nil
			}
			if f := dictMethod(d, key); f != nil {
				return f, nil
			}
			return Undefined, nil
		}
		if v, ok := o.(*Namespace).d.Get(key); ok {
			return v, nil
		}
		return Undefined, nil
	case *List, string:
		switch p := prop.(type) {
		case Int:
			return at(o, float64(p)), nil
		case string:
			if l, ok := o.(*List); ok {
				if p == "length" {
					return Int(len(l.Items)), nil
				}
				return Undefined, nil
			}
			if m := stringMethod(o.(string), p); m != nil {
				return m, nil
			}
			return Undefined, nil
		}
		return nil, errorf("cannot access a property with %s", typeName(prop))
	}
	if _, ok := prop.(string); !ok {
		return nil, errorf("cannot access a property of %s with %s", typeName(obj), typeName(prop))
	}
	return Undefined, nil
}

// at is Array.prototype.at / String.prototype.at (UTF-16 units; a
// surrogate half gives U+FFFD).
func at(o Value, i float64) Value {
	if l, ok := o.(*List); ok {
		n := float64(len(l.Items))
		idx := math.Trunc(i)
		if idx < 0 {
			idx += n
		}
		if idx < 0 || idx >= n {
			return Undefined
		}
		return l.Items[int(idx)]
	}
	units := utf16Units(o.(string))
	n := float64(len(units))
	idx := math.Trunc(i)
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		return Undefined
	}
	u := units[int(idx)]
	if u >= 0xD800 && u < 0xE000 {
		return "\uFFFD"
	}
	return string(rune(u))
}

func (in *interp) slice(obj Value, s *sliceNode, e *env) (Value, error) {
	var bounds [3]*float64
	for i, part := range []node{s.start, s.stop, s.step} {
		if part == nil {
			continue
		}
		v, err := in.eval(part, e)
		if err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case undefinedT:
		case Int:
			f := float64(x)
			bounds[i] = &f
		default:
			return nil, errorf("slice bounds must be integers, got %s", typeName(v))
		}
	}
	switch o := obj.(type) {
	case *List:
		idx, err := sliceIdx(len(o.Items), bounds)
		if err != nil {
			return nil, err
		}
		out := &List{Items: make([]Value, 0, len(idx))}
		for _, i := range idx {
			out.Items = append(out.Items, o.Items[i])
		}
		return out, nil
	case string:
		cs := runes(o)
		idx, err := sliceIdx(len(cs), bounds)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, i := range idx {
			b.WriteString(cs[i])
		}
		return b.String(), nil
	}
	return nil, errorf("only lists and strings can be sliced, not %s", typeName(obj))
}

// sliceIdx is Python slicing as @huggingface/jinja's slice implements it.
func sliceIdx(n int, b [3]*float64) ([]int, error) {
	step := 1.0
	if b[2] != nil {
		step = *b[2]
	}
	if step == 0 {
		return nil, nil
	}
	fn := float64(n)
	var start, stop float64
	if step > 0 {
		start, stop = 0, fn
		if b[0] != nil {
			start = *b[0]
		}
		if b[1] != nil {
			stop = *b[1]
		}
		if start < 0 {
			start = math.Max(fn+start, 0)
		} else {
			start = math.Min(start, fn)
		}
		if stop < 0 {
			stop = math.Max(fn+stop, 0)
		} else {
			stop = math.Min(stop, fn)
		}
	} else {
		start, stop = fn-1, -1
		if b[0] != nil {
			start = *b[0]
		}
		if b[1] != nil {
			stop = *b[1]
		}
		if start < 0 {
			start = math.Max(fn+start, -1)
		} else {
			start = math.Min(start, fn-1)
		}
		if stop < -1 {
			stop = math.Max(fn+stop, -1)
		} else {
			stop = math.Min(stop, fn-1)
		}
	}
	var out []int
	dir := 1.0
	if step < 0 {
		dir = -1
	}
	for i := start; dir*i < dir*stop; i += step {
		if i >= 0 && i < fn && i == math.Trunc(i) {
			out = append(out, int(i))
		}
		if len(out) > n {
			break
		}
	}
	return out, nil
}

func (in *interp) binary(n *binaryNode, e *env) (Value, error) {
	left, err := in.eval(n.left, e)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and":
		if !truthy(left) {
			return left, nil
		}
		return in.eval(n.right, e)
	case "or":
		if truthy(left) {
			return left, nil
		}
		return in.eval(n.right, e)
	}
	right, err := in.eval(n.right, e)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "==":
		return looseEq(left, right), nil
	case "!=":
		return !looseEq(left, right), nil
	}
	_, lu := left.(undefinedT)
	_, ru := right.(undefinedT)
	if lu || ru {
		if ru && (n.op == "in" || n.op == "not in") {
			return n.op == "not in", nil
		}
		return nil, errorf("cannot apply %s to an undefined value", n.op)
	}
	if left == nil || right == nil {
		return nil, errorf("cannot apply %s to none", n.op)
	}
	if n.op == "~" {
		return raw(left) + raw(right), nil
	}
	if n.op == "**" {
		a, aok := numLike(left)
		b, bok := numLike(right)
		if aok && bok {
			if a == 0 && b < 0 {
				return nil, errorf("0.0 cannot be raised to a negative power")
			}
			r := math.Pow(a, b)
			if math.IsNaN(r) || math.IsInf(r, 0) {
				return nil, errorf("exponentiation result is not a finite real number")
			}
			_, lf := left.(Float)
			_, rf := right.(Float)
			if lf || rf || b < 0 {
				return Float(r), nil
			}
			return Int(r), nil
		}
	}
	a, aok := isNumber(left)
	b, bok := isNumber(right)
	if aok && bok {
		_, lf := left.(Float)
		_, rf := right.(Float)
		num := func(f float64) Value {
			if lf || rf {
				return Float(f)
			}
			return Int(f)
		}
		switch n.op {
		case "+":
			return num(a + b), nil
		case "-":
			return num(a - b), nil
		case "*":
			return num(a * b), nil
		case "/":
			return Float(a / b), nil
		case "//":
			return num(math.Floor(a / b)), nil
		case "%":
			return num(math.Mod(a, b)), nil
		case "<":
			return a < b, nil
		case ">":
			return a > b, nil
		case ">=":
			return a >= b, nil
		case "<=":
			return a <= b, nil
		}
	} else if l, ok := left.(*List); ok && isList(right) {
		if n.op == "+" {
			return &List{Items: append(append([]Value(nil), l.Items...), right.(*List).Items...)}, nil
		}
	} else if r, ok := right.(*List); ok {
		{
			member := false
			for _, it := range r.Items {
				if strictEq(it, left) {
					member = true
					break
				}
			}
			switch n.op {
			case "in":
				return member, nil
			case "not in":
				return !member, nil
			}
		}
	}
	ls, lstr := left.(string)
	rs, rstr := right.(string)
	if (lstr || rstr) && n.op == "+" {
		return raw(left) + raw(right), nil
	}
	if lstr && rstr {
		switch n.op {
		case "in":
			return strings.Contains(rs, ls), nil
		case "not in":
			return !strings.Contains(rs, ls), nil
		}
	}
	if d, ok := right.(*Dict); ok && lstr {
		_, has := d.Get(ls)
		switch n.op {
		case "in":
			return has, nil
		case "not in":
			return !has, nil
		}
	}
	return nil, errorf("unknown operator %q between %s and %s", n.op, typeName(left), typeName(right))
}

func isList(v Value) bool { _, ok := v.(*List); return ok }

func numLike(v Value) (float64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return isNumber(v)
}

func (in *interp) set(n *setNode, e *env) error {
	var rhs Value
	if n.value != nil {
		v, err := in.eval(n.value, e)
		if err != nil {
			return err
		}
		rhs = v
	} else {
		s, err := in.block(n.body, e)
		if err != nil {
			return err
		}
		rhs = s
	}
	switch t := n.target.(type) {
	case *identNode:
		e.vars[t.name] = rhs
	case *tupleLit:
		l, ok := rhs.(*List)
		if !ok {
			return errorf("cannot unpack %s in set", typeName(rhs))
		}
		if len(l.Items) != len(t.items) {
			return errorf("set unpacks %d values into %d names", len(l.Items), len(t.items))
		}
		for i, it := range t.items {
			id, ok := it.(*identNode)
			if !ok {
				return errorf("cannot unpack into %T in set", it)
			}
			e.vars[id.name] = l.Items[i]
		}
	case *memberNode:
		obj, err := in.eval(t.obj, e)
		if err != nil {
			return err
		}
		ns, ok := obj.(*Namespace)
		if !ok {
			return errorf("cannot assign an attribute of %s (only of a namespace)", typeName(obj))
		}
		id, ok := t.prop.(*identNode)
		if !ok || t.computed {
			return errorf("cannot assign to a member that is not a name")
		}
		ns.d.Set(id.name, rhs)
	default:
		return errorf("cannot assign to this expression")
	}
	return nil
}

func (in *interp) forLoop(n *forNode, e *env) (Value, error) {
	scope := newEnv(e)
	var it Value
	var cond node
	var err error
	if s, ok := n.iterable.(*selectNode); ok {
		it, err = in.eval(s.lhs, scope)
		cond = s.test
	} else {
		it, err = in.eval(n.iterable, scope)
	}
	if err != nil {
		return nil, err
	}
	var items []Value
	switch x := it.(type) {
	case *List:
		items = x.Items
	case *Dict:
		for _, k := range x.keys {
			items = append(items, k)
		}
	default:
		return nil, errorf("cannot loop over %s", typeName(it))
	}
	bind := func(s *env, cur Value) error {
		switch lv := n.loopvar.(type) {
		case *identNode:
			s.vars[lv.name] = cur
		case *tupleLit:
			l, ok := cur.(*List)
			if !ok {
				return errorf("cannot unpack %s", typeName(cur))
			}
			if len(l.Items) != len(lv.items) {
				return errorf("cannot unpack %d values into %d names", len(l.Items), len(lv.items))
			}
			for j, v := range lv.items {
				id, ok := v.(*identNode)
				if !ok {
					return errorf("cannot unpack into a non-name")
				}
				s.vars[id.name] = l.Items[j]
			}
		}
		return nil
	}
	var kept []Value
	for _, cur := range items {
		if cond != nil {
			ls := newEnv(scope)
			if err := bind(ls, cur); err != nil {
				return nil, err
			}
			c, err := in.eval(cond, ls)
			if err != nil {
				return nil, err
			}
			if !truthy(c) {
				continue
			}
		} else if _, ok := n.loopvar.(*tupleLit); ok {
			if _, ok := cur.(*List); !ok {
				return nil, errorf("cannot unpack %s", typeName(cur))
			}
		}
		kept = append(kept, cur)
	}
	var b strings.Builder
	ran := false
	for i, cur := range kept {
		l := len(kept)
		loop := NewDict().Set("index", Int(i+1)).Set("index0", Int(i)).Set("revindex", Int(l-i)).
			Set("revindex0", Int(l-i-1)).Set("first", i == 0).Set("last", i == l-1).Set("length", Int(l))
		if i > 0 {
			loop.Set("previtem", kept[i-1])
		} else {
			loop.Set("previtem", Undefined)
		}
		if i < l-1 {
			loop.Set("nextitem", kept[i+1])
		} else {
			loop.Set("nextitem", Undefined)
		}
		scope.vars["loop"] = loop
		if err := bind(scope, cur); err != nil {
			return nil, err
		}
		s, err := in.block(n.body, scope)
		if err != nil {
			var c continueErr
			var br breakErr
			if errors.As(err, &c) {
				continue
			}
			if errors.As(err, &br) {
				break
			}
			return nil, err
		}
		b.WriteString(s)
		ran = true
	}
	if !ran {
		s, err := in.block(n.alt, scope)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// macroVal is a macro: a function that runs in a scope under the caller's
// (as @huggingface/jinja calls it).
type macroVal struct{ n *macroNode }

func (in *interp) macro(n *macroNode) Value { return &macroVal{n} }

func (in *interp) callMacro(m *macroVal, args []Value, kw *Dict, e *env) (Value, error) {
	if in.depth++; in.depth > maxCallDepth {
		return nil, errorf("macro calls nested more than %d deep", maxCallDepth)
	}
	defer func() { in.depth-- }()
	scope := newEnv(e)
	var pending []*kwArg
	used := map[string]bool{}
	for i, p := range m.n.params {
		var name string
		var def *kwArg
		switch p := p.(type) {
		case *identNode:
			name = p.name
		case *kwArg:
			name, def = p.key, p
		}
		var v Value
		have := false
		if i < len(args) {
			v, have = args[i], true
		} else if kw != nil {
			if kv, ok := kw.Get(name); ok {
				v, have = kv, true
				used[name] = true
			}
		}
		if !have {
			v = Undefined
			if def != nil {
				pending = append(pending, def)
			}
		}
		scope.vars[name] = v
	}
	if kw != nil {
		for _, k := range kw.keys {
			if !used[k] {
				return nil, errorf("macro %s takes no keyword argument %q", m.n.name, k)
			}
		}
	}
	if len(args) > len(m.n.params) {
		return nil, errorf("macro %s takes not more than %d argument(s)", m.n.name, len(m.n.params))
	}
	for _, d := range pending {
		v, err := in.eval(d.val, scope)
		if err != nil {
			return nil, err
		}
		scope.vars[d.key] = v
	}
	return in.block(m.n.body, scope)
}
