package stepprof

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/humanllm/humanllm/kernels"
)

const (
	cpuP = "github.com/humanllm/humanllm/kernels/cpu."
	ggP  = "github.com/humanllm/humanllm/kernels/gorgonia."
)

// Each rule, on the real function names of a GPT-2 step profile (leaf
// first), and the generic leaves that are charged to their caller.
func TestClassify(t *testing.T) {
	cases := []struct {
		want  string
		stack []string
	}{
		{Matmul, []string{cpuP + "sgemmKernelAVX512", cpuP + "(*variant).block", cpuP + "(*variant).gemm", cpuP + "run", cpuP + "Implementation.Sgemm", ggP + "(*linearOp).compute"}},
		{Matmul, []string{cpuP + "packGather14", cpuP + "(*variant).packA", cpuP + "(*parGemm).pack"}},
		{Matmul, []string{cpuP + "gather", cpuP + "(*variant).packB"}},
		// attention's tile products are SGEMM too
		{Matmul, []string{cpuP + "sgemmKernelAVX512", cpuP + "(*variant).block", cpuP + "(*attnArgs).gemm", cpuP + "(*attnArgs).forward"}},
		{Matmul, []string{"runtime.memmove", ggP + "(*linearOp).compute", ggP + "doOwned"}}, // bias rows
		{Matmul, []string{"gonum.org/v1/gonum/internal/asm/f32.AxpyUnitary", "gonum.org/v1/gonum/blas/gonum.Implementation.Sgemm"}},
		{Attention, []string{cpuP + "maxAVX512", cpuP + "(*attnArgs).tile", cpuP + "(*attnArgs).forward"}},
		{Attention, []string{"runtime.memclrNoHeapPointers", cpuP + "(*attnArgs).backwardUnit", cpuP + "Implementation.CausalAttentionBackward.func2"}},
		{Attention, []string{cpuP + "rotateAVX512", cpuP + "Implementation.RoPE.func1"}},
		{Attention, []string{"runtime.memclrNoHeapPointers", ggP + "(*attentionQKVGrad).compute"}},
		{Matmul, []string{"runtime.memmove", cpuP + "(*cInit).rows", cpuP + "(*variant).block"}},
		{Norms, []string{cpuP + "lnBwdRowAVX512", cpuP + "init.func9", cpuP + "Implementation.LayerNormBackward.func1"}},
		{Norms, []string{cpuP + "normAffineAVX512", cpuP + "Implementation.LayerNorm.func1"}},
		{Norms, []string{cpuP + "sumAVX512", ggP + "(*rmsNormGrad).compute"}},
		{Activations, []string{cpuP + "geluBwdAVX512", cpuP + "init.func15", cpuP + "Implementation.GELUBackward.func1"}},
		{Activations, []string{cpuP + "swigluAVX512"}},
		{Loss, []string{cpuP + "expSumAVX512", cpuP + "Implementation.crossEntropy.func1", cpuP + "parRange.func1"}},
		{Loss, []string{"runtime.memmove", ggP + "(*crossEntropyOp).Do", "gorgonia.org/gorgonia.(*execOp).exec"}},
		{Optimizer, []string{cpuP + "adamwAVX512", cpuP + "init.func19", cpuP + "Implementation.AdamW.func1"}},
		{Optimizer, []string{"github.com/humanllm/humanllm/trainer.(*AdamW).Update"}},
		{Embedding, []string{"runtime.memmove", cpuP + "Implementation.Embedding.func1"}},
		{Embedding, []string{"runtime.memclrNoHeapPointers", ggP + "(*embeddingGrad).compute"}},
		{Elementwise, []string{"gorgonia.org/tensor/internal/execution.AddRecvF32", "gorgonia.org/tensor/internal/execution.E.AddRecv", "gorgonia.org/tensor.StdEng.Add"}},
		{Graph, []string{"runtime.memmove", "gorgonia.org/tensor/internal/storage.Copy", "gorgonia.org/tensor.copyDense", "gorgonia.org/tensor.(*Dense).Clone", "gorgonia.org/tensor.StdEng.Add"}},
		{Graph, []string{"runtime.memmove", ggP + "(*reshapeOp).compute"}},
		{Graph, []string{ggP + "preallocF32", ggP + "(*linearOp).UsePreallocDo"}},
		{Graph, []string{ggP + "grow[...]", ggP + "ints"}},
		{Graph, []string{"runtime.mapaccess2", "gorgonia.org/gorgonia.(*tapeMachine).runall"}},
		{Graph, []string{"github.com/chewxy/hm.NewFnType"}},
		{Alloc, []string{"runtime.memclrNoHeapPointers", "runtime.memclrNoHeapPointersChunked", "runtime.mallocgcLarge", "runtime.mallocgc", "gorgonia.org/tensor.(*Dense).makeArray"}},
		{Alloc, []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack"}},
		{Alloc, []string{"runtime.(*mheap).allocSpan", "runtime.(*mcentral).grow"}},
		{Alloc, []string{"runtime.suspendG", "runtime.markroot.func1"}},
		{Sync, []string{"runtime.procyieldAsm", "runtime.procyield", "runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"}},
		{Sync, []string{"runtime.futex", "runtime.futexwakeup", "runtime.notewakeup", "runtime.startm"}},
		{Sync, []string{"runtime.lock2", "runtime.chansend", cpuP + "dispatch"}},
		{Sync, []string{"sync.(*WaitGroup).Wait", cpuP + "dispatch"}},
		{Sync, []string{cpuP + "(*job).work", cpuP + "helper"}},
		{Other, []string{"main.benchOurStep"}},
		{Other, []string{"runtime.memmove", "runtime.copystack"}},
		{Other, nil},
	}
	for _, c := range cases {
		if got := Classify(c.stack); got != c.want {
			t.Errorf("Classify(%q) = %s, want %s", c.stack, got, c.want)
		}
	}
	// Every kernel method, reached through the worker pool (whose frames
	// alone are synchronisation), is charged to its part of the step.
	method := map[string]string{
		"Sgemm": Matmul, "SgemmStridedBatched": Matmul, "SgemmBias": Matmul, "BiasGrad": Matmul,
		"RMSNorm": Norms, "RMSNormBackward": Norms, "LayerNorm": Norms, "LayerNormBackward": Norms,
		"GELU": Activations, "GELUBackward": Activations, "SiLU": Activations, "SiLUBackward": Activations,
		"SwiGLU": Activations, "SwiGLUBackward": Activations,
		"RoPE": Attention, "RoPEBackward": Attention, "Softmax": Attention, "SoftmaxBackward": Attention,
		"CausalAttention": Attention, "CausalAttentionBackward": Attention,
		"CrossEntropy": Loss, "CrossEntropyGrad": Loss, "Embedding": Embedding, "EmbeddingBackward": Embedding,
		"AdamW": Optimizer,
	}
	for _, it := range []reflect.Type{reflect.TypeFor[kernels.Kernels](), reflect.TypeFor[kernels.Linearer]()} {
		for i := range it.NumMethod() {
			m := it.Method(i).Name
			want, ok := method[m]
			if !ok {
				t.Errorf("kernel method %s has no expected category in this test (add it, and a rule if needed)", m)
				continue
			}
			stack := []string{cpuP + "addToAVX512", cpuP + "init.func11", cpuP + "Implementation." + m + ".func1", cpuP + "parRange.func1", cpuP + "(*job).work", cpuP + "helper"}
			if got := Classify(stack); got != want {
				t.Errorf("a %s sample through the pool is %s, want %s", m, got, want)
			}
		}
	}
	// Names that merely contain a rule's word are not matched.
	for _, fn := range []string{cpuP + "f32to64", ggP + "f32to64", "github.com/other/kernels/cpu.sgemmKernelAVX512", "main.gelu"} {
		if got := Classify([]string{fn}); got != Other {
			t.Errorf("Classify(%q) = %s, want other", fn, got)
		}
	}
}

// synthetic builds a CPU profile as runtime/pprof writes it: samples of
// count and cpu nanoseconds, locations with inlined frames.
func synthetic() *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
	}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	// loc makes a location whose lines are the given frames, innermost
	// first (more than one: inlined calls).
	loc := func(frames ...string) *profile.Location {
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
		for _, f := range frames {
			l.Line = append(l.Line, profile.Line{Function: fn(f), Line: 1})
		}
		p.Location = append(p.Location, l)
		return l
	}
	add := func(ms int64, locs ...*profile.Location) {
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{ms / 10, ms * 1e6}})
	}
	root := loc("gorgonia.org/gorgonia.(*tapeMachine).runall")
	kernel := loc(cpuP + "sgemmKernelAVX512")
	block := loc(cpuP+"(*variant).block", cpuP+"(*variant).gemm") // gemm inlined
	linear := loc(ggP + "(*linearOp).compute")
	add(600, kernel, block, linear, root)
	memmove := loc("runtime.memmove")
	// the memmove is inlined into the cross-entropy op's Do
	add(100, loc("runtime.memmove", ggP+"(*crossEntropyOp).Do"), root)
	add(50, memmove, loc("gorgonia.org/tensor/internal/storage.Copy"), loc("gorgonia.org/tensor.(*Dense).Clone"), root)
	add(80, loc("runtime.memclrNoHeapPointers"), loc("runtime.mallocgcLarge"), loc("runtime.mallocgc"), root)
	add(70, loc("runtime.procyieldAsm"), loc("runtime.findRunnable"), loc("runtime.schedule"))
	add(40, loc(cpuP+"adamwAVX512"), loc(cpuP+"Implementation.AdamW.func1"))
	add(30, loc(cpuP+"geluAVX512"), loc(cpuP+"Implementation.GELU.func1"))
	add(20, loc(cpuP+"maxAVX512"), loc(cpuP+"(*attnArgs).tile"))
	add(10, loc("main.benchOurStep"))
	add(0, loc()) // an address without symbols
	return p
}

