//go:build !purego

#include "textflag.h"

// The bytes scrubMasks64 compares with, each broadcast to all 64 lanes.
DATA scanChars<>+0(SB)/1, $'0'
DATA scanChars<>+1(SB)/1, $9
DATA scanChars<>+2(SB)/1, $'+'
DATA scanChars<>+3(SB)/1, $'('
DATA scanChars<>+4(SB)/1, $'@'
DATA scanChars<>+5(SB)/1, $0x20
DATA scanChars<>+6(SB)/1, $'h'
DATA scanChars<>+7(SB)/1, $'f'
DATA scanChars<>+8(SB)/1, $'w'
DATA scanChars<>+9(SB)/1, $'u'
DATA scanChars<>+10(SB)/1, $':'
DATA scanChars<>+11(SB)/1, $'/'
GLOBL scanChars<>(SB), RODATA|NOPTR, $12

// func scrubMasks64(p *byte) (digit, at, hwf, u, colon, slash, w uint64)
//
// AVX-512BW: bit k of each mask is set when byte p[k] is of the class
// (see scrubMasks64 in scan.go); the 64 bytes at p must be readable.
TEXT ·scrubMasks64(SB), NOSPLIT, $0-64
	MOVQ p+0(FP), AX
	VMOVDQU8 (AX), Z0

	// digit: '0'..'9' (x-'0' <= 9 unsigned), '+', '('
	VPBROADCASTB scanChars<>+0(SB), Z1
	VPSUBB Z1, Z0, Z2
	VPBROADCASTB scanChars<>+1(SB), Z1
	VPCMPUB $2, Z1, Z2, K1
	VPBROADCASTB scanChars<>+2(SB), Z1
	VPCMPEQB Z1, Z0, K2
	KORQ K2, K1, K1
	VPBROADCASTB scanChars<>+3(SB), Z1
	VPCMPEQB Z1, Z0, K2
	KORQ K2, K1, K1
	KMOVQ K1, BX
	MOVQ BX, digit+8(FP)

	// at: '@'
	VPBROADCASTB scanChars<>+4(SB), Z1
	VPCMPEQB Z1, Z0, K1
	KMOVQ K1, BX
	MOVQ BX, at+16(FP)

	// hwf and w: h, w, f of either case (x|0x20)
	VPBROADCASTB scanChars<>+5(SB), Z1
	VPORQ Z1, Z0, Z3
	VPBROADCASTB scanChars<>+6(SB), Z1
	VPCMPEQB Z1, Z3, K1
	VPBROADCASTB scanChars<>+7(SB), Z1
	VPCMPEQB Z1, Z3, K2
	KORQ K2, K1, K1
	VPBROADCASTB scanChars<>+8(SB), Z1
	VPCMPEQB Z1, Z3, K3
	KORQ K3, K1, K1
	KMOVQ K1, BX
	MOVQ BX, hwf+24(FP)
	KMOVQ K3, BX
	MOVQ BX, w+56(FP)

	// u, colon, slash
	VPBROADCASTB scanChars<>+9(SB), Z1
	VPCMPEQB Z1, Z0, K1
	KMOVQ K1, BX
	MOVQ BX, u+32(FP)
	VPBROADCASTB scanChars<>+10(SB), Z1
	VPCMPEQB Z1, Z0, K1
	KMOVQ K1, BX
	MOVQ BX, colon+40(FP)
	VPBROADCASTB scanChars<>+11(SB), Z1
	VPCMPEQB Z1, Z0, K1
	KMOVQ K1, BX
	MOVQ BX, slash+48(FP)

	VZEROUPPER
	RET
