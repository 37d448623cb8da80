package lease

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRenew measures what a server's Renew asks of its store: a Get
// and a Put extending a binding held, over 32,768 bindings, in a Memory
// and in a deferred Bolt with group commit as server.Serve does it (a
// committer goroutine Syncs once per 128 changes while the writer goes
// on; the benchmark ends after the last Sync). The difference is what
// durability costs the handler.
func BenchmarkRenew(b *testing.B) {
	for _, durable := range []bool{false, true} {
		name := "memory"
		if durable {
			name = "durable"
		}
		b.Run(name, func(b *testing.B) {
			var st Store = NewMemory()
			var bs *Bolt
			if durable {
				s, err := OpenBoltWith(filepath.Join(b.TempDir(), "b.leases"), BoltOptions{Deferred: true})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				st, bs = s, s
			}
			const held = 1 << 15
			bb := make([]Binding, held)
			for i := range bb {
				bb[i] = nb(i, i, time.Hour)
				if err := st.Put(bb[i]); err != nil {
					b.Fatal(err)
				}
			}
			wake := make(chan struct{}, 1)
			synced := make(chan error, 1)
			if bs != nil {
				if err := bs.Sync(); err != nil {
					b.Fatal(err)
				}
				go func() { // the committer
					var err error
					for range wake {
						if err == nil {
							err = bs.Sync()
						}
					}
					synced <- err
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x := bb[i%held]
				x.Granted = t0.Add(time.Duration(i) * time.Microsecond)
				x.Expires = x.Granted.Add(x.Valid)
				if _, ok := st.Get(KeyView(x.DUID, x.IAID, x.Type)); !ok {
					b.Fatal("binding missing")
				}
				if err := st.Put(x); err != nil {
					b.Fatal(err)
				}
				if bs != nil && i%128 == 127 {
					select {
					case wake <- struct{}{}:
					default: // a Sync is due already: it will take these too
					}
				}
			}
			if bs != nil {
				wake <- struct{}{}
				close(wake)
				if err := <-synced; err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer() // not the Close's checkpoint
		})
	}
}

// BenchmarkCheckpoint measures one checkpoint (foldLogs) of a log of
// renewals: 32,768 bindings renewed 20 times each, synced 128 changes at
// a time (as BenchmarkRenew's committer), folded into the bbolt file that
// holds them all. The log is copied back before each fold (not timed).
func BenchmarkCheckpoint(b *testing.B) {
	path := filepath.Join(b.TempDir(), "b.leases")
	deferred := BoltOptions{Deferred: true}
	s, err := OpenBoltWith(path, deferred)
	if err != nil {
		b.Fatal(err)
	}
	const held, rounds = 1 << 15, 20
	bb := make([]Binding, held)
	for i := range bb {
		bb[i] = nb(i, i, time.Hour)
		if err := s.Put(bb[i]); err != nil {
			b.Fatal(err)
		}
	}
	// The bindings in the file (Close folds the log), the renewals in a
	// log of their own.
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if s, err = OpenBoltWith(path, deferred); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for r := 1; r <= rounds; r++ {
		for i := range bb {
			x := bb[i]
			x.Granted = t0.Add(time.Duration(r) * time.Minute)
			x.Expires = x.Granted.Add(x.Valid)
			if err := s.Put(x); err != nil {
				b.Fatal(err)
			}
			if i%128 == 127 {
				if err := s.Sync(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := s.Sync(); err != nil {
		b.Fatal(err)
	}
	log, err := os.ReadFile(path + walSuffix)
	if err != nil {
		b.Fatal(err)
	}
	old := path + walOldSuffix
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := os.WriteFile(old, log, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := foldLogs(s.db, s.id, 0, foldTx, old)
		if err != nil {
			b.Fatal(err)
		}
		if n != held*rounds {
			b.Fatalf("folded %d records, want %d", n, held*rounds)
		}
	}
	b.StopTimer() // not the Close's checkpoint of the live log
}
