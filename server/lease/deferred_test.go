package lease

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

func openDeferred(t *testing.T, path string) *Bolt {
	t.Helper()
	s, err := OpenBoltWith(path, BoltOptions{Deferred: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// crashOpen crashes s (crash) and opens its bbolt file at path with
// bbolt alone, for a spec to fold into by hand; it returns the file and
// the id of s's log.
func crashOpen(t *testing.T, s *Bolt, path string) (*bolt.DB, []byte) {
	t.Helper()
	id := s.id
	crash(t, s)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, id
}

// crash closes the file without syncing what is queued or folding the
// log in: what a SIGKILL between two Syncs leaves behind. (It lets a
// running checkpoint finish first: in a real crash it dies with the
// process, here it would race the reopen.)
func crash(t *testing.T, s *Bolt) {
	t.Helper()
	s.mu.Lock()
	done := s.ckptDone
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	_ = s.log.close()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

func nb(i, lease int, valid time.Duration) Binding {
	return bind(fmt.Sprintf("\x00\x03\x00\x01duid%03d", i), 1, NA, fmt.Sprintf("2001:db8::%x/128", lease+1), valid)
}

// Until Sync, deferred changes live only in the cache; Sync commits every
// queued Put, Delete and Expire at once, and a reopened file holds exactly
// the synced bindings.
func TestDeferredSyncCommitsEverythingQueued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.leases")
	s := openDeferred(t, path)
	model := NewMemory()
	for i := 0; i < 10; i++ {
		b := nb(i, i, time.Minute)
		if i%2 == 1 {
			b = nb(i, i, time.Second) // expires below
		}
		if err := s.Put(b); err != nil {
			t.Fatal(err)
		}
		_ = model.Put(b)
	}
	if w := s.Written(); w != 10 {
		t.Fatalf("Written = %d after 10 Puts, want 10", w)
	}
	if err := s.Delete(nb(0, 0, 0).Key()); err != nil {
		t.Fatal(err)
	}
	_ = model.Delete(nb(0, 0, 0).Key())
	if n, err := s.Expire(t0.Add(2*time.Second), nil); err != nil || n != 5 {
		t.Fatalf("Expire = %d, %v; want 5", n, err)
	}
	_, _ = model.Expire(t0.Add(2*time.Second), nil)
	// A key moved to another lease twice in one batch: the last state wins.
	for _, l := range []int{100, 101} {
		b := nb(2, l, time.Minute)
		if err := s.Put(b); err != nil {
			t.Fatal(err)
		}
		_ = model.Put(b)
	}
	if p := s.Pending(); p != 18 {
		t.Fatalf("Pending = %d, want 18 (one per change: 10 Puts, a Delete, 5 expired, 2 Puts)", p)
	}
	sameContents(t, "cache before Sync", s, model)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if p := s.Pending(); p != 0 {
		t.Fatalf("Pending = %d after Sync", p)
	}
	// Changed after the Sync, never synced: lost by the crash.
	if err := s.Put(nb(50, 50, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(nb(4, 4, 0).Key()); err != nil {
		t.Fatal(err)
	}
	if w := s.Written(); w != 20 {
		t.Fatalf("Written = %d, want 20 (18 synced, 2 queued since)", w)
	}
	crash(t, s)

	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "file reopened after a crash", again, model)
}

// A batch of many changes spans several chunks, a record longer than a
// chunk takes one of its own, and a Sync's chunks serve the next batch: a
// batch as large as the last takes no new chunk. What each Sync wrote is
// in the file after a crash.
func TestDeferredBatchInChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.leases")
	s := openDeferred(t, path)
	model := NewMemory()
	const n = 3000 // about 4 chunks of records
	put := func(round int) {
		for i := range n {
			b := nb(i, i, time.Duration(1+round)*time.Minute)
			if i%1000 == 7 { // a record of about 128 KiB
				b.RelayID, b.RemoteID = bytes.Repeat([]byte{byte(round)}, maxOpaque), bytes.Repeat([]byte{1}, maxOpaque)
			}
			if err := s.Put(b); err != nil {
				t.Fatal(err)
			}
			_ = model.Put(b)
		}
	}
	for round := range 3 {
		put(round)
		if got := len(s.next.chunks); got < 4 {
			t.Fatalf("round %d: %d changes in %d chunks, want more than 3", round, n, got)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	// Renewals as many as the last batch's changes, without its long
	// records (whose chunks are not kept): spare chunks serve them.
	renew := make([]Binding, n)
	for i := range renew {
		renew[i] = nb(i, i, time.Hour)
		_ = model.Put(renew[i])
	}
	spare := map[*byte]bool{}
	for _, c := range s.next.spare {
		spare[unsafe.SliceData(c)] = true
	}
	for i := range renew {
		_ = s.Put(renew[i])
	}
	for k, c := range s.next.chunks {
		if !spare[unsafe.SliceData(c)] {
			t.Fatalf("chunk %d of %d of a batch of %d Puts is new; the last batch's %d spare chunks should serve it", k, len(s.next.chunks), n, len(spare))
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "file reopened after a crash", again, model)
}

// A model check: random Puts, Deletes and Expires with a Sync at random
// points; after each Sync and after a crash, the file matches the model as
// of the last Sync.
func TestDeferredModel(t *testing.T) {
	for _, c := range []struct {
		limit int64
		tx    int
	}{{walLimit, foldTx}, {2048, foldTx}, {2048, 3}} {
		t.Run(fmt.Sprintf("log-limit-%d-fold-tx-%d", c.limit, c.tx), func(t *testing.T) {
			oldLimit, oldTx := walLimit, foldTx
			walLimit, foldTx = c.limit, c.tx
			defer func() { walLimit, foldTx = oldLimit, oldTx }()
			deferredModel(t)
		})
	}
}

// A checkpoint that fails after some of its transactions leaves its log
// in place: the file holds the first transactions' records, and the log
// still holds every record, for the next open to apply whole. (The last
// key is longer than bbolt takes, so the fold's last transaction fails.)
func TestFailedFoldKeepsItsLog(t *testing.T) {
	oldTx := foldTx
	foldTx = 2
	defer func() { foldTx = oldTx }()
	path := filepath.Join(t.TempDir(), "f.leases")
	s := openDeferred(t, path)
	for i := range 4 {
		if err := s.Put(nb(i, i, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	huge := nb(9, 9, time.Hour)
	huge.IAID = math.MaxUint32 // sorts last
	huge.DUID = bytes.Repeat([]byte{7}, bolt.MaxKeySize)
	if err := s.Put(huge); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	db, id := crashOpen(t, s, path)
	defer db.Close()
	if _, err := foldLogs(db, id, 0, foldTx, path+walSuffix); !errors.Is(err, bolt.ErrKeyTooLarge) {
		t.Fatalf("fold = %v, want bbolt's ErrKeyTooLarge", err)
	}
	var inFile int
	if err := db.View(func(tx *bolt.Tx) error {
		inFile = tx.Bucket(bucketBindings).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	frames, err := readLog(path+walSuffix, id)
	if err != nil {
		t.Fatal(err)
	}
	inLog, err := applyFrames(frames, func(byte, []byte, []byte) error { return nil })
	if err != nil || inFile != 4 || inLog != 5 {
		t.Fatalf("after the failed fold: %d bindings in the file (want the first two transactions' 4), %d records in the log (want 5), %v", inFile, inLog, err)
	}
}

// A fold that stopped after some of its transactions (a crash in a
// checkpoint) is applied again whole at the next open: the file then
// holds every synced binding, whichever part was written before.
func TestPartialFoldReplaysWhole(t *testing.T) {
	for _, done := range []int{0, 1, 7, 20} {
		t.Run(fmt.Sprint("records-folded-", done), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.leases")
			s := openDeferred(t, path)
			model := NewMemory()
			for round := range 3 {
				for i := range 20 {
					b := nb(i, i, time.Duration(round+1)*time.Hour)
					if err := s.Put(b); err != nil {
						t.Fatal(err)
					}
					_ = model.Put(b)
				}
				if err := s.Sync(); err != nil {
					t.Fatal(err)
				}
			}
			// What a checkpoint had written when it stopped: the last
			// state of the first done keys, in key order.
			db, id := crashOpen(t, s, path)
			frames, err := readLog(path+walSuffix, id)
			if err != nil {
				t.Fatal(err)
			}
			last := map[string]walRecord{}
			if _, err := applyFrames(frames, func(op byte, key, val []byte) error {
				last[string(key)] = walRecord{key: key, val: val, op: op}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			recs := slices.SortedFunc(maps.Values(last), func(a, b walRecord) int { return bytes.Compare(a.key, b.key) })
			if err := applySorted(db, recs[:done], foldTx); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			again := openBolt(t, path)
			defer again.Close()
			sameContents(t, "file reopened after a partial fold", again, model)
		})
	}
}

func deferredModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.leases")
	s := openDeferred(t, path)
	rng := rand.New(rand.NewPCG(6, 3))
	cache, synced := NewMemory(), NewMemory()
	now := t0
	copyStore := func(from Store) *Memory {
		m := NewMemory()
		for b := range from.All() {
			_ = m.Put(b)
		}
		return m
	}
	for i := 0; i < 2000; i++ {
		k, l := rng.IntN(40), rng.IntN(60)
		switch r := rng.IntN(10); {
		case r < 6:
			b := nb(k, l, time.Duration(1+rng.IntN(60))*time.Second)
			b.Granted, b.Expires = now, now.Add(b.Valid)
			err, want := s.Put(b), cache.Put(b)
			if !errors.Is(err, want) {
				t.Fatalf("op %d: Put = %v, model %v", i, err, want)
			}
		case r < 8:
			_ = cache.Delete(nb(k, 0, 0).Key())
			if err := s.Delete(nb(k, 0, 0).Key()); err != nil {
				t.Fatal(err)
			}
		case r < 9:
			now = now.Add(time.Duration(rng.IntN(5)) * time.Second)
			n1, err := s.Expire(now, nil)
			n2, _ := cache.Expire(now, nil)
			if err != nil || n1 != n2 {
				t.Fatalf("op %d: Expire = %d, %v; model %d", i, n1, err, n2)
			}
		default:
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			synced = copyStore(cache)
		}
	}
	sameContents(t, "cache", s, cache)
	crash(t, s)
	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "file after a crash", again, synced)
}

// A failed Sync rolls the cache back to the last synced state, drops the
// queue and fails every later write; the file keeps the last synced state.
func TestDeferredSyncFailureRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.leases")
	s := openDeferred(t, path)
	synced := NewMemory()
	for i := 0; i < 5; i++ {
		_ = s.Put(nb(i, i, time.Minute))
		_ = synced.Put(nb(i, i, time.Minute))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// The failing batch: a new key, a moved key taking a lease another
	// key freed, a deletion and an expiry.
	_ = s.Delete(nb(1, 1, 0).Key())
	if err := s.Put(nb(2, 1, time.Minute)); err != nil { // key 2 moves to lease 1
		t.Fatal(err)
	}
	if err := s.Put(nb(3, 2, time.Minute)); err != nil { // key 3 takes key 2's old lease
		t.Fatal(err)
	}
	_ = s.Put(nb(9, 9, time.Second))
	if _, err := s.Expire(t0.Add(2*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	_ = s.Put(nb(10, 10, time.Minute))
	boom := errors.New("disk on fire")
	s.syncHook = func() error { return boom }
	err := s.Sync()
	if !errors.Is(err, ErrFailed) || !errors.Is(err, boom) {
		t.Fatalf("Sync = %v, want ErrFailed wrapping the cause", err)
	}
	sameContents(t, "cache after the failed Sync", s, synced)
	if err := s.Put(nb(20, 20, time.Minute)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Put after a failed Sync = %v, want ErrFailed", err)
	}
	if err := s.Delete(nb(0, 0, 0).Key()); !errors.Is(err, ErrFailed) {
		t.Fatalf("Delete after a failed Sync = %v, want ErrFailed", err)
	}
	if err := s.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync after a failed Sync = %v, want ErrFailed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after a failed Sync: %v", err)
	}
	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "file after the failed Sync", again, synced)
}

// A failed Sync whose frame the kernel kept (written whole, its
// fdatasync failed) restores the cache to the last good Sync, not to
// that frame: the log is read up to the end of the last synced frame.
func TestDeferredFailedFrameNotRestored(t *testing.T) {
	s := openDeferred(t, filepath.Join(t.TempDir(), "k.leases"))
	defer s.Close()
	synced := NewMemory()
	for i := range 3 {
		_ = s.Put(nb(i, i, time.Minute))
		_ = synced.Put(nb(i, i, time.Minute))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = s.Put(nb(1, 5, time.Minute)) // key 1 moves
	_ = s.Put(nb(7, 7, time.Minute)) // key 7 arrives
	_ = s.Delete(nb(2, 0, 0).Key())  // key 2 goes
	s.syncHook = func() error {
		// What a write that went through before its fdatasync failed
		// leaves: the batch's frame, whole and intact, after the last
		// (written by a copy of the log, whose end stays where it was).
		var q batch
		for _, b := range []Binding{nb(1, 5, time.Minute), nb(7, 7, time.Minute)} {
			q.put(&b)
		}
		q.del(nb(2, 0, 0).Key())
		w := *s.log
		w.flush = false
		if err := w.append(&q); err != nil {
			t.Error(err)
		}
		return errors.New("fdatasync: input/output error")
	}
	if err := s.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync = %v, want ErrFailed", err)
	}
	sameContents(t, "cache after the failed Sync", s, synced)
	for _, i := range []int{1, 2, 7} {
		got, ok, err := s.Durable(nb(i, 0, 0).Key())
		want, wok := synced.Get(nb(i, 0, 0).Key())
		if err != nil || ok != wok || (ok && got.Lease != want.Lease) {
			t.Fatalf("Durable(key %d) = %v, %v, %v; want %v, %v", i, got.Lease, ok, err, want.Lease, wok)
		}
	}
}

// Close syncs what is queued: a clean shutdown loses nothing.
func TestDeferredCloseSyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.leases")
	s := openDeferred(t, path)
	want := NewMemory()
	for i := 0; i < 3; i++ {
		_ = s.Put(nb(i, i, time.Minute))
		_ = want.Put(nb(i, i, time.Minute))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "file after Close", again, want)
}

// BenchmarkDeferredSync measures one Sync of a batch of Puts to a file
// already holding 10k bindings: the cost group commit spreads over a batch.
func BenchmarkDeferredSync(b *testing.B) {
	for _, batch := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprint("batch", batch), func(b *testing.B) {
			s, err := OpenBoltWith(filepath.Join(b.TempDir(), "b.leases"), BoltOptions{Deferred: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const held = 10000
			for i := 0; i < held; i++ {
				_ = s.Put(nb(i, i, time.Hour))
			}
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < batch; j++ {
					k := rng.IntN(held)
					bb := nb(k, k, time.Hour)
					bb.Granted = t0.Add(time.Duration(i) * time.Second)
					if err := s.Put(bb); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}

// Writers go on while a Sync's transaction runs: their changes wait for
// the next Sync; if the transaction fails, they are rolled back too.
func TestDeferredWritesDuringSync(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.leases")
			s := openDeferred(t, path)
			synced := NewMemory()
			_ = s.Put(nb(1, 1, time.Minute))
			_ = synced.Put(nb(1, 1, time.Minute))
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			_ = s.Put(nb(2, 2, time.Minute)) // in the Sync below
			s.syncHook = func() error {
				// Meanwhile: key 1 moves again and key 3 arrives.
				if err := s.Put(nb(1, 5, time.Minute)); err != nil {
					t.Error(err)
				}
				if err := s.Put(nb(3, 3, time.Minute)); err != nil {
					t.Error(err)
				}
				if fail {
					return errors.New("io error")
				}
				return nil
			}
			err := s.Sync()
			s.syncHook = nil
			if fail {
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("Sync = %v", err)
				}
				sameContents(t, "cache after the failed Sync", s, synced)
				_ = s.Close()
				again := openBolt(t, path)
				defer again.Close()
				sameContents(t, "file", again, synced)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Durable(nb(2, 0, 0).Key()); !ok {
				t.Fatal("key 2, queued before the Sync, is not in the file")
			}
			if _, ok, _ := s.Durable(nb(3, 0, 0).Key()); ok {
				t.Fatal("key 3, written during the transaction, is in the file already")
			}
			if b, _, _ := s.Durable(nb(1, 0, 0).Key()); b.Lease != nb(1, 1, 0).Lease {
				t.Fatalf("key 1 in the file: %s, want its synced lease", b.Lease)
			}
			if p := s.Pending(); p != 2 {
				t.Fatalf("Pending = %d, want 2 (keys 1 and 3)", p)
			}
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			crash(t, s)
			again := openBolt(t, path)
			defer again.Close()
			want := NewMemory()
			for _, b := range []Binding{nb(1, 5, time.Minute), nb(2, 2, time.Minute), nb(3, 3, time.Minute)} {
				_ = want.Put(b)
			}
			sameContents(t, "file", again, want)
		})
	}
}

// A torn last frame (a crash in the middle of a log write) is ignored on
// reopen; the frames before it are replayed, and the log is folded into
// the bbolt file so that no log is left.
func TestDeferredTornLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.leases")
	s := openDeferred(t, path)
	want := NewMemory()
	for i := 0; i < 3; i++ {
		_ = s.Put(nb(i, i, time.Minute))
		_ = want.Put(nb(i, i, time.Minute))
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Put(nb(7, 7, time.Minute))
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	// Tear the last frame: zero its last 10 bytes.
	log := path + walSuffix
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	end := logEnd(b)
	clear(b[end-10 : end])
	if err := os.WriteFile(log, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again := openBolt(t, path)
	sameContents(t, "file after a torn log write", again, want)
	if _, err := os.Stat(log); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("log left after replay: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	// A flipped bit fails the CRC the same way.
	s = openDeferred(t, path)
	_ = s.Put(nb(8, 8, time.Minute))
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	b, _ = os.ReadFile(log)
	b[logEnd(b)-1] ^= 1
	_ = os.WriteFile(log, b, 0o600)
	again = openBolt(t, path)
	defer again.Close()
	sameContents(t, "file after a corrupt log frame", again, want)
}

// Close folds the log into the bbolt file and removes it; a deferred
// store's log grows by one frame per Sync, never per Put.
func TestDeferredLogFrames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.leases")
	s := openDeferred(t, path)
	for i := 0; i < 100; i++ {
		_ = s.Put(nb(i, i, time.Minute))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path + walSuffix)
	if err != nil {
		t.Fatal(err)
	}
	b = b[walStart:]
	frames := 0
	for len(b) >= walHeader && binary.BigEndian.Uint32(b) != 0 {
		frames++
		b = b[walHeader+int(binary.BigEndian.Uint32(b)):]
	}
	if frames != 1 {
		t.Fatalf("%d frames for one Sync", frames)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{walSuffix, walOldSuffix} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left after Close: %v", suffix, err)
		}
	}
}

// logEnd is the end of the last frame in a log's bytes.
func logEnd(b []byte) int {
	end := walStart
	for end+walHeader <= len(b) {
		n := int(binary.BigEndian.Uint32(b[end:]))
		if n == 0 {
			break
		}
		end += walHeader + n
	}
	return end
}

// A log left beside a lease file that was deleted (a lab wiping a
// server's state removes only the file) is not replayed into the new one.
func TestDeferredStaleLogIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.leases")
	s := openDeferred(t, path)
	_ = s.Put(nb(1, 1, time.Minute))
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	if err := os.Remove(path); err != nil { // the wipe
		t.Fatal(err)
	}
	again := openBolt(t, path)
	defer again.Close()
	sameContents(t, "a new file beside a stale log", again, NewMemory())
	if _, err := os.Stat(path + walSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale log kept: %v", err)
	}
}

// A failed Sync after random Puts (lease moves and conflicts among them),
// Deletes and Expires, some of them made while the failing Sync writes,
// leaves the cache exactly as the last good Sync left it: every key they
// changed is read back from the files (restore). Odd seeds run with a log
// of 2 KiB, so that checkpoints run beside the writes and the state to
// restore is split between the bbolt file and the logs.
func TestDeferredFailureRollbackModel(t *testing.T) {
	oldLimit := walLimit
	defer func() { walLimit = oldLimit }()
	for seed := uint64(0); seed < 30; seed++ {
		walLimit = oldLimit
		if seed%2 == 1 {
			walLimit = 2 << 10
		}
		path := filepath.Join(t.TempDir(), fmt.Sprint(seed, ".leases"))
		s := openDeferred(t, path)
		rng := rand.New(rand.NewPCG(seed, 11))
		cache := NewMemory()
		var synced []Binding
		now := t0
		op := func() {
			k, l := rng.IntN(30), rng.IntN(40)
			switch r := rng.IntN(10); {
			case r < 7:
				b := nb(k, l, time.Duration(1+rng.IntN(20))*time.Second)
				b.Granted, b.Expires = now, now.Add(b.Valid)
				if err, want := s.Put(b), cache.Put(b); !errors.Is(err, want) {
					t.Fatalf("seed %d: Put = %v, model %v", seed, err, want)
				}
			case r < 9:
				_ = cache.Delete(nb(k, 0, 0).Key())
				if err := s.Delete(nb(k, 0, 0).Key()); err != nil {
					t.Fatal(err)
				}
			default:
				now = now.Add(time.Duration(rng.IntN(4)) * time.Second)
				_, _ = cache.Expire(now, nil)
				if _, err := s.Expire(now, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := 0; i < 400; i++ {
			op()
			if rng.IntN(20) == 0 {
				if err := s.Sync(); err != nil {
					t.Fatal(err)
				}
				synced = slices.Collect(cache.All())
			}
		}
		for range 50 { // the batch that fails
			op()
		}
		s.syncHook = func() error {
			for range 30 { // and changes made while it writes
				op()
			}
			return errors.New("io error")
		}
		if err := s.Sync(); !errors.Is(err, ErrFailed) {
			t.Fatalf("seed %d: Sync = %v", seed, err)
		}
		want := NewMemory()
		for _, b := range synced {
			_ = want.Put(b)
		}
		sameContents(t, fmt.Sprintf("seed %d: cache after the failed Sync", seed), s, want)
		_ = s.Close()
	}
}

// Each Durability's Sync: OnDisk fdatasyncs the log once a Sync, InKernel
// never; either way what a Sync took is in the file for a reopen after the
// process dies (crash: the kernel keeps what was written).
func TestDeferredDurability(t *testing.T) {
	for _, d := range []Durability{OnDisk, InKernel} {
		t.Run(d.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.leases")
			s, err := OpenBoltWith(path, BoltOptions{Deferred: true, Durability: d})
			if err != nil {
				t.Fatal(err)
			}
			if s.Durability() != d {
				t.Fatalf("Durability() = %v, want %v", s.Durability(), d)
			}
			want := NewMemory()
			for i := 0; i < 3; i++ {
				_ = s.Put(nb(i, i, time.Minute))
				_ = want.Put(nb(i, i, time.Minute))
				if err := s.Sync(); err != nil {
					t.Fatal(err)
				}
			}
			wantFlushes := uint64(3)
			if d == InKernel {
				wantFlushes = 0
			}
			if got := s.log.flushed; got != wantFlushes {
				t.Fatalf("%v: %d fdatasyncs after 3 Syncs, want %d", d, got, wantFlushes)
			}
			crash(t, s)
			again := openBolt(t, path)
			defer again.Close()
			sameContents(t, "file reopened after a crash", again, want)
		})
	}
}

func TestParseDurability(t *testing.T) {
	for _, d := range []Durability{OnDisk, InKernel} {
		got, err := ParseDurability(d.String())
		if err != nil || got != d {
			t.Fatalf("ParseDurability(%q) = %v, %v; want %v", d.String(), got, err, d)
		}
	}
	if _, err := ParseDurability("fsync"); err == nil || !strings.Contains(err.Error(), `"fsync"`) {
		t.Fatalf("ParseDurability(fsync) = %v, want an error naming the value", err)
	}
}
