package formulate

import (
	"fmt"
	"slices"

	"github.com/humanllm/humanllm/tasks"
)

// DefaultSystemPrompt is the system message Default puts before every
// sample. The paper has none; set Config.SystemPrompt to "" for that.
const DefaultSystemPrompt = "You simulate a real person from their description and their own past writing. " +
	"Answer as that person would, in their own voice, unless you are asked to describe them."

// Kinds lists every task kind, in the order New builds (and runs) them.
var Kinds = []string{tasks.TaskAction, tasks.TaskThought, tasks.TaskStyle, tasks.TaskProfile, tasks.TaskItemSelection}

// Config selects and tunes the formulators. Keys are the mapstructure tags
// under "formulate.".
type Config struct {
	// Kinds are the enabled task kinds (any of Kinds); empty means all.
	Kinds []string `mapstructure:"kinds"`
	// SystemPrompt is the system message of every sample; "" means none
	// (the paper's form).
	SystemPrompt string `mapstructure:"system_prompt"`
	// HistoryWords is the most words of one past record shown in a prompt;
	// longer ones are cut at a word boundary and end in " [...]".
	HistoryWords int `mapstructure:"history_words"`

	Action        ActionConfig        `mapstructure:"action"`
	Thought       ThoughtConfig       `mapstructure:"thought"`
	Style         StyleConfig         `mapstructure:"style"`
	Profile       ProfileConfig       `mapstructure:"profile"`
	ItemSelection ItemSelectionConfig `mapstructure:"item_selection"`
}

// ActionConfig tunes next-action prediction.
type ActionConfig struct {
	// MaxPerUser caps the samples per user; the latest eligible records
	// are the targets.
	MaxPerUser int `mapstructure:"max_per_user"`
	// History is the most previous records shown (newest last).
	History int `mapstructure:"history"`
	// MinHistory is the fewest previous records a target needs: the first
	// MinHistory records of a user are never targets.
	MinHistory int `mapstructure:"min_history"`
	// MaxWords skips targets longer than this (0: no limit).
	MaxWords int `mapstructure:"max_words"`
}

// ThoughtConfig tunes thought prediction.
type ThoughtConfig struct {
	// MaxPerUser caps the samples per user; the thoughts of the latest
	// records are taken first.
	MaxPerUser int `mapstructure:"max_per_user"`
}

// StyleConfig tunes writing imitation.
type StyleConfig struct {
	// MaxPerUser caps the samples of each variant per user.
	MaxPerUser int `mapstructure:"max_per_user"`
	// History is the most past posts shown; each sample shows between 1
	// and History of the posts just before the target (drawn with rng).
	History int `mapstructure:"history"`
	// MinWords and MaxWords bound the words of a target: the post, or for
	// style.continuation the rest after the beginning shown (whose post
	// must also be within the bounds).
	MinWords int `mapstructure:"min_words"`
	MaxWords int `mapstructure:"max_words"`
}

// ProfileConfig tunes profile writing.
type ProfileConfig struct {
	// History is the most (latest) records shown to history2profile.
	History int `mapstructure:"history"`
	// MinHistory is the fewest records history2profile needs.
	MinHistory int `mapstructure:"min_history"`
}

// ItemSelectionConfig tunes next-item selection (Amazon).
type ItemSelectionConfig struct {
	// History is the most previously reviewed titles shown (latest ones).
	History int `mapstructure:"history"`
	// MinHistory is the fewest previous items the target needs.
	MinHistory int `mapstructure:"min_history"`
	// Candidates is the number of choices: the target and Candidates-1
	// negatives.
	Candidates int `mapstructure:"candidates"`
	// DescMix also uses the persona/profile: history only 50%, description
	// only 15%, both 35% (the paper's mix) when a description exists.
	// Off by default: history only.
	DescMix bool `mapstructure:"desc_mix"`
}

