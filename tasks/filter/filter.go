package filter

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/tasks"
)

// Drop reasons.
const (
	ReasonEmptyText         = "empty_text"
	ReasonRemovedText       = "removed_text"
	ReasonTooShort          = "too_short"
	ReasonDeletedAuthor     = "deleted_author"
	ReasonBotAuthor         = "bot_author"
	ReasonModerator         = "moderator"
	ReasonLowScore          = "low_score"
	ReasonQuestionOnly      = "question_only"
	ReasonCorporate         = "corporate_account"
	ReasonAdvertisement     = "advertisement"
	ReasonRetweet           = "retweet"
	ReasonTooFewWords       = "too_few_words"
	ReasonDuplicateExact    = "duplicate_exact"
	ReasonDuplicateNear     = "duplicate_near"
	ReasonUserTooFewPosts   = "user_too_few_posts"
	ReasonAmazonItemNotTop  = "amazon_item_not_top"
	ReasonAmazonKCore       = "amazon_kcore"
	ReasonAmazonUserCap     = "amazon_user_cap"
	ReasonAmazonDupUserItem = "amazon_duplicate_user_item"
)

// Config holds every filter setting. Default returns the paper's values.
type Config struct {
	// MinCharsPost, MinCharsComment and MinCharsReview are the minimum
	// lengths in runes, after the PII scrub, by record kind (tweets and
	// blog posts count as posts).
	MinCharsPost    int `mapstructure:"min_chars_post"`
	MinCharsComment int `mapstructure:"min_chars_comment"`
	MinCharsReview  int `mapstructure:"min_chars_review"`
	// MinCharsBySource overrides the minimum for one source (e.g. Reddit
	// CSV exports that carry only titles, or short tweets).
	MinCharsBySource map[string]int `mapstructure:"min_chars_by_source"`
	// MinPosts is the minimum kept records per user; MinPostsBySource
	// overrides it per source (paper: 6 Reddit/Twitter, 3 Blogger; Amazon
	// users are held by the k-core instead).
	MinPosts         int            `mapstructure:"min_posts"`
	MinPostsBySource map[string]int `mapstructure:"min_posts_by_source"`

	// DropAuthors: authors whose lower-cased name contains any of these.
	DropAuthors []string `mapstructure:"drop_authors"`
	// BotSuffixes: authors whose lower-cased name ends with any of these.
	BotSuffixes []string `mapstructure:"bot_suffixes"`
	// DropDistinguished drops moderator/admin-distinguished Reddit posts.
	DropDistinguished bool `mapstructure:"drop_distinguished"`
	// MinScore and MinComments: a Reddit submission is dropped when its
	// score < MinScore AND num_comments < MinComments (both must be known).
	MinScore    int `mapstructure:"min_score"`
	MinComments int `mapstructure:"min_comments"`
	// QuestionOnlyWords: self text under this many words ending in "?" is
	// dropped (0 disables).
	QuestionOnlyWords int `mapstructure:"question_only_words"`
	// CorporateWords mark an organisation account by its description.
	CorporateWords []string `mapstructure:"corporate_words"`
	// AdPhrases mark an advertisement.
	AdPhrases []string `mapstructure:"ad_phrases"`
	// DropRetweets drops "RT @" texts and records with Meta retweet=true.
	DropRetweets bool `mapstructure:"drop_retweets"`
	// MinReviewWords drops reviews of fewer words (paper: > 5 words).
	MinReviewWords int `mapstructure:"min_review_words"`

	// Scrub enables the PII scrub; PII selects what it replaces (see
	// Scrubber and PIIOptions).
	Scrub bool       `mapstructure:"scrub_pii"`
	PII   PIIOptions `mapstructure:"pii"`
	// NearDupHamming is the SimHash distance at or below which a user's
	// later record is a near-duplicate of an earlier one (-1 disables).
	NearDupHamming int `mapstructure:"near_dup_hamming"`

	// Amazon: top fraction of items by frequency, iterative k-core, and
	// the per-user cap (latest reviews kept).
	AmazonTopItemsFraction float64 `mapstructure:"amazon_top_items_fraction"`
	AmazonKCoreUsers       int     `mapstructure:"amazon_kcore_users"`
	AmazonKCoreItems       int     `mapstructure:"amazon_kcore_items"`
	AmazonMaxPerUser       int     `mapstructure:"amazon_max_reviews_per_user"`
}

