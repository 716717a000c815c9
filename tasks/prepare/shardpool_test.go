package prepare

import (
	"testing"
	"time"
)

// getAsync starts a get and returns the channel its buffer comes on.
func getAsync(sp *shardPool, size int64) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() { ch <- sp.get(size) }()
	return ch
}

// waiting reports whether nothing came on ch for a while.
func waiting(ch <-chan []byte) bool {
	select {
	case <-ch:
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

func recvWithin(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("get still waiting after its buffer came back")
		return nil
	}
}

func TestShardPool(t *testing.T) {
	const mb = 1 << 20
	sp := newShardPool(3, 10*mb)
	a, b, c := sp.get(2*mb), sp.get(2*mb), sp.get(2*mb)
	for _, x := range [][]byte{a, b, c} {
		if cap(x) < 2*mb {
			t.Fatalf("buffer of %d bytes for a 2 MB shard", cap(x))
		}
	}
	// n are lent: a fourth get waits for one to come back.
	ch := getAsync(sp, mb)
	if !waiting(ch) {
		t.Fatal("a fourth buffer was lent")
	}
	sp.put(a)
	d := recvWithin(t, ch)
	sp.put(b)
	sp.put(c)
	sp.put(d)
	if sp.lent != 0 || sp.total > 10*mb || len(sp.idle) != 3 {
		t.Fatalf("lent %d, total %d, idle %d", sp.lent, sp.total, len(sp.idle))
	}
	// An idle buffer that fits is lent again, not a new one.
	total := sp.total
	x := sp.get(2 * mb)
	if sp.total != total {
		t.Fatalf("a fitting idle buffer was not reused: total %d -> %d", total, sp.total)
	}
	// A shard over the budget waits until nothing else is lent, then gets
	// a buffer of its own, the idle ones freed.
	ch = getAsync(sp, 12*mb)
	if !waiting(ch) {
		t.Fatal("a buffer over the budget was lent beside another")
	}
	sp.put(x)
	big := recvWithin(t, ch)
	if cap(big) < 12*mb || len(sp.idle) != 0 || sp.total != int64(cap(big)) {
		t.Fatalf("over-budget shard: %d bytes, idle %d, total %d", cap(big), len(sp.idle), sp.total)
	}
	sp.put(big)
	sp.close()
	if sp.total != 0 || len(sp.idle) != 0 {
		t.Fatalf("close left %d bytes in %d buffers", sp.total, len(sp.idle))
	}
}
