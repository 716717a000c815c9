package synth

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/humanllm/humanllm/tasks"
)

// Heuristic is the deterministic backend: every artifact is measured from
// the user's own records and metadata; nothing is generated or invented.
type Heuristic struct {
	cfg HeuristicConfig
}

// NewHeuristic returns the deterministic backend. Zero fields of cfg take
// their defaults.
func NewHeuristic(cfg HeuristicConfig) *Heuristic {
	return &Heuristic{cfg: cfg.withDefaults()}
}

// Name returns "heuristic".
func (h *Heuristic) Name() string { return "heuristic" }

// Synthesize measures the user's history and renders the artifacts. The
// same input always gives the same output.
func (h *Heuristic) Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error) {
	if err := ctx.Err(); err != nil {
		return tasks.Artifacts{}, err
	}
	a := tasks.Artifacts{Backend: "heuristic"}
	if u == nil || len(u.Records) == 0 {
		return a, nil
	}
	st := measureHistory(u, h.cfg)
	a.Topics = h.Topics(u)
	a.Style = st.styleText
	a.Persona = st.persona()
	a.Profile = st.profile(h.cfg, a.Topics)
	a.Thoughts = h.Thoughts(u, a.Topics)
	return a, nil
}

// history holds what measureHistory found out about a user.
type history struct {
	u           *tasks.User
	n           int
	kinds       map[string]int
	first, last int64
	communities []wordFreq
	keywords    []wordFreq
	avgRating   float64
	nRated      int
	fiveStar    int
	medianWords float64
	selfDesc    []wordFreq // "a nurse", "a student"
	relations   []wordFreq // "husband", "kids"
	style       StyleFeatures
	styleText   string
	personal    []int // record indices, most personal first
}

var (
	selfDescRe = regexp.MustCompile(`(?i)\b(?:i'm|i am|im)\s+(?:a|an)\s+([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)`)
	relationRe = regexp.MustCompile(`(?i)\bmy\s+(husband|wife|boyfriend|girlfriend|fianc[eé]e?|partner|kids|children|son|daughter|mom|mum|mother|dad|father|parents|sister|brother|grandma|grandmother|grandpa|grandfather|baby|cat|cats|dog|dogs|boss|job|roommate|teacher|students|church|band|team|classes)\b`)
)

// roles are self-descriptions worth reporting even when said once.
var roles = toSet(`student teacher nurse doctor mother mom father dad wife husband writer artist musician engineer programmer
developer designer lawyer librarian pastor christian catholic muslim jew atheist vegetarian vegan veteran soldier
nanny parent grandmother grandfather scientist researcher photographer chef cook waitress waiter bartender
freshman sophomore junior senior graduate homeschooler singer guitarist drummer dancer gamer geek nerd republican
democrat liberal conservative`)

// notRoles are words after "I'm a" that are not self-descriptions.
var notRoles = toSet(`bit little lot few couple very really pretty kind sort total huge big good bad great real lot
whole part`)

