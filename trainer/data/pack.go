package data

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// IgnoreIndex marks a target that is not trained (kernels.IgnoreIndex).
const IgnoreIndex int32 = -100

// Renderer turns one chat sample into token ids and, per token, whether it
// is trained (assistant content and its end-of-turn token). The model
// package's chat templates implement it.
type Renderer interface {
	Render(s tasks.Sample) (ids []int32, trained []bool, err error)
}

// Tokenized is one rendered sample.
type Tokenized struct {
	IDs     []int32
	Trained []bool // len(IDs); Trained[i]: token i is a target
	Kind    string // task kind ("action", ...), from Sample.Task
}

// TrainedTokens counts the tokens that are targets, ignoring the first token
// (nothing predicts it).
func (t *Tokenized) TrainedTokens() int {
	n := 0
	for i := 1; i < len(t.Trained); i++ {
		if t.Trained[i] {
			n++
		}
	}
	return n
}

// Config says how samples become sequences.
type Config struct {
	SeqLen int
	// Pack puts several samples in one sequence (attention and positions
	// restart at each sample); false pads every sample to SeqLen.
	Pack bool
	// Overlong is what happens to a sample longer than SeqLen: "truncate"
	// keeps its first SeqLen tokens, "keep_end" its last SeqLen tokens (the
	// answer survives, the start of the prompt is cut: TRL's keep_end),
	// "drop" leaves it out.
	Overlong string
	// PadID fills unused positions (never a target).
	PadID int32
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.SeqLen < 2 {
		return fmt.Errorf("seq_len: %d must be >= 2", c.SeqLen)
	}
	switch c.Overlong {
	case "truncate", "keep_end", "drop":
	default:
		return fmt.Errorf("overlong: %q is not truncate, keep_end or drop", c.Overlong)
	}
	return nil
}

// Stats describes what rendering did to a dataset.
type Stats struct {
	Samples       int // samples given
	Kept          int // samples in the stream
	Truncated     int // overlong samples cut to SeqLen
	Dropped       int // overlong samples left out
	NoTarget      int // samples left out because no token was trained (after truncation)
	Tokens        int64
	TrainedTokens int64
}

// Prepare renders samples and applies the overlong policy. Samples with no
// trained token left are dropped (they would only cost time).
func Prepare(samples []tasks.Sample, r Renderer, c Config) ([]Tokenized, Stats, error) {
	if err := c.Validate(); err != nil {
		return nil, Stats{}, err
	}
	st := Stats{Samples: len(samples)}
	out := make([]Tokenized, 0, len(samples))
	for i, s := range samples {
		ids, trained, err := r.Render(s)
		if err != nil {
			return nil, st, fmt.Errorf("sample %d (task %q): %w", i, s.Task, err)
		}
		if len(ids) != len(trained) {
			return nil, st, fmt.Errorf("sample %d: renderer returned %d ids and %d mask entries", i, len(ids), len(trained))
		}
		if len(ids) > c.SeqLen {
			if c.Overlong == "drop" {
				st.Dropped++
				continue
			}
			if c.Overlong == "keep_end" {
				ids, trained = ids[len(ids)-c.SeqLen:], trained[len(trained)-c.SeqLen:]
			} else {
				ids, trained = ids[:c.SeqLen], trained[:c.SeqLen]
			}
			st.Truncated++
		}
		kind, _, _ := strings.Cut(s.Task, ".")
		t := Tokenized{IDs: ids, Trained: trained, Kind: kind}
		n := t.TrainedTokens()
		if n == 0 {
			st.NoTarget++
			continue
		}
		st.Kept++
		st.Tokens += int64(len(ids))
		st.TrainedTokens += int64(n)
		out = append(out, t)
	}
	return out, st, nil
}

// Batch is B sequences of T tokens, row-major [B*T].
type Batch struct {
	B, T int
	// Inputs are the token ids fed to the model.
	Inputs []int32
	// Targets[j] is the token position j must predict, or IgnoreIndex
	// (untrained, padding, or a sample's last token: no prediction crosses
	// a sample boundary).
	Targets []int32
	// Positions restart at 0 at each sample.
	Positions []int32
	// Start[j] is the row offset of the first token of j's sample: position
	// j attends to [Start[j], j] of its row (kernels.AttentionParams.Start).
	Start []int32
	// Segments lists the samples in the batch, in order.
	Segments []Segment
	// TrainedTokens counts targets that are not IgnoreIndex.
	TrainedTokens int
}

// Segment is one sample placed in a batch.
type Segment struct {
	Row, Offset, Len int
	Sample           int // index into the Loader's samples
	Kind             string
}

// Position is where a Loader is in its stream: a checkpoint stores it and
// resumes with SetPosition.
type Position struct {
	Epoch int `json:"epoch"`
	Next  int `json:"next"` // index into the epoch's shuffled order
}

