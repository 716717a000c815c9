//go:build !purego

#include "textflag.h"

// AVX-512F kernels of the fused ops (see fused_amd64.go). Every loop works
// on 16 floats at a time and finishes with one masked vector, so each
// element goes through the same instructions wherever it lies. Reductions
// keep a fixed set of vector accumulators combined in a fixed order, so a
// slice always reduces to the same bits.
//
// e^x (macro EXP) follows fused_math.go's expf: x clamped to
// [-104, 88.8] (NaN kept), k = round(x·log₂e), r = x − k·ln2 (ln2 in two
// parts, fused multiply-adds), Cephes' polynomial for e^r, and VSCALEFPS for
// r·2^k, which underflows gradually and overflows to +Inf.

DATA fconst<>+0(SB)/4, $0xc2d00000  // -104
DATA fconst<>+4(SB)/4, $0x42b1999a  // 88.8
DATA fconst<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA fconst<>+12(SB)/4, $0x3f318000 // ln2 high
DATA fconst<>+16(SB)/4, $0xb95e8083 // ln2 low
DATA fconst<>+20(SB)/4, $0x39506967 // p0
DATA fconst<>+24(SB)/4, $0x3ab743ce // p1
DATA fconst<>+28(SB)/4, $0x3c088908 // p2
DATA fconst<>+32(SB)/4, $0x3d2aa9c1 // p3
DATA fconst<>+36(SB)/4, $0x3e2aaaaa // p4
DATA fconst<>+40(SB)/4, $0x3f000000 // p5
DATA fconst<>+44(SB)/4, $0x3f800000 // 1
DATA fconst<>+48(SB)/4, $0xbfcc422a // -2√(2/π)
DATA fconst<>+52(SB)/4, $0x3d372713 // 0.044715
DATA fconst<>+56(SB)/4, $0x3fcc422a // 2√(2/π)
DATA fconst<>+60(SB)/4, $0x3e5b33b6 // 3·0.044715·2√(2/π)
DATA fconst<>+64(SB)/4, $0xff800000 // -Inf
DATA fconst<>+68(SB)/4, $0x7fc00000 // NaN
GLOBL fconst<>(SB), RODATA|NOPTR, $72

// EXPCONSTS loads the constants of EXP into Z20-Z31 and zero into Z15.
#define EXPCONSTS \
	VBROADCASTSS fconst<>+0(SB), Z31; \
	VBROADCASTSS fconst<>+4(SB), Z30; \
	VBROADCASTSS fconst<>+8(SB), Z29; \
	VBROADCASTSS fconst<>+12(SB), Z28; \
	VBROADCASTSS fconst<>+16(SB), Z27; \
	VBROADCASTSS fconst<>+20(SB), Z26; \
	VBROADCASTSS fconst<>+24(SB), Z25; \
	VBROADCASTSS fconst<>+28(SB), Z24; \
	VBROADCASTSS fconst<>+32(SB), Z23; \
	VBROADCASTSS fconst<>+36(SB), Z22; \
	VBROADCASTSS fconst<>+40(SB), Z21; \
	VBROADCASTSS fconst<>+44(SB), Z20; \
	VPXORD Z15, Z15, Z15

// GELUCONSTS loads -c2, a, c2 and 3a·c2 into Z19-Z16.
#define GELUCONSTS \
	VBROADCASTSS fconst<>+48(SB), Z19; \
	VBROADCASTSS fconst<>+52(SB), Z18; \
	VBROADCASTSS fconst<>+56(SB), Z17; \
	VBROADCASTSS fconst<>+60(SB), Z16

// EXP sets x = e^x, clobbering t and p.
#define EXP(x, t, p) \
	VMAXPS x, Z31, x; \
	VMINPS x, Z30, x; \
	VMULPS Z29, x, t; \
	VRNDSCALEPS $0, t, t; \
	VFNMADD231PS Z28, t, x; \
	VFNMADD231PS Z27, t, x; \
	VMOVAPS Z26, p; \
	VFMADD213PS Z25, x, p; \
	VFMADD213PS Z24, x, p; \
	VFMADD213PS Z23, x, p; \
	VFMADD213PS Z22, x, p; \
	VFMADD213PS Z21, x, p; \
	VFMADD213PS Z20, x, p; \
	VFMADD213PS Z20, x, p; \
	VSCALEFPS t, p, x