func measureHistory(u *tasks.User, cfg HeuristicConfig) *history {
	h := &history{u: u, n: len(u.Records), kinds: map[string]int{}}
	comm, commFirst := map[string]int{}, map[string]int{}
	kw, kwFirst := map[string]int{}, map[string]int{}
	sd, sdFirst := map[string]int{}, map[string]int{}
	rel, relFirst := map[string]int{}, map[string]int{}
	var lens []int
	texts := make([]string, 0, len(u.Records))
	pos := 0
	type pers struct {
		i     int
		score float64
	}
	var personal []pers
	for i, r := range u.Records {
		h.kinds[r.Kind]++
		if r.Time > 0 {
			if h.first == 0 || r.Time < h.first {
				h.first = r.Time
			}
			if r.Time > h.last {
				h.last = r.Time
			}
		}
		if c := strings.TrimSpace(r.Community); c != "" {
			if _, ok := comm[c]; !ok {
				commFirst[c] = i
			}
			comm[c]++
		}
		if r.Rating > 0 {
			h.avgRating += r.Rating
			h.nRated++
			if r.Rating >= 5 {
				h.fiveStar++
			}
		}
		text := normApos(r.Text)
		texts = append(texts, text)
		ws := Words(text)
		lens = append(lens, len(ws))
		fp := 0
		for _, w := range append(Words(normApos(r.Title)), ws...) {
			lw := strings.TrimSuffix(strings.ToLower(w), "'s")
			if firstPerson[lw] {
				fp++
			}
			if !isContentWord(lw) {
				continue
			}
			if _, ok := kw[lw]; !ok {
				kwFirst[lw] = pos
			}
			kw[lw]++
			pos++
		}
		if len(ws) >= 20 {
			personal = append(personal, pers{i, float64(fp) / math.Sqrt(float64(len(ws)))})
		}
		lower := strings.ToLower(text)
		var sdm, relm [][]string
		if strings.Contains(lower, "i'm a") || strings.Contains(lower, "i am a") || strings.Contains(lower, "im a") {
			sdm = selfDescRe.FindAllStringSubmatch(text, -1)
		}
		if strings.Contains(lower, "my ") {
			relm = relationRe.FindAllStringSubmatch(text, -1)
		}
		for _, m := range sdm {
			d := strings.ToLower(m[1])
			f := strings.Fields(d)
			if notRoles[f[0]] {
				continue
			}
			// keep "a nurse" or "a single mother": stop at a stopword
			if len(f) == 2 && (stopwords[f[1]] || !roles[f[1]]) {
				d = f[0]
			}
			if _, ok := sd[d]; !ok {
				sdFirst[d] = pos
			}
			sd[d]++
		}
		for _, m := range relm {
			d := strings.ToLower(m[1])
			if _, ok := rel[d]; !ok {
				relFirst[d] = pos
			}
			rel[d]++
		}
	}
	if h.nRated > 0 {
		h.avgRating /= float64(h.nRated)
	}
	h.communities = topWords(comm, commFirst, 3)
	h.keywords = topWords(kw, kwFirst, 12)
	for _, c := range topWords(sd, sdFirst, 10) {
		last := strings.Fields(c.w)
		lw := last[len(last)-1]
		if roles[lw] || (c.n >= 3 && !adjectiveLike(lw)) {
			h.selfDesc = append(h.selfDesc, c)
		}
		if len(h.selfDesc) == 3 {
			break
		}
	}
	for _, c := range topWords(rel, relFirst, 5) {
		if c.n >= 2 {
			h.relations = append(h.relations, c)
		}
	}
	h.medianWords = median(lens)
	h.style = MeasureStyle(texts)
	if h.style.Words >= cfg.MinStyleWords {
		h.styleText = DescribeStyle(h.style)
	}
	sort.SliceStable(personal, func(i, j int) bool { return personal[i].score > personal[j].score })
	for _, p := range personal {
		h.personal = append(h.personal, p.i)
	}
	return h
}

func adjectiveLike(w string) bool {
	for _, suf := range []string{"y", "ful", "ous", "ive", "ish", "less", "ic", "al", "ed", "ing", "ble"} {
		if strings.HasSuffix(w, suf) {
			return true
		}
	}
	return false
}

