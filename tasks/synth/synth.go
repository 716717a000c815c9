// Package synth derives per-user artifacts (persona, profile, writing style,
// inner thoughts, per-record topics) from a user's history, as the HumanLLM
// paper's synthesis stage does. Two backends implement Synthesizer:
// "heuristic" (deterministic, no model) and "llm" (any OpenAI-compatible
// chat completions endpoint).
//
// The heuristic backend reads a bounded window of the history,
// synth.heuristic.max_history_chars (HeuristicConfig.MaxHistoryChars,
// default 24000 bytes, the llm backend's bound; 0 = the whole history): the
// text measures (keywords, style features and description,
// self-descriptions, relations, the salient records of the profile, the
// typical length, the thoughts) are taken over the latest records whose
// titles and texts total at most that many bytes. The record that would
// cross the bound is left out, with everything before it, except that the
// latest record is always read. The counts stay over the whole history
// (number of records, kinds, first and last dates, communities, ratings),
// so a profile still says "They wrote 812 blog posts between ...". Thoughts
// come from the window only: with more candidates than max_thoughts they
// are spaced over the window, not the whole history, and a long history's
// older records give none. A record's topic does not depend on the window:
// Synthesize gives the topics on demand (tasks.Artifacts.TopicOf), so that
// only the few a formulator or the profile uses are computed, for records
// in the window or not.
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
	// MaxHistoryChars bounds the text the backend reads (see
	// historyWindow): the text measures (keywords, style, self-descriptions,
	// relations, salient records, typical length, thoughts) are taken over
	// the latest records whose titles and texts total at most this many
	// bytes, always at least the latest record. The counts (records, kinds,
	// dates, communities, ratings) stay over the whole history, and a
	// record's topic does not depend on it. 0 = the whole history. Unlike
	// the other fields, 0 is not replaced by the default.
	MaxHistoryChars int `mapstructure:"max_history_chars"`
}

// DefaultHeuristicConfig returns the defaults: 20 thoughts per user (the
// paper's cap), 2 scenario sentences, 4 topic words, profile from 3 records,
// style from 50 words, text measures over the latest 24000 bytes of history
// (the llm backend's bound, LLMConfig.MaxHistoryChars).
func DefaultHeuristicConfig() HeuristicConfig {
	return HeuristicConfig{MaxThoughts: 20, ScenarioSentences: 2, TopicWords: 4, MinProfileRecords: 3, MinStyleWords: 50,
		MaxHistoryChars: 24000}
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
