package lease

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapLog is readLog over a read-only mapping of the file: the frames stay
// valid until release, which unmaps them (and does nothing when there was
// nothing to map). The log must not be written while mapped: a checkpoint
// maps a log no one writes any more.
func mapLog(path string, id []byte) (frames []byte, release func(), err error) {
	none := func() {}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, none, nil
	}
	if err != nil {
		return nil, none, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, none, err
	}
	if st.Size() < int64(walStart) {
		return nil, none, nil
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, none, fmt.Errorf("map %s: %w", path, err)
	}
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
	return logFrames(b, id), func() { _ = unix.Munmap(b) }, nil
}
