package prepare

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/humanllm/humanllm/tasks"
)

// Report accounts for every input record and every sample: counts in and out
// of each stage with the reason for each drop. It is written as report.json
// and printed as a table.
type Report struct {
	// RecordsIn counts every input record, kept or not, malformed included.
	RecordsIn int64 `json:"records_in"`
	// BytesIn counts input bytes as stored (compressed where compressed).
	BytesIn int64 `json:"bytes_in"`
	// Files lists each input file with what was read from it.
	Files []FileReport `json:"files"`
	// Malformed counts records that could not be parsed; the first few are
	// listed in MalformedExamples with file and line.
	Malformed         int64             `json:"malformed"`
	MalformedExamples []tasks.Malformed `json:"malformed_examples,omitempty"`
	// Stages lists record-level and user-level stages in order. For every
	// record stage, In == Out + sum(Dropped).
	Stages []StageReport `json:"stages"`
	// RecordsUsed counts records of users that reached formulation.
	RecordsUsed int64 `json:"records_used"`
	// Users counts users per stage outcome.
	UsersIn   int64 `json:"users_in"`
	UsersKept int64 `json:"users_kept"`
	// Samples counts formulated samples before and after QC.
	SamplesFormulated int64            `json:"samples_formulated"`
	SamplesKept       int64            `json:"samples_kept"`
	QCDropped         map[string]int64 `json:"qc_dropped"`
	Train             int64            `json:"train"`
	Test              int64            `json:"test"`
	// Tasks counts kept samples per task kind and source:
	// tasks[kind][source].
	Tasks map[string]map[string]int64 `json:"tasks"`
	// TasksByVariant counts kept samples per full task name.
	TasksByVariant map[string]int64 `json:"tasks_by_variant"`
	// PerSource summarises each platform.
	PerSource map[string]*SourceReport `json:"per_source"`
	// Lengths holds word-count histograms of prompts and targets.
	Lengths map[string]*Histogram `json:"lengths"`
	// Synth reports the synthesis backend's counters (LLM calls, cache hits).
	Synth map[string]int64 `json:"synth,omitempty"`
	// Shard is "i/N" when the run processed one shard of users.
	Shard string `json:"shard,omitempty"`
	// Seconds is the wall time of the run.
	Seconds float64 `json:"seconds"`
}

// FileReport is one input file.
type FileReport struct {
	File      string `json:"file"`
	Format    string `json:"format"`
	Bytes     int64  `json:"bytes"`
	Records   int64  `json:"records"`
	Malformed int64  `json:"malformed"`
}

// StageReport is one stage's accounting.
type StageReport struct {
	Stage   string           `json:"stage"`
	Unit    string           `json:"unit"` // "records" or "users"
	In      int64            `json:"in"`
	Out     int64            `json:"out"`
	Dropped map[string]int64 `json:"dropped,omitempty"`
}

// SourceReport is one platform's totals.
type SourceReport struct {
	RecordsIn   int64 `json:"records_in"`
	RecordsUsed int64 `json:"records_used"`
	UsersIn     int64 `json:"users_in"`
	UsersKept   int64 `json:"users_kept"`
	Samples     int64 `json:"samples"`
}

// Histogram counts values in power-of-two buckets: bucket "<=N" holds
// values in (N/2, N]. Mean and Max are exact.
type Histogram struct {
	Count   int64            `json:"count"`
	Mean    float64          `json:"mean"`
	Max     int64            `json:"max"`
	Buckets map[string]int64 `json:"buckets"`
	sum     int64
}

// Add records one value.
func (h *Histogram) Add(v int64) {
	if h.Buckets == nil {
		h.Buckets = map[string]int64{}
	}
	h.Count++
	h.sum += v
	h.Mean = float64(h.sum) / float64(h.Count)
	if v > h.Max {
		h.Max = v
	}
	k := 0 // the bucket is <=2^k, the least power of two >= v
	for k < 62 && int64(1)<<k < v {
		k++
	}
	h.Buckets[bucketNames[k]]++
}