// Default returns the HumanLLM paper's filter settings.
func Default() Config {
	return Config{
		MinCharsPost:     300,
		MinCharsComment:  200,
		MinCharsReview:   150,
		MinCharsBySource: map[string]int{},
		MinPosts:         6,
		MinPostsBySource: map[string]int{tasks.SourceBlogger: 3, tasks.SourceAmazon: 1},
		DropAuthors:      []string{"[deleted]", "autotldr", "automoderator"},
		BotSuffixes:      []string{"bot", "_bot", "-bot"},

		DropDistinguished: true,
		MinScore:          2,
		MinComments:       2,
		QuestionOnlyWords: 10,
		CorporateWords: []string{"company", "official", "network", "store", "brand", "business", "shop",
			"solutions", "digital", "services", "marketing", "service provider", "inc.", "ltd.", "llc"},
		AdPhrases: []string{"buy now", "limited offer", "subscribe", "discount", "sale", "promo",
			"special deal", "click the link", "order now", "get it now"},
		DropRetweets:   true,
		MinReviewWords: 6,

		Scrub:          true,
		PII:            DefaultPII(),
		NearDupHamming: 3,

		AmazonTopItemsFraction: 0.5,
		AmazonKCoreUsers:       8,
		AmazonKCoreItems:       3,
		AmazonMaxPerUser:       100,
	}
}

var scrubbers sync.Map // PIIOptions -> *Scrubber

// lastScrubber is the scrubber Scrubber returned last, with its options:
// Record asks for one per record, almost always for the same options, and
// comparing them costs less than hashing them for the map.
var lastScrubber atomic.Pointer[scrubberFor]

type scrubberFor struct {
	opts PIIOptions
	sc   *Scrubber
}

// Scrubber returns the shared scrubber for c.PII (built once per distinct
// options).
func (c *Config) Scrubber() *Scrubber {
	if l := lastScrubber.Load(); l != nil && l.opts == c.PII {
		return l.sc
	}
	s, ok := scrubbers.Load(c.PII)
	if !ok {
		s, _ = scrubbers.LoadOrStore(c.PII, NewScrubberWith(c.PII))
	}
	sc := s.(*Scrubber)
	lastScrubber.Store(&scrubberFor{opts: c.PII, sc: sc})
	return sc
}

// Record applies the record-level rules to r, normalising it in place
// ("[removed]" and "[deleted]" bodies become empty; PII is scrubbed). It
// returns "" to keep the record, or the reason it is dropped.
func (c *Config) Record(r *tasks.Record) string {
	name := r.UserName
	if name == "" {
		name = r.User
	}
	var buf [64]byte
	author := fields.ToLowerInto(buf[:], name) // compared only
	for _, a := range c.DropAuthors {
		if a != "" && strings.Contains(author, a) {
			return ReasonDeletedAuthor
		}
	}
	if r.Source == tasks.SourceReddit {
		for _, s := range c.BotSuffixes {
			if s != "" && strings.HasSuffix(author, s) {
				return ReasonBotAuthor
			}
		}
		if c.DropDistinguished {
			if d := r.Meta["distinguished"]; d == "moderator" || d == "admin" {
				return ReasonModerator
			}
		}
	}
	if isRemoved(r.Text) {
		r.Text = ""
	}
	if isRemoved(r.Title) {
		r.Title = ""
	}
	if strings.TrimSpace(r.Text) == "" && strings.TrimSpace(r.Title) == "" {
		if r.Source == tasks.SourceReddit {
			return ReasonRemovedText
		}
		return ReasonEmptyText
	}
	switch r.Source {
	case tasks.SourceReddit:
		if r.Kind == tasks.KindPost {
			score, okS := metaInt(r.Meta, "score")
			nc, okC := metaInt(r.Meta, "num_comments")
			if okS && okC && score < c.MinScore && nc < c.MinComments {
				return ReasonLowScore
			}
			if c.QuestionOnlyWords > 0 && r.Text != "" {
				t := strings.TrimSpace(r.Text)
				if strings.HasSuffix(t, "?") && fields.CountUpTo(t, c.QuestionOnlyWords) < c.QuestionOnlyWords {
					return ReasonQuestionOnly
				}
			}
		}
	case tasks.SourceTwitter:
		if c.DropRetweets && (r.Meta["retweet"] == "true" || strings.HasPrefix(strings.TrimSpace(r.Text), "RT @")) {
			return ReasonRetweet
		}
		if d := r.Meta["description"]; d != "" && containsAnyWord(strings.ToLower(d), c.CorporateWords) {
			return ReasonCorporate
		}
		if containsAnyWord(strings.ToLower(r.Text), c.AdPhrases) {
			return ReasonAdvertisement
		}
	case tasks.SourceAmazon:
		if c.MinReviewWords > 0 && fields.CountUpTo(r.Text, c.MinReviewWords) < c.MinReviewWords {
			return ReasonTooFewWords
		}
	}
	if c.Scrub {
		scrubber := c.Scrubber()
		r.Text, _ = scrubber.Scrub(r.Text)
		r.Title, _ = scrubber.Scrub(r.Title)
		if r.ParentText != "" {
			r.ParentText, _ = scrubber.Scrub(r.ParentText)
		}
	}
	// Counted only as far as the minimum: a blog post is often ten times
	// longer than it needs to be to pass.
	need := c.minChars(r)
	n := runesUpTo(r.Text, need)
	if n < need && r.Kind == tasks.KindPost && r.Title != "" {
		n += 1 + runesUpTo(r.Title, need)
	}
	if n < need {
		return ReasonTooShort
	}
	// A post with a title and no body (a Reddit link post, an untitled
	// export) is what its author wrote in the title: make that its text, so
	// synthesis and the formulators, which work on Text, see it.
	if r.Kind == tasks.KindPost && strings.TrimSpace(r.Text) == "" {
		r.Text, r.Title = r.Title, ""
	}
	return ""
}

