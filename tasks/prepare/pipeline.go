package prepare

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/humanllm/humanllm/internal/dio"
	"github.com/humanllm/humanllm/internal/fields"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/filter"
	"github.com/humanllm/humanllm/tasks/formulate"
	"github.com/humanllm/humanllm/tasks/qc"
	"github.com/humanllm/humanllm/tasks/source"
	"github.com/humanllm/humanllm/tasks/synth"
)

// testCheckOracle, when set by a test, is called with every formulated
// sample and the Checker's verdict on it (from the workers, concurrently).
var testCheckOracle func(s tasks.Sample, reason string)

// testSpillMaxBytes, when set by a test, replaces spill_max_mb so that the
// re-partitioning of oversized spill files runs on small inputs.
var testSpillMaxBytes int64

// ErrMalformed is returned (wrapped) by Prepare in strict mode.
var ErrMalformed = errors.New("malformed record")

// Prepare runs the whole pipeline and writes cfg.Out/train.jsonl,
// cfg.Out/test.jsonl and cfg.Out/report.json. Outputs are written to
// temporary files and renamed at the end, so an interrupted run never leaves
// a half-written file and a re-run overwrites cleanly. status, if non-nil,
// receives a live progress line (pass a terminal, or nil).
func Prepare(ctx context.Context, cfg Config, status io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	defer tuneGC()()
	p := &pipeline{cfg: cfg, rep: &Report{
		QCDropped:      map[string]int64{},
		Tasks:          map[string]map[string]int64{},
		TasksByVariant: map[string]int64{},
		Lengths:        map[string]*Histogram{"prompt_words": {}, "target_words": {}},
	}, prog: newProgress(status)}
	defer p.prog.close()
	p.shardI, p.shardN, _ = cfg.shard()
	if cfg.Shard != "" {
		p.rep.Shard = cfg.Shard
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("out %s: %w", cfg.Out, err)
	}
	spillRoot := cfg.SpillDir
	if spillRoot == "" {
		spillRoot = cfg.Out
	}
	dir, err := os.MkdirTemp(spillRoot, ".spill-")
	if err != nil {
		return nil, fmt.Errorf("spill dir: %w", err)
	}
	defer os.RemoveAll(dir)
	p.spillDir = dir

	// Stages in report order.
	p.rep.stage("record_filter", "records")
	p.rep.stage("dedup_exact", "records")
	if p.shardN > 1 {
		p.rep.stage("shard", "records")
	}
	if err := p.ingest(ctx); err != nil {
		return nil, err
	}
	if err := p.process(ctx); err != nil {
		return nil, err
	}
	p.rep.Seconds = time.Since(start).Seconds()
	if err := p.rep.Balanced(); err != nil {
		return p.rep, err
	}
	if err := writeJSONAtomic(filepath.Join(cfg.Out, "report.json"), p.rep); err != nil {
		return p.rep, err
	}
	return p.rep, nil
}

type pipeline struct {
	cfg      Config
	rep      *Report
	prog     *progress
	spillDir string
	spill    *spillWriter // the spilled records, by user hash (after ingest)
	demoDir  string       // where @demo was extracted; shown as "@demo"

	shardI, shardN uint64

	// Amazon: item popularity, k-core and catalog, collected while reading.
	itemCount map[string]int
	kcore     *filter.KCore
	items     map[string]itemInfo
}

type itemInfo struct{ title, category string }

// ---- phase 1: read, record filters, dedup, spill ----------------------

type batch struct {
	idx   int
	items []ingested
}

type ingested struct {
	rec    tasks.Record
	hash   uint64
	text   uint64
	reason string
}

const batchSize = 256