// TAILMASK sets K1 to the low CX bits (0 < CX < 16).
#define TAILMASK \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// HSUM sets X0 to the sum of Z10's lanes (Z1 clobbered), in a fixed order.
#define HSUM \
	VEXTRACTF64X4 $1, Z10, Y1; \
	VADDPS Y1, Y10, Y10; \
	VEXTRACTF128 $1, Y10, X1; \
	VADDPS X1, X10, X10; \
	VPERMILPS $0x4e, X10, X1; \
	VADDPS X1, X10, X10; \
	VPERMILPS $0xb1, X10, X1; \
	VADDPS X1, X10, X0

// func expSumAVX512(dst, x []float32, m float32) float32
TEXT ·expSumAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), DX
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS m+48(FP), Z14
	EXPCONSTS
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

expsum_loop2:
	CMPQ CX, $32
	JL   expsum_loop1
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z5
	VSUBPS  Z14, Z0, Z0
	VSUBPS  Z14, Z5, Z5
	EXP(Z0, Z1, Z2)
	EXP(Z5, Z6, Z7)
	VADDPS  Z0, Z10, Z10
	VADDPS  Z5, Z11, Z11
	TESTQ   DX, DX
	JZ      expsum_next2
	VMOVUPS Z0, (DI)
	VMOVUPS Z5, 64(DI)

expsum_next2:
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  expsum_loop2

expsum_loop1:
	CMPQ CX, $16
	JL   expsum_tail
	VMOVUPS (SI), Z0
	VSUBPS  Z14, Z0, Z0
	EXP(Z0, Z1, Z2)
	VADDPS  Z0, Z10, Z10
	TESTQ   DX, DX
	JZ      expsum_next1
	VMOVUPS Z0, (DI)

expsum_next1:
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX

expsum_tail:
	TESTQ CX, CX
	JZ    expsum_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS    Z14, Z0, Z0
	EXP(Z0, Z1, Z2)
	VADDPS    Z0, Z10, K1, Z10
	TESTQ     DX, DX
	JZ        expsum_done
	VMOVUPS   Z0, K1, (DI)

expsum_done:
	VADDPS Z11, Z10, Z10
	HSUM
	MOVSS  X0, ret+56(FP)
	VZEROUPPER
	RET

// func maxAVX512(x []float32) float32
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS fconst<>+64(SB), Z10
	VMOVAPS      Z10, Z11
	VMOVAPS      Z10, Z12
	KXORW        K2, K2, K2

max_loop2:
	CMPQ    CX, $32
	JL      max_loop1
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMAXPS  Z0, Z10, Z10
	VMAXPS  Z1, Z11, Z11
	VCMPPS  $3, Z0, Z0, K3
	VCMPPS  $3, Z1, Z1, K4
	KORW    K3, K2, K2
	KORW    K4, K2, K2
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     max_loop2

max_loop1:
	CMPQ    CX, $16
	JL      max_tail
	VMOVUPS (SI), Z0
	VMAXPS  Z0, Z10, Z10
	VCMPPS  $3, Z0, Z0, K3
	KORW    K3, K2, K2
	ADDQ    $64, SI
	SUBQ    $16, CX

max_tail:
	TESTQ   CX, CX
	JZ      max_done
	TAILMASK
	VMOVAPS Z12, Z0
	VMOVUPS (SI), K1, Z0
	VMAXPS  Z0, Z10, Z10
	VCMPPS  $3, Z0, Z0, K3
	KORW    K3, K2, K2

max_done:
	VMAXPS        Z11, Z10, Z10
	VEXTRACTF64X4 $1, Z10, Y1
	VMAXPS        Y1, Y10, Y10
	VEXTRACTF128  $1, Y10, X1
	VMAXPS        X1, X10, X10
	VPERMILPS     $0x4e, X10, X1
	VMAXPS        X1, X10, X10
	VPERMILPS     $0xb1, X10, X1
	VMAXPS        X1, X10, X0
	KORTESTW      K2, K2
	JZ            max_ret
	MOVSS         fconst<>+68(SB), X0

max_ret:
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// REDUCE4 runs the 4-accumulator reduction loop over CX elements: BODY64
// consumes 64 floats into Z10-Z13, BODY16 16 floats into Z10 and
// BODYTAIL the masked rest (K1) into Z10; it then sums the accumulators.
// (Written out per function below: Go's assembler has no macro arguments
// that are themselves instruction lists.)

// func sumAVX512(x []float32) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13

sum_loop4:
	CMPQ   CX, $64
	JL     sum_loop1
	VADDPS (SI), Z10, Z10
	VADDPS 64(SI), Z11, Z11
	VADDPS 128(SI), Z12, Z12
	VADDPS 192(SI), Z13, Z13
	ADDQ   $256, SI
	SUBQ   $64, CX
	JMP    sum_loop4

