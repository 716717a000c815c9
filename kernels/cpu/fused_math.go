package cpu

import "math"

// Scalar and vector primitives of the fused ops in plain Go. Reductions use
// eight independent accumulators (more instruction-level parallelism, and
// a blocked sum's smaller rounding error) combined in a fixed order, so a
// slice always reduces to the same bits.

// Fast exp: e^x = 2^k · e^r with k = round(x·log₂e) and |r| <= ln2/2
// (Cody–Waite reduction with ln2 split in two), e^r by the degree-7
// polynomial of Cephes' expf (relative error about 1e-7, 1-2 ulp), and 2^k
// applied in two halves so that k from −150 to 128 needs no special case:
// results underflow gradually to 0 and overflow to +Inf as IEEE says.
const (
	expMin = -104.0 // below: e^x rounds to 0
	expMax = 88.8   // above: e^x overflows (e^88.73 > MaxFloat32)
	log2e  = 1.44269504088896341
	ln2Hi  = 0.693359375
	ln2Lo  = -2.12194440e-4
	expP0  = 1.9875691500e-4
	expP1  = 1.3981999507e-3
	expP2  = 8.3334519073e-3
	expP3  = 4.1665795894e-2
	expP4  = 1.6666665459e-1
	expP5  = 5.0000001201e-1
)

// expf returns e^x in float32 (NaN for NaN, 0 for -Inf, +Inf for +Inf).
// k is rounded by adding 1.5·2^23, which leaves round(t) in the low
// mantissa bits.
func expf(x float32) float32 {
	x = min(max(x, expMin), expMax) // NaN stays NaN
	t := x*log2e + expMagic
	k := int32(math.Float32bits(t)) - expMagicBits
	kf := t - expMagic
	r := x - kf*ln2Hi
	r -= kf * ln2Lo
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*(r*r) + r + 1
	k1 := k >> 1
	return p * math.Float32frombits(uint32(k1+127)<<23) * math.Float32frombits(uint32(k-k1+127)<<23)
}

const (
	expMagic     = 12582912   // 1.5·2^23
	expMagicBits = 0x4b400000 // its bits
)

// sigmoid is 1/(1+e^-x): 0 for x <= -104, 1 for large x, NaN for NaN.
func sigmoid(x float32) float32 { return 1 / (1 + expf(-x)) }