func (h *history) itemNoun() string {
	switch h.u.Source {
	case tasks.SourceBlogger:
		return "blog post"
	case tasks.SourceTwitter:
		return "tweet"
	case tasks.SourceAmazon:
		return "product review"
	}
	if len(h.kinds) == 1 {
		for k := range h.kinds {
			switch k {
			case tasks.KindComment:
				return "comment"
			case tasks.KindReview:
				return "review"
			case tasks.KindTweet:
				return "tweet"
			}
		}
	}
	return "post"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (h *history) meta(k string) string {
	v := strings.TrimSpace(h.u.Meta[k])
	switch strings.ToLower(v) {
	case "", "unknown", "indunk", "none", "null", "n/a":
		return ""
	}
	return v
}

var industryWords = strings.NewReplacer("-", " and ")

// identity is the first persona sentence, from metadata only.
func (h *history) identity() string {
	var noun string
	switch strings.ToLower(h.meta("gender")) {
	case "female", "f", "woman":
		noun = "woman"
	case "male", "m", "man":
		noun = "man"
	}
	age := h.meta("age")
	if _, err := strconv.Atoi(age); err != nil {
		age = ""
	}
	var s string
	switch {
	case noun != "" && age != "":
		s = fmt.Sprintf("The user is a %s-year-old %s", age, noun)
	case noun != "":
		s = "The user is a " + noun
	case age != "":
		s = "The user is " + age + " years old"
	default:
		switch h.u.Source {
		case tasks.SourceBlogger:
			s = "The user is a blogger"
		case tasks.SourceTwitter:
			s = "The user is a Twitter user"
		case tasks.SourceReddit:
			s = "The user is a Reddit user"
		case tasks.SourceAmazon:
			s = "The user is an Amazon shopper"
		default:
			s = "The user is an online writer"
		}
	}
	if ind := h.meta("industry"); ind != "" {
		if strings.EqualFold(ind, "student") {
			s += " who is a student"
		} else {
			s += " who works in " + strings.ToLower(industryWords.Replace(ind))
		}
	}
	if loc := cleanMeta(h.meta("location"), 8); loc != "" {
		s += " based in " + loc
	}
	return s + "."
}

var metaJunk = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\S+@\S+\.\S+|@\w+`)

// cleanMeta strips URLs, e-mail addresses and @handles and caps the words.
func cleanMeta(s string, maxWords int) string {
	s = metaJunk.ReplaceAllString(s, "")
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Trim(s, " ,;|-")
	if wordCount(s) > maxWords {
		s = truncateWords(s, maxWords) + "..."
	}
	return s
}

func monthYear(t int64) string { return time.Unix(t, 0).UTC().Format("January 2006") }

func (h *history) activity() string {
	s := "They wrote " + plural(h.n, h.itemNoun())
	if h.first > 0 {
		a, b := monthYear(h.first), monthYear(h.last)
		if a == b {
			s += " in " + a
		} else {
			s += " between " + a + " and " + b
		}
	}
	return s + "."
}

func (h *history) communitiesSentence() string {
	if len(h.communities) == 0 {
		return ""
	}
	var names []string
	for _, c := range h.communities {
		n := c.w
		if h.u.Source == tasks.SourceReddit && !strings.HasPrefix(n, "r/") {
			n = "r/" + n
		}
		names = append(names, n)
	}
	if h.u.Source == tasks.SourceAmazon {
		return "Their reviews are mostly of products in " + joinList(names) + "."
	}
	if len(h.communities) == 1 && h.communities[0].n == h.n {
		return "They post in " + names[0] + "."
	}
	return "They post mostly in " + joinList(names) + "."
}

func (h *history) ratingSentence() string {
	if h.nRated == 0 {
		return ""
	}
	return fmt.Sprintf("Their average rating is %.1f out of 5 over %s.", h.avgRating, plural(h.nRated, "rated review"))
}

func (h *history) keywordSentence(k int) string {
	if len(h.keywords) < 3 {
		return ""
	}
	var ws []string
	for i, c := range h.keywords {
		if i == k {
			break
		}
		if c.n < 2 && i >= 3 {
			break
		}
		ws = append(ws, c.w)
	}
	return "Words that recur in their writing include " + joinList(ws) + "."
}

func (h *history) selfSentence() string {
	var parts []string
	if len(h.selfDesc) > 0 {
		var ds []string
		for _, d := range h.selfDesc {
			art := "a "
			if strings.ContainsRune("aeiou", rune(d.w[0])) {
				art = "an "
			}
			ds = append(ds, art+d.w)
		}
		parts = append(parts, "describe themselves as "+joinList(ds))
	}
	if len(h.relations) > 0 {
		var rs []string
		for _, r := range h.relations {
			rs = append(rs, "their "+r.w)
		}
		parts = append(parts, "often mention "+joinList(rs))
	}
	if len(parts) == 0 {
		return ""
	}
	return "They " + strings.Join(parts, " and ") + "."
}

func (h *history) descriptionSentence() string {
	d := cleanMeta(h.meta("description"), 25)
	if d == "" {
		return ""
	}
	d = strings.ReplaceAll(d, `"`, "'")
	return `Their account description reads: "` + d + `".`
}