sum_loop1:
	CMPQ   CX, $16
	JL     sum_tail
	VADDPS (SI), Z10, Z10
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    sum_loop1

sum_tail:
	TESTQ     CX, CX
	JZ        sum_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z0, Z10, Z10

sum_done:
	VADDPS Z11, Z10, Z10
	VADDPS Z13, Z12, Z12
	VADDPS Z12, Z10, Z10
	HSUM
	MOVSS  X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX512(x []float32, c float32) float32
TEXT ·sumSqDevAVX512(SB), NOSPLIT, $0-36
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS c+24(FP), Z14
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13

ssd_loop4:
	CMPQ        CX, $64
	JL          ssd_loop1
	VMOVUPS     (SI), Z0
	VMOVUPS     64(SI), Z1
	VMOVUPS     128(SI), Z2
	VMOVUPS     192(SI), Z3
	VSUBPS      Z14, Z0, Z0
	VSUBPS      Z14, Z1, Z1
	VSUBPS      Z14, Z2, Z2
	VSUBPS      Z14, Z3, Z3
	VFMADD231PS Z0, Z0, Z10
	VFMADD231PS Z1, Z1, Z11
	VFMADD231PS Z2, Z2, Z12
	VFMADD231PS Z3, Z3, Z13
	ADDQ        $256, SI
	SUBQ        $64, CX
	JMP         ssd_loop4

ssd_loop1:
	CMPQ        CX, $16
	JL          ssd_tail
	VMOVUPS     (SI), Z0
	VSUBPS      Z14, Z0, Z0
	VFMADD231PS Z0, Z0, Z10
	ADDQ        $64, SI
	SUBQ        $16, CX
	JMP         ssd_loop1

ssd_tail:
	TESTQ       CX, CX
	JZ          ssd_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VSUBPS.Z    Z14, Z0, K1, Z0
	VFMADD231PS Z0, Z0, Z10

ssd_done:
	VADDPS Z11, Z10, Z10
	VADDPS Z13, Z12, Z12
	VADDPS Z12, Z10, Z10
	HSUM
	MOVSS  X0, ret+32(FP)
	VZEROUPPER
	RET

// func dotAVX512(x, y []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13

dot_loop4:
	CMPQ        CX, $64
	JL          dot_loop1
	VMOVUPS     (SI), Z0
	VMOVUPS     64(SI), Z1
	VMOVUPS     128(SI), Z2
	VMOVUPS     192(SI), Z3
	VFMADD231PS (DI), Z0, Z10
	VFMADD231PS 64(DI), Z1, Z11
	VFMADD231PS 128(DI), Z2, Z12
	VFMADD231PS 192(DI), Z3, Z13
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	JMP         dot_loop4

dot_loop1:
	CMPQ        CX, $16
	JL          dot_tail
	VMOVUPS     (SI), Z0
	VFMADD231PS (DI), Z0, Z10
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         dot_loop1

dot_tail:
	TESTQ       CX, CX
	JZ          dot_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DI), K1, Z1
	VFMADD231PS Z1, Z0, Z10

dot_done:
	VADDPS Z11, Z10, Z10
	VADDPS Z13, Z12, Z12
	VADDPS Z12, Z10, Z10
	HSUM
	MOVSS  X0, ret+48(FP)
	VZEROUPPER
	RET

// func dot3AVX512(x, y, z []float32) float32
TEXT ·dot3AVX512(SB), NOSPLIT, $0-76
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	MOVQ   z_base+48(FP), DX
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13

dot3_loop4:
	CMPQ        CX, $64
	JL          dot3_loop1
	VMOVUPS     (SI), Z0
	VMOVUPS     64(SI), Z1
	VMOVUPS     128(SI), Z2
	VMOVUPS     192(SI), Z3
	VMULPS      (DI), Z0, Z0
	VMULPS      64(DI), Z1, Z1
	VMULPS      128(DI), Z2, Z2
	VMULPS      192(DI), Z3, Z3
	VFMADD231PS (DX), Z0, Z10
	VFMADD231PS 64(DX), Z1, Z11
	VFMADD231PS 128(DX), Z2, Z12
	VFMADD231PS 192(DX), Z3, Z13
	ADDQ        $256, SI
	ADDQ        $256, DI
	ADDQ        $256, DX
	SUBQ        $64, CX
	JMP         dot3_loop4

dot3_loop1:
	CMPQ        CX, $16
	JL          dot3_tail
	VMOVUPS     (SI), Z0
	VMULPS      (DI), Z0, Z0
	VFMADD231PS (DX), Z0, Z10
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JMP         dot3_loop1