func (p *pipeline) ingest(ctx context.Context) error {
	p.prog.setPhase("reading")
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	work := make(chan *batch, 4*p.cfg.workers())
	done := make(chan *batch, 4*p.cfg.workers())
	var wg sync.WaitGroup
	for w := 0; w < p.cfg.workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := p.cfg.Filter // each worker owns its copy of any scratch state
			// The last user hashed: a user's records mostly come one after
			// the other (a Blogger file is one user), and the keyed
			// SHA-256 costs more than the rest of a short record's checks.
			var lastSrc, lastUser string
			var lastHash uint64
			for b := range work {
				for i := range b.items {
					it := &b.items[i]
					if it.rec.User != lastUser || it.rec.Source != lastSrc || lastSrc == "" {
						lastSrc, lastUser = it.rec.Source, it.rec.User
						lastHash = filter.UserHash64(p.cfg.Salt, lastSrc, lastUser)
					}
					it.hash = lastHash
					it.reason = f.Record(&it.rec)
					if it.reason == "" {
						it.text, it.rec.NearHash = filter.TextHashes2(it.rec.Title, it.rec.Text)
						it.rec.HasNearHash = true
					}
				}
				done <- b
			}
		}()
	}

	// Sink: in input order, so "first occurrence wins" is deterministic.
	sinkErr := make(chan error, 1)
	go func() {
		sinkErr <- p.sink(done)
	}()

	// Producer.
	prodErr := p.produce(ctx, work)
	close(work)
	wg.Wait()
	close(done)
	serr := <-sinkErr
	if prodErr != nil {
		return prodErr
	}
	if serr != nil {
		return serr
	}
	return context.Cause(ctx)
}

