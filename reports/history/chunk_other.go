//go:build !unix

package history

// mappings is empty where chunks are not mapped (chunk_unix.go).
type mappings struct{}

// newChunk returns an empty chunk with room for 1<<chunkBits records.
func (l *Log) newChunk() []record { return make([]record, 0, 1<<chunkBits) }
