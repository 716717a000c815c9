//go:build !amd64 || purego

package cpu

func asmOps(*variant) *vecOps      { return nil }
func asmElemOps(*variant) *elemOps { return nil }