dot3_tail:
	TESTQ       CX, CX
	JZ          dot3_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DI), K1, Z1
	VMOVUPS.Z   (DX), K1, Z2
	VMULPS      Z1, Z0, Z0
	VFMADD231PS Z2, Z0, Z10

dot3_done:
	VADDPS Z11, Z10, Z10
	VADDPS Z13, Z12, Z12
	VADDPS Z12, Z10, Z10
	HSUM
	MOVSS  X0, ret+72(FP)
	VZEROUPPER
	RET

// func scaleAVX512(dst, x []float32, s float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS s+48(FP), Z14

scale_loop2:
	CMPQ    CX, $32
	JL      scale_loop1
	VMULPS  (SI), Z14, Z0
	VMULPS  64(SI), Z14, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     scale_loop2

scale_loop1:
	CMPQ    CX, $16
	JL      scale_tail
	VMULPS  (SI), Z14, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

scale_tail:
	TESTQ     CX, CX
	JZ        scale_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z0, Z14, Z0
	VMOVUPS   Z0, K1, (DI)

scale_done:
	VZEROUPPER
	RET

// SILU sets Z1 = x/(1+e^-x) for x in Z0 (Z3, Z4 clobbered).
#define SILU \
	VSUBPS Z0, Z15, Z1; \
	EXP(Z1, Z3, Z4); \
	VADDPS Z20, Z1, Z1; \
	VDIVPS Z1, Z0, Z1

// SIGMOID sets Z2 = s = 1/(1+e^-x) for x in Z0 (Z1, Z3, Z4 clobbered).
#define SIGMOID \
	VSUBPS Z0, Z15, Z1; \
	EXP(Z1, Z3, Z4); \
	VADDPS Z20, Z1, Z1; \
	VDIVPS Z1, Z20, Z2

// func siluAVX512(y, x []float32)
TEXT ·siluAVX512(SB), NOSPLIT, $0-48
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	EXPCONSTS

silu_loop:
	CMPQ    CX, $16
	JL      silu_tail
	VMOVUPS (SI), Z0
	SILU
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     silu_loop

silu_tail:
	TESTQ     CX, CX
	JZ        silu_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	SILU
	VMOVUPS   Z1, K1, (DI)

silu_done:
	VZEROUPPER
	RET

// SILUBWD sets Z3 = dy·s·(1 + x·(1−s)) for x in Z0, dy in Z5.
#define SILUBWD \
	SIGMOID; \
	VSUBPS      Z2, Z20, Z3; \
	VFMADD213PS Z20, Z0, Z3; \
	VMULPS      Z3, Z2, Z3; \
	VMULPS      Z5, Z3, Z3

