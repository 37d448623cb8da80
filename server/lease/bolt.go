package lease

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is a durable Store: every binding lives in a bbolt file and, as a
// cache for reads, in a Memory loaded from the file at OpenBolt. Put and
// Delete write through: they commit a bbolt transaction (which fsyncs the
// file) and only then change the cache and return. A caller that answers a
// client after Put returns therefore never acknowledges a binding that a
// crash of the process (SIGKILL) could lose; with the file on a filesystem
// that honours fsync, a power loss cannot lose it either.
//
// Reads (Get, GetByLease, Len, All) never touch the file. Bolt is safe for
// concurrent use; writers are serialised.
type Bolt struct {
	mu   sync.Mutex // serialises writers, so that file and cache change in the same order
	db   *bolt.DB
	mem  *Memory
	path string
}

var _ Store = (*Bolt)(nil)

// The file holds one bucket of bindings, keyed by encodeKey, and a meta
// bucket with the format version.
var (
	bucketBindings = []byte("bindings")
	bucketMeta     = []byte("meta")
	metaFormat     = []byte("format")
)

// boltFormat is the version of the record layout (encodeBinding).
const boltFormat = 1

// ErrCorrupt: the lease file holds a record Bolt cannot decode, or two
// bindings of one lease. Open refuses such a file rather than serve from a
// partial view of what is bound.
var ErrCorrupt = errors.New("lease: corrupt lease file")

// OpenBolt opens (creating it if absent) the lease file at path and loads
// every binding into memory. Expired bindings are loaded too; the server's
// next Expire removes them. It waits up to 5 s for another process's lock
// on the file to go away.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	s := &Bolt{db: db, mem: NewMemory(), path: path}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	// bbolt fsyncs the file, not its directory: make a new file's name
	// durable too, or a power loss could take the whole file away.
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// load creates the buckets of a new file and reads every binding of an
// existing one into the cache.
func (s *Bolt) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(metaFormat); v == nil {
			if err := meta.Put(metaFormat, []byte{boltFormat}); err != nil {
				return err
			}
		} else if len(v) != 1 || v[0] != boltFormat {
			return fmt.Errorf("%w: format %v, want %d", ErrCorrupt, v, boltFormat)
		}
		bs, err := tx.CreateBucketIfNotExists(bucketBindings)
		if err != nil {
			return err
		}
		return bs.ForEach(func(k, v []byte) error {
			b, err := decodeBinding(k, v)
			if err != nil {
				return err
			}
			if err := s.mem.Put(b); err != nil {
				return fmt.Errorf("%w: binding of %s: %w", ErrCorrupt, b.Lease, err)
			}
			return nil
		})
	})
}

// Path is the lease file's path.
func (s *Bolt) Path() string { return s.path }

// Close closes the file. The Bolt must not be used afterwards.
func (s *Bolt) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("lease: close %s: %w", s.path, err)
	}
	return nil
}

// Get implements Store (from memory).
func (s *Bolt) Get(k Key) (Binding, bool) { return s.mem.Get(k) }

// GetByLease implements Store (from memory).
func (s *Bolt) GetByLease(p netip.Prefix) (Binding, bool) { return s.mem.GetByLease(p) }

// Len implements Store.
func (s *Bolt) Len() int { return s.mem.Len() }

// All implements Store: a snapshot of the cache.
func (s *Bolt) All() iter.Seq[Binding] { return s.mem.All() }

// Put implements Store. It returns after the binding is committed to the
// file (fsynced); on an error neither the file nor the cache changed.
func (s *Bolt) Put(b Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	k := b.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.mem.GetByLease(b.Lease); ok && other.Key() != k {
		return ErrConflict
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBindings).Put(encodeKey(k), encodeBinding(b))
	})
	if err != nil {
		return fmt.Errorf("lease: put %s in %s: %w", b.Lease, s.path, err)
	}
	// Cannot conflict: writers are serialised and the check above holds.
	return s.mem.Put(b)
}

// Delete implements Store. It returns after the deletion is committed.
func (s *Bolt) Delete(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mem.Get(k); !ok {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBindings).Delete(encodeKey(k))
	})
	if err != nil {
		return fmt.Errorf("lease: delete from %s: %w", s.path, err)
	}
	return s.mem.Delete(k)
}

// Expire implements Store. The due bindings leave the cache at once and the
// file in one transaction; when that transaction fails the error is
// returned, fn has still been called for each, and the file keeps them
// until a later Expire or a reopen (they are expired either way, so a
// reopened store drops them on its first Expire). fn runs with the store
// unlocked and may call it.
func (s *Bolt) Expire(now time.Time, fn func(Binding)) (int, error) {
	var gone []Binding
	s.mu.Lock()
	n, _ := s.mem.Expire(now, func(b Binding) { gone = append(gone, b) })
	var err error
	if n > 0 {
		err = s.db.Update(func(tx *bolt.Tx) error {
			bs := tx.Bucket(bucketBindings)
			for _, b := range gone {
				if err := bs.Delete(encodeKey(b.Key())); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			err = fmt.Errorf("lease: expire %d bindings in %s: %w", n, s.path, err)
		}
	}
	s.mu.Unlock()
	if fn != nil {
		for _, b := range gone {
			fn(b)
		}
	}
	return n, err
}

// encodeKey lays a Key out as type (1 byte), IAID (4, big endian), DUID.
func encodeKey(k Key) []byte {
	out := make([]byte, 5+len(k.DUID))
	out[0] = byte(k.Type)
	binary.BigEndian.PutUint32(out[1:5], k.IAID)
	copy(out[5:], k.DUID)
	return out
}

// recordLen is the size of an encoded binding: lease address (16) and
// length (1), then T1, T2, Preferred, Valid, Granted, Expires (8 each).
const recordLen = 16 + 1 + 6*8

// encodeBinding lays out what the key does not hold. Durations are
// nanoseconds; times are Unix nanoseconds (math.MinInt64 for the zero
// time), so a reloaded binding compares Equal, not ==, to the stored one.
func encodeBinding(b Binding) []byte {
	out := make([]byte, recordLen)
	a := b.Lease.Addr().As16()
	copy(out, a[:])
	out[16] = byte(b.Lease.Bits())
	for i, v := range [6]int64{int64(b.T1), int64(b.T2), int64(b.Preferred), int64(b.Valid), unixNano(b.Granted), unixNano(b.Expires)} {
		binary.BigEndian.PutUint64(out[17+8*i:], uint64(v))
	}
	return out
}

func decodeBinding(k, v []byte) (Binding, error) {
	if len(k) < 6 || len(v) != recordLen {
		return Binding{}, fmt.Errorf("%w: record of %d+%d bytes", ErrCorrupt, len(k), len(v))
	}
	var b Binding
	b.Type = IAType(k[0])
	b.IAID = binary.BigEndian.Uint32(k[1:5])
	b.DUID = append([]byte(nil), k[5:]...)
	b.Lease = netip.PrefixFrom(netip.AddrFrom16([16]byte(v[:16])), int(v[16]))
	var f [6]int64
	for i := range f {
		f[i] = int64(binary.BigEndian.Uint64(v[17+8*i:]))
	}
	b.T1, b.T2, b.Preferred, b.Valid = time.Duration(f[0]), time.Duration(f[1]), time.Duration(f[2]), time.Duration(f[3])
	b.Granted, b.Expires = fromUnixNano(f[4]), fromUnixNano(f[5])
	if err := b.Validate(); err != nil {
		return Binding{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return b, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
