package cuda

import "fmt"

// Precision names the arithmetic a peak is quoted for.
type Precision string

const (
	// FP32 is plain fp32 FMA on the CUDA cores.
	FP32 Precision = "fp32"
	// TF32 is the TF32 tensor-core rate (fp32 accumulation).
	TF32 Precision = "tf32"
	// BF16 is the dense bf16 tensor-core rate with fp32 accumulation.
	BF16 Precision = "bf16"
)

// Per streaming multiprocessor and clock: fp32 FMA lanes, and dense
// tensor-core FLOPs for bf16 inputs with fp32 accumulation, by compute
// capability. The tensor figures are NVIDIA's datasheet peaks divided by
// SMs × boost clock of the data-centre part of each architecture: A100
// (sm_80) 312 TFLOP/s = 108 SMs × 1.41 GHz × 2048; A10 (sm_86) 125 =
// 72 × 1.695 × 1024; L4/L40S (sm_89) 121/362 ≈ 58 × 2.04 / 142 × 2.52 ×
// 1024; H100 SXM (sm_90) 989 = 132 × 1.83 × 4096; B200 (sm_100) 2250 ≈
// 148 × 1.86 × 8192. GeForce parts of sm_86/89 run bf16 with fp32
// accumulation at half that, so their MFU reads low, never high. TF32 is
// half the bf16 rate on every architecture that has it. sm_70/75 have no
// bf16 or TF32 tensor cores.
var (
	fp32Lanes = map[int]int{60: 64, 70: 64, 75: 64, 80: 64, 86: 128, 87: 128, 89: 128, 90: 128, 100: 128, 120: 128}
	bf16PerSM = map[int]int{80: 2048, 86: 1024, 87: 1024, 89: 1024, 90: 4096, 100: 8192}
)

// Peak estimates the device's peak rate in FLOP/s for precision p from its
// SM count and the clock the driver reports (its maximum boost clock, so
// the estimate is at or above the datasheet's: H100 SXM reports 1.98 GHz,
// 8% above the 1.83 GHz of NVIDIA's 989 TFLOP/s). It returns an error
// naming the architecture when the table has no figure for it, so an MFU
// is never computed against a guess.
func Peak(info Info, p Precision) (float64, error) {
	var perClock int
	switch p {
	case FP32:
		perClock = 2 * fp32Lanes[info.CC]
	case BF16:
		perClock = bf16PerSM[info.CC]
	case TF32:
		perClock = bf16PerSM[info.CC] / 2
	default:
		return 0, fmt.Errorf("cuda: peak: unknown precision %q (fp32, tf32 or bf16)", p)
	}
	if perClock == 0 {
		return 0, fmt.Errorf("cuda: peak: no %s figure for sm_%d (%s)", p, info.CC, info.Name)
	}
	if info.SMs <= 0 || info.ClockKHz <= 0 {
		return 0, fmt.Errorf("cuda: peak: %s reports %d SMs at %d kHz", info.Name, info.SMs, info.ClockKHz)
	}
	return float64(perClock) * float64(info.SMs) * float64(info.ClockKHz) * 1e3, nil
}
