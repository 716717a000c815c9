package tasks

// User is one person's kept history, time-ordered, as the per-user stages
// (near-dup, min posts, synthesis, formulation) see it.
type User struct {
	// Source is the platform all records came from.
	Source string
	// ID is the stable salted hash of the platform user id; it is the only
	// user identifier that reaches any output.
	ID string
	// Name is the display or screen name as read; formulators never print
	// it (PII) but the heuristic synthesiser may use it to detect
	// organisation accounts.
	Name string
	// Records are the user's kept records, sorted by Time then input order.
	Records []Record
	// Meta is the union of per-record Meta (demographics etc.); later
	// records win.
	Meta map[string]string
}

// Artifacts are what the synthesis stage derives from one user's history.
// Empty strings mean "not available" and the formulators that need them
// skip the user.
type Artifacts struct {
	// Persona is a short third-person description (<= 100 words).
	Persona string `json:"persona,omitempty"`
	// Profile is a longer third-person description (100-400 words).
	Profile string `json:"profile,omitempty"`
	// Style describes how the user writes ("The user ...").
	Style string `json:"style,omitempty"`
	// Thoughts are the user's own first-person statements of feeling or
	// belief, each tied to the record it came from.
	Thoughts []Thought `json:"thoughts,omitempty"`
	// Topics has one short topic per record (same index as User.Records);
	// used as the prompt of writing imitation. It may be nil when TopicOf
	// gives the topics on demand; read them with Topic.
	Topics []string `json:"topics,omitempty"`
	// TopicOf, when Topics is nil, returns the topic of record i, computed
	// on first use (the heuristic backend: a formulator needs the topics of
	// only a few records). It is not serialised.
	TopicOf func(i int) string `json:"-"`
	// Backend names the synthesiser that produced these ("heuristic", "llm").
	Backend string `json:"backend,omitempty"`
}

// Topic returns the topic of record i: Topics[i] when Topics is set, else
// TopicOf(i), else "".
func (a *Artifacts) Topic(i int) string {
	if a.Topics != nil {
		if i >= 0 && i < len(a.Topics) {
			return a.Topics[i]
		}
		return ""
	}
	if a.TopicOf != nil {
		return a.TopicOf(i)
	}
	return ""
}

// Thought is one inner thought, with the situation it was expressed in.
type Thought struct {
	// Record is the index into User.Records of the record it came from.
	Record int `json:"record"`
	// Scenario is the situation, in the third person, without the thought.
	Scenario string `json:"scenario"`
	// Thought is the first-person statement.
	Thought string `json:"thought"`
}
