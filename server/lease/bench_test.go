package lease

import (
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
