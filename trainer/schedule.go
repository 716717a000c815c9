package trainer

import (
	"fmt"
	"math"
)

// Schedule is a learning-rate schedule: linear warmup from 0 to LR over
// WarmupSteps, then a decay to MinLR at TotalSteps (cosine or linear) or a
// constant LR. It has no state besides the step: the LR of any step is
// recomputed from the step alone (as llm.c does), so a resumed run gets
// exactly the LRs of an uninterrupted one.
type Schedule struct {
	Kind        string  `json:"kind" mapstructure:"kind" yaml:"kind"` // cosine | linear | constant
	LR          float64 `json:"lr" mapstructure:"lr" yaml:"lr"`       // peak learning rate
	MinLR       float64 `json:"min_lr" mapstructure:"min_lr" yaml:"min_lr"`
	WarmupSteps int     `json:"warmup_steps" mapstructure:"warmup_steps" yaml:"warmup_steps"`
	// TotalSteps is where the decay reaches MinLR (0: the run's max_steps).
	TotalSteps int `json:"total_steps" mapstructure:"total_steps" yaml:"total_steps"`
}

// Validate names the first bad field.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "cosine", "linear", "constant":
	default:
		return fmt.Errorf("schedule.kind: %q is not cosine, linear or constant", s.Kind)
	}
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("schedule.lr: %g must be > 0", s.LR)
	}
	if s.MinLR < 0 || s.MinLR > s.LR || math.IsNaN(s.MinLR) {
		return fmt.Errorf("schedule.min_lr: %g must be in [0, lr=%g]", s.MinLR, s.LR)
	}
	if s.WarmupSteps < 0 {
		return fmt.Errorf("schedule.warmup_steps: %d must be >= 0", s.WarmupSteps)
	}
	if s.TotalSteps < 0 {
		return fmt.Errorf("schedule.total_steps: %d must be >= 0", s.TotalSteps)
	}
	return nil
}

// At returns the learning rate of step (counted from 0: the first update
// uses At(0)). Warmup is (step+1)/WarmupSteps·LR, so no update has LR 0.
// After TotalSteps the LR stays at MinLR (constant: LR).
func (s Schedule) At(step int) float64 {
	if step < s.WarmupSteps {
		return s.LR * float64(step+1) / float64(s.WarmupSteps)
	}
	if s.Kind == "constant" {
		return s.LR
	}
	decay := s.TotalSteps - s.WarmupSteps
	if decay <= 0 || step >= s.TotalSteps {
		return s.MinLR
	}
	frac := float64(step-s.WarmupSteps) / float64(decay) // [0, 1)
	var coef float64                                     // 1 -> 0
	switch s.Kind {
	case "cosine":
		coef = 0.5 * (1 + math.Cos(math.Pi*frac))
	default: // linear
		coef = 1 - frac
	}
	return s.MinLR + coef*(s.LR-s.MinLR)
}
