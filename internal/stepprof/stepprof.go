// Package stepprof attributes the CPU samples of a training-step profile
// (a pprof CPU profile, as runtime/pprof writes it) to the parts of the
// step: matmul, attention, norms, activations, loss, optimizer, embedding,
// elementwise built-ins, graph/tape overhead, allocation + GC,
// synchronisation and other.
//
// # Rules
//
// A sample's stack is walked from the leaf towards the root, inlined frames
// included (innermost first); the first frame whose function name matches
// one of the rules below decides the category, and a sample none of whose
// frames matches is "other". Generic leaves (runtime.memmove,
// runtime.memclrNoHeapPointers, shared SIMD helpers such as maxAVX512 or
// expSumAVX512) match no rule on purpose, so they are charged to the
// op that called them: a memmove under the cross-entropy op is loss, a
// memclr under runtime.mallocgc is allocation.
//
// Consequences worth knowing when reading a breakdown:
//   - The SGEMM micro-kernels and packing count as matmul wherever they are
//     called from, attention's QKᵀ and PV tile products included (PyTorch's
//     profiles count its bmm as matmul too); attention is the rest of the
//     attention kernels (softmax, masking, the blockwise bookkeeping).
//   - Page faults have no frame of their own: the kernel time of a first
//     touch is charged to the instruction that touched, which is the memclr
//     of runtime.mallocgcLarge (allocation) for fresh Go allocations, or a
//     kernel writing into a freshly mapped buffer (that kernel's category).
//   - Synchronisation is CPU spent waiting or handing work over: the Go
//     scheduler spinning for work, futex calls, channel and WaitGroup
//     operations, and the dispatch code of our worker pool
//     (kernels/cpu). A parked thread takes no samples, so idle time of a
//     second core does not appear at all: compare the total CPU per step
//     with threads × wall time to see it.
//   - Graph/tape overhead is gorgonia's VM (gorgonia.org/gorgonia), its
//     tensor library outside the arithmetic kernels (shape checks, Dense
//     headers, clones, iterators), its type system (chewxy/hm), and the
//     glue of our ops (kernels/gorgonia: value checks, owned buffers,
//     the copying Reshape, the extra-gradient nodes).
//   - Elementwise is gorgonia's own arithmetic kernels
//     (gorgonia.org/tensor/internal/execution): in the GPT-2 graph, the
//     residual additions.
package stepprof

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/pprof/profile"
)

// The categories, in report order.
const (
	Matmul      = "matmul"
	Attention   = "attention"
	Norms       = "norms"
	Activations = "activations"
	Loss        = "loss"
	Optimizer   = "optimizer"
	Embedding   = "embedding"
	Elementwise = "elementwise"
	Graph       = "graph/tape"
	Alloc       = "alloc+gc"
	Sync        = "sync"
	Other       = "other"
)

// Categories lists every category in report order.
var Categories = []string{Matmul, Attention, Norms, Activations, Loss, Optimizer, Embedding, Elementwise, Graph, Alloc, Sync, Other}

// Rule assigns the functions whose names match Pattern to Category.
type Rule struct {
	Category string
	Pattern  *regexp.Regexp
}

const (
	ours  = `^github\.com/humanllm/humanllm/`
	kern  = ours + `kernels/(cpu|ref|openblas)\.`
	ggops = ours + `kernels/gorgonia\.`
)

func rule(cat string, re ...string) Rule {
	return Rule{Category: cat, Pattern: regexp.MustCompile(strings.Join(re, "|"))}
}

