package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/humanllm/humanllm/model/safetensors"
)

// Record is one line of the run's metrics.jsonl: a training step
// (Type "step"), an evaluation ("eval") or an event ("event": start,
// resume, checkpoint, interruption, stop).
type Record struct {
	Type string `json:"type"`
	Step int    `json:"step"` // steps done after this record's step

	// step
	Epoch         float64  `json:"epoch,omitempty"`
	Loss          *float64 `json:"loss,omitempty"` // nil: non-finite (skipped) or no trained token
	LR            float64  `json:"lr,omitempty"`
	GradNorm      *float64 `json:"grad_norm,omitempty"`
	Clipped       bool     `json:"clipped,omitempty"`
	Skipped       bool     `json:"skipped,omitempty"`
	Tokens        int      `json:"tokens,omitempty"`
	TrainedTokens int      `json:"trained_tokens,omitempty"`
	TokensPerSec  float64  `json:"tokens_per_s,omitempty"`
	StepSeconds   float64  `json:"step_s,omitempty"`

	// eval
	EvalLoss *float64            `json:"eval_loss,omitempty"`
	EvalPPL  *float64            `json:"eval_ppl,omitempty"`
	Kinds    map[string]KindEval `json:"kinds,omitempty"`
	// Base marks the evaluation of the starting model (step 0, before
	// training; eval.at_start).
	Base bool `json:"base,omitempty"`

	// event
	Event   string `json:"event,omitempty"`
	Message string `json:"message,omitempty"`
	// Bytes and DurationMS: a checkpoint's size and its save time
	// (checkpoint) or load and verification time (resume).
	Bytes      int64   `json:"bytes,omitempty"`
	DurationMS float64 `json:"duration_ms,omitempty"`

	Time string `json:"time"`
}

// KindEval is the held-out result of one task kind.
type KindEval struct {
	Loss float64 `json:"loss"` // 0 with NonFinite
	PPL  float64 `json:"ppl"`
	// NonFinite: the loss was NaN or infinite.
	NonFinite bool  `json:"non_finite,omitempty"`
	Tokens    int64 `json:"tokens"`
	Samples   int   `json:"samples"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// runLog appends Records to metrics.jsonl.
type runLog struct {
	f    *os.File
	w    *bufio.Writer
	hist []Record // step and eval records, for the loss plot
}

const logFile = "metrics.jsonl"

// openRunLog opens runDir/metrics.jsonl. keepThrough >= 0 (a resume from
// that step) first drops every record of a later step, so that the log of
// a resumed run reads like an uninterrupted one; keepThrough < 0 starts an
// empty log.
func openRunLog(runDir string, keepThrough int) (*runLog, error) {
	path := filepath.Join(runDir, logFile)
	l := &runLog{}
	var kept bytes.Buffer
	if keepThrough >= 0 {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for line := range bytes.Lines(b) {
			var r Record
			if json.Unmarshal(line, &r) != nil || !bytes.HasSuffix(line, []byte("\n")) {
				continue // a line torn by a crash
			}
			if r.Step > keepThrough {
				continue
			}
			kept.Write(line)
			if r.Type == "step" || r.Type == "eval" {
				l.hist = append(l.hist, r)
			}
		}
	}
	if err := safetensors.WriteAtomic(path, kept.Bytes()); err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l.f, l.w = f, bufio.NewWriter(f)
	return l, nil
}

// add writes r (one line, flushed).
func (l *runLog) add(r Record) error {
	if r.Time == "" {
		r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	l.w.Write(b)
	l.w.WriteByte('\n')
	if r.Type == "step" || r.Type == "eval" {
		l.hist = append(l.hist, r)
	}
	return l.w.Flush()
}

func (l *runLog) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.w.Flush()
	return l.f.Close()
}

// ReadLog reads a run's metrics.jsonl (torn lines are skipped).
func ReadLog(runDir string) ([]Record, error) {
	b, err := os.ReadFile(filepath.Join(runDir, logFile))
	if err != nil {
		return nil, err
	}
	var out []Record
	for line := range bytes.Lines(b) {
		var r Record
		if json.Unmarshal(line, &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// progress prints the status line on stderr: one line rewritten every
// step on a terminal, a plain line every log.every steps otherwise.
type progress struct {
	out      io.Writer
	terminal bool
	every    int
	open     bool // a terminal line is pending (no newline yet)
}

func (p *progress) step(r Record, maxSteps int, eta time.Duration) {
	if p.out == nil {
		return
	}
	last := r.Step == maxSteps
	if !p.terminal && r.Step%p.every != 0 && !last && !r.Skipped {
		return
	}
	loss := "  nan "
	if r.Loss != nil {
		loss = fmt.Sprintf("%.4f", *r.Loss)
	}
	gn := "nan"
	if r.GradNorm != nil {
		gn = fmt.Sprintf("%.3f", *r.GradNorm)
	}
	line := fmt.Sprintf("train step %d/%d  epoch %.2f  loss %s  lr %.2e  gnorm %s  %s tok/s  eta %s",
		r.Step, maxSteps, r.Epoch, loss, r.LR, gn, count(int64(r.TokensPerSec)), fmtDuration(eta))
	if r.Skipped {
		line += "  [skipped: non-finite]"
	}
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
		p.open = true
		if last {
			p.newline()
		}
		return
	}
	fmt.Fprintln(p.out, line)
}

// note prints a message on its own line.
func (p *progress) note(format string, args ...any) {
	if p.out == nil {
		return
	}
	p.newline()
	fmt.Fprintf(p.out, format+"\n", args...)
}

func (p *progress) newline() {
	if p.open {
		fmt.Fprintln(p.out)
		p.open = false
	}
}

func fmtDuration(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

func count(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// kindsLine formats per-kind eval results, kinds sorted.
func kindsLine(k map[string]KindEval) string {
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if k[n].NonFinite {
			fmt.Fprintf(&b, "  %s nan", n)
			continue
		}
		fmt.Fprintf(&b, "  %s %.4f (ppl %.2f)", n, k[n].Loss, k[n].PPL)
	}
	return b.String()
}
