package lease

import (
	"bytes"
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
	// mu is the cache's own lock (mem.mu). In deferred mode it guards the
	// cache and the queue of changes together: one lock a change, and
	// the change's place in the log is its place in the cache's order.
	mu   *sync.Mutex
	wmu  sync.Mutex // outside deferred mode: serialises writers, so that file and cache change in the same order
	db   *bolt.DB
	mem  *Memory
	path string

	// Deferred mode (OpenBoltWith with Deferred set); see Sync.
	deferred   bool
	durability Durability
	next       batch  // the unsynced changes, in order, as the log's next frame (wal.go)
	taken      uint64 // changes Syncs took from next since open (Written: taken + next.n)
	failed     error  // set by a failed Sync; every later write returns it

	syncMu sync.Mutex // serialises Syncs; held without mu while the log is written
	lists  [][]byte   // the last written batch's list of chunks, emptied, for the next

	// The write-ahead log (wal.go) and its checkpoints.
	id       []byte        // the file's ID, in the log's header
	log      *wal          // written, rotated and closed under syncMu (Close: after the last Sync)
	ckptDone chan struct{} // closed when the running checkpoint ends
	ckptErr  error         // a background checkpoint failed

	syncHook func() error // tests: runs in Sync instead of nothing, before the log write
}

var _ Store = (*Bolt)(nil)

// The file holds one bucket of bindings, keyed by encodeKey, and a meta
// bucket with the format version.
var (
	bucketBindings = []byte("bindings")
	bucketMeta     = []byte("meta")
	metaFormat     = []byte("format")
	metaID         = []byte("id") // the file's random ID (wal.go)
)

// boltFormat is the version of the record layout (encodeBinding). Format 1
// records (before FQDN and relay data) are the fixed part alone: load
// reads them and marks the file format 2.
const boltFormat = 2

// ErrCorrupt: the lease file holds a record Bolt cannot decode, or two
// bindings of one lease. Open refuses such a file rather than serve from a
// partial view of what is bound.
var ErrCorrupt = errors.New("lease: corrupt lease file")

// OpenBolt opens (creating it if absent) the lease file at path and loads
// every binding into memory. Expired bindings are loaded too; the server's
// next Expire removes them. It waits up to 5 s for another process's lock
// on the file to go away.
func OpenBolt(path string) (*Bolt, error) { return OpenBoltWith(path, BoltOptions{}) }

// initialMmap is the bbolt file's first mapping: room for about a million
// bindings before the first remap.
const initialMmap = 256 << 20

// BoltOptions tune OpenBoltWith.
type BoltOptions struct {
	// Deferred turns group commit on: Put, Delete and Expire change the
	// cache at once and queue the change, encoded as the write-ahead
	// log's next frame; Sync appends that frame to the log with one
	// fdatasync (wal.go). A caller that acknowledges a binding must Sync
	// first (server.Serve does, once per batch of datagrams).
	Deferred bool
	// Durability is what Sync waits for (deferred mode): the log on disk
	// (OnDisk, the default) or written to the kernel (InKernel).
	Durability Durability
}

