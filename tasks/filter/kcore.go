package filter

import (
	"slices"
	"sort"
)

// TopItems returns the most frequent items making up the top frac of the
// distinct items (the paper keeps the top 50%), ties broken by item id so
// the choice is deterministic. frac >= 1 keeps every item.
func TopItems(counts map[string]int, frac float64) map[string]bool {
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if counts[ids[i]] != counts[ids[j]] {
			return counts[ids[i]] > counts[ids[j]]
		}
		return ids[i] < ids[j]
	})
	n := len(ids)
	if frac < 1 {
		n = int(float64(len(ids))*frac + 0.5)
	}
	out := make(map[string]bool, n)
	for _, id := range ids[:n] {
		out[id] = true
	}
	return out
}

// KCore computes the iterative k-core of the user-item review graph:
// repeatedly drop users with fewer than userK distinct items and items with
// fewer than itemK distinct users until nothing changes. Edges are added in
// a stream; memory is two uint32 per edge plus one map entry per user and
// per item.
type KCore struct {
	userIdx  map[uint64]uint32
	itemIdx  map[string]uint32
	items    []string
	eu, ei   []uint32
	keepUser []bool
	keepItem []bool
}

// NewKCore returns an empty graph.
func NewKCore() *KCore {
	return &KCore{userIdx: map[uint64]uint32{}, itemIdx: map[string]uint32{}}
}

// Add records that user reviewed item. Repeated pairs count once.
func (k *KCore) Add(user uint64, item string) {
	u, ok := k.userIdx[user]
	if !ok {
		u = uint32(len(k.userIdx))
		k.userIdx[user] = u
	}
	i, ok := k.itemIdx[item]
	if !ok {
		i = uint32(len(k.items))
		k.itemIdx[item] = i
		k.items = append(k.items, item)
	}
	k.eu = append(k.eu, u)
	k.ei = append(k.ei, i)
}

// Run computes the core over the edges whose item passes allow (nil: all).
func (k *KCore) Run(userK, itemK int, allow func(item string) bool) {
	nu, ni := len(k.userIdx), len(k.items)
	// Distinct edges only: pack (user, item) into one uint64, sort, and
	// drop repeats (8 bytes an edge, no hash map).
	packed := make([]uint64, 0, len(k.eu))
	for j := range k.eu {
		packed = append(packed, uint64(k.eu[j])<<32|uint64(k.ei[j]))
	}
	slices.Sort(packed)
	packed = slices.Compact(packed)
	var allowed []bool // per item; nil: all
	if allow != nil {
		allowed = make([]bool, ni)
		for i, id := range k.items {
			allowed[i] = allow(id)
		}
	}
	eu, ei := make([]uint32, 0, len(packed)), make([]uint32, 0, len(packed))
	for _, e := range packed {
		u, i := uint32(e>>32), uint32(e)
		if allowed != nil && !allowed[i] {
			continue
		}
		eu, ei = append(eu, u), append(ei, i)
	}
	packed = nil
	k.keepUser = make([]bool, nu)
	k.keepItem = make([]bool, ni)
	for j := range eu {
		k.keepUser[eu[j]] = true
		k.keepItem[ei[j]] = true
	}
	du, di := make([]int32, nu), make([]int32, ni)
	for {
		clear(du)
		clear(di)
		for j := range eu {
			if k.keepUser[eu[j]] && k.keepItem[ei[j]] {
				du[eu[j]]++
				di[ei[j]]++
			}
		}
		changed := false
		for u := range du {
			if k.keepUser[u] && int(du[u]) < userK {
				k.keepUser[u] = false
				changed = true
			}
		}
		for i := range di {
			if k.keepItem[i] && int(di[i]) < itemK {
				k.keepItem[i] = false
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// KeepUser reports whether the user is in the core (after Run).
func (k *KCore) KeepUser(user uint64) bool {
	u, ok := k.userIdx[user]
	return ok && k.keepUser != nil && k.keepUser[u]
}

// KeepItem reports whether the item is in the core (after Run).
func (k *KCore) KeepItem(item string) bool {
	i, ok := k.itemIdx[item]
	return ok && k.keepItem != nil && k.keepItem[i]
}

// Users and Items count the core's members (after Run).
func (k *KCore) Users() int { return count(k.keepUser) }

// Items counts the items in the core.
func (k *KCore) Items() int { return count(k.keepItem) }

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}