// Default returns the defaults: all kinds, DefaultSystemPrompt, 300 words
// per past record; action 5 per user from 5 previous records after at least
// 2, targets up to 1000 words; thought 10 per user; style 3 per variant per
// user, 1-5 past posts, targets of 30-1000 words; profile from the latest 20
// of at least 3 records; item selection from the latest 30 of at least 3
// previous titles, 20 candidates, history-only prompts.
func Default() Config {
	return Config{
		Kinds:         slices.Clone(Kinds),
		SystemPrompt:  DefaultSystemPrompt,
		HistoryWords:  300,
		Action:        ActionConfig{MaxPerUser: 5, History: 5, MinHistory: 2, MaxWords: 1000},
		Thought:       ThoughtConfig{MaxPerUser: 10},
		Style:         StyleConfig{MaxPerUser: 3, History: 5, MinWords: 30, MaxWords: 1000},
		Profile:       ProfileConfig{History: 20, MinHistory: 3},
		ItemSelection: ItemSelectionConfig{History: 30, MinHistory: 3, Candidates: 20},
	}
}

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	for _, k := range c.Kinds {
		if !slices.Contains(Kinds, k) {
			return fmt.Errorf("formulate.kinds: %q is not one of %v", k, Kinds)
		}
	}
	for _, f := range []struct {
		key string
		v   int
	}{
		{"history_words", c.HistoryWords},
		{"action.max_per_user", c.Action.MaxPerUser},
		{"action.history", c.Action.History},
		{"action.min_history", c.Action.MinHistory},
		{"action.max_words", c.Action.MaxWords},
		{"thought.max_per_user", c.Thought.MaxPerUser},
		{"style.max_per_user", c.Style.MaxPerUser},
		{"style.history", c.Style.History},
		{"style.min_words", c.Style.MinWords},
		{"style.max_words", c.Style.MaxWords},
		{"profile.history", c.Profile.History},
		{"profile.min_history", c.Profile.MinHistory},
		{"item_selection.history", c.ItemSelection.History},
		{"item_selection.min_history", c.ItemSelection.MinHistory},
	} {
		if f.v < 0 {
			return fmt.Errorf("formulate.%s: %d must be >= 0", f.key, f.v)
		}
	}
	if c.Style.MaxWords > 0 && c.Style.MinWords > c.Style.MaxWords {
		return fmt.Errorf("formulate.style.min_words: %d is above style.max_words %d", c.Style.MinWords, c.Style.MaxWords)
	}
	if c.ItemSelection.Candidates < 2 {
		return fmt.Errorf("formulate.item_selection.candidates: %d must be >= 2", c.ItemSelection.Candidates)
	}
	return nil
}

// withDefaults replaces zero sizes and caps by the defaults, so a zero or
// partial Config still works. Zero means "default" for every number except
// the minimum histories and action.max_words, where 0 is meaningful.
func (c Config) withDefaults() Config {
	d := Default()
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&c.HistoryWords, d.HistoryWords)
	set(&c.Action.MaxPerUser, d.Action.MaxPerUser)
	set(&c.Action.History, d.Action.History)
	set(&c.Thought.MaxPerUser, d.Thought.MaxPerUser)
	set(&c.Style.MaxPerUser, d.Style.MaxPerUser)
	set(&c.Style.History, d.Style.History)
	set(&c.Style.MaxWords, d.Style.MaxWords)
	set(&c.Profile.History, d.Profile.History)
	set(&c.ItemSelection.History, d.ItemSelection.History)
	set(&c.ItemSelection.Candidates, d.ItemSelection.Candidates)
	if c.ItemSelection.Candidates < 2 {
		c.ItemSelection.Candidates = d.ItemSelection.Candidates
	}
	return c
}

// New builds the enabled formulators in the order of Kinds (whatever the
// order of cfg.Kinds), so that formulators sharing one rng per user stay
// deterministic. Unknown kinds are ignored (Validate reports them). cat may
// be nil; item selection then emits nothing.
func New(cfg Config, cat Catalog) []Formulator {
	cfg = cfg.withDefaults()
	var out []Formulator
	for _, k := range Kinds {
		if len(cfg.Kinds) > 0 && !slices.Contains(cfg.Kinds, k) {
			continue
		}
		b := base{cfg: cfg}
		switch k {
		case tasks.TaskAction:
			out = append(out, &actionFormulator{b})
		case tasks.TaskThought:
			out = append(out, &thoughtFormulator{b})
		case tasks.TaskStyle:
			out = append(out, &styleFormulator{b})
		case tasks.TaskProfile:
			out = append(out, &profileFormulator{b})
		case tasks.TaskItemSelection:
			out = append(out, &itemFormulator{base: b, cat: cat})
		}
	}
	return out
}
