//go:build !amd64 || purego

package cpu

// Without assembly only the generic variant exists.
const (
	useAVX512 = false
	useAVX2   = false
)

func asmVariants() []*variant { return nil }
