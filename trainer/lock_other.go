//go:build !unix

package trainer

// lockRunDir does nothing where flock is not available.
func lockRunDir(string) (func(), error) { return func() {}, nil }
