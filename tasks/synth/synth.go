// Package synth derives per-user artifacts (persona, profile, writing style,
// inner thoughts, per-record topics) from a user's history, as the HumanLLM
// paper's synthesis stage does. Two backends implement Synthesizer:
// "heuristic" (deterministic, no model) and "llm" (any OpenAI-compatible
// chat completions endpoint).
package synth

import (
	"context"

	"github.com/humanllm/humanllm/tasks"
)

// Synthesizer derives Artifacts from one user's kept history. It must be
// safe for concurrent use by many goroutines.
type Synthesizer interface {
	Name() string
	Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error)
}

// HeuristicConfig tunes the deterministic backend.
type HeuristicConfig struct {
	// MaxThoughts caps the thoughts extracted per user.
	MaxThoughts int `mapstructure:"max_thoughts"`
	// ScenarioSentences is how many preceding sentences of the record form
	// a thought's scenario.
	ScenarioSentences int `mapstructure:"scenario_sentences"`
	// TopicWords is the number of keywords in a keyword topic.
	TopicWords int `mapstructure:"topic_words"`
	// MinProfileRecords is the fewest records for which a Profile is
	// written (it also needs 100 words of measured facts).
	MinProfileRecords int `mapstructure:"min_profile_records"`
	// MinStyleWords is the fewest words of text for a Style description.
	MinStyleWords int `mapstructure:"min_style_words"`
}

// DefaultHeuristicConfig returns the defaults: 20 thoughts per user (the
// paper's cap), 2 scenario sentences, 4 topic words, profile from 3 records,
// style from 50 words.
func DefaultHeuristicConfig() HeuristicConfig {
	return HeuristicConfig{MaxThoughts: 20, ScenarioSentences: 2, TopicWords: 4, MinProfileRecords: 3, MinStyleWords: 50}
}

func (c HeuristicConfig) withDefaults() HeuristicConfig {
	d := DefaultHeuristicConfig()
	if c.MaxThoughts <= 0 {
		c.MaxThoughts = d.MaxThoughts
	}
	if c.ScenarioSentences <= 0 {
		c.ScenarioSentences = d.ScenarioSentences
	}
	if c.TopicWords <= 0 {
		c.TopicWords = d.TopicWords
	}
	if c.MinProfileRecords <= 0 {
		c.MinProfileRecords = d.MinProfileRecords
	}
	if c.MinStyleWords <= 0 {
		c.MinStyleWords = d.MinStyleWords
	}
	return c
}
