//go:build !linux

package arena

// mapBlock is not implemented outside Linux: arenas use the Go heap.
func mapBlock(size int, huge bool) (mem []byte, unmap func() error, advised, ok bool) {
	return nil, nil, false, false
}