func (p *pipeline) produce(ctx context.Context, work chan<- *batch) error {
	var adapters []source.Adapter
	var forced source.Adapter
	if p.cfg.Source != "auto" {
		a, err := source.ByName(p.cfg.Source, p.cfg.Sources)
		if err != nil {
			return err
		}
		forced = a
	} else {
		adapters = source.Adapters(p.cfg.Sources)
	}
	idx := 0
	cur := &batch{idx: idx}
	flush := func() {
		if len(cur.items) == 0 {
			return
		}
		work <- cur
		idx++
		cur = &batch{idx: idx, items: make([]ingested, 0, batchSize)}
	}
	paths, err := p.expandDemo(p.cfg.Inputs)
	if err != nil {
		return err
	}
	var own *bufio.Reader // one for all compressed files, one after the other
	err = source.Open(paths, func(in source.Input) error {
		in.Name = p.displayName(in.Name)
		// An uncompressed file comes as Open's buffer, which the adapters'
		// own buffering (bufio.NewReaderSize) then reads from in place;
		// buffering it again copied every byte once more.
		br, ok := in.Reader.(*bufio.Reader)
		if !ok || br.Size() < source.OpenBuffer {
			if own == nil {
				own = bufio.NewReaderSize(in.Reader, source.OpenBuffer)
			} else {
				own.Reset(in.Reader)
			}
			br = own
		}
		head, _ := br.Peek(64 << 10)
		a := forced
		if a == nil {
			var err error
			if a, err = source.Detect(in.Name, head, adapters); err != nil {
				return err
			}
		}
		fr := FileReport{File: in.Name, Format: a.Name()}
		var strictErr error
		emit := func(r tasks.Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			fr.Records++
			p.rep.RecordsIn++
			p.prog.records.Add(1)
			p.rep.source(r.Source).RecordsIn++
			cur.items = append(cur.items, ingested{rec: r})
			if len(cur.items) == batchSize {
				flush()
			}
			return nil
		}
		bad := func(m tasks.Malformed) {
			fr.Records++
			fr.Malformed++
			p.rep.RecordsIn++
			p.rep.Malformed++
			p.prog.records.Add(1)
			if len(p.rep.MalformedExamples) < p.cfg.MalformedExamples {
				p.rep.MalformedExamples = append(p.rep.MalformedExamples, m)
			}
			if p.cfg.Strict && strictErr == nil {
				strictErr = fmt.Errorf("%s:%d: %w: %s", m.File, m.Line, ErrMalformed, m.Err)
			}
		}
		err := a.Parse(ctx, source.Input{Reader: br, Name: in.Name}, func(r tasks.Record) error {
			if strictErr != nil {
				return strictErr
			}
			return emit(r)
		}, bad)
		fr.Bytes = in.Bytes()
		p.rep.BytesIn += fr.Bytes
		p.rep.Files = append(p.rep.Files, fr)
		if strictErr != nil {
			return strictErr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		return nil
	}, &p.prog.bytes)
	flush()
	return err
}

func (p *pipeline) sink(done <-chan *batch) error {
	sw, err := newSpillWriter(p.spillDir, spillChunk)
	if err != nil {
		for range done {
		}
		return err
	}
	p.spill = sw
	exact := &filter.ExactSet{}
	p.itemCount = map[string]int{}
	p.kcore = filter.NewKCore()
	p.items = map[string]itemInfo{}
	recStage := p.rep.stage("record_filter", "records")
	dupStage := p.rep.stage("dedup_exact", "records")
	var shardStage *StageReport
	if p.shardN > 1 {
		shardStage = p.rep.stage("shard", "records")
	}
	pending := map[int]*batch{}
	next := 0
	var seq uint64
	var firstErr error
	for b := range done {
		pending[b.idx] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if firstErr != nil {
				continue
			}
			for i := range b.items {
				it := &b.items[i]
				seq++
				recStage.In++
				if it.rec.Source == tasks.SourceAmazon && (it.reason == "" || it.reason == filter.ReasonTooShort) {
					// The paper's item popularity and k-core are computed on
					// all parsed reviews; the length rule applies after.
					p.itemCount[it.rec.ItemID]++
					p.kcore.Add(it.hash, it.rec.ItemID)
					if inf, ok := p.items[it.rec.ItemID]; !ok || (inf.title == "" && it.rec.ItemTitle != "") {
						p.items[it.rec.ItemID] = itemInfo{title: it.rec.ItemTitle, category: it.rec.Community}
					}
				}
				if it.reason != "" {
					recStage.Dropped[it.reason]++
					continue
				}
				recStage.Out++
				dupStage.In++
				if !exact.Add(it.text) {
					dupStage.Dropped[filter.ReasonDuplicateExact]++
					continue
				}
				dupStage.Out++
				if shardStage != nil {
					shardStage.In++
					if shardOf(it.hash, p.shardN) != p.shardI {
						shardStage.Dropped["other_shard"]++
						continue
					}
					shardStage.Out++
				}
				if err := sw.add(it.hash, seq, &it.rec); err != nil {
					firstErr = err
				}
			}
		}
	}
	if err := sw.close(); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// shardOf maps a 64-bit hash to one of n contiguous ranges, so shard order
// equals hash order.
func shardOf(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}

// ---- phase 2+3: per-user stages --------------------------------------

type userJob struct {
	idx int
	// shard and keys: the user's records, which the worker decodes into
	// user (see decodeUser)
	shard *loadedShard
	keys  []spillKey
	user  *tasks.User
	// what decoding the user adds to the report: the collector adds it
	// (see loadCounts)
	counts *loadCounts
	// outputs: the kept samples, already encoded as the lines of
	// train.jsonl (out[0]) and test.jsonl (out[1]) in sample order, and
	// what the report counts of each (see encodeSample); the collector
	// only appends the bytes and adds the counts.
	out     *jobOutput
	drops   map[string]int64
	qcDrops map[string]int64
	err     error
	kept    bool
}

func (p *pipeline) process(ctx context.Context) error {
	// Amazon: top items, then iterative k-core.
	top := filter.TopItems(p.itemCount, p.cfg.Filter.AmazonTopItemsFraction)
	p.kcore.Run(p.cfg.Filter.AmazonKCoreUsers, p.cfg.Filter.AmazonKCoreItems, func(item string) bool { return top[item] })
	cat := formulate.NewMemCatalog()
	for id, inf := range p.items {
		if top[id] && p.kcore.KeepItem(id) {
			cat.Add(id, inf.title, inf.category)
		}
	}
	p.itemCount, p.items = nil, nil

	syn, err := p.synthesizer()
	if err != nil {
		return err
	}
	forms := formulate.New(p.cfg.Formulate, cat)

	out, err := newSplitWriter(p.cfg.Out)
	if err != nil {
		return err
	}
	defer out.abort()

	files := p.spill.names()
	p.prog.setPhase("users")
	userStage := p.rep.stage("user_filter", "records")
	if err := p.runUsers(ctx, files, top, syn, forms, userStage, out); err != nil {
		return err
	}
	if c, ok := syn.(interface{ Counters() map[string]int64 }); ok {
		p.rep.Synth = c.Counters()
	}
	if err := out.commit(); err != nil {
		return err
	}
	p.rep.Train, p.rep.Test = out.n[0], out.n[1]
	return nil
}

func (p *pipeline) synthesizer() (synth.Synthesizer, error) {
	if p.cfg.Synth.Backend == "llm" {
		l, err := synth.NewLLM(p.cfg.Synth.LLM)
		if err != nil || !p.cfg.Synth.Judge {
			return l, err
		}
		return qc.WithJudge(l, qc.NewJudge(l.Client())), nil
	}
	return synth.NewHeuristic(p.cfg.Synth.Heuristic), nil
}

// loadCounts is what decoding one user adds to the report: the
// user_filter stage's input and drops, and the user's source. decodeUser
// runs beside the collector, which owns the report, so it counts here and
// the collector adds the counts in.
type loadCounts struct {
	in      int64
	dropped map[string]int64
	users   map[string]int64 // by source
}

func (p *pipeline) addLoadCounts(c *loadCounts, stage *StageReport) {
	stage.In += c.in
	for k, v := range c.dropped {
		stage.Dropped[k] += v
	}
	for src, n := range c.users {
		p.rep.UsersIn += n
		p.rep.source(src).UsersIn += n
	}
}

// loadedShard is one spill shard in memory, grouped by user. The loader
// reads and sorts it; the workers decode its users (decodeUser), so that
// decoding, most of a shard's loading, runs in parallel. A shard read into
// a lent buffer gives the buffer back when its last user is decoded.
type loadedShard struct {
	path   string
	data   []byte
	owned  bool
	buf    []byte       // the lent buffer data is in; nil when owned
	pool   *shardPool   // where buf goes back
	left   atomic.Int64 // users not yet decoded
	groups [][]spillKey // the users' records, in hash order
}

// loadShard reads one spill shard into *buf (see spillWriter.load) and
// groups it by user, in hash order; a user's records are ordered by time,
// then input order.
func (p *pipeline) loadShard(path string, buf *[]byte) (*loadedShard, error) {
	data, owned, err := p.spill.load(path, buf)
	if err != nil {
		return nil, err
	}
	keys, err := indexShard(data)
	if err != nil {
		return nil, fmt.Errorf("spill %s: %w", path, err)
	}
	// Sort the small keys; each record is then decoded straight into its
	// user: (hash, time, seq) is a total order (seq is unique), the same
	// as grouping by hash and sorting each group stably by time.
	slices.SortFunc(keys, func(a, b spillKey) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	sh := &loadedShard{path: path, data: data, owned: owned}
	for len(keys) > 0 {
		n := 1
		for n < len(keys) && keys[n].hash == keys[0].hash {
			n++
		}
		sh.groups = append(sh.groups, keys[:n:n])
		keys = keys[n:]
	}
	sh.left.Store(int64(len(sh.groups)))
	return sh, nil
}

// decodeUser decodes the records of one user of a loaded shard (g, one
// of its groups), dropping the Amazon reviews of items outside the top
// or the k-core, and returns the user with what it adds to the report.
// It runs in the workers, concurrently: it only reads the shard, top and
// the k-core.
func (p *pipeline) decodeUser(sh *loadedShard, g []spillKey, top map[string]bool) (*tasks.User, *loadCounts, error) {
	data, path := sh.data, sh.path
	dec := newShardDecoder(data, sh.owned)
	var s spilled
	counts := &loadCounts{dropped: map[string]int64{}, users: map[string]int64{}}
	h := g[0].hash
	u := &tasks.User{ID: fmt.Sprintf("%016x", h), Meta: map[string]string{}}
	metaIn := false
	for j, k := range g {
		// The source and item decide the Amazon drops (most of the
		// Amazon reviews): read them first, and decode only the
		// records kept.
		src, item, err := peekSourceItem(data, k)
		if err != nil {
			return nil, nil, fmt.Errorf("spill %s: %w", path, err)
		}
		if j == 0 {
			u.Source = dec.internBytes(src)
		}
		counts.in++
		if string(src) == tasks.SourceAmazon {
			itemID := fields.View(item) // only looked up
			if !top[itemID] {
				counts.dropped[filter.ReasonAmazonItemNotTop]++
				continue
			}
			if !p.kcore.KeepUser(h) || !p.kcore.KeepItem(itemID) {
				counts.dropped[filter.ReasonAmazonKCore]++
				continue
			}
		}
		if err := dec.decode(k, &s); err != nil {
			return nil, nil, fmt.Errorf("spill %s: %w", path, err)
		}
		r := &s.rec
		if r.UserName != "" {
			u.Name = r.UserName
		}
		if !dec.meta.same || !metaIn {
			for k, v := range r.Meta {
				u.Meta[k] = v
			}
		}
		metaIn = true // the last record's Meta is in u.Meta
		r.User = u.ID // the raw id never leaves this function
		if u.Records == nil {
			u.Records = make([]tasks.Record, 0, len(g))
		}
		u.Records = append(u.Records, *r)
	}
	if n := len(u.Records) - p.cfg.MaxUserRecords; n > 0 {
		counts.dropped["user_record_cap"] += int64(n)
		u.Records = u.Records[n:]
	}
	counts.users[u.Source]++
	return u, counts, nil
}

// release gives the shard's lent buffer back once its last user is
// decoded.
func (sh *loadedShard) release() {
	if sh.left.Add(-1) == 0 && sh.buf != nil {
		sh.pool.put(sh.buf)
		sh.buf = nil
	}
}

// shardBufs is the number of spill shards on disk that can be in memory at
// once (see runUsers): a shard's buffer is free again when all its users
// are decoded.
const shardBufs = 3

// shardPool lends the buffers (from dio.Alloc, and reused: fresh memory
// costs a page fault per 4 KiB) that spill shards are read into. At most n
// are lent, and all of them together, lent or idle, stay within budget
// bytes (spill_max_mb): with large shards only one is in memory at a time,
// as when there was one buffer. A shard larger than the budget (one that
// could not be split further) gets a buffer of its own once no other is
// lent. A buffer from get is large enough for the shard, so that
// spillWriter.load never replaces it.
type shardPool struct {
	mu     sync.Mutex
	cond   *sync.Cond
	idle   [][]byte
	total  int64 // capacity of every buffer, idle or lent
	lent   int
	n      int
	budget int64
}

func newShardPool(n int, budget int64) *shardPool {
	sp := &shardPool{n: n, budget: budget}
	sp.cond = sync.NewCond(&sp.mu)
	return sp
}

// get returns a buffer for a shard of size bytes, waiting until one may be
// lent (a lent buffer comes back when its shard's users are decoded).
func (sp *shardPool) get(size int64) []byte {
	need := int64(dio.AlignUp(int(size)))
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for {
		if sp.lent < sp.n {
			for i, b := range sp.idle {
				if int64(cap(b)) >= need {
					sp.idle = slices.Delete(sp.idle, i, i+1)
					sp.lent++
					return b
				}
			}
			// None fits: drop idle ones until a new one does, or all of
			// them when nothing is lent (a shard over the budget).
			for len(sp.idle) > 0 && (sp.total+need > sp.budget || sp.lent == 0 && need > sp.budget) {
				sp.free(len(sp.idle) - 1)
			}
			if sp.total+need <= sp.budget || sp.lent == 0 {
				alloc := need + need/8 // room for a larger shard to come
				if sp.total+alloc > sp.budget {
					alloc = need
				}
				b := dio.Alloc(int(alloc))
				sp.total += int64(cap(b))
				sp.lent++
				return b[:0]
			}
		}
		sp.cond.Wait()
	}
}

// free unmaps idle buffer i.
func (sp *shardPool) free(i int) {
	b := sp.idle[i]
	sp.idle = slices.Delete(sp.idle, i, i+1)
	sp.total -= int64(cap(b))
	dio.Free(b)
}

// put gives a lent buffer back.
func (sp *shardPool) put(b []byte) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.lent--
	sp.idle = append(sp.idle, b[:0])
	sp.cond.Broadcast()
}

// close frees the idle buffers; every lent one must be back.
func (sp *shardPool) close() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for len(sp.idle) > 0 {
		sp.free(len(sp.idle) - 1)
	}
}