// func siluBwdAVX512(dx, dy, x []float32)
TEXT ·siluBwdAVX512(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	EXPCONSTS

silub_loop:
	CMPQ    CX, $16
	JL      silub_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z5
	SILUBWD
	VMOVUPS Z3, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     silub_loop

silub_tail:
	TESTQ     CX, CX
	JZ        silub_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z5
	SILUBWD
	VMOVUPS   Z3, K1, (DI)

silub_done:
	VZEROUPPER
	RET

// GELU sets Z1 = x/(1+e^-z), z = c2·x·(1+a·x²), for x in Z0.
#define GELU \
	VMULPS      Z0, Z0, Z1; \
	VFMADD213PS Z20, Z18, Z1; \
	VMULPS      Z0, Z1, Z1; \
	VMULPS      Z19, Z1, Z1; \
	EXP(Z1, Z3, Z4); \
	VADDPS      Z20, Z1, Z1; \
	VDIVPS      Z1, Z0, Z1

// func geluAVX512(y, x []float32)
TEXT ·geluAVX512(SB), NOSPLIT, $0-48
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	EXPCONSTS
	GELUCONSTS

gelu_loop:
	CMPQ    CX, $16
	JL      gelu_tail
	VMOVUPS (SI), Z0
	GELU
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     gelu_loop

gelu_tail:
	TESTQ     CX, CX
	JZ        gelu_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	GELU
	VMOVUPS   Z1, K1, (DI)

gelu_done:
	VZEROUPPER
	RET

// GELUBWD sets Z7 = dy·(s + x·s·(1−s)·dz) for x in Z0, dy in Z5, with
// s = σ(z) and dz = c2·(1+3a·x²).
#define GELUBWD \
	VMULPS      Z0, Z0, Z6; \
	VMOVAPS     Z6, Z1; \
	VFMADD213PS Z20, Z18, Z1; \
	VMULPS      Z0, Z1, Z1; \
	VMULPS      Z19, Z1, Z1; \
	EXP(Z1, Z3, Z4); \
	VADDPS      Z20, Z1, Z1; \
	VDIVPS      Z1, Z20, Z2; \
	VSUBPS      Z2, Z20, Z3; \
	VFMADD213PS Z17, Z16, Z6; \
	VMULPS      Z2, Z0, Z7; \
	VMULPS      Z3, Z7, Z7; \
	VFMADD213PS Z2, Z6, Z7; \
	VMULPS      Z5, Z7, Z7

// func geluBwdAVX512(dx, dy, x []float32)
TEXT ·geluBwdAVX512(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	EXPCONSTS
	GELUCONSTS

gelub_loop:
	CMPQ    CX, $16
	JL      gelub_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z5
	GELUBWD
	VMOVUPS Z7, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     gelub_loop

gelub_tail:
	TESTQ     CX, CX
	JZ        gelub_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z5
	GELUBWD
	VMOVUPS   Z7, K1, (DI)

gelub_done:
	VZEROUPPER
	RET

// func swigluAVX512(y, g, u []float32)
TEXT ·swigluAVX512(SB), NOSPLIT, $0-72
	MOVQ y_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ g_len+32(FP), CX
	MOVQ u_base+48(FP), DX
	EXPCONSTS

swiglu_loop:
	CMPQ    CX, $16
	JL      swiglu_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z5
	SILU
	VMULPS  Z5, Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     swiglu_loop

swiglu_tail:
	TESTQ     CX, CX
	JZ        swiglu_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z5
	SILU
	VMULPS    Z5, Z1, Z1
	VMOVUPS   Z1, K1, (DI)

swiglu_done:
	VZEROUPPER
	RET

// SWIGLUBWD sets Z9 = dg = dy·u·s·(1+g·(1−s)) and Z8 = du = dy·g·s for g
// in Z0, u in Z5, dy in Z6.
#define SWIGLUBWD \
	SIGMOID; \
	VMULPS      Z2, Z0, Z7; \
	VMULPS      Z7, Z6, Z8; \
	VSUBPS      Z2, Z20, Z3; \
	VFMADD213PS Z20, Z0, Z3; \
	VMULPS      Z3, Z2, Z3; \
	VMULPS      Z5, Z6, Z9; \
	VMULPS      Z3, Z9, Z9

// func swigluBwdAVX512(dg, du, dy, g, u []float32)
TEXT ·swigluBwdAVX512(SB), NOSPLIT, $0-120
	MOVQ dg_base+0(FP), DI
	MOVQ du_base+24(FP), R8
	MOVQ dy_base+48(FP), R9
	MOVQ g_base+72(FP), SI
	MOVQ g_len+80(FP), CX
	MOVQ u_base+96(FP), DX
	EXPCONSTS

swiglub_loop:
	CMPQ    CX, $16
	JL      swiglub_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z5
	VMOVUPS (R9), Z6
	SWIGLUBWD
	VMOVUPS Z9, (DI)
	VMOVUPS Z8, (R8)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R9
	ADDQ    $64, DI
	ADDQ    $64, R8
	SUBQ    $16, CX
	JMP     swiglub_loop

swiglub_tail:
	TESTQ     CX, CX
	JZ        swiglub_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z5
	VMOVUPS.Z (R9), K1, Z6
	SWIGLUBWD
	VMOVUPS   Z9, K1, (DI)
	VMOVUPS   Z8, K1, (R8)

swiglub_done:
	VZEROUPPER
	RET

// ADAMW updates one vector: p in Z0, g in Z1, m in Z2, v in Z3; the
// constants β1, 1−β1, β2, 1−β2, 1/bc1, 1/bc2, lr, eps, wd in Z20-Z28.
#define ADAMW \
	VMULPS      Z20, Z2, Z2; \
	VFMADD231PS Z21, Z1, Z2; \
	VMULPS      Z1, Z1, Z4; \
	VMULPS      Z22, Z3, Z3; \
	VFMADD231PS Z23, Z4, Z3; \
	VMULPS      Z25, Z3, Z5; \
	VSQRTPS     Z5, Z5; \
	VADDPS      Z27, Z5, Z5; \
	VMULPS      Z24, Z2, Z6; \
	VDIVPS      Z5, Z6, Z6; \
	VFMADD231PS Z28, Z0, Z6; \
	VFNMADD231PS Z26, Z6, Z0

// func adamwAVX512(param, grad, m, v []float32, a *adamArgs)
TEXT ·adamwAVX512(SB), NOSPLIT, $0-104
	MOVQ         param_base+0(FP), DI
	MOVQ         param_len+8(FP), CX
	MOVQ         grad_base+24(FP), SI
	MOVQ         m_base+48(FP), R8
	MOVQ         v_base+72(FP), R9
	MOVQ         a+96(FP), AX
	VBROADCASTSS 0(AX), Z20
	VBROADCASTSS 4(AX), Z21
	VBROADCASTSS 8(AX), Z22
	VBROADCASTSS 12(AX), Z23
	VBROADCASTSS 16(AX), Z24
	VBROADCASTSS 20(AX), Z25
	VBROADCASTSS 24(AX), Z26
	VBROADCASTSS 28(AX), Z27
	VBROADCASTSS 32(AX), Z28

adamw_loop:
	CMPQ    CX, $16
	JL      adamw_tail
	VMOVUPS (DI), Z0
	VMOVUPS (SI), Z1
	VMOVUPS (R8), Z2
	VMOVUPS (R9), Z3
	ADAMW
	VMOVUPS Z2, (R8)
	VMOVUPS Z3, (R9)
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	SUBQ    $16, CX
	JMP     adamw_loop

adamw_tail:
	TESTQ     CX, CX
	JZ        adamw_done
	TAILMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (R8), K1, Z2
	VMOVUPS.Z (R9), K1, Z3
	ADAMW
	VMOVUPS   Z2, K1, (R8)
	VMOVUPS   Z3, K1, (R9)
	VMOVUPS   Z0, K1, (DI)

adamw_done:
	VZEROUPPER
	RET

// Row kernels of the norms, softmax, embedding and RoPE. Each loads its
// operands for 16 elements (zero-masked in the tail), computes, stores.

// func mulScaleAVX512(y, x, w []float32, s float32)
TEXT ·mulScaleAVX512(SB), NOSPLIT, $0-76
	MOVQ         y_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	MOVQ         w_base+48(FP), DX
	VBROADCASTSS s+72(FP), Z14

mulscale_loop:
	CMPQ    CX, $16
	JL      mulscale_tail
	VMULPS  (SI), Z14, Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     mulscale_loop

mulscale_tail:
	TESTQ     CX, CX
	JZ        mulscale_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS    Z0, Z14, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

mulscale_done:
	VZEROUPPER
	RET

// func normAffineAVX512(y, x, w, b []float32, mu, rs float32)
TEXT ·normAffineAVX512(SB), NOSPLIT, $0-104
	MOVQ         y_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	MOVQ         w_base+48(FP), DX
	MOVQ         b_base+72(FP), R8
	MOVQ         b_len+80(FP), R9
	VBROADCASTSS mu+96(FP), Z13
	VBROADCASTSS rs+100(FP), Z14
	TESTQ        R9, R9
	JZ           affine_nob_loop

affine_loop:
	CMPQ        CX, $16
	JL          affine_tail
	VMOVUPS     (SI), Z0
	VMOVUPS     (DX), Z1
	VSUBPS      Z13, Z0, Z0
	VMULPS      Z14, Z0, Z0
	VFMADD213PS (R8), Z1, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, R8
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         affine_loop

affine_tail:
	TESTQ       CX, CX
	JZ          affine_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DX), K1, Z1
	VMOVUPS.Z   (R8), K1, Z2
	VSUBPS      Z13, Z0, Z0
	VMULPS      Z14, Z0, Z0
	VFMADD213PS Z2, Z1, Z0
	VMOVUPS     Z0, K1, (DI)
	JMP         affine_done

affine_nob_loop:
	CMPQ    CX, $16
	JL      affine_nob_tail
	VMOVUPS (SI), Z0
	VSUBPS  Z13, Z0, Z0
	VMULPS  Z14, Z0, Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     affine_nob_loop

affine_nob_tail:
	TESTQ     CX, CX
	JZ        affine_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VSUBPS    Z13, Z0, Z0
	VMULPS    Z14, Z0, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

affine_done:
	VZEROUPPER
	RET

// RMSBWD: x Z0, dy Z1, w Z2, acc Z3, rs Z14, k Z13 -> acc Z3, dx Z5.
#define RMSBWD \
	VMULPS       Z14, Z0, Z4; \
	VFMADD231PS  Z4, Z1, Z3; \
	VMULPS       Z2, Z1, Z5; \
	VMULPS       Z14, Z5, Z5; \
	VFNMADD231PS Z13, Z0, Z5

// func rmsBwdRowAVX512(dx, acc, dy, x, w []float32, rs, k float32)
TEXT ·rmsBwdRowAVX512(SB), NOSPLIT, $0-128
	MOVQ         dx_base+0(FP), DI
	MOVQ         acc_base+24(FP), R8
	MOVQ         dy_base+48(FP), R9
	MOVQ         x_base+72(FP), SI
	MOVQ         x_len+80(FP), CX
	MOVQ         w_base+96(FP), DX
	VBROADCASTSS rs+120(FP), Z14
	VBROADCASTSS k+124(FP), Z13

rmsbwd_loop:
	CMPQ    CX, $16
	JL      rmsbwd_tail
	VMOVUPS (SI), Z0
	VMOVUPS (R9), Z1
	VMOVUPS (DX), Z2
	VMOVUPS (R8), Z3
	RMSBWD
	VMOVUPS Z3, (R8)
	VMOVUPS Z5, (DI)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     rmsbwd_loop

rmsbwd_tail:
	TESTQ     CX, CX
	JZ        rmsbwd_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z (R8), K1, Z3
	RMSBWD
	VMOVUPS   Z3, K1, (R8)
	VMOVUPS   Z5, K1, (DI)

rmsbwd_done:
	VZEROUPPER
	RET

// LNSTATS: x̂ in Z4, dy Z1, w Z2, accW Z3, accB Z6; sums in Z10 (dy·w)
// and Z11 (dy·w·x̂).
#define LNSTATS \
	VMULPS      Z2, Z1, Z5; \
	VADDPS      Z5, Z10, Z10; \
	VFMADD231PS Z4, Z5, Z11; \
	VFMADD231PS Z4, Z1, Z3; \
	VADDPS      Z1, Z6, Z6

// func lnBwdStatsAVX512(accW, accB, dy, x, w []float32, mu, rs float32) (sg, sgx float32)
TEXT ·lnBwdStatsAVX512(SB), NOSPLIT, $0-136
	MOVQ         accW_base+0(FP), R8
	MOVQ         accB_base+24(FP), R10
	MOVQ         dy_base+48(FP), R9
	MOVQ         x_base+72(FP), SI
	MOVQ         x_len+80(FP), CX
	MOVQ         w_base+96(FP), DX
	VBROADCASTSS mu+120(FP), Z13
	VBROADCASTSS rs+124(FP), Z14
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11

lnstats_loop:
	CMPQ    CX, $16
	JL      lnstats_tail
	VMOVUPS (SI), Z0
	VMOVUPS (R9), Z1
	VMOVUPS (DX), Z2
	VMOVUPS (R8), Z3
	VMOVUPS (R10), Z6
	VSUBPS  Z13, Z0, Z4
	VMULPS  Z14, Z4, Z4
	LNSTATS
	VMOVUPS Z3, (R8)
	VMOVUPS Z6, (R10)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, R10
	SUBQ    $16, CX
	JMP     lnstats_loop

lnstats_tail:
	TESTQ     CX, CX
	JZ        lnstats_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z (R8), K1, Z3
	VMOVUPS.Z (R10), K1, Z6
	VSUBPS.Z  Z13, Z0, K1, Z4
	VMULPS.Z  Z14, Z4, K1, Z4
	LNSTATS
	VMOVUPS   Z3, K1, (R8)
	VMOVUPS   Z6, K1, (R10)

lnstats_done:
	HSUM
	MOVSS   X0, sg+128(FP)
	VMOVAPS Z11, Z10
	HSUM
	MOVSS   X0, sgx+132(FP)
	VZEROUPPER
	RET

// LNROW: x Z0, dy Z1, w Z2; mu Z12, rs Z14, mg Z13, mgx Z11 -> dx Z5.
#define LNROW \
	VSUBPS       Z12, Z0, Z4; \
	VMULPS       Z14, Z4, Z4; \
	VMULPS       Z2, Z1, Z5; \
	VSUBPS       Z13, Z5, Z5; \
	VFNMADD231PS Z11, Z4, Z5; \
	VMULPS       Z14, Z5, Z5

// func lnBwdRowAVX512(dx, dy, x, w []float32, mu, rs, mg, mgx float32)
TEXT ·lnBwdRowAVX512(SB), NOSPLIT, $0-112
	MOVQ         dx_base+0(FP), DI
	MOVQ         dy_base+24(FP), R9
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	MOVQ         w_base+72(FP), DX
	VBROADCASTSS mu+96(FP), Z12
	VBROADCASTSS rs+100(FP), Z14
	VBROADCASTSS mg+104(FP), Z13
	VBROADCASTSS mgx+108(FP), Z11

lnrow_loop:
	CMPQ    CX, $16
	JL      lnrow_tail
	VMOVUPS (SI), Z0
	VMOVUPS (R9), Z1
	VMOVUPS (DX), Z2
	LNROW
	VMOVUPS Z5, (DI)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     lnrow_loop

lnrow_tail:
	TESTQ     CX, CX
	JZ        lnrow_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	LNROW
	VMOVUPS   Z5, K1, (DI)

lnrow_done:
	VZEROUPPER
	RET

// func mulSubAVX512(dst, dy, y []float32, s float32)
TEXT ·mulSubAVX512(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), DI
	MOVQ         dy_base+24(FP), R9
	MOVQ         y_base+48(FP), SI
	MOVQ         y_len+56(FP), CX
	VBROADCASTSS s+72(FP), Z14

mulsub_loop:
	CMPQ    CX, $16
	JL      mulsub_tail
	VMOVUPS (R9), Z0
	VSUBPS  Z14, Z0, Z0
	VMULPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     mulsub_loop

mulsub_tail:
	TESTQ     CX, CX
	JZ        mulsub_done
	TAILMASK
	VMOVUPS.Z (R9), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VSUBPS    Z14, Z0, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

mulsub_done:
	VZEROUPPER
	RET

// func addToAVX512(dst, src []float32)
TEXT ·addToAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX

addto_loop:
	CMPQ    CX, $16
	JL      addto_tail
	VMOVUPS (DI), Z0
	VADDPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     addto_loop

addto_tail:
	TESTQ     CX, CX
	JZ        addto_done
	TAILMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

addto_done:
	VZEROUPPER
	RET

// ROTF, ROTB: a Z0, b Z1, c Z2, s Z3 -> y0 Z4, y1 Z5, by +angle (F) or
// -angle (B).
#define ROTF \
	VMULPS       Z2, Z0, Z4; \
	VMULPS       Z2, Z1, Z5; \
	VFNMADD231PS Z3, Z1, Z4; \
	VFMADD231PS  Z3, Z0, Z5

#define ROTB \
	VMULPS       Z2, Z0, Z4; \
	VMULPS       Z2, Z1, Z5; \
	VFMADD231PS  Z3, Z1, Z4; \
	VFNMADD231PS Z3, Z0, Z5

// func rotateAVX512(y0, y1, x0, x1, c, s []float32, back bool)
TEXT ·rotateAVX512(SB), NOSPLIT, $0-145
	MOVQ    y0_base+0(FP), DI
	MOVQ    y1_base+24(FP), R8
	MOVQ    x0_base+48(FP), SI
	MOVQ    x1_base+72(FP), R9
	MOVQ    c_base+96(FP), DX
	MOVQ    c_len+104(FP), CX
	MOVQ    s_base+120(FP), R10
	MOVBLZX back+144(FP), R11
	TESTQ   R11, R11
	JNZ     rotb_loop

rotf_loop:
	CMPQ    CX, $16
	JL      rotf_tail
	VMOVUPS (SI), Z0
	VMOVUPS (R9), Z1
	VMOVUPS (DX), Z2
	VMOVUPS (R10), Z3
	ROTF
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, (R8)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DX
	ADDQ    $64, R10
	ADDQ    $64, DI
	ADDQ    $64, R8
	SUBQ    $16, CX
	JMP     rotf_loop

rotf_tail:
	TESTQ     CX, CX
	JZ        rot_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z (R10), K1, Z3
	ROTF
	VMOVUPS   Z4, K1, (DI)
	VMOVUPS   Z5, K1, (R8)
	JMP       rot_done

rotb_loop:
	CMPQ    CX, $16
	JL      rotb_tail
	VMOVUPS (SI), Z0
	VMOVUPS (R9), Z1
	VMOVUPS (DX), Z2
	VMOVUPS (R10), Z3
	ROTB
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, (R8)
	ADDQ    $64, SI
	ADDQ    $64, R9
	ADDQ    $64, DX
	ADDQ    $64, R10
	ADDQ    $64, DI
	ADDQ    $64, R8
	SUBQ    $16, CX
	JMP     rotb_loop

rotb_tail:
	TESTQ     CX, CX
	JZ        rot_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z (R10), K1, Z3
	ROTB
	VMOVUPS   Z4, K1, (DI)
	VMOVUPS   Z5, K1, (R8)

rot_done:
	VZEROUPPER
	RET
