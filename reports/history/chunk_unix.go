//go:build unix

package history

import (
	"runtime"
	"syscall"
	"unsafe"
)

// A Log's chunks live outside the Go heap, in anonymous memory mapped
// for them: records hold no pointers, so the garbage collector has nothing
// to scan there, and a large log no longer counts in the heap whose size
// sets when the next collection runs (GOGC): with the log on the heap,
// a run of 50 million events let the rest of the heap grow by the log's
// 2.8 GB of garbage before collecting. The mappings are released when the
// Log is collected (runtime.AddCleanup).

// mappings are a Log's mapped chunks, released together.
type mappings struct{ bufs [][]byte }

func (m *mappings) release() {
	for _, b := range m.bufs {
		_ = syscall.Munmap(b)
	}
	m.bufs = nil
}

// newChunk returns an empty chunk with room for 1<<chunkBits records,
// mapped when it can be (on the heap otherwise).
func (l *Log) newChunk() []record {
	size := (1 << chunkBits) * RecordSize
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]record, 0, 1<<chunkBits)
	}
	if l.maps == nil {
		l.maps = &mappings{}
		runtime.AddCleanup(l, (*mappings).release, l.maps)
	}
	l.maps.bufs = append(l.maps.bufs, b)
	return unsafe.Slice((*record)(unsafe.Pointer(unsafe.SliceData(b))), 1<<chunkBits)[:0]
}
