package source

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/humanllm/humanllm/tasks"
)

// DefaultParentCacheEntries bounds the Reddit submission cache: at most this
// many submissions (their title + selftext, each cut to parentTextMax bytes)
// are remembered for filling comments' ParentText.
const DefaultParentCacheEntries = 1 << 20

// parentTextMax cuts each cached submission text (title + "\n" + selftext).
const parentTextMax = 4 << 10

// redditAdapter reads Reddit Pushshift / Arctic-Shift NDJSON dumps
// (submissions and comments, mixed or not) and Reddit CSV exports.
//
// Parent join: every submission read is remembered (id -> title+selftext)
// in a bounded two-generation cache that lives in the adapter, so it spans
// all inputs parsed by the same adapter value. A comment whose parent_id
// ("t3_<id>") names a submission already seen gets ParentText filled; a
// comment whose parent comes later in the stream (or was evicted, or is
// another comment) keeps ParentID with ParentText "" — JoinParents fills
// those for records held in memory.
type redditAdapter struct {
	limit int

	mu       sync.Mutex
	cur, old map[string]string
}

func newReddit(Options) *redditAdapter {
	return &redditAdapter{limit: DefaultParentCacheEntries}
}

// newRedditCache returns a reddit adapter whose parent cache holds at most
// limit submissions (<0 disables it).
func newRedditCache(limit int) *redditAdapter {
	return &redditAdapter{limit: limit}
}

func (a *redditAdapter) Name() string { return tasks.SourceReddit }

func (a *redditAdapter) Detect(name string, head []byte) bool {
	switch firstNonSpace(head) {
	case '{':
		k := firstObjectKeys(head)
		return k["subreddit"] && hasAny(k, "author", "created_utc") && hasAny(k, "body", "title", "selftext", "created_utc")
	case '[', '<', 0:
		return false
	}
	h := csvHeader(head)
	return colIndex(h, "subreddit") >= 0 && colIndex(h, "author") >= 0 &&
		colIndex(h, "title", "selftext", "body") >= 0
}

func (a *redditAdapter) Parse(ctx context.Context, in Input, emit Emit, bad Bad) error {
	head, r, err := Peek(in.Reader, 4096)
	if err != nil {
		return err
	}
	in.Reader = r
	if c := firstNonSpace(head); c == '{' || c == 0 {
		return a.parseJSON(ctx, in, emit, bad)
	}
	return a.parseCSV(ctx, in, emit, bad)
}

// redditJSON holds the Pushshift fields used (submissions and comments).
type redditJSON struct {
	ID            jv `json:"id"`
	Author        jv `json:"author"`
	CreatedUTC    jv `json:"created_utc"`
	Subreddit     jv `json:"subreddit"`
	Title         jv `json:"title"`
	Selftext      jv `json:"selftext"`
	Body          jv `json:"body"`
	ParentID      jv `json:"parent_id"`
	LinkID        jv `json:"link_id"`
	Score         jv `json:"score"`
	NumComments   jv `json:"num_comments"`
	IsSelf        jv `json:"is_self"`
	Distinguished jv `json:"distinguished"`
	Over18        jv `json:"over_18"`
	Stickied      jv `json:"stickied"`
	Name          jv `json:"name"`
}

func (a *redditAdapter) parseJSON(ctx context.Context, in Input, emit Emit, bad Bad) error {
	return eachJSONLine(ctx, in, bad, func(line []byte, n int) error {
		var j redditJSON
		if err := json.Unmarshal(line, &j); err != nil {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: jsonErr(err), Excerpt: excerpt(line)})
			return nil
		}
		rec, msg := a.fromJSON(&j)
		if msg != "" {
			bad(tasks.Malformed{File: in.Name, Line: n, Err: msg, Excerpt: excerpt(line)})
			return nil
		}
		rec.File, rec.Line = in.Name, n
		return emit(rec)
	})
}

func (a *redditAdapter) fromJSON(j *redditJSON) (tasks.Record, string) {
	rec := tasks.Record{Source: tasks.SourceReddit, ID: j.ID.str(), User: j.Author.str(), Community: j.Subreddit.str()}
	if rec.User == "" {
		return rec, "missing field author"
	}
	if t, ok := parseTime(j.CreatedUTC.str()); ok {
		rec.Time = t
	}
	var m map[string]string
	switch {
	case j.Body.present() || strings.HasPrefix(j.Name.str(), "t1_") || (j.LinkID.present() && !j.Title.present()):
		if !j.Body.present() {
			return rec, "missing field body"
		}
		rec.Kind = tasks.KindComment
		rec.Text = j.Body.str()
		rec.ParentID = j.ParentID.str()
		m = setMeta(m, "link_id", j.LinkID.str())
		m = setMeta(m, "score", j.Score.str())
		m = setMeta(m, "distinguished", j.Distinguished.str())
		rec.ParentText = a.lookup(rec.ParentID)
	default:
		if !j.Title.present() && !j.Selftext.present() {
			return rec, "missing field title/selftext (or body)"
		}
		rec.Kind = tasks.KindPost
		rec.Title = j.Title.str()
		rec.Text = j.Selftext.str()
		m = setMeta(m, "score", j.Score.str())
		m = setMeta(m, "num_comments", j.NumComments.str())
		m = setMeta(m, "is_self", j.IsSelf.str())
		m = setMeta(m, "distinguished", j.Distinguished.str())
		m = setMeta(m, "over_18", j.Over18.str())
		m = setMeta(m, "stickied", j.Stickied.str())
		a.remember(rec.ID, rec.Title, rec.Text)
	}
	rec.Meta = m
	return rec, ""
}

