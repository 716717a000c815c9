//go:build !amd64 || purego

package cpu

// Without assembly only the generic variant exists.
const (
	useAVX512 = false
	useAVX2   = false
)

func asmVariants() []*variant { return nil }

// Without assembly there is no FMA probe; MeasurePeak reports nothing.
func fmaPeakAVX512(int) {}
func fmaPeakAVX2(int)   {}
