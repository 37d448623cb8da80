package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// OwnerDir holds one file per live run, PREFIX.pid, naming the process that
// owns the run, so that `d6lab clean` leaves running labs alone.
var OwnerDir = "/run/d6lab"

// claim records this process as the owner of prefix.
func claim(prefix string) error {
	if err := os.MkdirAll(OwnerDir, 0o755); err != nil {
		return fmt.Errorf("session: owner dir: %w", err)
	}
	return os.WriteFile(filepath.Join(OwnerDir, prefix+".pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// release forgets the owner of prefix.
func release(prefix string) {
	_ = os.Remove(filepath.Join(OwnerDir, prefix+".pid"))
}

// Live reports whether the run with this prefix has a live owner process.
func Live(prefix string) bool {
	b, err := os.ReadFile(filepath.Join(OwnerDir, prefix+".pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Forget removes the owner record of a cleaned run.
func Forget(prefix string) { release(prefix) }

// Claim records this process as the owner of the lab named by prefix
// (OwnerDir/PREFIX.pid), so that `d6lab clean` leaves it alone while it
// runs; Forget removes the record. Open claims its session's prefix; Claim
// is for a caller that builds a lab without a Session (a spec).
func Claim(prefix string) error { return claim(prefix) }
