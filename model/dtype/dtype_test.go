package dtype

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// Every half widens to the value its bits denote, and narrowing it back
// gives the same bits (NaNs aside).
func TestF16RoundTripAll(t *testing.T) {
	for h := range 1 << 16 {
		f := F16ToF32(uint16(h))
		exp, man := h>>10&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && man != 0:
			if !math.IsNaN(float64(f)) {
				t.Fatalf("%#04x: want NaN, got %v", h, f)
			}
			continue
		case exp == 0x1f:
			want = math.Inf(1)
		case exp == 0:
			want = float64(man) * math.Pow(2, -24)
		default:
			want = (1 + float64(man)/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if float64(f) != want {
			t.Fatalf("%#04x: got %v want %v", h, f, want)
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
}

// nearestF16 is the oracle: the half nearest to f by exact arithmetic,
// ties to the even mantissa.
func nearestF16(f float32) uint16 {
	if math.IsInf(float64(f), 0) || math.Abs(float64(f)) >= 65520 { // 65520 rounds to Inf
		if f < 0 {
			return 0xfc00
		}
		return 0x7c00
	}
	x := new(big.Float).SetFloat64(math.Abs(float64(f)))
	best, bestD := uint16(0), (*big.Float)(nil)
	// candidates: the halves around f
	lo, hi := uint16(0), uint16(0x7bff)
	for lo < hi { // largest half <= |f|
		mid := (lo + hi + 1) / 2
		if float64(F16ToF32(mid)) <= math.Abs(float64(f)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for _, c := range []uint16{lo, lo + 1} {
		if c > 0x7c00 {
			continue
		}
		d := new(big.Float).Sub(x, new(big.Float).SetFloat64(float64(F16ToF32(c))))
		d.Abs(d)
		if bestD == nil || d.Cmp(bestD) < 0 || d.Cmp(bestD) == 0 && c&1 == 0 {
			best, bestD = c, d
		}
	}
	if f < 0 || f == 0 && math.Signbit(float64(f)) {
		best |= 0x8000
	}
	return best
}

func TestF32ToF16RoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, 0.1, 1.0009766}
	for range 200000 {
		// exponents around the half range, random mantissas
		e := rng.IntN(50) - 30
		cases = append(cases, float32(math.Ldexp(rng.Float64()+0.5, e))*float32(1-2*rng.IntN(2)))
		cases = append(cases, math.Float32frombits(rng.Uint32()))
	}
	for _, f := range cases {
		if math.IsNaN(float64(f)) {
			if h := F32ToF16(f); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("NaN -> %#04x", h)
			}
			continue
		}
		if got, want := F32ToF16(f), nearestF16(f); got != want {
			t.Fatalf("%g (%#08x): got %#04x (%g) want %#04x (%g)", f, math.Float32bits(f), got, F16ToF32(got), want, F16ToF32(want))
		}
	}
}

func TestBF16(t *testing.T) {
	for h := range 1 << 16 {
		f := BF16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		if back := F32ToBF16(f); back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
	// ties to even, and rounding up across the mantissa
	cases := map[uint32]uint16{
		0x3f808000: 0x3f80, // tie, even stays
		0x3f818000: 0x3f82, // tie, odd rounds up
		0x3f808001: 0x3f81,
		0x3f7fffff: 0x3f80, // carries into the exponent
		0x7f7fffff: 0x7f80, // to Inf
	}
	for in, want := range cases {
		if got := F32ToBF16(math.Float32frombits(in)); got != want {
			t.Errorf("%#08x: got %#04x want %#04x", in, got, want)
		}
	}
	if h := F32ToBF16(float32(math.NaN())); !math.IsNaN(float64(BF16ToF32(h))) {
		t.Error("NaN lost")
	}
}
