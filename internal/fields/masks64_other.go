//go:build !amd64 || purego

package fields

// HaveMasks64: no assembly in this build; Masks64 is masks64Go.
var HaveMasks64 = false

func masks64(p *byte) (space, ws, high uint64) { return masks64Go(p) }