func sumGo(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sumSqDevGo returns Σ (x−c)².
func sumSqDevGo(x []float32, c float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		d0, d1, d2, d3 := v[0]-c, v[1]-c, v[2]-c, v[3]-c
		d4, d5, d6, d7 := v[4]-c, v[5]-c, v[6]-c, v[7]-c
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
	}
	for ; i < len(x); i++ {
		d := x[i] - c
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dotGo returns Σ x·y over len(x) elements.
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		a, b := x[i:i+8:i+8], y[i:i+8:i+8]
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		s4 += a[4] * b[4]
		s5 += a[5] * b[5]
		s6 += a[6] * b[6]
		s7 += a[7] * b[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dot3Go returns Σ x·y·z.
func dot3Go(x, y, z []float32) float32 {
	y, z = y[:len(x)], z[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c := x[i:i+4:i+4], y[i:i+4:i+4], z[i:i+4:i+4]
		s0 += a[0] * b[0] * c[0]
		s1 += a[1] * b[1] * c[1]
		s2 += a[2] * b[2] * c[2]
		s3 += a[3] * b[3] * c[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i] * z[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// maxGo returns the largest element (-Inf for none, NaN if any is NaN).
func maxGo(x []float32) float32 {
	m0, m1, m2, m3 := float32(math.Inf(-1)), float32(math.Inf(-1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		m0, m1, m2, m3 = max(m0, v[0]), max(m1, v[1]), max(m2, v[2]), max(m3, v[3])
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// expSumGo sets dst[i] = e^(x[i]−m) (dst may be x, or nil to only sum)
// and returns Σ e^(x[i]−m).
func expSumGo(dst, x []float32, m float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		e0, e1, e2, e3 := expf(v[0]-m), expf(v[1]-m), expf(v[2]-m), expf(v[3]-m)
		if dst != nil {
			d := dst[i : i+4 : i+4]
			d[0], d[1], d[2], d[3] = e0, e1, e2, e3
		}
		s0 += e0
		s1 += e1
		s2 += e2
		s3 += e3
	}
	for ; i < len(x); i++ {
		e := expf(x[i] - m)
		if dst != nil {
			dst[i] = e
		}
		s0 += e
	}
	return (s0 + s1) + (s2 + s3)
}

// scaleGo sets dst[i] = x[i]·s.
func scaleGo(dst, x []float32, s float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v * s
	}
}

// mulScaleGo sets y = x·s·w.
func mulScaleGo(y, x, w []float32, s float32) {
	y, w = y[:len(x)], w[:len(x)]
	for j, v := range x {
		y[j] = v * s * w[j]
	}
}

// normAffineGo sets y = (x−mu)·rs·w + b (b nil: no bias).
func normAffineGo(y, x, w, b []float32, mu, rs float32) {
	y, w = y[:len(x)], w[:len(x)]
	if b == nil {
		for j, v := range x {
			y[j] = (v - mu) * rs * w[j]
		}
		return
	}
	b = b[:len(x)]
	for j, v := range x {
		y[j] = (v-mu)*rs*w[j] + b[j]
	}
}

// rmsBwdRowGo sets acc += dy·(x·rs) and dx = rs·(dy·w) − k·x.
func rmsBwdRowGo(dx, acc, dy, x, w []float32, rs, k float32) {
	dx, acc, dy, w = dx[:len(x)], acc[:len(x)], dy[:len(x)], w[:len(x)]
	for j, xv := range x {
		d := dy[j]
		acc[j] += d * (xv * rs)
		dx[j] = rs*(d*w[j]) - k*xv
	}
}

// lnBwdStatsGo adds dy·x̂ to accW and dy to accB, with x̂ = (x−mu)·rs, and
// returns Σ dy·w and Σ dy·w·x̂.
func lnBwdStatsGo(accW, accB, dy, x, w []float32, mu, rs float32) (sg, sgx float32) {
	accW, accB, dy, w = accW[:len(x)], accB[:len(x)], dy[:len(x)], w[:len(x)]
	var sg1, sgx1 float32
	j := 0
	for ; j+2 <= len(x); j += 2 {
		d0, d1 := dy[j], dy[j+1]
		xh0, xh1 := (x[j]-mu)*rs, (x[j+1]-mu)*rs
		g0, g1 := d0*w[j], d1*w[j+1]
		sg, sg1 = sg+g0, sg1+g1
		sgx, sgx1 = sgx+g0*xh0, sgx1+g1*xh1
		accW[j], accW[j+1] = accW[j]+d0*xh0, accW[j+1]+d1*xh1
		accB[j], accB[j+1] = accB[j]+d0, accB[j+1]+d1
	}
	if j < len(x) {
		d := dy[j]
		xh := (x[j] - mu) * rs
		g := d * w[j]
		sg += g
		sgx += g * xh
		accW[j] += d * xh
		accB[j] += d
	}
	return sg + sg1, sgx + sgx1
}

// lnBwdRowGo sets dx = rs·(dy·w − mg − x̂·mgx), x̂ = (x−mu)·rs.
func lnBwdRowGo(dx, dy, x, w []float32, mu, rs, mg, mgx float32) {
	dx, dy, w = dx[:len(x)], dy[:len(x)], w[:len(x)]
	for j, xv := range x {
		xh := (xv - mu) * rs
		dx[j] = rs * (dy[j]*w[j] - mg - xh*mgx)
	}
}

// mulSubGo sets dst = y·(dy − s).
func mulSubGo(dst, dy, y []float32, s float32) {
	dst, dy = dst[:len(y)], dy[:len(y)]
	for j, v := range y {
		dst[j] = v * (dy[j] - s)
	}
}

// addToGo sets dst += src.
func addToGo(dst, src []float32) {
	dst = dst[:len(src)]
	for j, v := range src {
		dst[j] += v
	}
}

// rotateGo sets (y0, y1) = (x0·c − x1·s, x1·c + x0·s), or with −s when
// back is set, over len(c) pairs.
func rotateGo(y0, y1, x0, x1, c, s []float32, back bool) {
	n := len(c)
	y0, y1, x0, x1, s = y0[:n], y1[:n], x0[:n], x1[:n], s[:n]
	if back {
		for i, cv := range c {
			a, b, sv := x0[i], x1[i], s[i]
			y0[i], y1[i] = a*cv+b*sv, b*cv-a*sv
		}
		return
	}
	for i, cv := range c {
		a, b, sv := x0[i], x1[i], s[i]
		y0[i], y1[i] = a*cv-b*sv, b*cv+a*sv
	}
}
