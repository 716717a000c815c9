//go:build !purego

#include "textflag.h"

// AVX2+FMA kernels of the fused ops for the avx2 variant: the exp-based
// ones (expSum, max, the activations) that plain Go runs 30-50 times
// slower; the memory-bound row kernels stay in Go for this variant. The
// structure follows fused_avx512_amd64.s with 8-float vectors: tails are
// one VMASKMOVPS vector, so every element goes through the same
// instructions. e^x (EXP2) is the same algorithm as expf, 2^k applied in
// two halves through the exponent bits. Constants are 32-byte vectors in
// memory (16 YMM registers are too few to keep them).

// -104
DATA emin<>+0(SB)/4, $0xc2d00000
DATA emin<>+4(SB)/4, $0xc2d00000
DATA emin<>+8(SB)/4, $0xc2d00000
DATA emin<>+12(SB)/4, $0xc2d00000
DATA emin<>+16(SB)/4, $0xc2d00000
DATA emin<>+20(SB)/4, $0xc2d00000
DATA emin<>+24(SB)/4, $0xc2d00000
DATA emin<>+28(SB)/4, $0xc2d00000
GLOBL emin<>(SB), RODATA|NOPTR, $32

// 88.8
DATA emax<>+0(SB)/4, $0x42b1999a
DATA emax<>+4(SB)/4, $0x42b1999a
DATA emax<>+8(SB)/4, $0x42b1999a
DATA emax<>+12(SB)/4, $0x42b1999a
DATA emax<>+16(SB)/4, $0x42b1999a
DATA emax<>+20(SB)/4, $0x42b1999a
DATA emax<>+24(SB)/4, $0x42b1999a
DATA emax<>+28(SB)/4, $0x42b1999a
GLOBL emax<>(SB), RODATA|NOPTR, $32

// log2(e)
DATA elog2e<>+0(SB)/4, $0x3fb8aa3b
DATA elog2e<>+4(SB)/4, $0x3fb8aa3b
DATA elog2e<>+8(SB)/4, $0x3fb8aa3b
DATA elog2e<>+12(SB)/4, $0x3fb8aa3b
DATA elog2e<>+16(SB)/4, $0x3fb8aa3b
DATA elog2e<>+20(SB)/4, $0x3fb8aa3b
DATA elog2e<>+24(SB)/4, $0x3fb8aa3b
DATA elog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL elog2e<>(SB), RODATA|NOPTR, $32

// ln2 high
DATA eln2hi<>+0(SB)/4, $0x3f318000
DATA eln2hi<>+4(SB)/4, $0x3f318000
DATA eln2hi<>+8(SB)/4, $0x3f318000
DATA eln2hi<>+12(SB)/4, $0x3f318000
DATA eln2hi<>+16(SB)/4, $0x3f318000
DATA eln2hi<>+20(SB)/4, $0x3f318000
DATA eln2hi<>+24(SB)/4, $0x3f318000
DATA eln2hi<>+28(SB)/4, $0x3f318000
GLOBL eln2hi<>(SB), RODATA|NOPTR, $32

// ln2 low
DATA eln2lo<>+0(SB)/4, $0xb95e8083
DATA eln2lo<>+4(SB)/4, $0xb95e8083
DATA eln2lo<>+8(SB)/4, $0xb95e8083
DATA eln2lo<>+12(SB)/4, $0xb95e8083
DATA eln2lo<>+16(SB)/4, $0xb95e8083
DATA eln2lo<>+20(SB)/4, $0xb95e8083
DATA eln2lo<>+24(SB)/4, $0xb95e8083
DATA eln2lo<>+28(SB)/4, $0xb95e8083
GLOBL eln2lo<>(SB), RODATA|NOPTR, $32

// p0
DATA ep0<>+0(SB)/4, $0x39506967
DATA ep0<>+4(SB)/4, $0x39506967
DATA ep0<>+8(SB)/4, $0x39506967
DATA ep0<>+12(SB)/4, $0x39506967
DATA ep0<>+16(SB)/4, $0x39506967
DATA ep0<>+20(SB)/4, $0x39506967
DATA ep0<>+24(SB)/4, $0x39506967
DATA ep0<>+28(SB)/4, $0x39506967
GLOBL ep0<>(SB), RODATA|NOPTR, $32

