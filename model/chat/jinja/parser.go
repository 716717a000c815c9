package jinja

import (
	"strconv"
	"strings"
)

// node is a statement or expression of the template.
type node interface{ at() int }

type base struct{ pos int }

func (b base) at() int { return b.pos }

type (
	textNode struct {
		base
		s string
	} // literal text or string literal
	intLit struct {
		base
		v float64
	}
	floatLit struct {
		base
		v float64
	}
	listLit struct {
		base
		items []node
	}
	tupleLit struct {
		base
		items []node
	}
	dictLit struct {
		base
		keys, vals []node
	}
	identNode struct {
		base
		name string
	}
	memberNode struct {
		base
		obj, prop node
		computed  bool
	}
	sliceNode struct {
		base
		start, stop, step node // nil when absent
	}
	callNode struct {
		base
		callee node
		args   []node
	}
	kwArg struct {
		base
		key string
		val node
	}
	unaryNode struct {
		base
		op  string
		arg node
	}
	binaryNode struct {
		base
		op          string
		left, right node
	}
	filterNode struct {
		base
		operand node
		filter  node // *identNode or *callNode
	}
	testNode struct {
		base
		operand node
		negate  bool
		test    string
	}
	selectNode struct {
		base
		lhs, test node
	}
	ternaryNode struct {
		base
		cond, yes, no node
	}
	ifNode struct {
		base
		test      node
		body, alt []node
	}
	forNode struct {
		base
		loopvar   node // *identNode or *tupleLit
		iterable  node
		body, alt []node
	}
	setNode struct {
		base
		target node
		value  node // nil for a block set
		body   []node
	}
	macroNode struct {
		base
		name   string
		params []node // *identNode or *kwArg
		body   []node
	}
	filterStmt struct {
		base
		filter node
		body   []node
	}
	breakNode    struct{ base }
	continueNode struct{ base }
	commentNode  struct{ base }
)

// maxDepth bounds the nesting of expressions and blocks.
const maxDepth = 256

type parser struct {
	src   *source
	toks  []token
	cur   int
	depth int
}

func (p *parser) errTok(i int, format string, args ...any) *Error {
	off := len(p.src.text)
	if i < len(p.toks) {
		off = p.toks[i].pos
	}
	return p.src.errAt(off, format, args...)
}

func (p *parser) peek(kinds ...tokKind) bool {
	if p.cur+len(kinds) > len(p.toks) {
		return false
	}
	for i, k := range kinds {
		if p.toks[p.cur+i].kind != k {
			return false
		}
	}
	return true
}

func (p *parser) isIdent(names ...string) bool {
	if p.cur+len(names) > len(p.toks) {
		return false
	}
	for i, n := range names {
		if t := p.toks[p.cur+i]; t.kind != tIdent || t.val != n {
			return false
		}
	}
	return true
}

func (p *parser) isStatement(names ...string) bool {
	if p.cur+1 >= len(p.toks) || p.toks[p.cur].kind != tOpenStmt || p.toks[p.cur+1].kind != tIdent {
		return false
	}
	for _, n := range names {
		if p.toks[p.cur+1].val == n {
			return true
		}
	}
	return false
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	if p.cur >= len(p.toks) {
		return token{}, p.errTok(p.cur, "unexpected end of template, expected %s", what)
	}
	t := p.toks[p.cur]
	if t.kind != k {
		return token{}, p.errTok(p.cur, "expected %s, found %s %q", what, t.kind, t.val)
	}
	p.cur++
	return t, nil
}

