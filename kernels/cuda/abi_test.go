//go:build cuda

package cuda

import (
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// checkLaunchABI compares every kernel launch in this package's Go source
// with the kernel's parameters in ptx (compiled from kernels.cu): the
// kernel must exist and take as many parameters as the launch passes, each
// of the width and kind (integer or float) of the Go value. cuLaunchKernel
// reads each parameter through an untyped pointer, so a mismatch would
// otherwise only show as wrong results on a GPU.
func checkLaunchABI(t *testing.T, ptx string) {
	t.Helper()
	params := map[string][]string{}
	entryRe := regexp.MustCompile(`\.entry (\w+)\(([^)]*)\)`)
	paramRe := regexp.MustCompile(`\.param \.([a-z]+)(\d+) `)
	for _, m := range entryRe.FindAllStringSubmatch(ptx, -1) {
		var ps []string
		for _, p := range paramRe.FindAllStringSubmatch(m[2], -1) {
			kind := "int"
			if p[1] == "f" {
				kind = "float"
			}
			ps = append(ps, kind+p[2])
		}
		params[m[1]] = ps
	}

	sites := launchSites(t)
	if len(sites) < 20 {
		t.Fatalf("found only %d launch sites in the Go source", len(sites))
	}
	launched := map[string]bool{}
	for _, s := range sites {
		launched[s.kernel] = true
		want, ok := params[s.kernel]
		if !ok {
			t.Errorf("%s: launches %s, which kernels.cu does not define", s.pos, s.kernel)
			continue
		}
		if !slices.Equal(s.params, want) {
			t.Errorf("%s: launches %s with %v, the kernel takes %v", s.pos, s.kernel, s.params, want)
		}
	}
	for name := range params {
		if !launched[name] {
			t.Errorf("kernel %s is never launched", name)
		}
	}
	t.Logf("%d launch sites of %d kernels match their PTX signatures", len(sites), len(params))
}

type launchSite struct {
	pos    string
	kernel string
	params []string // "int64", "float32", ... as in the PTX: kind and bits
}

// launchSites type-checks this package (with the cuda tag) and returns
// every session.launch call with a constant kernel name, and every
// Implementation.unary call (whose launch spreads a slice: one output
// pointer, one pointer per input, the long long n).
func launchSites(t *testing.T) []launchSite {
	t.Helper()
	ctx := build.Default
	ctx.BuildTags = append(slices.Clone(ctx.BuildTags), "cuda")
	bp, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(bp.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("cuda", fset, files, info); err != nil {
		t.Fatal(err)
	}
	kindOf := func(e ast.Expr) string {
		b, ok := info.Types[e].Type.Underlying().(*types.Basic)
		if !ok {
			return "non-basic " + info.Types[e].Type.String()
		}
		switch b.Kind() {
		case types.Uintptr, types.Int64, types.Uint64:
			return "int64"
		case types.Int32, types.Uint32:
			return "int32"
		case types.Float32:
			return "float32"
		case types.Float64:
			return "float64"
		}
		return "unsupported " + b.Name()
	}
	var sites []launchSite
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "launch" && sel.Sel.Name != "unary") || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true // the generic launch inside unary
			}
			name, _ := strconv.Unquote(lit.Value)
			s := launchSite{pos: fset.Position(call.Pos()).String(), kernel: name}
			if sel.Sel.Name == "unary" {
				for range len(call.Args) - 2 { // out and each input
					s.params = append(s.params, "int64")
				}
				s.params = append(s.params, "int64") // n
			} else {
				for _, a := range call.Args[5:] {
					s.params = append(s.params, kindOf(a))
				}
			}
			sites = append(sites, s)
			return true
		})
	}
	return sites
}