// runesUpTo returns utf8.RuneCountInString(s) when that is below limit, and
// otherwise some number >= limit, having counted no further than needed
// (eight ASCII bytes at a time; other runes as range over a string steps,
// an invalid byte counting one).
func runesUpTo(s string, limit int) int {
	n, i := 0, 0
	for n < limit && i < len(s) {
		if i+8 <= len(s) && fields.Load8(s, i)&fields.High == 0 {
			i += 8
			n += 8
			continue
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		n++
	}
	return n
}

func (c *Config) minChars(r *tasks.Record) int {
	if v, ok := c.MinCharsBySource[r.Source]; ok {
		return v
	}
	switch r.Kind {
	case tasks.KindComment:
		return c.MinCharsComment
	case tasks.KindReview:
		return c.MinCharsReview
	}
	return c.MinCharsPost
}

// MinPostsFor returns the minimum kept records per user for a source.
func (c *Config) MinPostsFor(source string) int {
	if v, ok := c.MinPostsBySource[source]; ok {
		return v
	}
	return c.MinPosts
}

func isRemoved(s string) bool {
	t := strings.TrimSpace(s)
	return t == "[removed]" || t == "[deleted]"
}

func metaInt(m map[string]string, k string) (int, bool) {
	v, ok := m[k]
	if !ok || v == "" {
		return 0, false
	}
	n, neg := 0, false
	for i, ch := range v {
		switch {
		case ch == '-' && i == 0:
			neg = true
		case ch >= '0' && ch <= '9':
			n = n*10 + int(ch-'0')
		case ch == '.':
			goto done
		default:
			return 0, false
		}
	}
done:
	if neg {
		n = -n
	}
	return n, true
}

// containsAnyWord reports whether s (lower-case) contains any phrase as a
// whole word sequence: "sale" matches "on sale!" but not "wholesale" or
// "salesman". A phrase ending in "." (like "inc.") matches its final dot.
func containsAnyWord(s string, phrases []string) bool {
	for _, p := range phrases {
		if p == "" {
			continue
		}
		for i := 0; ; {
			j := strings.Index(s[i:], p)
			if j < 0 {
				break
			}
			j += i
			end := j + len(p)
			if boundaryBefore(s, j) && (strings.HasSuffix(p, ".") || boundaryAfter(s, end)) {
				return true
			}
			i = j + 1
		}
	}
	return false
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// User applies the per-user rules to u's time-ordered records: Amazon
// duplicate (user, item) pairs and the per-user cap, near-duplicates, then
// the minimum number of posts. It returns the records dropped per reason
// and whether the user is kept; u.Records is updated in place.
func (c *Config) User(u *tasks.User) (dropped map[string]int, keep bool) {
	dropped = map[string]int{}
	if u.Source == tasks.SourceAmazon {
		seen := map[string]bool{}
		kept := u.Records[:0]
		for _, r := range u.Records {
			if r.ItemID != "" && seen[r.ItemID] {
				dropped[ReasonAmazonDupUserItem]++
				continue
			}
			seen[r.ItemID] = true
			kept = append(kept, r)
		}
		u.Records = kept
		if c.AmazonMaxPerUser > 0 && len(u.Records) > c.AmazonMaxPerUser {
			n := len(u.Records) - c.AmazonMaxPerUser
			dropped[ReasonAmazonUserCap] += n
			u.Records = u.Records[n:]
		}
	}
	if c.NearDupHamming >= 0 && len(u.Records) > 1 {
		hs := make([]uint64, len(u.Records))
		for i := range u.Records {
			r := &u.Records[i]
			if r.HasNearHash {
				hs[i] = r.NearHash
			} else {
				_, hs[i] = TextHashes2(r.Title, r.Text)
			}
		}
		dup := NearDupHashes(hs, c.NearDupHamming)
		kept := u.Records[:0]
		for i, r := range u.Records {
			if dup[i] {
				dropped[ReasonDuplicateNear]++
				continue
			}
			kept = append(kept, r)
		}
		u.Records = kept
	}
	if len(u.Records) < c.MinPostsFor(u.Source) {
		dropped[ReasonUserTooFewPosts] += len(u.Records)
		u.Records = u.Records[:0]
		return dropped, false
	}
	return dropped, len(u.Records) > 0
}