// p1
DATA ep1<>+0(SB)/4, $0x3ab743ce
DATA ep1<>+4(SB)/4, $0x3ab743ce
DATA ep1<>+8(SB)/4, $0x3ab743ce
DATA ep1<>+12(SB)/4, $0x3ab743ce
DATA ep1<>+16(SB)/4, $0x3ab743ce
DATA ep1<>+20(SB)/4, $0x3ab743ce
DATA ep1<>+24(SB)/4, $0x3ab743ce
DATA ep1<>+28(SB)/4, $0x3ab743ce
GLOBL ep1<>(SB), RODATA|NOPTR, $32

// p2
DATA ep2<>+0(SB)/4, $0x3c088908
DATA ep2<>+4(SB)/4, $0x3c088908
DATA ep2<>+8(SB)/4, $0x3c088908
DATA ep2<>+12(SB)/4, $0x3c088908
DATA ep2<>+16(SB)/4, $0x3c088908
DATA ep2<>+20(SB)/4, $0x3c088908
DATA ep2<>+24(SB)/4, $0x3c088908
DATA ep2<>+28(SB)/4, $0x3c088908
GLOBL ep2<>(SB), RODATA|NOPTR, $32

// p3
DATA ep3<>+0(SB)/4, $0x3d2aa9c1
DATA ep3<>+4(SB)/4, $0x3d2aa9c1
DATA ep3<>+8(SB)/4, $0x3d2aa9c1
DATA ep3<>+12(SB)/4, $0x3d2aa9c1
DATA ep3<>+16(SB)/4, $0x3d2aa9c1
DATA ep3<>+20(SB)/4, $0x3d2aa9c1
DATA ep3<>+24(SB)/4, $0x3d2aa9c1
DATA ep3<>+28(SB)/4, $0x3d2aa9c1
GLOBL ep3<>(SB), RODATA|NOPTR, $32

// p4
DATA ep4<>+0(SB)/4, $0x3e2aaaaa
DATA ep4<>+4(SB)/4, $0x3e2aaaaa
DATA ep4<>+8(SB)/4, $0x3e2aaaaa
DATA ep4<>+12(SB)/4, $0x3e2aaaaa
DATA ep4<>+16(SB)/4, $0x3e2aaaaa
DATA ep4<>+20(SB)/4, $0x3e2aaaaa
DATA ep4<>+24(SB)/4, $0x3e2aaaaa
DATA ep4<>+28(SB)/4, $0x3e2aaaaa
GLOBL ep4<>(SB), RODATA|NOPTR, $32

// p5
DATA ep5<>+0(SB)/4, $0x3f000000
DATA ep5<>+4(SB)/4, $0x3f000000
DATA ep5<>+8(SB)/4, $0x3f000000
DATA ep5<>+12(SB)/4, $0x3f000000
DATA ep5<>+16(SB)/4, $0x3f000000
DATA ep5<>+20(SB)/4, $0x3f000000
DATA ep5<>+24(SB)/4, $0x3f000000
DATA ep5<>+28(SB)/4, $0x3f000000
GLOBL ep5<>(SB), RODATA|NOPTR, $32

// 1
DATA eone<>+0(SB)/4, $0x3f800000
DATA eone<>+4(SB)/4, $0x3f800000
DATA eone<>+8(SB)/4, $0x3f800000
DATA eone<>+12(SB)/4, $0x3f800000
DATA eone<>+16(SB)/4, $0x3f800000
DATA eone<>+20(SB)/4, $0x3f800000
DATA eone<>+24(SB)/4, $0x3f800000
DATA eone<>+28(SB)/4, $0x3f800000
GLOBL eone<>(SB), RODATA|NOPTR, $32

// -2√(2/π)
DATA enegc2<>+0(SB)/4, $0xbfcc422a
DATA enegc2<>+4(SB)/4, $0xbfcc422a
DATA enegc2<>+8(SB)/4, $0xbfcc422a
DATA enegc2<>+12(SB)/4, $0xbfcc422a
DATA enegc2<>+16(SB)/4, $0xbfcc422a
DATA enegc2<>+20(SB)/4, $0xbfcc422a
DATA enegc2<>+24(SB)/4, $0xbfcc422a
DATA enegc2<>+28(SB)/4, $0xbfcc422a
GLOBL enegc2<>(SB), RODATA|NOPTR, $32