// Rules are the attribution rules, tried in order on each frame (the
// order matters only for a function matching several; the walk from the
// leaf decides otherwise).
var Rules = []Rule{
	// Allocation and garbage collection: the allocator, the collector's
	// workers and assists, sweeping and scavenging, write barriers, the
	// OS memory calls behind them.
	rule(Alloc,
		`^runtime\.(mallocgc.*|newobject|newarray|makeslice.*|growslice|makemap.*|largeAlloc|memclrNoHeapPointersChunked|`+
			`gcBgMarkWorker|gcDrain.*|gcAssist.*|gcMark.*|gcStart|gcSweep|gcResetMarkState|gcWriteBarrier.*|gcFlushBgCredit|`+
			`scanobject|scanblock|scanstack|scanframeworker|markroot.*|greyobject|findObject|shade|`+
			`sweepone|bgsweep|bgscavenge|suspendG|resumeG|wbBuf.*|bulkBarrier.*|typedmemmove|typedslicecopy|`+
			`sysAlloc.*|sysUsed.*|sysMap.*|sysHugePage.*|sysUnused.*|sysFree.*|madvise|mmap|munmap|`+
			`stopTheWorld.*|startTheWorld.*|forEachP|clearpools|freeSomeWbufs|profilealloc|mProf_.*|nextFreeFast|`+
			`deductAssistCredit|heapSetType.*)$`,
		`^runtime\.\(\*(mheap|mspan|mcentral|mcache|pageAlloc|gcWork|gcControllerState|sweepLocked|scavengerState|pageCache|fixalloc|spanSet|gcBits|limiterEvent|gcCPULimiterState)\)\.`,
	),
	// Synchronisation: the scheduler looking for work and parking,
	// futexes, channel, select and WaitGroup operations, and the dispatch
	// of our worker pool.
	rule(Sync,
		`^runtime\.(futex.*|procyield.*|osyield|usleep|notesleep|notetsleep.*|notewakeup|semasleep|semawakeup|`+
			`park_m|gopark|goparkunlock|schedule|findRunnable|stealWork|runqgrab|runqsteal|runqput.*|globrunqget.*|`+
			`checkTimers|mPark|stopm|startm|wakep|handoffp|ready|goready|lock2|unlock2|lockWithRank|unlockWithRank|`+
			`chansend.*|chanrecv.*|selectgo|semacquire.*|semrelease.*|notifyList.*|resetspinning|gosched_m|goschedImpl|`+
			`netpoll.*|exitsyscall.*|entersyscall.*|casgstatus|execute|gogo|runtime_procPin|runtime_procUnpin)$`,
		`^sync\.`, `^internal/sync\.`, `^sync/atomic\.`,
		kern+`(dispatch|ensureHelpers|helper|getWorkspace|putWorkspace|\(\*job\)\.work|\(\*parGemm\)\.(wait|signal))$`,
	),
	// Matrix products: SGEMM and its packing, the Linear op around it (the
	// initial C of SgemmBias, the bias gradient), the BLAS adapter,
	// gonum's BLAS when it is used.
	rule(Matmul,
		kern+`(sgemm.*|Implementation\.(Sgemm|SgemmStridedBatched|SgemmBias|BiasGrad).*|pack(Copy|Gather).*|gather|copyRows|run|runGemm|runParallel|grid|kernelGeneric|storeEdge|storeRow4|scaleC|`+
			`\(\*variant\)\.(gemm|block|column|kcBlock|packA|packB)|\(\*parGemm\)\..*|\(\*gemmArgs\)\..*|\(\*cInit\)\..*)($|\.)`,
		ggops+`(BLAS\.|\(\*linear(Op|Grad)\)\.|Linear$)`,
		`^gonum\.org/v1/gonum/(blas|internal/asm)/`,
	),
	rule(Attention,
		kern+`(Implementation\.(CausalAttention.*|Softmax.*|RoPE.*)|\(\*attnArgs\)\..*|attnWork|rope|rotate.*)($|\.)`,
		ggops+`\(\*(attention|attentionQKV|softmax|rope)(Op|Grad)\)\.`,
	),
	rule(Norms,
		kern+`(Implementation\.(LayerNorm|RMSNorm).*|lnBwd.*|rmsBwd.*|normAffine.*|sumSqDev.*)($|\.)`,
		ggops+`\(\*(layerNorm|rmsNorm)(Op|Grad)\)\.`,
	),
	rule(Activations,
		kern+`(Implementation\.(GELU|SiLU|SwiGLU).*|gelu.*|silu.*|swiglu.*)($|\.)`,
		ggops+`\(\*(act|swiGLU)(Op|Grad)\)\.`,
	),
	rule(Loss,
		kern+`Implementation\.(CrossEntropy.*|crossEntropy.*)($|\.)`,
		ggops+`\(\*crossEntropy(Op|Grad)\)\.`,
	),
	rule(Optimizer,
		kern+`(Implementation\.AdamW|adamw.*|adamW.*|adamConsts|kernelsAdam)($|\.)`,
		ours+`trainer\.(\(\*AdamW\)|PlainAdamW|GlobalNorm|ClipCoef|ScaleGrads)`,
	),
	rule(Embedding,
		kern+`Implementation\.Embedding.*($|\.)`,
		ggops+`\(\*embedding(Op|Grad)\)\.`,
	),
	rule(Elementwise, `^gorgonia\.org/tensor/internal/execution\.`),
	rule(Graph,
		`^gorgonia\.org/`, `^github\.com/chewxy/`,
		ggops+`(\(\*(reshapeOp|paramGrad|owned|base|gradOutputs|statsKey)\)|gradOf)\.`,
		ggops+`(preallocF32|overlaps|f32|ints|convertInts|scalar|doOwned|doPrealloc|protect|grow|sameStart)($|\.|\[)`,
	),
}

// Classify returns the category of a stack of function names, leaf first.
func Classify(stack []string) string {
	for _, fn := range stack {
		for _, r := range Rules {
			if r.Pattern.MatchString(fn) {
				return r.Category
			}
		}
	}
	return Other
}