// runUsers loads the spill files one after the other, in order, and runs
// every user through one pool of workers, collecting the results in input
// order. The files are read and sorted by the goroutine that hands out the
// jobs; the workers decode their users' records from the shard (see
// loadedShard). While it loads the next file, the workers finish the last
// users of the one before. (The pool used to be drained at the end of
// every file, leaving workers idle behind each file's slowest user; and
// the loader used to decode every record itself, which at two threads
// left the workers waiting for it.) At most a bounded window of users is
// in flight, and a bounded number of shards (see shardPool).
func (p *pipeline) runUsers(ctx context.Context, files []string, top map[string]bool, syn synth.Synthesizer, forms []formulate.Formulator, stage *StageReport, out *splitWriter) error {
	nw := p.cfg.workers()
	if p.cfg.Synth.Backend == "llm" {
		nw = max(nw, p.cfg.Synth.LLM.Concurrency)
	}
	// stop ends the loading and the remaining work after a failure.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The loader queues a whole shard's users at once and goes on to read
	// the next shard while the workers take them (with an unbuffered
	// channel it could only start reading when the workers were about to
	// run dry, and they waited for every shard's read, index and sort).
	// queued bounds the jobs handed out and not yet collected: until a
	// worker decodes it, a job is a slice of keys into its shard. decoded
	// bounds the jobs decoded and not yet collected, which hold records
	// and outputs: the gate takes its tokens in job order, so the job the
	// collector waits for always has one, and up to decodedWindow per
	// worker may finish behind a slow one. The shard pool bounds the
	// shards in memory.
	const queuedWindow, decodedWindow = 1024, 16
	jobs := make(chan *userJob, queuedWindow*nw)
	work := make(chan *userJob)
	results := make(chan *userJob, nw)
	queued := make(chan struct{}, queuedWindow*nw)
	decoded := make(chan struct{}, decodedWindow*nw)
	go func() {
		defer close(work)
		for j := range jobs {
			decoded <- struct{}{} // the collector frees one per job
			work <- j
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if j.shard != nil {
					if runCtx.Err() == nil {
						j.user, j.counts, j.err = p.decodeUser(j.shard, j.keys, top)
					}
					j.shard.release()
					j.shard, j.keys = nil, nil
				}
				if j.user != nil && j.err == nil {
					p.runUser(runCtx, j, syn, forms)
				}
				results <- j
			}
		}()
	}
	var loadErr error // set by the dispatcher before results is closed
	pool := newShardPool(shardBufs, int64(p.cfg.SpillMaxMB)<<20)
	go func() {
		defer func() {
			close(jobs)
			wg.Wait()
			pool.close() // every shard has given its buffer back
			close(results)
		}()
		idx := 0
		send := func(j *userJob) bool {
			j.idx = idx
			idx++
			select {
			case queued <- struct{}{}:
			case <-runCtx.Done():
				return false
			}
			select {
			case jobs <- j:
				return true
			case <-runCtx.Done():
				return false
			}
		}
		for len(files) > 0 {
			if runCtx.Err() != nil {
				return
			}
			f := files[0]
			files = files[1:]
			size, err := p.spill.size(f)
			if err != nil {
				loadErr = err
				return
			}
			limit := int64(p.cfg.SpillMaxMB) << 20
			if testSpillMaxBytes > 0 {
				limit = testSpillMaxBytes
			}
			if size > limit {
				depth := spillBits + 4*strings.Count(filepath.Base(f), ".") - 4
				if depth+4 <= 64 {
					if err := p.spill.toDisk(f); err != nil {
						loadErr = err
						return
					}
					parts, err := splitSpill(f, depth)
					if err != nil {
						loadErr = err
						return
					}
					files = append(parts, files...)
					continue
				}
			}
			buf := pool.get(size)
			sh, err := p.loadShard(f, &buf)
			if err != nil {
				pool.put(buf)
				loadErr = err
				return
			}
			if sh.owned || len(sh.groups) == 0 {
				pool.put(buf)
			} else {
				sh.buf, sh.pool = buf, pool
			}
			p.prog.total.Add(int64(len(sh.groups)))
			for i, g := range sh.groups {
				if !send(&userJob{shard: sh, keys: g}) {
					for range sh.groups[i:] {
						sh.release() // the users never sent
					}
					return
				}
			}
		}
	}()
	pending := map[int]*userJob{}
	next := 0
	var firstErr error
	for j := range results {
		pending[j.idx] = j
		for {
			j, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-queued
			<-decoded
			if j.counts != nil {
				p.addLoadCounts(j.counts, stage)
			}
			if j.user == nil && j.err == nil {
				continue // not decoded: the run was stopped
			}
			p.prog.users.Add(1)
			if firstErr != nil {
				continue
			}
			if j.err != nil {
				firstErr = j.err
			} else {
				firstErr = p.collect(j, stage, out)
			}
			if firstErr != nil {
				stop()
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if loadErr != nil {
		return loadErr
	}
	return ctx.Err()
}

// runUser applies the per-user filter, synthesis, formulation and QC. It
// runs concurrently; everything it touches is the job's own.
func (p *pipeline) runUser(ctx context.Context, j *userJob, syn synth.Synthesizer, forms []formulate.Formulator) {
	u := j.user
	j.drops = map[string]int64{}
	j.qcDrops = map[string]int64{}
	n0 := len(u.Records)
	dropped, keep := p.cfg.Filter.User(u)
	for k, v := range dropped {
		j.drops[k] += int64(v)
	}
	if !keep || len(u.Records) == 0 {
		// Whatever the filter did not name is still accounted for.
		var named int64
		for _, v := range j.drops {
			named += v
		}
		if rest := int64(n0) - named; rest > 0 {
			j.drops[filter.ReasonUserTooFewPosts] += rest
		}
		return
	}
	art, err := syn.Synthesize(ctx, u)
	if err != nil {
		if ctx.Err() != nil {
			j.err = ctx.Err()
			return
		}
		j.drops["synth_failed"] += int64(len(u.Records))
		return
	}
	j.kept = true
	uh := userHashFromID(u.ID)
	rng := rand.New(rand.NewPCG(p.cfg.Seed, uh))
	testUser := splitDraw(p.cfg.Seed, uh, 0) < p.cfg.Split.TestFraction
	// One Checker per user: it reuses its checks of the past records
	// that recur in the user's prompts (the pieces).
	chk := qc.NewChecker(p.cfg.QC)
	defer chk.Release()
	pc := pieceJSONPool.Get().(*tasks.PieceCache[pieceJSON]) // and so does the encoder
	defer func() { pc.Reset(); pieceJSONPool.Put(pc) }()
	formulate.FormulateAllPieces(forms, u, &art, rng, func(s tasks.Sample, pieces []tasks.Piece) {
		reason := chk.Check(s, pieces)
		if testCheckOracle != nil {
			testCheckOracle(s, reason)
		}
		if reason != "" {
			j.qcDrops[reason]++
			return
		}
		if j.out == nil {
			j.out = outputPool.Get().(*jobOutput)
		}
		test := testUser
		if p.cfg.Split.Mode == "sample" {
			test = splitDraw(p.cfg.Seed, uh, uint64(len(j.out.stats))+1) < p.cfg.Split.TestFraction
		}
		j.out.add(&s, test, pieces, pc)
	})
}

// jobOutput is what runUser makes of one user's kept samples: their JSON
// lines per split and their report counts. Encoding and counting words
// here, in the workers, leaves the collector (one goroutine for all users)
// only appending bytes. The buffers go back to outputPool once written.
type jobOutput struct {
	lines [2][]byte // train, test
	stats []sampleStat
}

// sampleStat is what the report counts of one sample.
type sampleStat struct {
	task, source string
	promptWords  int64 // words of every message but the last
	targetWords  int64
	test         bool
}

var outputPool = sync.Pool{New: func() any { return new(jobOutput) }}

// pieceJSONPool holds the encoders' piece caches between users (their
// buffers are reused).
var pieceJSONPool = sync.Pool{New: func() any { return new(tasks.PieceCache[pieceJSON]) }}

// add encodes s as a line of its split and counts its words, reusing
// for the pieces of its prompt what pc kept of them (see appendSample).
func (o *jobOutput) add(s *tasks.Sample, test bool, pieces []tasks.Piece, pc *tasks.PieceCache[pieceJSON]) {
	i := b2i(test)
	var pw, tw int
	o.lines[i], pw, tw = appendSample(o.lines[i], s, pieces, pc)
	o.lines[i] = append(o.lines[i], '\n')
	o.stats = append(o.stats, sampleStat{
		task: s.Task, source: s.Source, test: test,
		promptWords: int64(pw), targetWords: int64(tw),
	})
}

// release returns o's buffers to outputPool; a buffer grown past 128 KiB
// by a prolific user is dropped rather than kept in the pool (up to
// decodedWindow jobs per worker are in flight, each holding one jobOutput: keeping
// large buffers for all of them cost ~50 MB of peak RSS on 2 threads).
func (o *jobOutput) release() {
	for i, b := range o.lines {
		if cap(b) > 128<<10 {
			b = nil
		}
		o.lines[i] = b[:0]
	}
	clear(o.stats) // drop the strings
	o.stats = o.stats[:0]
	outputPool.Put(o)
}

func userHashFromID(id string) uint64 {
	var h uint64
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			h = h<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			h = h<<4 | uint64(c-'a'+10)
		}
	}
	return h
}