// 0.044715
DATA ea<>+0(SB)/4, $0x3d372713
DATA ea<>+4(SB)/4, $0x3d372713
DATA ea<>+8(SB)/4, $0x3d372713
DATA ea<>+12(SB)/4, $0x3d372713
DATA ea<>+16(SB)/4, $0x3d372713
DATA ea<>+20(SB)/4, $0x3d372713
DATA ea<>+24(SB)/4, $0x3d372713
DATA ea<>+28(SB)/4, $0x3d372713
GLOBL ea<>(SB), RODATA|NOPTR, $32

// 2√(2/π)
DATA ec2<>+0(SB)/4, $0x3fcc422a
DATA ec2<>+4(SB)/4, $0x3fcc422a
DATA ec2<>+8(SB)/4, $0x3fcc422a
DATA ec2<>+12(SB)/4, $0x3fcc422a
DATA ec2<>+16(SB)/4, $0x3fcc422a
DATA ec2<>+20(SB)/4, $0x3fcc422a
DATA ec2<>+24(SB)/4, $0x3fcc422a
DATA ec2<>+28(SB)/4, $0x3fcc422a
GLOBL ec2<>(SB), RODATA|NOPTR, $32

// 3·0.044715·2√(2/π)
DATA ec2x3a<>+0(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+4(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+8(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+12(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+16(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+20(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+24(SB)/4, $0x3e5b33b6
DATA ec2x3a<>+28(SB)/4, $0x3e5b33b6
GLOBL ec2x3a<>(SB), RODATA|NOPTR, $32

// -Inf
DATA eninf<>+0(SB)/4, $0xff800000
DATA eninf<>+4(SB)/4, $0xff800000
DATA eninf<>+8(SB)/4, $0xff800000
DATA eninf<>+12(SB)/4, $0xff800000
DATA eninf<>+16(SB)/4, $0xff800000
DATA eninf<>+20(SB)/4, $0xff800000
DATA eninf<>+24(SB)/4, $0xff800000
DATA eninf<>+28(SB)/4, $0xff800000
GLOBL eninf<>(SB), RODATA|NOPTR, $32

// int 127
DATA e127<>+0(SB)/4, $0x0000007f
DATA e127<>+4(SB)/4, $0x0000007f
DATA e127<>+8(SB)/4, $0x0000007f
DATA e127<>+12(SB)/4, $0x0000007f
DATA e127<>+16(SB)/4, $0x0000007f
DATA e127<>+20(SB)/4, $0x0000007f
DATA e127<>+24(SB)/4, $0x0000007f
DATA e127<>+28(SB)/4, $0x0000007f
GLOBL e127<>(SB), RODATA|NOPTR, $32

// NaN
DATA enan<>+0(SB)/4, $0x7fc00000
GLOBL enan<>(SB), RODATA|NOPTR, $4

// Tail masks: 8 all-ones lanes then 8 zero lanes; loading 8 lanes at
// (8-n)*4 gives n ones.
DATA tailmask<>+0(SB)/4, $0xffffffff
DATA tailmask<>+4(SB)/4, $0xffffffff
DATA tailmask<>+8(SB)/4, $0xffffffff
DATA tailmask<>+12(SB)/4, $0xffffffff
DATA tailmask<>+16(SB)/4, $0xffffffff
DATA tailmask<>+20(SB)/4, $0xffffffff
DATA tailmask<>+24(SB)/4, $0xffffffff
DATA tailmask<>+28(SB)/4, $0xffffffff
DATA tailmask<>+32(SB)/4, $0x00000000
DATA tailmask<>+36(SB)/4, $0x00000000
DATA tailmask<>+40(SB)/4, $0x00000000
DATA tailmask<>+44(SB)/4, $0x00000000
DATA tailmask<>+48(SB)/4, $0x00000000
DATA tailmask<>+52(SB)/4, $0x00000000
DATA tailmask<>+56(SB)/4, $0x00000000
DATA tailmask<>+60(SB)/4, $0x00000000
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// TAILMASK2 sets Y15 to a mask of the low CX lanes (0 < CX < 8).
#define TAILMASK2 \
	MOVQ    $8, AX; \
	SUBQ    CX, AX; \
	LEAQ    tailmask<>(SB), R11; \
	VMOVDQU (R11)(AX*4), Y15

// EXP2 sets x = e^x, clobbering t and p.
#define EXP2(x, t, p) \
	VMOVUPS      emin<>(SB), t; \
	VMAXPS       x, t, x; \
	VMOVUPS      emax<>(SB), t; \
	VMINPS       x, t, x; \
	VMULPS       elog2e<>(SB), x, t; \
	VROUNDPS     $0, t, t; \
	VFNMADD231PS eln2hi<>(SB), t, x; \
	VFNMADD231PS eln2lo<>(SB), t, x; \
	VMOVUPS      ep0<>(SB), p; \
	VFMADD213PS  ep1<>(SB), x, p; \
	VFMADD213PS  ep2<>(SB), x, p; \
	VFMADD213PS  ep3<>(SB), x, p; \
	VFMADD213PS  ep4<>(SB), x, p; \
	VFMADD213PS  ep5<>(SB), x, p; \
	VFMADD213PS  eone<>(SB), x, p; \
	VFMADD213PS  eone<>(SB), x, p; \
	VCVTPS2DQ    t, t; \
	VPSRAD       $1, t, x; \
	VPSUBD       x, t, t; \
	VPADDD       e127<>(SB), x, x; \
	VPADDD       e127<>(SB), t, t; \
	VPSLLD       $23, x, x; \
	VPSLLD       $23, t, t; \
	VMULPS       x, p, p; \
	VMULPS       t, p, x

// HSUM2 sets X0 to the sum of Y10's lanes (Y1 clobbered), in a fixed order.
#define HSUM2 \
	VEXTRACTF128 $1, Y10, X1; \
	VADDPS       X1, X10, X10; \
	VPERMILPS    $0x4e, X10, X1; \
	VADDPS       X1, X10, X10; \
	VPERMILPS    $0xb1, X10, X1; \
	VADDPS       X1, X10, X0

// func expSumAVX2(dst, x []float32, m float32) float32
TEXT ·expSumAVX2(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), DX
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS m+48(FP), Y14
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11

expsum2_loop2:
	CMPQ    CX, $16
	JL      expsum2_loop1
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	VSUBPS  Y14, Y0, Y0
	VSUBPS  Y14, Y5, Y5
	EXP2(Y0, Y1, Y2)
	EXP2(Y5, Y6, Y7)
	VADDPS  Y0, Y10, Y10
	VADDPS  Y5, Y11, Y11
	TESTQ   DX, DX
	JZ      expsum2_next2
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)

expsum2_next2:
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  expsum2_loop2

expsum2_loop1:
	CMPQ    CX, $8
	JL      expsum2_tail
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0
	EXP2(Y0, Y1, Y2)
	VADDPS  Y0, Y10, Y10
	TESTQ   DX, DX
	JZ      expsum2_next1
	VMOVUPS Y0, (DI)

expsum2_next1:
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX

expsum2_tail:
	TESTQ      CX, CX
	JZ         expsum2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VSUBPS     Y14, Y0, Y0
	EXP2(Y0, Y1, Y2)
	VANDPS     Y15, Y0, Y0
	VADDPS     Y0, Y10, Y10
	TESTQ      DX, DX
	JZ         expsum2_done
	VMASKMOVPS Y0, Y15, (DI)

expsum2_done:
	VADDPS Y11, Y10, Y10
	HSUM2
	MOVSS  X0, ret+56(FP)
	VZEROUPPER
	RET

// func maxAVX2(x []float32) float32
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS eninf<>(SB), Y10
	VMOVAPS      Y10, Y11
	VMOVAPS      Y10, Y12
	VXORPS       Y13, Y13, Y13

max2_loop2:
	CMPQ    CX, $16
	JL      max2_loop1
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMAXPS  Y0, Y10, Y10
	VMAXPS  Y1, Y11, Y11
	VCMPPS  $3, Y0, Y0, Y2
	VCMPPS  $3, Y1, Y1, Y3
	VORPS   Y2, Y13, Y13
	VORPS   Y3, Y13, Y13
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     max2_loop2

max2_loop1:
	CMPQ    CX, $8
	JL      max2_tail
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y10, Y10
	VCMPPS  $3, Y0, Y0, Y2
	VORPS   Y2, Y13, Y13
	ADDQ    $32, SI
	SUBQ    $8, CX

max2_tail:
	TESTQ      CX, CX
	JZ         max2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VBLENDVPS  Y15, Y0, Y12, Y0
	VMAXPS     Y0, Y10, Y10
	VCMPPS     $3, Y0, Y0, Y2
	VORPS      Y2, Y13, Y13

max2_done:
	VMAXPS       Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X1
	VMAXPS       X1, X10, X10
	VPERMILPS    $0x4e, X10, X1
	VMAXPS       X1, X10, X10
	VPERMILPS    $0xb1, X10, X1
	VMAXPS       X1, X10, X0
	VMOVMSKPS    Y13, AX
	TESTL        AX, AX
	JZ           max2_ret
	MOVSS        enan<>(SB), X0

max2_ret:
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// SILU2 sets Y1 = x/(1+e^-x) for x in Y0 (Y13 zero; Y3, Y4 clobbered).
#define SILU2 \
	VSUBPS Y0, Y13, Y1; \
	EXP2(Y1, Y3, Y4); \
	VADDPS eone<>(SB), Y1, Y1; \
	VDIVPS Y1, Y0, Y1

// SIGMOID2 sets Y2 = 1/(1+e^-x) for x in Y0 (Y1, Y3, Y4 clobbered).
#define SIGMOID2 \
	VSUBPS  Y0, Y13, Y1; \
	EXP2(Y1, Y3, Y4); \
	VADDPS  eone<>(SB), Y1, Y1; \
	VMOVUPS eone<>(SB), Y2; \
	VDIVPS  Y1, Y2, Y2

// SILUBWD2 sets Y3 = dy·s·(1 + x·(1−s)) for x in Y0, dy in Y5.
#define SILUBWD2 \
	SIGMOID2; \
	VMOVUPS     eone<>(SB), Y3; \
	VSUBPS      Y2, Y3, Y3; \
	VFMADD213PS eone<>(SB), Y0, Y3; \
	VMULPS      Y3, Y2, Y3; \
	VMULPS      Y5, Y3, Y3

// GELU2 sets Y1 = x/(1+e^-z), z = c2·x·(1+a·x²), for x in Y0.
#define GELU2 \
	VMULPS      Y0, Y0, Y1; \
	VMOVUPS     ea<>(SB), Y2; \
	VFMADD213PS eone<>(SB), Y2, Y1; \
	VMULPS      Y0, Y1, Y1; \
	VMULPS      enegc2<>(SB), Y1, Y1; \
	EXP2(Y1, Y3, Y4); \
	VADDPS      eone<>(SB), Y1, Y1; \
	VDIVPS      Y1, Y0, Y1

// GELUBWD2 sets Y7 = dy·(s + x·s·(1−s)·dz) for x in Y0, dy in Y5.
#define GELUBWD2 \
	VMULPS      Y0, Y0, Y6; \
	VMOVUPS     ea<>(SB), Y2; \
	VMOVAPS     Y6, Y1; \
	VFMADD213PS eone<>(SB), Y2, Y1; \
	VMULPS      Y0, Y1, Y1; \
	VMULPS      enegc2<>(SB), Y1, Y1; \
	EXP2(Y1, Y3, Y4); \
	VADDPS      eone<>(SB), Y1, Y1; \
	VMOVUPS     eone<>(SB), Y2; \
	VDIVPS      Y1, Y2, Y2; \
	VMOVUPS     eone<>(SB), Y3; \
	VSUBPS      Y2, Y3, Y3; \
	VMOVUPS     ec2x3a<>(SB), Y4; \
	VFMADD213PS ec2<>(SB), Y4, Y6; \
	VMULPS      Y2, Y0, Y7; \
	VMULPS      Y3, Y7, Y7; \
	VFMADD213PS Y2, Y6, Y7; \
	VMULPS      Y5, Y7, Y7

// SWIGLUBWD2 sets Y9 = dg and Y8 = du for g in Y0, u in Y5, dy in Y6.
#define SWIGLUBWD2 \
	SIGMOID2; \
	VMULPS      Y2, Y0, Y7; \
	VMULPS      Y7, Y6, Y8; \
	VMOVUPS     eone<>(SB), Y3; \
	VSUBPS      Y2, Y3, Y3; \
	VFMADD213PS eone<>(SB), Y0, Y3; \
	VMULPS      Y3, Y2, Y3; \
	VMULPS      Y5, Y6, Y9; \
	VMULPS      Y3, Y9, Y9

// func siluAVX2(y, x []float32)
TEXT ·siluAVX2(SB), NOSPLIT, $0-48
	MOVQ   y_base+0(FP), DI
	MOVQ   x_base+24(FP), SI
	MOVQ   x_len+32(FP), CX
	VXORPS Y13, Y13, Y13

silu2_loop:
	CMPQ    CX, $8
	JL      silu2_tail
	VMOVUPS (SI), Y0
	SILU2
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     silu2_loop

silu2_tail:
	TESTQ      CX, CX
	JZ         silu2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	SILU2
	VMASKMOVPS Y1, Y15, (DI)

silu2_done:
	VZEROUPPER
	RET

// func siluBwdAVX2(dx, dy, x []float32)
TEXT ·siluBwdAVX2(SB), NOSPLIT, $0-72
	MOVQ   dx_base+0(FP), DI
	MOVQ   dy_base+24(FP), DX
	MOVQ   x_base+48(FP), SI
	MOVQ   x_len+56(FP), CX
	VXORPS Y13, Y13, Y13

siluBwd2_loop:
	CMPQ    CX, $8
	JL      siluBwd2_tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y5
	SILUBWD2
	VMOVUPS Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     siluBwd2_loop

siluBwd2_tail:
	TESTQ      CX, CX
	JZ         siluBwd2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y5
	SILUBWD2
	VMASKMOVPS Y3, Y15, (DI)

siluBwd2_done:
	VZEROUPPER
	RET

// func geluAVX2(y, x []float32)
TEXT ·geluAVX2(SB), NOSPLIT, $0-48
	MOVQ   y_base+0(FP), DI
	MOVQ   x_base+24(FP), SI
	MOVQ   x_len+32(FP), CX
	VXORPS Y13, Y13, Y13

gelu2_loop:
	CMPQ    CX, $8
	JL      gelu2_tail
	VMOVUPS (SI), Y0
	GELU2
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     gelu2_loop

gelu2_tail:
	TESTQ      CX, CX
	JZ         gelu2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	GELU2
	VMASKMOVPS Y1, Y15, (DI)

gelu2_done:
	VZEROUPPER
	RET

// func geluBwdAVX2(dx, dy, x []float32)
TEXT ·geluBwdAVX2(SB), NOSPLIT, $0-72
	MOVQ   dx_base+0(FP), DI
	MOVQ   dy_base+24(FP), DX
	MOVQ   x_base+48(FP), SI
	MOVQ   x_len+56(FP), CX
	VXORPS Y13, Y13, Y13

geluBwd2_loop:
	CMPQ    CX, $8
	JL      geluBwd2_tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y5
	GELUBWD2
	VMOVUPS Y7, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     geluBwd2_loop

geluBwd2_tail:
	TESTQ      CX, CX
	JZ         geluBwd2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y5
	GELUBWD2
	VMASKMOVPS Y7, Y15, (DI)

geluBwd2_done:
	VZEROUPPER
	RET

// func swigluAVX2(y, g, u []float32)
TEXT ·swigluAVX2(SB), NOSPLIT, $0-72
	MOVQ   y_base+0(FP), DI
	MOVQ   g_base+24(FP), SI
	MOVQ   g_len+32(FP), CX
	MOVQ   u_base+48(FP), DX
	VXORPS Y13, Y13, Y13

swiglu2_loop:
	CMPQ    CX, $8
	JL      swiglu2_tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y5
	SILU2
	VMULPS  Y5, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     swiglu2_loop

swiglu2_tail:
	TESTQ      CX, CX
	JZ         swiglu2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y5
	SILU2
	VMULPS     Y5, Y1, Y1
	VMASKMOVPS Y1, Y15, (DI)

swiglu2_done:
	VZEROUPPER
	RET

// func swigluBwdAVX2(dg, du, dy, g, u []float32)
TEXT ·swigluBwdAVX2(SB), NOSPLIT, $0-120
	MOVQ   dg_base+0(FP), DI
	MOVQ   du_base+24(FP), R8
	MOVQ   dy_base+48(FP), R9
	MOVQ   g_base+72(FP), SI
	MOVQ   g_len+80(FP), CX
	MOVQ   u_base+96(FP), DX
	VXORPS Y13, Y13, Y13

swiglub2_loop:
	CMPQ    CX, $8
	JL      swiglub2_tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y5
	VMOVUPS (R9), Y6
	SWIGLUBWD2
	VMOVUPS Y9, (DI)
	VMOVUPS Y8, (R8)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R9
	ADDQ    $32, DI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     swiglub2_loop

swiglub2_tail:
	TESTQ      CX, CX
	JZ         swiglub2_done
	TAILMASK2
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y5
	VMASKMOVPS (R9), Y15, Y6
	SWIGLUBWD2
	VMASKMOVPS Y9, Y15, (DI)
	VMASKMOVPS Y8, Y15, (R8)

swiglub2_done:
	VZEROUPPER
	RET
