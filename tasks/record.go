package tasks

// Record is one unit of a person's public activity: a post, a comment, a
// tweet, a blog post or a product review. Every source adapter produces
// Records; every later stage consumes them.
type Record struct {
	// Source is the platform: "reddit", "twitter", "blogger", "amazon", or
	// the name given to a generic JSONL mapping.
	Source string `json:"source"`
	// Kind is what the record is on its platform: "post", "comment",
	// "tweet", "review".
	Kind string `json:"kind"`
	// ID is the platform's id of the record (may be empty).
	ID string `json:"id,omitempty"`
	// User is the platform's user id as read. The pipeline replaces it by a
	// salted hash before anything is written out.
	User string `json:"user"`
	// UserName is a display name or screen name when the platform has one.
	UserName string `json:"user_name,omitempty"`
	// Time is seconds since the Unix epoch (UTC); 0 when unknown.
	Time int64 `json:"time,omitempty"`
	// Title is a post title (Reddit submission, review summary, blog title).
	Title string `json:"title,omitempty"`
	// Text is the body the person wrote.
	Text string `json:"text"`
	// Community is where it was posted (subreddit, product category).
	Community string `json:"community,omitempty"`
	// ParentID is the id of what this record answers (comment parent).
	ParentID string `json:"parent_id,omitempty"`
	// ParentText is the text of what this record answers, when known: the
	// context an action task shows the model.
	ParentText string `json:"parent_text,omitempty"`
	// Item fields, for reviews.
	ItemID    string  `json:"item_id,omitempty"`
	ItemTitle string  `json:"item_title,omitempty"`
	Rating    float64 `json:"rating,omitempty"`
	// Meta holds source-specific attributes: author demographics (gender,
	// age, industry, sign), account description, location, followers,
	// score, num_comments, distinguished, retweet, ... Records may share
	// one map (the posts of a Blogger file, a user's spilled records):
	// treat it as read-only, and give a record a copy before changing it.
	Meta map[string]string `json:"meta,omitempty"`
	// File and Line locate the record in its input, for error messages and
	// the report. Line is 1-based; for a JSON array it is the line where the
	// element starts.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// NearHash is filter.SimHash(Title + "\n" + Text) when HasNearHash is
	// set: the pipeline computes it while reading, in the same pass as the
	// exact-duplicate hash, so that the per-user near-duplicate check does
	// not split every text again. Anything that changes Title or Text
	// after that must clear HasNearHash.
	NearHash    uint64 `json:"-"`
	HasNearHash bool   `json:"-"`
}

// Text kinds, used to pick a minimum length.
const (
	KindPost    = "post"
	KindComment = "comment"
	KindTweet   = "tweet"
	KindReview  = "review"
)

// Sources.
const (
	SourceReddit  = "reddit"
	SourceTwitter = "twitter"
	SourceBlogger = "blogger"
	SourceAmazon  = "amazon"
)

// Malformed describes one input record that could not be parsed.
type Malformed struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Err  string `json:"error"`
	// Excerpt is the start of the offending input (at most 200 bytes).
	Excerpt string `json:"excerpt,omitempty"`
}

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Sample is one SFT example in the chat-messages form that TRL, Axolotl and
// LLaMA-Factory read.
type Sample struct {
	Messages []Message `json:"messages"`
	// Task starts with the task kind: "action", "thought", "style",
	// "profile", "item_selection", optionally followed by ".variant".
	Task string `json:"task"`
	// Source is the platform the sample was made from.
	Source string `json:"source"`
	// User is the salted hash of the user id.
	User string `json:"user"`
}

// Task kinds.
const (
	TaskAction        = "action"
	TaskThought       = "thought"
	TaskStyle         = "style"
	TaskProfile       = "profile"
	TaskItemSelection = "item_selection"
)