// splitDraw is a uniform number in [0,1) fixed by (seed, user, i).
func splitDraw(seed, user, i uint64) float64 {
	h := fnv.New64a()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], seed)
	binary.LittleEndian.PutUint64(b[8:], user)
	binary.LittleEndian.PutUint64(b[16:], i)
	h.Write(b[:])
	return float64(h.Sum64()>>11) / (1 << 53)
}

func (p *pipeline) collect(j *userJob, stage *StageReport, out *splitWriter) error {
	u := j.user
	var dropped int64
	for k, v := range j.drops {
		stage.Dropped[k] += v
		dropped += v
	}
	kept := int64(len(u.Records))
	if !j.kept {
		kept = 0
	}
	stage.Out += kept
	if j.kept {
		// Records the user filter removed were counted in drops; what is
		// left in u.Records is used.
		p.rep.RecordsUsed += kept
		p.rep.source(u.Source).RecordsUsed += kept
		p.rep.UsersKept++
		p.rep.source(u.Source).UsersKept++
	}
	for k, v := range j.qcDrops {
		p.rep.QCDropped[k] += v
		p.rep.SamplesFormulated += v
	}
	if j.out == nil {
		return nil
	}
	for _, st := range j.out.stats {
		p.rep.SamplesFormulated++
		p.rep.SamplesKept++
		kind, _, _ := strings.Cut(st.task, ".")
		if p.rep.Tasks[kind] == nil {
			p.rep.Tasks[kind] = map[string]int64{}
		}
		p.rep.Tasks[kind][st.source]++
		p.rep.TasksByVariant[st.task]++
		p.rep.source(st.source).Samples++
		p.rep.Lengths["prompt_words"].Add(st.promptWords)
		p.rep.Lengths["target_words"].Add(st.targetWords)
		out.n[b2i(st.test)]++
	}
	err := out.writeLines(j.out.lines)
	j.out.release()
	j.out = nil
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- output ------------------------------------------------------------

// splitWriter writes train.jsonl and test.jsonl through temporary files that
// replace the real ones only on commit.
type splitWriter struct {
	dir   string
	files [2]*os.File
	bufs  [2]*dio.Writer
	n     [2]int64
}

// Output goes to the device in blocks of outBlock bytes from a background
// goroutine, outDepth blocks in flight per file (see package dio).
const (
	outBlock = 1 << 20
	outDepth = 2
)

var splitNames = [2]string{"train.jsonl", "test.jsonl"}

func newSplitWriter(dir string) (*splitWriter, error) {
	w := &splitWriter{dir: dir}
	for i, name := range splitNames {
		f, err := os.CreateTemp(dir, "."+name+".tmp-")
		if err != nil {
			w.abort()
			return nil, fmt.Errorf("out %s: %w", dir, err)
		}
		w.files[i] = f
		w.bufs[i] = dio.NewWriter(f, outBlock, outDepth)
	}
	return w, nil
}

// writeLines appends encoded lines to train.jsonl (lines[0]) and
// test.jsonl (lines[1]); the caller counts them in n.
func (w *splitWriter) writeLines(lines [2][]byte) error {
	for i, b := range lines {
		if len(b) > 0 {
			if _, err := w.bufs[i].Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *splitWriter) commit() error {
	for i, f := range w.files {
		err := w.bufs[i].Close()
		w.bufs[i] = nil
		if err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for i, f := range w.files {
		if err := os.Rename(f.Name(), filepath.Join(w.dir, splitNames[i])); err != nil {
			return err
		}
		w.files[i] = nil
	}
	return syncDir(w.dir)
}

func (w *splitWriter) abort() {
	for i, f := range w.files {
		if w.bufs[i] != nil {
			w.bufs[i].Abort() // its goroutines end; the file goes anyway
			w.bufs[i] = nil
		}
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			w.files[i] = nil
		}
	}
}

// writeJSONAtomic writes v as indented JSON via temp file, fsync, rename.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic writes data to path so that readers see either the old
// file or the whole new one: temp file in the same directory, fsync,
// rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