// OpenBoltWith is OpenBolt with options.
func OpenBoltWith(path string, opt BoltOptions) (*Bolt, error) {
	// NoFreelistSync: a commit does not rewrite the free-page list (one
	// page fewer per fsync); Open rebuilds it by scanning the file.
	// InitialMmapSize: address space, not memory. Without it bbolt maps
	// the file at its size and remaps as a commit grows it, and a remap
	// copies every key and value a transaction holds onto the heap first
	// (profiled: 2.6 million allocations in the first checkpoint of
	// BenchmarkExchange/durable, 65,536 bindings into an empty file).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second,
		FreelistType: bolt.FreelistMapType, NoFreelistSync: true, InitialMmapSize: initialMmap})
	if err != nil {
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	s := &Bolt{db: db, mem: NewMemory(), path: path, deferred: opt.Deferred}
	s.mu = &s.mem.mu
	// A deferred Bolt that stopped without Close left its log: fold it in.
	id, err := fileID(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	if _, err := replayLogs(db, path, id); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("lease: open %s: %w", path, err)
	}
	if opt.Deferred {
		s.id = id
		s.durability = opt.Durability
		if s.log, err = openWAL(path+walSuffix, id, s.flushes()); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("lease: open %s: %w", path, err)
		}
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
		} else if len(v) != 1 || (v[0] != boltFormat && v[0] != 1) {
			return fmt.Errorf("%w: format %v, want %d", ErrCorrupt, v, boltFormat)
		} else if v[0] != boltFormat {
			if err := meta.Put(metaFormat, []byte{boltFormat}); err != nil {
				return err
			}
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

// Close closes the file. In deferred mode it first syncs the queued
// changes (unless a Sync failed) and returns that error, if any. The Bolt
// must not be used afterwards.
func (s *Bolt) Close() error {
	s.mu.Lock()
	failed := s.failed != nil
	s.mu.Unlock()
	var err error
	if s.deferred {
		if !failed { // a failed store's error was reported by its Sync
			err = s.Sync()
		}
		s.mu.Lock()
		done := s.ckptDone
		s.mu.Unlock()
		if done != nil {
			<-done
		}
		_ = s.log.close()
		s.mu.Lock()
		failed = s.failed != nil
		s.mu.Unlock()
		if err == nil && !failed {
			// Fold the log into the file: a closed file needs no log.
			_, err = foldLogs(s.db, s.id, s.mem.Len(), 0, s.path+walSuffix)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lease: close %s: %w", s.path, err)
	}
	return nil
}

// rotate starts a checkpoint: the log becomes PATH.wal.old, a new log
// starts, and a goroutine writes what the old one holds to the bbolt file
// and then removes it (keys: how many bindings the cache holds, a size
// hint). Called with s.syncMu held and s.mu not, when no checkpoint runs;
// s.log is s.syncMu's.
func (s *Bolt) rotate(keys int) error {
	dir := filepath.Dir(s.path)
	if err := s.log.close(); err != nil {
		return err
	}
	if err := os.Rename(s.path+walSuffix, s.path+walOldSuffix); err != nil {
		return err
	}
	w, err := openWAL(s.path+walSuffix, s.id, s.flushes())
	if err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		_ = w.close()
		return err
	}
	s.log = w
	done := make(chan struct{})
	s.mu.Lock()
	s.ckptDone = done
	s.mu.Unlock()
	go func() {
		defer close(done)
		// The old log is read back and removed for good (foldLogs) before
		// a later checkpoint writes newer states: replaying it over them
		// would bring older ones back.
		_, err := foldLogs(s.db, s.id, keys, foldTx, s.path+walOldSuffix)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.ckptErr = fmt.Errorf("checkpoint: %w", err)
		}
		s.ckptDone = nil
	}()
	return nil
}

// Get implements Store (from memory).
func (s *Bolt) Get(k Key) (b Binding, ok bool) {
	ok = s.mem.getInto(k, &b)
	return b, ok
}

// GetByLease implements Store (from memory).
func (s *Bolt) GetByLease(p netip.Prefix) (Binding, bool) { return s.mem.GetByLease(p) }

// Len implements Store.
func (s *Bolt) Len() int { return s.mem.Len() }

// All implements Store: a snapshot of the cache.
func (s *Bolt) All() iter.Seq[Binding] { return s.mem.All() }

// Put implements Store. It returns after the binding is committed to the
// file (fsynced); on an error neither the file nor the cache changed.
// (In deferred mode: after the cache changed and the change was queued;
// see Sync.)
func (s *Bolt) Put(b Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if !s.deferred {
		return s.putNow(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	// The cache checks the conflict; the change is encoded into the
	// log's next frame at once (no pointers for the collector to trace,
	// no key built). Nothing of the binding it replaced is kept: a failed
	// Sync restores the cache from the files (restore).
	if err := s.mem.putLocked(&b); err != nil {
		return err
	}
	s.next.put(&b)
	return nil
}

// putNow is Put outside deferred mode: one bbolt transaction, then the
// cache.
func (s *Bolt) putNow(b Binding) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if other, ok := s.mem.GetByLease(b.Lease); ok && !other.sameKey(b) {
		return ErrConflict
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBindings).Put(encodeKey(b.Key()), encodeBinding(b))
	})
	if err != nil {
		return fmt.Errorf("lease: put %s in %s: %w", b.Lease, s.path, err)
	}
	// Cannot conflict: writers are serialised and the check above holds.
	return s.mem.Put(b)
}