func (h *history) toneSentence() string {
	if h.style.Words < 50 {
		return ""
	}
	f := h.style
	switch {
	case f.FScore >= 55 && f.InformalRate < 0.005 && f.ContractionRate < 0.02:
		return "Their tone is formal."
	case f.FScore < 49 || f.InformalRate >= 0.01 || f.LowercaseShare >= 0.5:
		return "Their tone is casual and personal."
	}
	return ""
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// fitWords joins sentences, dropping sentences from the end until the text
// has at most max words (the first sentence always stays).
func fitWords(sents []string, maxWords int) string {
	for len(sents) > 1 && wordCount(strings.Join(sents, " ")) > maxWords {
		sents = sents[:len(sents)-1]
	}
	return strings.Join(sents, " ")
}

func (h *history) persona() string {
	s := nonEmpty(h.identity(), h.activity(), h.communitiesSentence(), h.ratingSentence(), h.selfSentence(),
		h.keywordSentence(5), h.descriptionSentence(), h.toneSentence())
	return fitWords(s, 100)
}

func (h *history) profile(cfg HeuristicConfig, topics []string) string {
	if h.n < cfg.MinProfileRecords {
		return ""
	}
	s := nonEmpty(h.identity(), h.activity(), h.communitiesSentence(), h.ratingSentence(), h.selfSentence(),
		h.descriptionSentence())
	if sign := h.meta("sign"); sign != "" {
		s = append(s, "Their star sign is "+sign+".")
	}
	if f := h.meta("followers"); f != "" {
		if n, err := strconv.Atoi(f); err == nil {
			s = append(s, "They have "+plural(n, "follower")+".")
		}
	}
	if h.nRated > 0 {
		s = append(s, fmt.Sprintf("They gave five stars in %.0f%% of their rated reviews.", 100*float64(h.fiveStar)/float64(h.nRated)))
	}
	s = append(s, nonEmpty(h.keywordSentence(12),
		fmt.Sprintf("A typical %s of theirs is about %.0f words long.", h.itemNoun(), h.medianWords))...)
	if h.styleText != "" {
		s = append(s, Sentences(h.styleText)...)
	}
	// Salient records: the most personal ones, told in time order, one
	// sentence each.
	var picks []int
	for _, i := range h.personal {
		if len(picks) == 8 {
			break
		}
		if i < len(topics) && topics[i] != "" {
			picks = append(picks, i)
		}
	}
	sort.Ints(picks)
	for _, i := range picks {
		r := h.u.Records[i]
		when := ""
		if r.Time > 0 {
			when = "On " + time.Unix(r.Time, 0).UTC().Format("2 January 2006") + ", t"
		} else {
			when = "T"
		}
		s = append(s, fmt.Sprintf("%shey wrote a %s about %s.", when, h.itemNoun(), strings.TrimRight(topics[i], ".!?")))
	}
	p := fitWords(s, 400)
	if wordCount(p) < 100 {
		return ""
	}
	return p
}

// Topics returns one short topic per record: the title when there is one
// (and it is not the text itself), else the record's top content words, else
// its first sentence cut to 12 words. A topic never equals the text.
func (h *Heuristic) Topics(u *tasks.User) []string {
	out := make([]string, len(u.Records))
	for i, r := range u.Records {
		out[i] = recordTopic(r, h.cfg.TopicWords)
	}
	return out
}

func normSpace(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func recordTopic(r tasks.Record, k int) string {
	text := strings.TrimSpace(r.Text)
	title := cleanMeta(r.Title, 15)
	if r.Kind == tasks.KindReview && r.ItemTitle != "" {
		t := "a review of " + cleanMeta(r.ItemTitle, 12)
		if title != "" {
			t += ": " + title
		}
		return t
	}
	if title != "" && normSpace(title) != normSpace(text) {
		return title
	}
	if text == "" {
		text = strings.TrimSpace(r.Title)
	}
	counts, first := map[string]int{}, map[string]int{}
	for i, w := range Words(normApos(text)) {
		lw := strings.ToLower(w)
		if !isContentWord(lw) {
			continue
		}
		if _, ok := counts[lw]; !ok {
			first[lw] = i
		}
		counts[lw]++
	}
	if len(counts) >= 3 {
		var ws []string
		for _, c := range topWords(counts, first, k) {
			ws = append(ws, c.w)
		}
		return strings.Join(ws, ", ")
	}
	if ss := Sentences(text); len(ss) > 0 {
		t := truncateWords(ss[0], 12)
		if normSpace(t) != normSpace(text) {
			return t
		}
	}
	if len(counts) > 0 {
		var ws []string
		for _, c := range topWords(counts, first, k) {
			ws = append(ws, c.w)
		}
		if t := strings.Join(ws, ", "); normSpace(t) != normSpace(text) {
			return t
		}
	}
	return ""
}

// thoughtRes match a first-person statement of feeling or belief.
var thoughtRes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bI\s+(?:(?:really|truly|honestly|just|still|do|did|sometimes|always|totally|kinda|absolutely|seriously|also|actually|genuinely|personally|kind\s+of|sort\s+of)\s+)*(?:feel|felt|think|believe|believed|wish|wished|hope|hoped|hate|hated|love|loved|adore|fear|feared|worry|worried|miss|missed|regret|regretted|dislike|doubt|enjoy|enjoyed|appreciate|can't\s+stand|cannot\s+stand|can't\s+believe|cannot\s+believe|couldn't\s+believe|can't\s+wait|don't\s+care|don't\s+like|didn't\s+like|don't\s+think|don't\s+believe|don't\s+understand)\b`),
	regexp.MustCompile(`(?i)\b(?:I'm|I\s+am|Im|I\s+was|I've\s+been|I\s+have\s+been|I\s+get|I\s+got|I\s+feel|I\s+felt)\s+(?:(?:so|really|very|pretty|kinda|totally|just|quite|extremely|incredibly|too|still|not|never|always|getting|becoming|kind\s+of|a\s+bit|a\s+little|a\s+little\s+bit)\s+)*(?:happy|sad|worried|scared|afraid|angry|mad|upset|excited|glad|proud|nervous|tired\s+of|sick\s+of|fed\s+up|frustrated|annoyed|disappointed|thrilled|lonely|depressed|anxious|ashamed|grateful|thankful|relieved|sorry|confused|jealous|bored|terrified|stressed|embarrassed|hurt|miserable|amazed|surprised|convinced|hopeful|overwhelmed|heartbroken|furious|pissed|bummed|lucky|blessed|exhausted|hopeless|guilty|insecure|curious|in\s+love)\b`),
	regexp.MustCompile(`(?i)\b(?:makes|made|make)\s+me\s+(?:(?:so|really|very|feel|want\s+to)\s+)*(?:happy|sad|angry|mad|sick|smile|cry|laugh|crazy|nervous|scream|proud|glad|uncomfortable)\b`),
	regexp.MustCompile(`(?i)(?:^|\W)(?:in\s+my\s+opinion|my\s+(?:biggest\s+)?(?:fear|hope|dream|wish)\s+is)\b`),
}

// IsThoughtSentence reports whether a sentence is a first-person statement
// of feeling or belief that the heuristic backend extracts as a thought.
func IsThoughtSentence(s string) bool {
	n := wordCount(s)
	if n < 4 || n > 50 || strings.HasSuffix(s, "?") || urlRe.MatchString(s) {
		return false
	}
	s = normApos(s)
	fp := false
	for _, w := range Words(s) {
		switch strings.ToLower(w) {
		case "i", "i'm", "im", "i've", "me", "my":
			fp = true
		}
		if fp {
			break
		}
	}
	if !fp {
		return false
	}
	for _, re := range thoughtRes {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Thoughts extracts up to MaxThoughts first-person statements of feeling
// or belief, verbatim, each with a third-person scenario built from the
// sentences before it in the same record (or, for a record's first
// sentence, "The user was writing about <topic>."). When there are more
// candidates than the cap, evenly spaced ones are kept so that they span the
// whole history. topics may be nil.
func (h *Heuristic) Thoughts(u *tasks.User, topics []string) []tasks.Thought {
	var cands []tasks.Thought
	seen := map[string]bool{}
	for i, r := range u.Records {
		ss := Sentences(r.Text)
		for j, s := range ss {
			if !IsThoughtSentence(s) {
				continue
			}
			key := normSpace(s)
			if seen[key] {
				continue
			}
			lo := max(0, j-h.cfg.ScenarioSentences)
			var prev []string
			for _, p := range ss[lo:j] {
				if wordCount(p) >= 2 {
					prev = append(prev, ThirdPerson(p))
				}
			}
			scen := strings.Join(prev, " ")
			if scen == "" || strings.Contains(normSpace(scen), key) {
				topic := ""
				if i < len(topics) {
					topic = topics[i]
				} else {
					topic = recordTopic(r, h.cfg.TopicWords)
				}
				if topic == "" {
					continue
				}
				scen = "The user was writing about " + strings.TrimRight(topic, ".!?") + "."
			}
			if strings.Contains(normSpace(scen), key) {
				continue
			}
			seen[key] = true
			cands = append(cands, tasks.Thought{Record: i, Scenario: scen, Thought: s})
		}
	}
	k := h.cfg.MaxThoughts
	if len(cands) <= k {
		return cands
	}
	out := make([]tasks.Thought, 0, k)
	for i := 0; i < k; i++ {
		out = append(out, cands[i*len(cands)/k])
	}
	return out
}

var (
	wordOrOther = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\p{L}\p{N}]+`)
	thirdMap    = map[string]string{
		"i": "the user", "me": "them", "my": "their", "mine": "theirs", "myself": "themselves",
		"i'm": "the user is", "im": "the user is", "i've": "the user has", "ive": "the user has",
		"i'd": "the user would", "i'll": "the user will",
		"we": "they", "us": "them", "our": "their", "ours": "theirs", "ourselves": "themselves",
		"we're": "they are", "we've": "they have", "we'll": "they will", "we'd": "they would",
	}
	// after "the user": verbs that need the third-person form
	agree = map[string]string{
		"am": "is", "have": "has", "do": "does", "don't": "doesn't", "haven't": "hasn't", "go": "goes",
		"get": "gets", "like": "likes", "love": "loves", "hate": "hates", "want": "wants", "need": "needs",
		"think": "thinks", "feel": "feels", "know": "knows", "see": "sees", "say": "says", "make": "makes",
		"take": "takes", "live": "lives", "work": "works", "hope": "hopes", "wish": "wishes", "guess": "guesses",
		"mean": "means", "try": "tries", "miss": "misses", "watch": "watches", "believe": "believes",
		"really": "really", "just": "just",
	}
)

