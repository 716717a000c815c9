//go:build unix

package trainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockRunDir takes an exclusive advisory lock on runDir/.lock so that two
// trainers never write the same run directory. The lock dies with the
// process (kill -9 included).
func lockRunDir(runDir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(runDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("run directory %s is in use by another humanllm train process", runDir)
		}
		return nil, fmt.Errorf("locking %s: %w", runDir, err)
	}
	return func() { f.Close() }, nil
}