// Delete implements Store. It returns after the deletion is committed (in
// deferred mode: queued).
func (s *Bolt) Delete(k Key) error {
	if !s.deferred {
		return s.deleteNow(k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	if s.mem.deleteLocked(k) {
		s.next.del(k)
	}
	return nil
}

// deleteNow is Delete outside deferred mode.
func (s *Bolt) deleteNow(k Key) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
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
	var n int
	var err error
	if s.deferred {
		s.mu.Lock()
		if s.failed != nil {
			s.mu.Unlock()
			return 0, s.failed
		}
		n = s.mem.expireLocked(now, &gone)
		for i := range gone {
			s.next.del(KeyView(gone[i].DUID, gone[i].IAID, gone[i].Type))
		}
		s.mu.Unlock()
	} else {
		s.wmu.Lock()
		n, _ = s.mem.Expire(now, func(b Binding) { gone = append(gone, b) })
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
		s.wmu.Unlock()
	}
	if fn != nil {
		for _, b := range gone {
			fn(b)
		}
	}
	return n, err
}

// ErrFailed: an earlier Sync failed. The store then refuses every write,
// since after a failed fsync what the file holds is unknown (the page
// cache may have dropped the dirty pages): reopen the file.
var ErrFailed = errors.New("lease: store failed")

// Syncer is a Store whose changes become durable only when Sync returns
// nil: Bolt in deferred mode (OpenBoltWith).
type Syncer interface {
	Store
	// Sync commits every change made since the last Sync.
	Sync() error
	// Written counts the changes made since the store was opened; a
	// caller compares two readings to tell whether a step wrote.
	Written() uint64
}

var _ Syncer = (*Bolt)(nil)

// Deferred reports whether the store is in deferred (group commit) mode.
func (s *Bolt) Deferred() bool { return s.deferred }

// Durability is what Sync waits for in deferred mode.
func (s *Bolt) Durability() Durability { return s.durability }

// flushes tells whether the log is fdatasynced after each frame.
func (s *Bolt) flushes() bool { return s.durability == OnDisk }

// Written implements Syncer: changes queued since open (0 when not
// deferred: every change is durable when Put or Delete returns).
func (s *Bolt) Written() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken + uint64(s.next.n)
}

// Pending is the number of unsynced changes (a key changed twice counts
// twice).
func (s *Bolt) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next.n
}

// Sync implements Syncer: it appends every queued change to the log as one
// frame, fdatasyncs it (OnDisk; InKernel stops at the write), and returns
// after that (wal.go; past walLimit it
// starts a checkpoint into the bbolt file in the background). Outside
// deferred mode it does nothing. Writers are not blocked while the log is
// written: what they change meanwhile waits for the next Sync.
//
// On failure the queued changes are dropped, the cache is restored to
// what the last successful Sync left in the files (restore), and the
// store fails every later Put, Delete, Expire and Sync with ErrFailed: a
// caller must not acknowledge any change of the failed batch, and should
// stop (reopen the file to go on).
func (s *Bolt) Sync() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	if s.failed != nil {
		s.mu.Unlock()
		return s.failed
	}
	if s.next.n == 0 {
		s.mu.Unlock()
		return nil
	}
	// Take the frame and let writers go on while the log is written:
	// their changes queue up for the next Sync.
	q := s.next
	s.taken += uint64(q.n)
	s.next = batch{chunks: s.lists[:0], spare: q.spare}
	q.spare = nil
	s.mu.Unlock()
	var err error
	if s.syncHook != nil {
		err = s.syncHook()
	}
	if err == nil {
		err = s.log.append(&q)
	}
	s.mu.Lock()
	if err != nil {
		// The changes made since the queue was taken are dropped with the
		// failed ones: restore puts back every key either batch changed.
		s.failed = fmt.Errorf("%w: sync of %d changes to %s: %w", ErrFailed, q.n, s.path, err)
		later := s.next
		s.taken += uint64(later.n)
		s.next = batch{}
		s.mu.Unlock()
		if rerr := s.restore(&q, &later); rerr != nil {
			s.mu.Lock()
			s.failed = fmt.Errorf("%w (and the cache could not be restored: %w)", s.failed, rerr)
			s.mu.Unlock()
		}
		return s.failed
	}
	s.next.reuse(&q)
	s.lists = q.chunks
	if s.ckptErr != nil {
		defer s.mu.Unlock()
		s.failed = fmt.Errorf("%w: %s: %w", ErrFailed, s.path, s.ckptErr)
		return s.failed
	}
	rotate, keys := s.log.size >= walLimit && s.ckptDone == nil, s.mem.byKey.n
	s.mu.Unlock()
	if !rotate {
		return nil
	}
	// The new log's file work (a MiB of zeros, the directory's fsync) is
	// done with s.syncMu alone: writers go on meanwhile.
	if err := s.rotate(keys); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.failed = fmt.Errorf("%w: rotate the log of %s: %w", ErrFailed, s.path, err)
		return s.failed
	}
	return nil
}