var auxiliaries = toSet("do does did can could will would shall should may might must am is are was were have has had don't didn't can't won't")

// ThirdPerson rewrites a first-person sentence minimally into the third
// person by pronoun substitution: I -> the user, my -> their, me -> them,
// we -> they, with "am/have/do" and a few common verbs agreeing. Everything
// else is left as written.
func ThirdPerson(s string) string {
	parts := wordOrOther.FindAllString(s, -1)
	var b strings.Builder
	afterUser := false
	prev := ""
	for _, p := range parts {
		r := []rune(p)
		if !unicode.IsLetter(r[0]) && !unicode.IsDigit(r[0]) {
			b.WriteString(p)
			continue
		}
		lp := strings.ToLower(normApos(p))
		before := prev
		prev = lp
		if afterUser {
			afterUser = false
			if v, ok := agree[lp]; ok {
				b.WriteString(v)
				if lp == "really" || lp == "just" {
					afterUser = true
				}
				continue
			}
		}
		if p == "US" { // the country
			b.WriteString(p)
			continue
		}
		if v, ok := thirdMap[lp]; ok && (lp != "i" || p == "I" || p == "i") {
			if unicode.IsUpper(r[0]) && b.Len() == 0 || endsSentence(b.String()) {
				v = capitalize(v)
			}
			b.WriteString(v)
			afterUser = (v == "the user" || v == "The user") && !auxiliaries[before]
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

func endsSentence(s string) bool {
	t := strings.TrimRightFunc(s, unicode.IsSpace)
	if t == "" {
		return true
	}
	if len(t) == len(s) { // no space before the word
		return false
	}
	switch t[len(t)-1] {
	case '.', '!', '?', '"':
		return true
	}
	return false
}