func (p *parser) expectIdent(name string) error {
	if !p.isIdent(name) {
		return p.errTok(p.cur, "expected %q", name)
	}
	p.cur++
	return nil
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxDepth {
		return p.errTok(p.cur, "template nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parse parses the whole token stream.
func parse(s *source, toks []token) ([]node, error) {
	p := &parser{src: s, toks: toks}
	var body []node
	for p.cur < len(p.toks) {
		n, err := p.parseAny()
		if err != nil {
			return nil, err
		}
		body = append(body, n)
	}
	return body, nil
}

func (p *parser) parseAny() (node, error) {
	if p.cur >= len(p.toks) {
		return nil, p.errTok(p.cur, "unexpected end of template")
	}
	t := p.toks[p.cur]
	switch t.kind {
	case tComment:
		p.cur++
		return &commentNode{base{t.pos}}, nil
	case tText:
		p.cur++
		return &textNode{base{t.pos}, t.val}, nil
	case tOpenStmt:
		return p.parseStatement()
	case tOpenExpr:
		p.cur++
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tCloseExpr, "'}}'"); err != nil {
			return nil, err
		}
		return e, nil
	}
	return nil, p.errTok(p.cur, "unexpected %s %q", t.kind, t.val)
}

// block parses statements until one of the named statements starts.
func (p *parser) block(ends ...string) ([]node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	var body []node
	for !p.isStatement(ends...) {
		if p.cur >= len(p.toks) {
			return nil, p.errTok(p.cur, "unexpected end of template, expected {%% %s %%}", strings.Join(ends, " %} or {% "))
		}
		n, err := p.parseAny()
		if err != nil {
			return nil, err
		}
		body = append(body, n)
	}
	return body, nil
}

// endTag consumes {% name %}.
func (p *parser) endTag(name string) error {
	if _, err := p.expect(tOpenStmt, "'{%'"); err != nil {
		return err
	}
	if err := p.expectIdent(name); err != nil {
		return err
	}
	_, err := p.expect(tCloseStmt, "'%}'")
	return err
}

func (p *parser) parseStatement() (node, error) {
	open := p.toks[p.cur]
	p.cur++
	if p.cur >= len(p.toks) || p.toks[p.cur].kind != tIdent {
		return nil, p.errTok(p.cur, "expected a statement name after {%%")
	}
	name := p.toks[p.cur].val
	pos := open.pos
	switch name {
	case "set":
		p.cur++
		target, err := p.parseExprSeq(false)
		if err != nil {
			return nil, err
		}
		n := &setNode{base: base{pos}, target: target}
		if p.peek(tEquals) {
			p.cur++
			if n.value, err = p.parseExprSeq(false); err != nil {
				return nil, err
			}
		} else {
			if _, err := p.expect(tCloseStmt, "'%}' or '='"); err != nil {
				return nil, err
			}
			if n.body, err = p.block("endset"); err != nil {
				return nil, err
			}
			p.cur++
			if err := p.expectIdent("endset"); err != nil {
				return nil, err
			}
		}
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		return n, nil
	case "if":
		p.cur++
		n, err := p.parseIf(pos)
		if err != nil {
			return nil, err
		}
		return n, p.endTag("endif")
	case "for":
		p.cur++
		n, err := p.parseFor(pos)
		if err != nil {
			return nil, err
		}
		return n, p.endTag("endfor")
	case "macro":
		p.cur++
		nameTok, err := p.expect(tIdent, "a macro name")
		if err != nil {
			return nil, err
		}
		params, err := p.parseArgs(true)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		body, err := p.block("endmacro")
		if err != nil {
			return nil, err
		}
		return &macroNode{base{pos}, nameTok.val, params, body}, p.endTag("endmacro")
	case "filter":
		p.cur++
		f, err := p.parseFilterName()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		body, err := p.block("endfilter")
		if err != nil {
			return nil, err
		}
		return &filterStmt{base{pos}, f, body}, p.endTag("endfilter")
	case "break", "continue":
		p.cur++
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		if name == "break" {
			return &breakNode{base{pos}}, nil
		}
		return &continueNode{base{pos}}, nil
	case "call":
		return nil, p.errTok(p.cur, "{%% call %%} blocks are not supported")
	}
	return nil, p.errTok(p.cur, "unknown statement %q", name)
}

func (p *parser) parseIf(pos int) (node, error) {
	test, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
		return nil, err
	}
	n := &ifNode{base: base{pos}, test: test}
	if n.body, err = p.block("elif", "else", "endif"); err != nil {
		return nil, err
	}
	switch {
	case p.isStatement("elif"):
		epos := p.toks[p.cur].pos
		p.cur += 2
		if err := p.enter(); err != nil {
			return nil, err
		}
		alt, err := p.parseIf(epos)
		p.leave()
		if err != nil {
			return nil, err
		}
		n.alt = []node{alt}
	case p.isStatement("else"):
		p.cur += 2
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		if n.alt, err = p.block("endif"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (p *parser) parseFor(pos int) (node, error) {
	lv, err := p.parseExprSeq(true)
	if err != nil {
		return nil, err
	}
	switch lv.(type) {
	case *identNode, *tupleLit:
	default:
		return nil, p.src.errAt(lv.at(), "expected a name or a tuple of names for the loop variable")
	}
	if err := p.expectIdent("in"); err != nil {
		return nil, err
	}
	it, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
		return nil, err
	}
	n := &forNode{base: base{pos}, loopvar: lv, iterable: it}
	if n.body, err = p.block("endfor", "else"); err != nil {
		return nil, err
	}
	if p.isStatement("else") {
		p.cur += 2
		if _, err := p.expect(tCloseStmt, "'%}'"); err != nil {
			return nil, err
		}
		if n.alt, err = p.block("endfor"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// parseExprSeq parses a, b, c as a tuple (primary: loop variables).
func (p *parser) parseExprSeq(primary bool) (node, error) {
	fn := p.parseExpr
	if primary {
		fn = p.parsePrimary
	}
	first, err := fn()
	if err != nil {
		return nil, err
	}
	if !p.peek(tComma) {
		return first, nil
	}
	items := []node{first}
	for p.peek(tComma) {
		p.cur++
		e, err := fn()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	return &tupleLit{base{first.at()}, items}, nil
}

func (p *parser) parseExpr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.parseIfExpr()
}

func (p *parser) parseIfExpr() (node, error) {
	a, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.isIdent("if") {
		p.cur++
		test, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.isIdent("else") {
			p.cur++
			if err := p.enter(); err != nil {
				return nil, err
			}
			no, err := p.parseIfExpr()
			p.leave()
			if err != nil {
				return nil, err
			}
			return &ternaryNode{base{a.at()}, test, a, no}, nil
		}
		return &selectNode{base{a.at()}, a, test}, nil
	}
	return a, nil
}

// leftAssoc parses next (op next)* for the operators that match
// recognises (it returns the operator and how many tokens it spans, or "").
func (p *parser) leftAssoc(next func() (node, error), match func() (string, int)) (node, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, n := match()
		if op == "" {
			return left, nil
		}
		pos := p.toks[p.cur].pos
		p.cur += n
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &binaryNode{base{pos}, op, left, right}
	}
}

// word matches the keyword operator name.
func (p *parser) word(name string) func() (string, int) {
	return func() (string, int) {
		if p.isIdent(name) {
			return name, 1
		}
		return "", 0
	}
}

// kind matches a token of kind k (its text is the operator).
func (p *parser) kind(k tokKind) func() (string, int) {
	return func() (string, int) {
		if p.peek(k) {
			return p.toks[p.cur].val, 1
		}
		return "", 0
	}
}

func (p *parser) parseOr() (node, error)  { return p.leftAssoc(p.parseAnd, p.word("or")) }
func (p *parser) parseAnd() (node, error) { return p.leftAssoc(p.parseNot, p.word("and")) }

// parseNot mirrors @huggingface/jinja, including its quirk: in
// "not a not b" the first negation is dropped ("not b" is the result).
func (p *parser) parseNot() (node, error) {
	var right node
	for p.isIdent("not") {
		pos := p.toks[p.cur].pos
		p.cur++
		if err := p.enter(); err != nil {
			return nil, err
		}
		arg, err := p.parseNot()
		p.leave()
		if err != nil {
			return nil, err
		}
		right = &unaryNode{base{pos}, "not", arg}
	}
	if right != nil {
		return right, nil
	}
	return p.parseComparison()
}

// parseComparison: comparisons and membership share one precedence level.
func (p *parser) parseComparison() (node, error) {
	return p.leftAssoc(p.parseAdditive, func() (string, int) {
		switch {
		case p.isIdent("not", "in"):
			return "not in", 2
		case p.isIdent("in"):
			return "in", 1
		case p.peek(tComparison):
			return p.toks[p.cur].val, 1
		}
		return "", 0
	})
}

func (p *parser) parseAdditive() (node, error) {
	return p.leftAssoc(p.parseMultiplicative, p.kind(tAdditive))
}

func (p *parser) parseMultiplicative() (node, error) {
	return p.leftAssoc(p.parsePower, p.kind(tMultiplicative))
}

// parsePower: ** is left-associative in Jinja (2 ** 3 ** 2 is 64).
func (p *parser) parsePower() (node, error) { return p.leftAssoc(p.parseTest, p.kind(tPower)) }

func (p *parser) parseTest() (node, error) {
	operand, err := p.parseFilter()
	if err != nil {
		return nil, err
	}
	for p.isIdent("is") {
		pos := p.toks[p.cur].pos
		p.cur++
		negate := p.isIdent("not")
		if negate {
			p.cur++
		}
		t, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		id, ok := t.(*identNode)
		if !ok {
			return nil, p.src.errAt(t.at(), "expected the name of a test")
		}
		operand = &testNode{base{pos}, operand, negate, id.name}
	}
	return operand, nil
}

func (p *parser) parseFilter() (node, error) {
	operand, err := p.parseUnarySign()
	if err != nil {
		return nil, err
	}
	for p.peek(tPipe) {
		pos := p.toks[p.cur].pos
		p.cur++
		f, err := p.parseFilterName()
		if err != nil {
			return nil, err
		}
		operand = &filterNode{base{pos}, operand, f}
	}
	return operand, nil
}

// parseFilterName parses a filter: a name, or a call of one.
func (p *parser) parseFilterName() (node, error) {
	f, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	id, ok := f.(*identNode)
	if !ok {
		return nil, p.src.errAt(f.at(), "expected the name of a filter")
	}
	if p.peek(tOpenParen) {
		return p.parseCall(id)
	}
	return f, nil
}

func (p *parser) parseUnarySign() (node, error) {
	if p.cur < len(p.toks) {
		t := p.toks[p.cur]
		if (t.kind == tUnary || t.kind == tAdditive) && (t.val == "-" || t.val == "+") {
			p.cur++
			if err := p.enter(); err != nil {
				return nil, err
			}
			arg, err := p.parseUnarySign()
			p.leave()
			if err != nil {
				return nil, err
			}
			return &unaryNode{base{t.pos}, t.val, arg}, nil
		}
	}
	prim, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	m, err := p.parseMember(prim)
	if err != nil {
		return nil, err
	}
	if p.peek(tOpenParen) {
		return p.parseCall(m)
	}
	return m, nil
}

func (p *parser) parseCall(callee node) (node, error) {
	args, err := p.parseArgs(false)
	if err != nil {
		return nil, err
	}
	var e node = &callNode{base{callee.at()}, callee, args}
	if e, err = p.parseMember(e); err != nil {
		return nil, err
	}
	if p.peek(tOpenParen) {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		return p.parseCall(e)
	}
	return e, nil
}

// parseArgs parses (a, b, key=value); params: a macro's parameter list.
func (p *parser) parseArgs(params bool) ([]node, error) {
	if _, err := p.expect(tOpenParen, "'('"); err != nil {
		return nil, err
	}
	var args []node
	seen := map[string]bool{}
	sawKeyword := false
	for !p.peek(tCloseParen) {
		if p.cur >= len(p.toks) {
			return nil, p.errTok(p.cur, "unexpected end of template, expected ')'")
		}
		if p.peek(tPower) || p.peek(tMultiplicative) && p.toks[p.cur].val == "*" {
			return nil, p.errTok(p.cur, "argument unpacking with * or ** is not supported")
		}
		arg, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.peek(tEquals) {
			p.cur++
			id, ok := arg.(*identNode)
			if !ok {
				return nil, p.src.errAt(arg.at(), "expected a name before '='")
			}
			val, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			arg = &kwArg{base{id.pos}, id.name, val}
		}
		if params {
			var name string
			switch a := arg.(type) {
			case *identNode:
				name = a.name
			case *kwArg:
				name = a.key
			default:
				return nil, p.src.errAt(arg.at(), "expected a parameter name")
			}
			if seen[name] {
				return nil, p.src.errAt(arg.at(), "duplicate parameter name %q", name)
			}
			seen[name] = true
		}
		if _, ok := arg.(*kwArg); ok {
			sawKeyword = true
		} else if sawKeyword {
			if params {
				return nil, p.src.errAt(arg.at(), "a parameter without a default follows one with a default")
			}
			return nil, p.src.errAt(arg.at(), "positional argument after a keyword argument")
		}
		args = append(args, arg)
		if p.peek(tComma) {
			p.cur++
		}
	}
	p.cur++
	return args, nil
}

func (p *parser) parseMember(obj node) (node, error) {
	for p.peek(tDot) || p.peek(tOpenBracket) {
		t := p.toks[p.cur]
		p.cur++
		if t.kind == tOpenBracket {
			prop, err := p.parseSubscript(t.pos)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tCloseBracket, "']'"); err != nil {
				return nil, err
			}
			obj = &memberNode{base{t.pos}, obj, prop, true}
			continue
		}
		prop, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		switch prop.(type) {
		case *identNode, *intLit:
		default:
			return nil, p.src.errAt(prop.at(), "expected a name or an integer after '.'")
		}
		obj = &memberNode{base{t.pos}, obj, prop, false}
	}
	return obj, nil
}

// parseSubscript parses [expr] or a slice [a:b:c].
func (p *parser) parseSubscript(pos int) (node, error) {
	var parts []node
	slice := false
	for !p.peek(tCloseBracket) {
		if p.cur >= len(p.toks) {
			return nil, p.errTok(p.cur, "unexpected end of template, expected ']'")
		}
		if p.peek(tColon) {
			parts = append(parts, nil)
			p.cur++
			slice = true
			continue
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		parts = append(parts, e)
		if p.peek(tColon) {
			p.cur++
			slice = true
		}
	}
	if len(parts) == 0 {
		return nil, p.src.errAt(pos, "expected an index or a slice between [ and ]")
	}
	if !slice {
		if len(parts) > 1 {
			return nil, p.src.errAt(pos, "expected one index between [ and ]")
		}
		return parts[0], nil
	}
	if len(parts) > 3 {
		return nil, p.src.errAt(pos, "a slice has at most 3 parts")
	}
	for len(parts) < 3 {
		parts = append(parts, nil)
	}
	return &sliceNode{base{pos}, parts[0], parts[1], parts[2]}, nil
}

func (p *parser) parsePrimary() (node, error) {
	if p.cur >= len(p.toks) {
		return nil, p.errTok(p.cur, "unexpected end of template, expected an expression")
	}
	t := p.toks[p.cur]
	p.cur++
	switch t.kind {
	case tNumber:
		v, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.src.errAt(t.pos, "bad number %q", t.val)
		}
		if strings.Contains(t.val, ".") {
			return &floatLit{base{t.pos}, v}, nil
		}
		return &intLit{base{t.pos}, v}, nil
	case tString:
		s := t.val
		for p.peek(tString) {
			s += p.toks[p.cur].val
			p.cur++
		}
		return &textNode{base{t.pos}, s}, nil
	case tIdent:
		return &identNode{base{t.pos}, t.val}, nil
	case tOpenParen:
		e, err := p.parseExprSeq(false)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tCloseParen, "')'"); err != nil {
			return nil, err
		}
		return e, nil
	case tOpenBracket:
		n := &listLit{base: base{t.pos}}
		for !p.peek(tCloseBracket) {
			if p.cur >= len(p.toks) {
				return nil, p.errTok(p.cur, "unexpected end of template, expected ']'")
			}
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, e)
			if p.peek(tComma) {
				p.cur++
			}
		}
		p.cur++
		return n, nil
	case tOpenCurly:
		n := &dictLit{base: base{t.pos}}
		for !p.peek(tCloseCurly) {
			if p.cur >= len(p.toks) {
				return nil, p.errTok(p.cur, "unexpected end of template, expected '}'")
			}
			k, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tColon, "':' between a key and its value"); err != nil {
				return nil, err
			}
			v, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.vals = append(n.vals, v)
			if p.peek(tComma) {
				p.cur++
			}
		}
		p.cur++
		return n, nil
	}
	return nil, p.src.errAt(t.pos, "unexpected %s %q", t.kind, t.val)
}
