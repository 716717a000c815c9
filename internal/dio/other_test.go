//go:build !linux

package dio

import "testing"

// setRingOff: only Linux has a ring; the plain path is all there is.
func setRingOff(t *testing.T) {}
