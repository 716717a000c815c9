package model

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// MemoryEstimate is the RAM a float32 training run of a Config needs, in
// bytes, split by what holds it. Print it before allocating anything.
type MemoryEstimate struct {
	Batch, Seq int   // the step shape it was computed for
	Params     int64 // trainable parameters

	Weights     int64 // parameters, float32
	Grads       int64 // one gradient per parameter, float32
	Optimizer   int64 // AdamW first and second moments, float32
	Activations int64 // forward values kept for backward + their gradients
}

// Total is the sum of all parts.
func (m MemoryEstimate) Total() int64 {
	return m.Weights + m.Grads + m.Optimizer + m.Activations
}

func (m MemoryEstimate) String() string {
	return fmt.Sprintf("%s params: weights %s + grads %s + AdamW %s + activations %s (batch %d x seq %d) = %s",
		HumanCount(m.Params), HumanBytes(m.Weights), HumanBytes(m.Grads), HumanBytes(m.Optimizer),
		HumanBytes(m.Activations), m.Batch, m.Seq, HumanBytes(m.Total()))
}

// Memory estimates the RAM for training this model in float32 with AdamW
// at batch×seq tokens per step.
//
// The activation term models the gorgonia graph built from built-in ops
// (model/llama): per layer it counts the values a tape machine keeps (the
// residual stream and its norms, q/k/v before and after RoPE, three
// B·H·T·T score tensors, the SwiGLU intermediates), plus the final norm,
// logits and log-softmax, and doubles the total for the gradients of those
// values that backward allocates. It is deliberately on the high side:
// fused ops need less.
func (c Config) Memory(batch, seq int) MemoryEstimate {
	const f32 = 4
	p := c.ParamCount()
	n := int64(batch) * int64(seq)
	d, kv, h := int64(c.Dim), int64(c.KVDim()), int64(c.HiddenDim)
	scores := int64(batch) * int64(c.NHeads) * int64(seq) * int64(seq)
	perLayer := n*(16*d+10*kv+5*h) + 3*scores
	floats := int64(c.NLayers)*perLayer + n*(3*d+2*int64(c.Vocab))
	return MemoryEstimate{
		Batch: batch, Seq: seq, Params: p,
		Weights:     p * f32,
		Grads:       p * f32,
		Optimizer:   2 * p * f32,
		Activations: 2 * floats * f32,
	}
}

// ErrWontFit is wrapped by CheckFits when a model needs more memory than
// is available.
var ErrWontFit = errors.New("model will not fit in memory")

// CheckFits returns an error wrapping ErrWontFit, with the breakdown, when
// est needs more than available bytes.
func CheckFits(est MemoryEstimate, available int64) error {
	if est.Total() <= available {
		return nil
	}
	return fmt.Errorf("%w: needs %s but only %s is available (%s); reduce batch, sequence length or model size",
		ErrWontFit, HumanBytes(est.Total()), HumanBytes(available), est)
}

// CheckFitsInRAM estimates the memory for training c at batch×seq and
// checks it against MemAvailable. The estimate is returned in any case.
func (c Config) CheckFitsInRAM(batch, seq int) (MemoryEstimate, error) {
	est := c.Memory(batch, seq)
	avail, err := MemAvailable()
	if err != nil {
		return est, err
	}
	return est, CheckFits(est, avail)
}

// MemAvailable returns the kernel's estimate of memory available for new
// allocations without swapping (MemAvailable in /proc/meminfo), in bytes.
// It fails on systems other than Linux.
func MemAvailable() (int64, error) {
	if runtime.GOOS != "linux" {
		return 0, fmt.Errorf("available memory: not implemented on %s", runtime.GOOS)
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("available memory: %w", err)
	}
	defer f.Close()
	return parseMemAvailable(f.Name(), bufio.NewScanner(f))
}

func parseMemAvailable(name string, sc *bufio.Scanner) (int64, error) {
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "MemAvailable:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("available memory: %s: bad line %q: %w", name, line, err)
		}
		mult := int64(1)
		if len(fields) > 1 {
			switch strings.ToLower(fields[1]) {
			case "kb":
				mult = 1024
			case "mb":
				mult = 1 << 20
			case "gb":
				mult = 1 << 30
			default:
				return 0, fmt.Errorf("available memory: %s: unknown unit in %q", name, line)
			}
		}
		return v * mult, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("available memory: %s: %w", name, err)
	}
	return 0, fmt.Errorf("available memory: %s has no MemAvailable line", name)
}

// HumanBytes formats a byte count with a binary unit (KiB, MiB, GiB, TiB).
func HumanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit && exp < 3; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(b)/float64(div), "KMGT"[exp])
}

// HumanCount writes a count as 1.2K / 3.4M / 5.6B.
func HumanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}
