//go:build race

package synth

// raceEnabled: the oracle comparisons sample less of the shared data under
// the race detector, which slows the regexp oracles tenfold.
const raceEnabled = true