// Row is one category's share.
type Row struct {
	Category  string  `json:"category"`
	Seconds   float64 `json:"cpu_s"`
	Percent   float64 `json:"percent"`
	MSPerStep float64 `json:"cpu_ms_per_step"`
}

// Func is a leaf function's CPU time, for the unattributed rest.
type Func struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"cpu_s"`
}

// Breakdown is a profile's CPU time by category.
type Breakdown struct {
	File      string  `json:"file,omitempty"`
	Steps     int     `json:"steps"`
	Seconds   float64 `json:"cpu_s"`            // all samples
	MSPerStep float64 `json:"cpu_ms_per_step"`  // Seconds / Steps
	Rows      []Row   `json:"categories"`       // every category, in report order
	TopOther  []Func  `json:"top_other_leaves"` // largest leaves of "other"
	TopLeaves []Func  `json:"top_leaves"`       // largest leaves overall
}

// Analyze attributes the CPU time of p (a CPU profile: the sample value
// of type cpu/nanoseconds, or else the last value, taken as nanoseconds)
// to the categories; steps (>= 1) is the number of steps p covers.
func Analyze(p *profile.Profile, steps int) (Breakdown, error) {
	if steps < 1 {
		return Breakdown{}, fmt.Errorf("stepprof: steps %d must be >= 1", steps)
	}
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		if len(p.SampleType) == 0 || p.SampleType[len(p.SampleType)-1].Unit != "nanoseconds" {
			return Breakdown{}, fmt.Errorf("stepprof: not a CPU profile (sample types %v)", sampleTypes(p))
		}
		vi = len(p.SampleType) - 1
	}
	byCat := map[string]int64{}
	leaves, otherLeaves := map[string]int64{}, map[string]int64{}
	var total int64
	var stack []string
	for _, s := range p.Sample {
		if vi >= len(s.Value) {
			return Breakdown{}, fmt.Errorf("stepprof: sample with %d values, want > %d", len(s.Value), vi)
		}
		v := s.Value[vi]
		stack = stack[:0]
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // innermost (inlined) first
				if ln.Function != nil {
					stack = append(stack, ln.Function.Name)
				}
			}
			if len(loc.Line) == 0 {
				stack = append(stack, fmt.Sprintf("0x%x", loc.Address))
			}
		}
		cat := Classify(stack)
		byCat[cat] += v
		total += v
		leaf := "(no frames)"
		if len(stack) > 0 {
			leaf = stack[0]
		}
		leaves[leaf] += v
		if cat == Other {
			otherLeaves[leaf] += v
		}
	}
	b := Breakdown{Steps: steps, Seconds: float64(total) / 1e9}
	b.MSPerStep = b.Seconds * 1e3 / float64(steps)
	for _, c := range Categories {
		r := Row{Category: c, Seconds: float64(byCat[c]) / 1e9}
		if total > 0 {
			r.Percent = 100 * float64(byCat[c]) / float64(total)
		}
		r.MSPerStep = r.Seconds * 1e3 / float64(steps)
		b.Rows = append(b.Rows, r)
	}
	b.TopOther = top(otherLeaves, 8)
	b.TopLeaves = top(leaves, 12)
	return b, nil
}

func sampleTypes(p *profile.Profile) []string {
	var s []string
	for _, st := range p.SampleType {
		s = append(s, st.Type+"/"+st.Unit)
	}
	return s
}

func top(m map[string]int64, n int) []Func {
	fs := make([]Func, 0, len(m))
	for k, v := range m {
		fs = append(fs, Func{Name: k, Seconds: float64(v) / 1e9})
	}
	slices.SortFunc(fs, func(a, b Func) int {
		if a.Seconds != b.Seconds {
			if a.Seconds > b.Seconds {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	if len(fs) > n {
		fs = fs[:n]
	}
	return fs
}

// Row returns the row of category c (zero if unknown).
func (b Breakdown) Row(c string) Row {
	for _, r := range b.Rows {
		if r.Category == c {
			return r
		}
	}
	return Row{}
}

// Table writes the breakdowns side by side, one column pair per
// breakdown headed by its title: CPU ms per step and percent of the
// profile.
func Table(w io.Writer, titles []string, bs []Breakdown) error {
	if len(titles) != len(bs) {
		return fmt.Errorf("stepprof: %d titles for %d breakdowns", len(titles), len(bs))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "CPU ms/step (%)\t")
	for _, t := range titles {
		fmt.Fprintf(tw, "%s\t", t)
	}
	fmt.Fprintln(tw)
	for _, c := range Categories {
		fmt.Fprintf(tw, "%s\t", c)
		for _, b := range bs {
			r := b.Row(c)
			fmt.Fprintf(tw, "%.1f (%.1f%%)\t", r.MSPerStep, r.Percent)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "total\t")
	for _, b := range bs {
		fmt.Fprintf(tw, "%.1f (%d steps)\t", b.MSPerStep, b.Steps)
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}