// remember caches a submission's text under its fullname "t3_<id>".
func (a *redditAdapter) remember(id, title, text string) {
	if a.limit < 0 || id == "" {
		return
	}
	s := parentText(title, text)
	if s == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == nil {
		a.cur = map[string]string{}
	}
	half := a.limit / 2
	if half < 1 {
		half = 1
	}
	if len(a.cur) >= half {
		a.old, a.cur = a.cur, make(map[string]string, half/4+1)
	}
	a.cur[strings.TrimPrefix(id, "t3_")] = s // keyed without "t3_" (no string built a submission)
}

func (a *redditAdapter) lookup(parent string) string {
	if a.limit < 0 || !strings.HasPrefix(parent, "t3_") {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	id := parent[len("t3_"):] // the cache's key: see remember
	if s, ok := a.cur[id]; ok {
		return s
	}
	return a.old[id]
}

func fullname(id string) string {
	if strings.HasPrefix(id, "t3_") {
		return id
	}
	return "t3_" + id
}

// parentText is the context shown for a submission: its title and selftext
// (selftext left out when deleted/removed), cut to parentTextMax bytes on a
// rune boundary.
func parentText(title, text string) string {
	title, text = strings.TrimSpace(title), strings.TrimSpace(text)
	if text == "[deleted]" || text == "[removed]" {
		text = ""
	}
	s := title
	if text != "" {
		if s != "" {
			s += "\n"
		}
		s += text
	}
	if len(s) > parentTextMax {
		cut := parentTextMax
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// JoinParents fills ParentText of Reddit comments in recs whose ParentID
// names a submission ("t3_<id>") that is also in recs, wherever it is, and
// returns how many it filled. Comments that already have a ParentText are
// left as they are.
func JoinParents(recs []tasks.Record) int {
	posts := map[string]string{}
	for i := range recs {
		r := &recs[i]
		if r.Source == tasks.SourceReddit && r.Kind == tasks.KindPost && r.ID != "" {
			if s := parentText(r.Title, r.Text); s != "" {
				posts[fullname(r.ID)] = s
			}
		}
	}
	n := 0
	for i := range recs {
		r := &recs[i]
		if r.Kind != tasks.KindComment || r.ParentText != "" || r.ParentID == "" {
			continue
		}
		if s, ok := posts[r.ParentID]; ok {
			r.ParentText = s
			n++
		}
	}
	return n
}

// parseCSV reads a header-driven Reddit CSV export (Pushshift-derived,
// BigQuery): columns are found by name.
func (a *redditAdapter) parseCSV(ctx context.Context, in Input, emit Emit, bad Bad) error {
	var (
		iID, iSub, iAuthor, iTime, iTitle, iSelf, iBody, iScore, iNum, iParent, iLink int
		iIsSelf, iDist, iOver, iSticky, iName                                         int
	)
	header := func(h []string) error {
		c := newCols(h)
		iID = c.index("id")
		iSub = c.index("subreddit")
		iAuthor = c.index("author")
		iTime = c.index("created_utc", "timestamp", "created", "created_at", "date")
		iTitle = c.index("title")
		iSelf = c.index("selftext")
		iBody = c.index("body")
		iScore = c.index("score")
		iNum = c.index("num_comments")
		iParent = c.index("parent_id")
		iLink = c.index("link_id")
		iIsSelf = c.index("is_self")
		iDist = c.index("distinguished")
		iOver = c.index("over_18")
		iSticky = c.index("stickied")
		iName = c.index("name")
		return nil
	}
	return csvRows(ctx, in, bad, header, func(row []string, line int) error {
		rec := tasks.Record{Source: tasks.SourceReddit, ID: field(row, iID), User: field(row, iAuthor),
			Community: field(row, iSub), File: in.Name, Line: line}
		if rec.User == "" {
			bad(tasks.Malformed{File: in.Name, Line: line, Err: "missing field author", Excerpt: csvExcerpt(row)})
			return nil
		}
		if t, ok := parseTime(field(row, iTime)); ok {
			rec.Time = t
		}
		title, body := field(row, iTitle), field(row, iBody)
		var m map[string]string
		// A row without a title is a comment when it has a body or a
		// parent; with a title, "body" (if any) is the selftext.
		isComment := strings.HasPrefix(field(row, iName), "t1_") ||
			title == "" && (body != "" || field(row, iParent) != "" || field(row, iLink) != "")
		if isComment {
			if body == "" {
				bad(tasks.Malformed{File: in.Name, Line: line, Err: "missing field body", Excerpt: csvExcerpt(row)})
				return nil
			}
			rec.Kind, rec.Text = tasks.KindComment, body
			rec.ParentID = field(row, iParent)
			rec.ParentText = a.lookup(rec.ParentID)
			m = setMeta(m, "link_id", field(row, iLink))
			m = setMeta(m, "score", field(row, iScore))
			m = setMeta(m, "distinguished", field(row, iDist))
		} else {
			self := field(row, iSelf)
			if self == "" {
				self = body
			}
			if title == "" && self == "" {
				bad(tasks.Malformed{File: in.Name, Line: line, Err: "missing field title/selftext", Excerpt: csvExcerpt(row)})
				return nil
			}
			rec.Kind, rec.Title, rec.Text = tasks.KindPost, title, self
			m = setMeta(m, "score", field(row, iScore))
			m = setMeta(m, "num_comments", field(row, iNum))
			m = setMeta(m, "is_self", field(row, iIsSelf))
			m = setMeta(m, "distinguished", field(row, iDist))
			m = setMeta(m, "over_18", field(row, iOver))
			m = setMeta(m, "stickied", field(row, iSticky))
			a.remember(rec.ID, title, self)
		}
		rec.Meta = m
		return emit(rec)
	})
}