func TestAnalyzeSynthetic(t *testing.T) {
	// through the wire format, as a profile file is read
	var buf bytes.Buffer
	if err := synthetic().Write(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Analyze(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{Matmul: 600, Loss: 100, Graph: 50, Alloc: 80, Sync: 70, Optimizer: 40, Activations: 30, Attention: 20, Other: 10}
	const total = 1000.0
	if math.Abs(b.Seconds-total/1e3) > 1e-9 || b.Steps != 4 || math.Abs(b.MSPerStep-total/4) > 1e-9 {
		t.Errorf("total %v s over %d steps, %v ms/step; want 1 s, 4, 250", b.Seconds, b.Steps, b.MSPerStep)
	}
	if len(b.Rows) != len(Categories) {
		t.Fatalf("%d rows, want one per category (%d)", len(b.Rows), len(Categories))
	}
	var sum float64
	for i, r := range b.Rows {
		if r.Category != Categories[i] {
			t.Errorf("row %d is %s, want %s", i, r.Category, Categories[i])
		}
		ms := want[r.Category]
		if math.Abs(r.Seconds*1e3-ms) > 1e-6 || math.Abs(r.Percent-100*ms/total) > 1e-9 || math.Abs(r.MSPerStep-ms/4) > 1e-9 {
			t.Errorf("%s: %v s, %v%%, %v ms/step; want %v ms", r.Category, r.Seconds, r.Percent, r.MSPerStep, ms)
		}
		sum += r.Percent
	}
	if math.Abs(sum-100) > 1e-9 {
		t.Errorf("percentages sum to %v", sum)
	}
	if len(b.TopOther) != 2 || b.TopOther[0].Name != "main.benchOurStep" || math.Abs(b.TopOther[0].Seconds-0.01) > 1e-12 {
		t.Errorf("top other leaves %+v", b.TopOther)
	}
	if b.TopLeaves[0].Name != cpuP+"sgemmKernelAVX512" {
		t.Errorf("top leaves %+v", b.TopLeaves)
	}

	var out strings.Builder
	if err := Table(&out, []string{"synthetic"}, []Breakdown{b}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"matmul", "150.0 (60.0%)", "alloc+gc", "20.0 (8.0%)", "250.0 (4 steps)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
	if err := Table(&out, []string{"a", "b"}, []Breakdown{b}); err == nil {
		t.Error("Table accepted 2 titles for 1 breakdown")
	}
}

func TestAnalyzeErrors(t *testing.T) {
	p := synthetic()
	if _, err := Analyze(p, 0); err == nil {
		t.Error("0 steps accepted")
	}
	p.SampleType = []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}}
	for _, s := range p.Sample {
		s.Value = s.Value[:1]
	}
	if _, err := Analyze(p, 1); err == nil || !strings.Contains(err.Error(), "not a CPU profile") {
		t.Errorf("heap profile: %v", err)
	}
}
