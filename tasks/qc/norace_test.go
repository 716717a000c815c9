//go:build !race

package qc

const raceEnabled = false
