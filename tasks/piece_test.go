package tasks

import "testing"

func TestPieceUsable(t *testing.T) {
	c := "head\npiece one\n\nrest"
	for _, tc := range []struct {
		p    Piece
		want bool
	}{
		{Piece{Off: 5, End: 14}, true},
		{Piece{Off: 0, End: 4}, true},   // at the start
		{Piece{Off: 16, End: 20}, true}, // at the end
		{Piece{Off: 5, End: 13}, false}, // not before a '\n'
		{Piece{Off: 6, End: 14}, false}, // not after a '\n'
		{Piece{Off: 5, End: 5}, false},  // empty
		{Piece{Off: 16, End: 21}, false},
		{Piece{Off: -1, End: 4}, false},
		{Piece{Off: 5, End: 14, Key: -1}, false},
		{Piece{Off: 5, End: 14, Key: MaxPieceKey}, false},
	} {
		if got := tc.p.Usable(c); got != tc.want {
			t.Errorf("%+v: Usable %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestPieceCache(t *testing.T) {
	var c PieceCache[int]
	v, fresh := c.Get(3, "a")
	if !fresh {
		t.Fatal("first Get not fresh")
	}
	*v = 7
	if v, fresh := c.Get(3, "a"); fresh || *v != 7 {
		t.Fatalf("same text: fresh %v, %d", fresh, *v)
	}
	v40, _ := c.Get(40, "x") // grows the slots: the value of key 3 stays put
	if v2, _ := c.Get(3, "a"); v2 != v {
		t.Fatal("value moved")
	}
	if _, fresh := c.Get(3, "b"); !fresh {
		t.Fatal("other text not fresh")
	}
	c.Get(3, "a")
	c.Reset()
	if _, fresh := c.Get(3, "a"); !fresh {
		t.Fatal("not fresh after Reset")
	}
	// The next user's keys reuse the values of the last user's: a cache
	// kept from user to user holds no value per key ever seen.
	c.Reset()
	w, fresh := c.Get(1000, "z")
	if !fresh || w != v && w != v40 {
		t.Fatal("a new key after Reset did not get a freed value")
	}
	if len(c.free) != 1 || len(c.used) != 1 {
		t.Fatalf("free %d, used %d; want 1, 1", len(c.free), len(c.used))
	}
}
