//go:build race

package cpu_test

// raceEnabled is set under the race detector, which slows the Go loops ten
// times or more: the fused suites then run on the default variant only
// (the parallel code they exercise is the same for every variant).
const raceEnabled = true
