package formulate

import (
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
)

// Catalog is what item selection needs to know about items: their display
// titles and a way to draw negatives.
type Catalog interface {
	// Title is the display title of an item; never "" (see FallbackTitle).
	Title(itemID string) string
	// Sample draws up to n distinct item ids, without replacement, from
	// category ("" = the whole catalog), skipping those exclude reports.
	// When the category has too few, it fills up from the whole catalog.
	// The result depends only on the catalog's content (not the order of
	// additions) and rng's state.
	Sample(rng *rand.Rand, category string, n int, exclude func(itemID string) bool) []string
}

// FallbackTitle is the display title of an item without a title (Amazon
// 2014 reviews read without the metadata file): "item <ItemID>".
func FallbackTitle(itemID string) string { return "item " + itemID }

// MemCatalog is an in-memory Catalog. Items are kept sorted by id for
// sampling, so the order of Add calls does not matter. All methods are safe
// for concurrent use.
type MemCatalog struct {
	mu    sync.Mutex
	title map[string]string
	cat   map[string]string
	dirty bool
	all   []string            // sorted ids
	byCat map[string][]string // sorted ids per category
}

// NewMemCatalog returns an empty catalog.
func NewMemCatalog() *MemCatalog {
	return &MemCatalog{title: map[string]string{}, cat: map[string]string{}}
}

// Add records an item. A second Add of the same id fills in a title or a
// category that was still empty; it never replaces one.
func (c *MemCatalog) Add(itemID, title, category string) {
	if itemID == "" {
		return
	}
	title, category = strings.TrimSpace(title), strings.TrimSpace(category)
	c.mu.Lock()
	defer c.mu.Unlock()
	old, seen := c.title[itemID]
	if !seen || old == "" {
		c.title[itemID] = title
	}
	if c.cat[itemID] == "" && category != "" {
		c.cat[itemID] = category
	}
	c.dirty = true
}

// Len is the number of items.
func (c *MemCatalog) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.title)
}

// Title returns the item's title, or FallbackTitle when it has none or is
// not in the catalog.
func (c *MemCatalog) Title(itemID string) string {
	c.mu.Lock()
	t := c.title[itemID]
	c.mu.Unlock()
	if t == "" {
		return FallbackTitle(itemID)
	}
	return t
}

// index returns the sorted id lists, rebuilding them after additions. The
// returned slices are never modified afterwards.
func (c *MemCatalog) index() ([]string, map[string][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty {
		all := make([]string, 0, len(c.title))
		for id := range c.title {
			all = append(all, id)
		}
		sort.Strings(all)
		by := map[string][]string{}
		for _, id := range all {
			if k := c.cat[id]; k != "" {
				by[k] = append(by[k], id)
			}
		}
		c.all, c.byCat, c.dirty = all, by, false
	}
	return c.all, c.byCat
}

// Sample implements Catalog: random draws from the category's sorted ids,
// then, if too many were excluded, a scan from a random start; then the
// same over the whole catalog when still short.
func (c *MemCatalog) Sample(rng *rand.Rand, category string, n int, exclude func(itemID string) bool) []string {
	if n <= 0 {
		return nil
	}
	all, by := c.index()
	var out []string
	taken := map[string]bool{}
	if category != "" {
		out = drawFrom(by[category], rng, n, exclude, taken, out)
	}
	if len(out) < n {
		out = drawFrom(all, rng, n, exclude, taken, out)
	}
	return out
}

func drawFrom(pool []string, rng *rand.Rand, n int, exclude func(string) bool, taken map[string]bool, out []string) []string {
	if len(pool) == 0 {
		return out
	}
	tried := map[int]bool{}
	try := func(j int) {
		if tried[j] {
			return
		}
		tried[j] = true
		id := pool[j]
		if taken[id] || (exclude != nil && exclude(id)) {
			return
		}
		taken[id] = true
		out = append(out, id)
	}
	for t := 0; len(out) < n && t < 4*n+16 && len(tried) < len(pool); t++ {
		try(rng.IntN(len(pool)))
	}
	if len(out) < n && len(tried) < len(pool) {
		start := rng.IntN(len(pool))
		for k := 0; k < len(pool) && len(out) < n; k++ {
			try((start + k) % len(pool))
		}
	}
	return out
}