// bucketNames[k] is the name of the bucket of values up to 2^k,
// fmt.Sprintf("<=%d", 1<<k), made once instead of for every value added
// (two values per sample).
var bucketNames = func() (t [63]string) {
	for k := range t {
		t[k] = fmt.Sprintf("<=%d", int64(1)<<k)
	}
	return
}()

func (r *Report) stage(name, unit string) *StageReport {
	for i := range r.Stages {
		if r.Stages[i].Stage == name {
			return &r.Stages[i]
		}
	}
	r.Stages = append(r.Stages, StageReport{Stage: name, Unit: unit, Dropped: map[string]int64{}})
	return &r.Stages[len(r.Stages)-1]
}

func (r *Report) source(name string) *SourceReport {
	if r.PerSource == nil {
		r.PerSource = map[string]*SourceReport{}
	}
	s := r.PerSource[name]
	if s == nil {
		s = &SourceReport{}
		r.PerSource[name] = s
	}
	return s
}

// RecordsDropped sums the drops of every record stage.
func (r *Report) RecordsDropped() int64 {
	var n int64
	for _, s := range r.Stages {
		if s.Unit != "records" {
			continue
		}
		for _, c := range s.Dropped {
			n += c
		}
	}
	return n
}

// Balanced reports whether every input record is accounted for: it was
// malformed, dropped by a stage with a reason, or used.
func (r *Report) Balanced() error {
	if got := r.Malformed + r.RecordsDropped() + r.RecordsUsed; got != r.RecordsIn {
		return fmt.Errorf("report: %d records in but %d malformed + %d dropped + %d used = %d",
			r.RecordsIn, r.Malformed, r.RecordsDropped(), r.RecordsUsed, got)
	}
	for _, s := range r.Stages {
		var d int64
		for _, c := range s.Dropped {
			d += c
		}
		if s.In != s.Out+d {
			return fmt.Errorf("report: stage %s: in %d != out %d + dropped %d", s.Stage, s.In, s.Out, d)
		}
	}
	return nil
}

// Print writes the report as human-readable tables.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "records in\t%d\t(%s, %d files)\t\n", r.RecordsIn, humanBytes(r.BytesIn), len(r.Files))
	fmt.Fprintf(tw, "malformed\t%d\t\t\n", r.Malformed)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tUNIT\tIN\tOUT\tDROPPED (reason: count)")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", s.Stage, s.Unit, s.In, s.Out, formatDrops(s.Dropped))
	}
	fmt.Fprintf(tw, "qc\tsamples\t%d\t%d\t%s\n", r.SamplesFormulated, r.SamplesKept, formatDrops(r.QCDropped))
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	srcs := sortedKeys(r.PerSource)
	fmt.Fprint(tw, "TASK")
	for _, s := range srcs {
		fmt.Fprintf(tw, "\t%s", s)
	}
	fmt.Fprintln(tw, "\ttotal")
	for _, kind := range sortedKeys(r.Tasks) {
		fmt.Fprint(tw, kind)
		var tot int64
		for _, s := range srcs {
			fmt.Fprintf(tw, "\t%d", r.Tasks[kind][s])
			tot += r.Tasks[kind][s]
		}
		fmt.Fprintf(tw, "\t%d\n", tot)
	}
	fmt.Fprint(tw, "users kept")
	for _, s := range srcs {
		fmt.Fprintf(tw, "\t%d", r.PerSource[s].UsersKept)
	}
	fmt.Fprintf(tw, "\t%d\n", r.UsersKept)
	tw.Flush()
	fmt.Fprintf(w, "\ntrain %d  test %d  (%.1fs)\n", r.Train, r.Test, r.Seconds)
	if len(r.MalformedExamples) > 0 {
		fmt.Fprintln(w, "\nfirst malformed records:")
		for _, m := range r.MalformedExamples {
			fmt.Fprintf(w, "  %s:%d: %s\n", m.File, m.Line, m.Err)
		}
	}
}

func formatDrops(m map[string]int64) string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
