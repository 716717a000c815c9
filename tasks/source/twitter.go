package source

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// twitterAdapter reads Twitter API v1.1 tweet objects — one JSON array
// (streamed element by element, never loaded whole) or one object per line —
// and CSV exports (header-driven).
type twitterAdapter struct{}

func (a *twitterAdapter) Name() string { return tasks.SourceTwitter }

func (a *twitterAdapter) Detect(name string, head []byte) bool {
	switch firstNonSpace(head) {
	case '{', '[':
		k := firstObjectKeys(head)
		return k["created_at"] && hasAny(k, "full_text", "text", "extended_tweet") && hasAny(k, "user", "id_str")
	case '<', 0:
		return false
	}
	h := csvHeader(head)
	if colIndex(h, "subreddit") >= 0 {
		return false
	}
	return colIndex(h, twCSVText...) >= 0 && colIndex(h, append(twCSVUser, twCSVUserID...)...) >= 0
}

func (a *twitterAdapter) Parse(ctx context.Context, in Input, emit Emit, bad Bad) error {
	head, r, err := Peek(in.Reader, 4096)
	if err != nil {
		return err
	}
	in.Reader = r
	switch firstNonSpace(head) {
	case '[':
		return a.parseArray(ctx, in, emit, bad)
	case '{', 0:
		return eachJSONLine(ctx, in, bad, func(line []byte, n int) error {
			return a.one(line, in.Name, n, emit, bad)
		})
	}
	return a.parseCSV(ctx, in, emit, bad)
}

type tweetUser struct {
	IDStr          jv `json:"id_str"`
	ID             jv `json:"id"`
	ScreenName     jv `json:"screen_name"`
	Name           jv `json:"name"`
	Description    jv `json:"description"`
	Location       jv `json:"location"`
	FollowersCount jv `json:"followers_count"`
	Verified       jv `json:"verified"`
}

type tweetJSON struct {
	CreatedAt     jv `json:"created_at"`
	IDStr         jv `json:"id_str"`
	ID            jv `json:"id"`
	FullText      jv `json:"full_text"`
	Text          jv `json:"text"`
	ExtendedTweet *struct {
		FullText jv `json:"full_text"`
	} `json:"extended_tweet"`
	User                 *tweetUser `json:"user"`
	RetweetedStatus      presence   `json:"retweeted_status"`
	InReplyToStatusIDStr jv         `json:"in_reply_to_status_id_str"`
	InReplyToStatusID    jv         `json:"in_reply_to_status_id"`
	Lang                 jv         `json:"lang"`
}

// The JSON names of tweetJSON's, tweetUser's and extended_tweet's fields.
var (
	tweetFields         = []string{"created_at", "id_str", "id", "full_text", "text", "extended_tweet", "user", "retweeted_status", "in_reply_to_status_id_str", "in_reply_to_status_id", "lang"}
	tweetUserFields     = []string{"id_str", "id", "screen_name", "name", "description", "location", "followers_count", "verified"}
	tweetExtendedFields = []string{"full_text"}
)

// decodeFast fills t from raw as json.Unmarshal(raw, t) does, in one
// checking pass (jsonScan, as amazonJSON.decodeFast) that hands the raw
// values of the fields to their UnmarshalJSON and skips the rest (most of
// a tweet: entities, the retweeted status, the user's other fields). It
// reports false, leaving t partly filled, when it cannot be sure of giving
// encoding/json's result: invalid JSON, an escaped key, a key that matches
// a field only case-insensitively, a user or extended_tweet that is
// neither an object nor null (a type error for encoding/json).
func (t *tweetJSON) decodeFast(raw []byte) bool {
	s := jsonScan{b: raw}
	return s.eachMember(func(key, raw []byte) bool {
		var v *jv
		switch string(key) {
		case "created_at":
			v = &t.CreatedAt
		case "id_str":
			v = &t.IDStr
		case "id":
			v = &t.ID
		case "full_text":
			v = &t.FullText
		case "text":
			v = &t.Text
		case "in_reply_to_status_id_str":
			v = &t.InReplyToStatusIDStr
		case "in_reply_to_status_id":
			v = &t.InReplyToStatusID
		case "lang":
			v = &t.Lang
		case "retweeted_status":
			return t.RetweetedStatus.UnmarshalJSON(raw) == nil
		case "user":
			switch raw[0] {
			case 'n':
				t.User = nil
				return true
			case '{':
				if t.User == nil { // a repeated key decodes into the same struct
					t.User = new(tweetUser)
				}
				return t.User.decodeFast(raw)
			}
			return false
		case "extended_tweet":
			switch raw[0] {
			case 'n':
				t.ExtendedTweet = nil
				return true
			case '{':
				if t.ExtendedTweet == nil {
					t.ExtendedTweet = new(struct {
						FullText jv `json:"full_text"`
					})
				}
				e := &t.ExtendedTweet.FullText
				in := jsonScan{b: raw}
				return in.eachMember(func(key, raw []byte) bool {
					if string(key) == "full_text" {
						return e.UnmarshalJSON(raw) == nil
					}
					return !foldsToField(key, tweetExtendedFields)
				})
			}
			return false
		default:
			return !foldsToField(key, tweetFields)
		}
		return v.UnmarshalJSON(raw) == nil
	})
}