// Loader produces batches from rendered samples in a seeded order, epoch
// after epoch. The order of epoch e is a permutation drawn from (seed, e)
// only, so a Position fully determines every following batch.
type Loader struct {
	samples []Tokenized
	cfg     Config
	b       int
	seed    uint64
	shuffle bool

	pos   Position
	order []int // permutation of the current epoch
	batch Batch // reused
}

// NewLoader makes a loader of batches of b sequences. shuffle false keeps
// the file order (evaluation).
func NewLoader(samples []Tokenized, c Config, b int, seed uint64, shuffle bool) (*Loader, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if b < 1 {
		return nil, fmt.Errorf("batch_size: %d must be >= 1", b)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("data: no sample with a trained token")
	}
	for i, s := range samples {
		if len(s.IDs) > c.SeqLen || len(s.IDs) != len(s.Trained) {
			return nil, fmt.Errorf("data: sample %d has %d tokens (seq_len %d) and %d mask entries", i, len(s.IDs), c.SeqLen, len(s.Trained))
		}
	}
	l := &Loader{samples: samples, cfg: c, b: b, seed: seed, shuffle: shuffle}
	n := b * c.SeqLen
	l.batch = Batch{B: b, T: c.SeqLen, Inputs: make([]int32, n), Targets: make([]int32, n), Positions: make([]int32, n), Start: make([]int32, n)}
	l.SetPosition(Position{})
	return l, nil
}

// Position returns where the next batch starts.
func (l *Loader) Position() Position { return l.pos }

// SetPosition moves to p (from a checkpoint).
func (l *Loader) SetPosition(p Position) {
	l.pos = p
	l.order = epochOrder(len(l.samples), l.seed, p.Epoch, l.shuffle, l.order)
}

// Samples returns the rendered samples.
func (l *Loader) Samples() []Tokenized { return l.samples }

func epochOrder(n int, seed uint64, epoch int, shuffle bool, buf []int) []int {
	buf = buf[:0]
	for i := range n {
		buf = append(buf, i)
	}
	if shuffle {
		rng := rand.New(rand.NewPCG(seed, uint64(epoch)+0x9e3779b97f4a7c15))
		rng.Shuffle(n, func(i, j int) { buf[i], buf[j] = buf[j], buf[i] })
	}
	return buf
}

// Next fills and returns the next batch. The batch's slices are reused by
// the following call. An epoch ends at the first batch that would need a
// sample beyond the order's end: that batch is filled from the next epoch,
// so every batch is full and no sample of an epoch is skipped.
func (l *Loader) Next() *Batch { return l.next(true) }

// NextInEpoch is Next for a single pass (evaluation): it never starts a new
// epoch, so rows after the epoch's last sample stay padding, and it returns
// nil once every sample of the current epoch has been placed. SetPosition
// (Position{}) starts the pass again.
func (l *Loader) NextInEpoch() *Batch {
	if l.pos.Next >= len(l.order) {
		return nil
	}
	return l.next(false)
}

func (l *Loader) next(wrap bool) *Batch {
	bt := &l.batch
	T := bt.T
	for i := range bt.Inputs {
		bt.Inputs[i] = l.cfg.PadID
		bt.Targets[i] = IgnoreIndex
		bt.Positions[i] = 0
		bt.Start[i] = int32(i % T)
	}
	bt.Segments = bt.Segments[:0]
	bt.TrainedTokens = 0
	for row := range bt.B {
		off := 0
		for {
			if l.pos.Next >= len(l.order) {
				if !wrap {
					return bt
				}
				l.SetPosition(Position{Epoch: l.pos.Epoch + 1})
			}
			si := l.order[l.pos.Next]
			s := &l.samples[si]
			if off > 0 && (!l.cfg.Pack || off+len(s.IDs) > T) {
				break // row full: the sample opens the next row
			}
			l.place(row, off, si)
			off += len(s.IDs)
			l.pos.Next++
			if !l.cfg.Pack || off == T {
				break
			}
		}
	}
	return bt
}

// place writes sample si at (row, off).
func (l *Loader) place(row, off, si int) {
	bt := &l.batch
	s := &l.samples[si]
	base := row*bt.T + off
	n := len(s.IDs)
	for i := range n {
		j := base + i
		bt.Inputs[j] = s.IDs[i]
		bt.Positions[j] = int32(i)
		bt.Start[j] = int32(off)
		if i+1 < n && s.Trained[i+1] {
			bt.Targets[j] = s.IDs[i+1]
			bt.TrainedTokens++
		}
	}
	bt.Segments = append(bt.Segments, Segment{Row: row, Offset: off, Len: n, Sample: si, Kind: s.Kind})
}
