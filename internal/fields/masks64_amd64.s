//go:build !purego

#include "textflag.h"

DATA masksChars<>+0(SB)/1, $' '
DATA masksChars<>+1(SB)/1, $0x09 // '\t'
DATA masksChars<>+2(SB)/1, $4    // '\t'..'\r' is '\t' + 0..4
GLOBL masksChars<>(SB), RODATA|NOPTR, $3

// func masks64(p *byte) (space, ws, high uint64)
//
// AVX-512BW: bit k of space is set when p[k] is ' ', of ws when it is
// ASCII white space (' ', '\t', '\n', '\v', '\f', '\r'), of high when its
// bit 7 is set; the 64 bytes at p must be readable.
TEXT ·masks64(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), AX
	VMOVDQU8 (AX), Z0
	VPBROADCASTB masksChars<>+0(SB), Z1
	VPCMPEQB Z1, Z0, K1
	VPBROADCASTB masksChars<>+1(SB), Z1
	VPSUBB Z1, Z0, Z2
	VPBROADCASTB masksChars<>+2(SB), Z1
	VPCMPUB $2, Z1, Z2, K2
	KORQ K1, K2, K2
	VPMOVB2M Z0, K3
	KMOVQ K1, BX
	MOVQ BX, space+8(FP)
	KMOVQ K2, BX
	MOVQ BX, ws+16(FP)
	KMOVQ K3, BX
	MOVQ BX, high+24(FP)
	VZEROUPPER
	RET