// decodeFast is tweetJSON.decodeFast for the user object raw.
func (u *tweetUser) decodeFast(raw []byte) bool {
	s := jsonScan{b: raw}
	return s.eachMember(func(key, raw []byte) bool {
		var v *jv
		switch string(key) {
		case "id_str":
			v = &u.IDStr
		case "id":
			v = &u.ID
		case "screen_name":
			v = &u.ScreenName
		case "name":
			v = &u.Name
		case "description":
			v = &u.Description
		case "location":
			v = &u.Location
		case "followers_count":
			v = &u.FollowersCount
		case "verified":
			v = &u.Verified
		default:
			return !foldsToField(key, tweetUserFields)
		}
		return v.UnmarshalJSON(raw) == nil
	})
}

// one decodes and emits one tweet object.
func (a *twitterAdapter) one(raw []byte, file string, line int, emit Emit, bad Bad) error {
	var t tweetJSON
	if !t.decodeFast(raw) {
		t = tweetJSON{}
		if err := json.Unmarshal(raw, &t); err != nil {
			bad(tasks.Malformed{File: file, Line: line, Err: jsonErr(err), Excerpt: excerpt(raw)})
			return nil
		}
	}
	rec := tasks.Record{Source: tasks.SourceTwitter, Kind: tasks.KindTweet, File: file, Line: line}
	rec.ID = t.IDStr.str()
	if rec.ID == "" {
		rec.ID = t.ID.str()
	}
	var m map[string]string
	if u := t.User; u != nil {
		rec.User = u.IDStr.str()
		if rec.User == "" {
			rec.User = u.ID.str()
		}
		rec.UserName = u.ScreenName.str()
		m = setMeta(m, "description", u.Description.str())
		m = setMeta(m, "location", u.Location.str())
		m = setMeta(m, "followers", u.FollowersCount.str())
		m = setMeta(m, "verified", u.Verified.str())
		m = setMeta(m, "name", u.Name.str())
	}
	switch {
	case t.FullText.present():
		rec.Text = t.FullText.str()
	case t.ExtendedTweet != nil && t.ExtendedTweet.FullText.present():
		rec.Text = t.ExtendedTweet.FullText.str()
	case t.Text.present():
		rec.Text = t.Text.str()
	default:
		bad(tasks.Malformed{File: file, Line: line, Err: "missing field full_text/text", Excerpt: excerpt(raw)})
		return nil
	}
	if rec.User == "" {
		bad(tasks.Malformed{File: file, Line: line, Err: "missing field user.id_str", Excerpt: excerpt(raw)})
		return nil
	}
	if ts, ok := parseTime(t.CreatedAt.str()); ok {
		rec.Time = ts
	}
	if bool(t.RetweetedStatus) || strings.HasPrefix(rec.Text, "RT @") {
		m = setMeta(m, "retweet", "true")
	}
	reply := t.InReplyToStatusIDStr.str()
	if reply == "" {
		reply = t.InReplyToStatusID.str()
	}
	m = setMeta(m, "in_reply_to_status_id_str", reply)
	m = setMeta(m, "lang", t.Lang.str())
	rec.Meta = m
	return emit(rec)
}

// parseArray streams a top-level JSON array of tweets. Each element's Line
// is the line where it starts. A syntax error cannot be resynchronised: it
// is reported as malformed and ends the file.
func (a *twitterAdapter) parseArray(ctx context.Context, in Input, emit Emit, bad Bad) error {
	lt := &lineTracker{r: in.Reader}
	dec := json.NewDecoder(bufio.NewReaderSize(lt, 256<<10))
	if _, err := dec.Token(); err != nil { // '['
		return err
	}
	for n := 0; dec.More(); n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
				bad(tasks.Malformed{File: in.Name, Line: lt.lineAt(start), Err: "invalid JSON array: " + err.Error() + "; rest of file skipped"})
				return nil
			}
			return err
		}
		off := dec.InputOffset() - int64(len(raw))
		line := lt.lineAt(off)
		if len(raw) == 0 || raw[0] != '{' {
			bad(tasks.Malformed{File: in.Name, Line: line, Err: "array element is not an object", Excerpt: excerpt(raw)})
			continue
		}
		if err := a.one(raw, in.Name, line, emit, bad); err != nil {
			return err
		}
	}
	return nil
}