// Durable returns the binding of k as the lease files hold it (the bbolt
// file and, in deferred mode, the logs of what was synced since its last
// checkpoint): what a reopen would restore. It never reads the cache; it
// waits for a running Sync and checkpoint, and reads the logs whole (it is
// for checking, not for serving).
func (s *Bolt) Durable(k Key) (Binding, bool, error) {
	s.syncMu.Lock() // no log write meanwhile
	defer s.syncMu.Unlock()
	key := encodeKey(k)
	vals, err := s.durableStates(map[string]struct{}{string(key): {}})
	if err != nil {
		return Binding{}, false, fmt.Errorf("lease: read %s: %w", s.path, err)
	}
	val, found := vals[string(key)]
	if !found {
		return Binding{}, false, nil
	}
	b, err := decodeBinding(key, val)
	if err != nil {
		return Binding{}, false, fmt.Errorf("lease: read %s: %w", s.path, err)
	}
	return b, true, nil
}

// durableStates returns the record the lease files hold for each of keys
// (encoded; none for a key they do not bind): the bbolt file's, then the
// last of the logs' (PATH.wal.old's first) up to the end of the last
// frame a Sync wrote whole (a failed frame the kernel kept is not read).
// It waits for a running checkpoint, which moves states from the old log
// to the file. Called with s.syncMu held (no log write meanwhile) and
// s.mu not.
func (s *Bolt) durableStates(keys map[string]struct{}) (map[string][]byte, error) {
	s.mu.Lock()
	done := s.ckptDone
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	vals := make(map[string][]byte, len(keys))
	err := s.db.View(func(tx *bolt.Tx) error {
		bs := tx.Bucket(bucketBindings)
		for k := range keys {
			if v := bs.Get([]byte(k)); v != nil {
				vals[k] = bytes.Clone(v)
			}
		}
		return nil
	})
	if err != nil || !s.deferred {
		return vals, err
	}
	for _, p := range []string{s.path + walOldSuffix, s.path + walSuffix} {
		frames, err := readLog(p, s.id)
		if err != nil {
			return nil, err
		}
		if synced := int(s.log.size) - walStart; p == s.path+walSuffix && len(frames) > synced {
			frames = frames[:synced]
		}
		if _, err := applyFrames(frames, func(op byte, k, v []byte) error {
			if _, ok := keys[string(k)]; !ok {
				return nil
			}
			if op == walPut {
				vals[string(k)] = v
			} else {
				delete(vals, string(k))
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// restore puts the cache's binding of every key the batches (never
// written, or not synced) change back to what the lease files hold
// (durableStates). Keys they do not change hold that state already, so
// the cache is again what a reopen would serve. A failed Sync calls it,
// with s.syncMu held and s.mu not, after setting s.failed. Keeping each
// replaced binding instead (an undo list) cost the handler a copy of it
// at every change.
//
// When the files cannot be read, the changed keys are left unbound, so
// that the cache holds nothing the files may not, and the error is
// returned.
func (s *Bolt) restore(batches ...*batch) error {
	changed := make(map[string]struct{}) // the keys, encoded
	for _, q := range batches {
		if err := q.records(func(_ byte, key, _ []byte) error {
			changed[string(key)] = struct{}{}
			return nil
		}); err != nil {
			return err
		}
	}
	vals, err := s.durableStates(changed)
	var bs []Binding
	for k, v := range vals {
		if err != nil {
			break
		}
		var b Binding
		if b, err = decodeBinding([]byte(k), v); err == nil {
			bs = append(bs, b)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range changed {
		s.mem.deleteLocked(decodeKey([]byte(k)))
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	for i := range bs { // the files never bind one lease twice: no conflict
		if err := s.mem.putLocked(&bs[i]); err != nil {
			return fmt.Errorf("%w: binding of %s: %w", ErrCorrupt, bs[i].Lease, err)
		}
	}
	return nil
}

// decodeKey is the Key encodeKey laid out as k (at least 6 bytes).
func decodeKey(k []byte) Key {
	return KeyOf(k[5:], binary.BigEndian.Uint32(k[1:5]), IAType(k[0]))
}

// encodeKey lays a Key out as type (1 byte), IAID (4, big endian), DUID.
func encodeKey(k Key) []byte { return appendKey(make([]byte, 0, 5+len(k.DUID)), k) }

// appendKey appends encodeKey(k) to out.
func appendKey(out []byte, k Key) []byte {
	out = append(out, byte(k.Type))
	out = binary.BigEndian.AppendUint32(out, k.IAID)
	return append(out, k.DUID...)
}

// recordLen is the size of an encoded binding's fixed part: lease address
// (16) and length (1), then T1, T2, Preferred, Valid, Granted, Expires (8
// each). The variable tail follows (recordSize): the FQDN's length (1) and
// octets, a flag (1) and the link address (16) when the flag is 1, then
// the Relay-ID and the Remote-ID, each a length (2) and octets.
const recordLen = 16 + 1 + 6*8

// recordSize is the encoded size of b.
func recordSize(b *Binding) int {
	n := recordLen + 1 + len(b.FQDN) + 1 + 2 + len(b.RelayID) + 2 + len(b.RemoteID)
	if b.LinkAddr.IsValid() {
		n += 16
	}
	return n
}

// encodeBinding lays out what the key does not hold. Durations are
// nanoseconds; times are Unix nanoseconds (math.MinInt64 for the zero
// time), so a reloaded binding compares Equal, not ==, to the stored one.
func encodeBinding(b Binding) []byte { return appendRecord(make([]byte, 0, recordSize(&b)), &b) }

// appendRecord appends encodeBinding(b) to out. b must be valid (the
// lengths fit their fields: Binding.Validate). Its callers size out
// (recordSize), so that it does not grow.
func appendRecord(out []byte, b *Binding) []byte {
	var p [recordLen]byte // the fixed part, laid out in place and appended once
	*(*[16]byte)(p[:]) = b.Lease.Addr().As16()
	p[16] = byte(b.Lease.Bits())
	be := binary.BigEndian
	be.PutUint64(p[17:], uint64(b.T1))
	be.PutUint64(p[25:], uint64(b.T2))
	be.PutUint64(p[33:], uint64(b.Preferred))
	be.PutUint64(p[41:], uint64(b.Valid))
	be.PutUint64(p[49:], uint64(unixNano(b.Granted)))
	be.PutUint64(p[57:], uint64(unixNano(b.Expires)))
	out = append(out, p[:]...)
	out = append(out, byte(len(b.FQDN)))
	out = append(out, b.FQDN...)
	if b.LinkAddr.IsValid() {
		l := b.LinkAddr.As16()
		out = append(out, 1)
		out = append(out, l[:]...)
	} else {
		out = append(out, 0)
	}
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.RelayID)))
	out = append(out, b.RelayID...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.RemoteID)))
	return append(out, b.RemoteID...)
}

// recordEnd returns the length of the record at the start of v (its fixed
// part and tail), or false when v is shorter than the record says.
func recordEnd(v []byte) (int, bool) {
	n := recordLen
	if len(v) < n+1 {
		return 0, false
	}
	n += 1 + int(v[n])
	if len(v) < n+1 {
		return 0, false
	}
	if v[n] == 1 {
		n += 16
	} else if v[n] != 0 {
		return 0, false
	}
	n++
	for range 2 {
		if len(v) < n+2 {
			return 0, false
		}
		n += 2 + int(binary.BigEndian.Uint16(v[n:]))
	}
	if len(v) < n {
		return 0, false
	}
	return n, true
}

func decodeBinding(k, v []byte) (Binding, error) {
	if len(k) < 6 || len(v) < recordLen {
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
	if len(v) > recordLen { // format 2's tail; a format 1 record has none
		if n, ok := recordEnd(v); !ok || n != len(v) {
			return Binding{}, fmt.Errorf("%w: record tail of %d bytes", ErrCorrupt, len(v)-recordLen)
		}
		t := v[recordLen:]
		b.FQDN, t = string(t[1:1+t[0]]), t[1+t[0]:]
		if t[0] == 1 {
			b.LinkAddr, t = netip.AddrFrom16([16]byte(t[1:17])), t[17:]
		} else {
			t = t[1:]
		}
		n := int(binary.BigEndian.Uint16(t))
		if n > 0 {
			b.RelayID = append([]byte(nil), t[2:2+n]...)
		}
		t = t[2+n:]
		if n = int(binary.BigEndian.Uint16(t)); n > 0 {
			b.RemoteID = append([]byte(nil), t[2:2+n]...)
		}
	}
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
