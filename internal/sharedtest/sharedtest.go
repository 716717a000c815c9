// Package sharedtest locates the project's shared test data (../shared next
// to the repository) for tests. A test that needs it calls Dir or Path; when
// the data is missing the test is skipped, or fails when
// HUMANLLM_REQUIRE_SHARED=1 (as CI sets it).
package sharedtest

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the absolute path of the shared folder, or "" if not found.
// HUMANLLM_SHARED overrides the default location (the folder "shared" beside
// the repository root).
func Root() string {
	if d := os.Getenv("HUMANLLM_SHARED"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file = <repo>/internal/sharedtest/sharedtest.go
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(filepath.Dir(repo), "shared")
}

// Required reports whether missing shared data must fail tests.
func Required() bool { return os.Getenv("HUMANLLM_REQUIRE_SHARED") == "1" }

// Path returns the absolute path of rel inside the shared folder, skipping
// the test (or failing it under HUMANLLM_REQUIRE_SHARED=1) when it is absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Root(), rel)
	if _, err := os.Stat(p); err != nil {
		if Required() {
			t.Fatalf("shared test data %s is required (HUMANLLM_REQUIRE_SHARED=1) but missing: %v", p, err)
		}
		t.Skipf("shared test data %s not present: %v", p, err)
	}
	return p
}

// OpenGzip opens the gzip file rel inside the shared folder (as Path) and
// returns its decompressed contents as a stream, closed when the test ends.
func OpenGzip(t testing.TB, rel string) io.Reader {
	t.Helper()
	f, err := os.Open(Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return zr
}