// lineTracker passes bytes through and remembers where newlines are, so a
// byte offset (queried in increasing order) can be turned into a 1-based
// line number. It keeps only newlines not yet passed by a query.
type lineTracker struct {
	r    io.Reader
	off  int64   // bytes read so far
	nl   []int64 // offsets of newlines at or after the last query
	base int     // newlines before nl[0]
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			t.nl = append(t.nl, t.off+int64(i))
		}
	}
	t.off += int64(n)
	return n, err
}

func (t *lineTracker) lineAt(off int64) int {
	i := 0
	for i < len(t.nl) && t.nl[i] < off {
		i++
	}
	t.base += i
	t.nl = t.nl[:copy(t.nl, t.nl[i:])]
	return t.base + 1
}

// CSV column names, in order of preference.
var (
	twCSVText   = []string{"full_text", "text", "tweet", "content", "tweet_text", "body"}
	twCSVUser   = []string{"screen_name", "username", "user_screen_name", "user_name", "author", "user", "handle"}
	twCSVUserID = []string{"user_id", "author_id", "user_id_str"}
	twCSVTime   = []string{"created_at", "date", "timestamp", "datetime", "time", "created"}
)

// parseCSV reads a Twitter CSV export. The user is the screen-name column
// (user id column when there is none); text, time and id are found by name.
// A separate "time" column is joined to a date-only "date" column.
func (a *twitterAdapter) parseCSV(ctx context.Context, in Input, emit Emit, bad Bad) error {
	var iText, iUser, iUID, iTime, iClock, iID, iLang, iLoc, iFol, iDesc, iName, iVer, iRT, iReply int
	header := func(h []string) error {
		c := newCols(h)
		iText = c.index(twCSVText...)
		iUser = c.index(twCSVUser...)
		iUID = c.index(twCSVUserID...)
		iTime = c.index(twCSVTime...)
		iClock = -1
		if iTime >= 0 && h[iTime] == "date" {
			iClock = c.index("time")
		}
		iID = c.index("id_str", "id", "tweet_id", "status_id")
		iLang = c.index("lang", "language")
		iLoc = c.index("location", "user_location")
		iFol = c.index("followers", "followers_count", "user_followers_count")
		iDesc = c.index("description", "user_description", "bio")
		iName = c.index("name", "user_display_name", "display_name")
		iVer = c.index("verified", "user_verified")
		iRT = c.index("retweet", "is_retweet", "retweeted")
		iReply = c.index("in_reply_to_status_id_str", "in_reply_to_status_id", "reply_to")
		if iText < 0 {
			return fmt.Errorf("CSV header has no text column (one of %s)", strings.Join(twCSVText, ", "))
		}
		return nil
	}
	return csvRows(ctx, in, bad, header, func(row []string, line int) error {
		rec := tasks.Record{Source: tasks.SourceTwitter, Kind: tasks.KindTweet, File: in.Name, Line: line,
			ID: field(row, iID), Text: field(row, iText)}
		rec.UserName = strings.TrimPrefix(field(row, iUser), "@")
		rec.User = rec.UserName
		if rec.User == "" {
			rec.User = field(row, iUID)
		}
		if rec.User == "" {
			bad(tasks.Malformed{File: in.Name, Line: line, Err: "missing field screen_name/username/user_id", Excerpt: csvExcerpt(row)})
			return nil
		}
		if rec.Text == "" {
			bad(tasks.Malformed{File: in.Name, Line: line, Err: "missing field text", Excerpt: csvExcerpt(row)})
			return nil
		}
		ts := field(row, iTime)
		if iClock >= 0 && len(strings.TrimSpace(ts)) == 10 {
			ts = strings.TrimSpace(ts) + " " + strings.TrimSpace(field(row, iClock))
		}
		if t, ok := parseTime(ts); ok {
			rec.Time = t
		}
		var m map[string]string
		rt := strings.ToLower(field(row, iRT))
		if rt == "true" || rt == "1" || rt == "yes" || strings.HasPrefix(rec.Text, "RT @") {
			m = setMeta(m, "retweet", "true")
		}
		m = setMeta(m, "in_reply_to_status_id_str", field(row, iReply))
		m = setMeta(m, "lang", field(row, iLang))
		m = setMeta(m, "location", field(row, iLoc))
		m = setMeta(m, "followers", field(row, iFol))
		m = setMeta(m, "description", field(row, iDesc))
		m = setMeta(m, "name", field(row, iName))
		m = setMeta(m, "verified", field(row, iVer))
		rec.Meta = m
		return emit(rec)
	})
}
