package lease

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openBolt(t *testing.T, path string) *Bolt {
	t.Helper()
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameBinding compares two bindings field by field (times with Equal: a
// reloaded time has no monotonic reading and may have another location).
func sameBinding(a, b Binding) bool {
	return string(a.DUID) == string(b.DUID) && a.IAID == b.IAID && a.Type == b.Type && a.Lease == b.Lease &&
		a.T1 == b.T1 && a.T2 == b.T2 && a.Preferred == b.Preferred && a.Valid == b.Valid &&
		a.Granted.Equal(b.Granted) && a.Expires.Equal(b.Expires) &&
		a.FQDN == b.FQDN && a.LinkAddr == b.LinkAddr && string(a.RelayID) == string(b.RelayID) && string(a.RemoteID) == string(b.RemoteID)
}

// sameContents fails unless got holds exactly the bindings of want.
func sameContents(t *testing.T, what string, got, want Store) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: Len %d, want %d", what, got.Len(), want.Len())
	}
	for w := range want.All() {
		g, ok := got.Get(w.Key())
		if !ok || !sameBinding(g, w) {
			t.Fatalf("%s: Get(%q/%d/%s) = %+v, %v; want %+v", what, w.DUID, w.IAID, w.Type, g, ok, w)
		}
		if g, ok := got.GetByLease(w.Lease); !ok || g.Key() != w.Key() {
			t.Fatalf("%s: GetByLease(%s) = %+v, %v", what, w.Lease, g, ok)
		}
	}
}

func TestBoltRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.leases")
	s := openBolt(t, path)
	b := bind("\x00\x03\x00\x01abcdef", 7, NA, "2001:db8::1/128", time.Minute)
	// FQDN and relay data go through the file (and the log) too.
	b.FQDN, b.LinkAddr = "h7.lab.example.", netip.MustParseAddr("2001:db8:1::1")
	b.RelayID, b.RemoteID = []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}, []byte{0, 0, 0, 9, 'r'}
	if err := s.Put(b); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Get(b.Key()); !ok || !sameBinding(got, b) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if err := s.Put(bind("other", 1, NA, "2001:db8::1/128", time.Minute)); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflicting Put: %v, want ErrConflict", err)
	}
	if err := s.Put(bind("", 1, NA, "2001:db8::9/128", time.Minute)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid Put: %v, want ErrInvalid", err)
	}
	gone := bind("gone", 2, PD, "2001:db8:100::/56", time.Hour)
	gone.Granted = time.Time{} // a zero time survives the file too
	if err := s.Put(gone); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(gone.Key()); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(gone.Key()); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	zero := bind("zero", 3, PD, "2001:db8:200::/56", time.Hour)
	zero.Granted = time.Time{}
	if err := s.Put(zero); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	r := openBolt(t, path)
	defer r.Close()
	want := NewMemory()
	_ = want.Put(b)
	_ = want.Put(zero)
	sameContents(t, "reopened", r, want)
	if got, _ := r.Get(zero.Key()); !got.Granted.IsZero() {
		t.Fatalf("zero Granted came back as %v", got.Granted)
	}
	if r.Path() != path {
		t.Fatalf("Path = %q", r.Path())
	}
}

// Reopening restores every binding, the lease index and the expiry order:
// Expire after a reopen reclaims exactly the due bindings, and what it
// reclaims is gone from the file too.
func TestBoltReopenRestoresAndExpires(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.leases")
	s := openBolt(t, path)
	want := NewMemory()
	for i := 1; i <= 200; i++ {
		typ, lease := NA, fmt.Sprintf("2001:db8::%x/128", i)
		if i%3 == 0 {
			typ, lease = PD, fmt.Sprintf("2001:db8:%x::/48", i)
		}
		b := bind(fmt.Sprint("c", i), uint32(i), typ, lease, time.Duration(i)*time.Minute)
		for _, st := range []Store{s, want} {
			if err := st.Put(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Extend c1 past everyone and move c2 to another address.
	b1, _ := s.Get(KeyOf([]byte("c1"), 1, NA))
	b1.Granted, b1.Expires = t0.Add(time.Minute), t0.Add(1000*time.Minute)
	b2, _ := s.Get(KeyOf([]byte("c2"), 2, NA))
	b2.Lease = netip.MustParsePrefix("2001:db8::ffff/128")
	for _, st := range []Store{s, want} {
		if err := st.Put(b1); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(b2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	r := openBolt(t, path)
	sameContents(t, "reopened", r, want)
	r.mem.check(t)
	if _, ok := r.GetByLease(netip.MustParsePrefix("2001:db8::2/128")); ok {
		t.Fatal("the address c2 moved away from is bound after reopen")
	}

	var gone []int
	n, err := r.Expire(t0.Add(100*time.Minute), func(b Binding) {
		gone = append(gone, int(b.IAID))
		if _, ok := r.Get(b.Key()); ok { // fn may call the store
			t.Errorf("c%d still held inside fn", b.IAID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// c2..c100 expire at or before minute 100; c1 was extended.
	sort.Ints(gone)
	if n != 99 || len(gone) != 99 || gone[0] != 2 || gone[98] != 100 {
		t.Fatalf("Expire reclaimed %d: %v", n, gone)
	}
	_, _ = want.Expire(t0.Add(100*time.Minute), nil)
	sameContents(t, "after Expire", r, want)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// The expired bindings left the file.
	r2 := openBolt(t, path)
	defer r2.Close()
	sameContents(t, "reopened after Expire", r2, want)
	if n, _ := r2.Expire(t0.Add(100*time.Minute), nil); n != 0 {
		t.Fatalf("reopened store expired %d more", n)
	}
}

// A random sequence of operations, with the file closed and reopened now
// and then, keeps Bolt equal to a Memory that saw the same operations.
func TestBoltModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.leases")
	rng := rand.New(rand.NewPCG(3, 4))
	s := openBolt(t, path)
	defer func() { _ = s.Close() }()
	model := NewMemory()
	now := t0
	for step := 0; step < 1500; step++ {
		k := rng.IntN(60)
		key := KeyOf([]byte(fmt.Sprint("c", k)), uint32(k), NA)
		switch op := rng.IntN(20); {
		case op < 12:
			b := bind(fmt.Sprint("c", k), uint32(k), NA, fmt.Sprintf("2001:db8::%x/128", rng.IntN(120)+1), time.Duration(rng.IntN(600)+1)*time.Second)
			b.Granted, b.Expires = now, now.Add(b.Valid)
			errM, errB := model.Put(b), s.Put(b)
			if !errors.Is(errB, errM) {
				t.Fatalf("step %d: Put: bolt %v, memory %v", step, errB, errM)
			}
		case op < 15:
			_ = model.Delete(key)
			if err := s.Delete(key); err != nil {
				t.Fatal(err)
			}
		case op < 19:
			now = now.Add(time.Duration(rng.IntN(60)) * time.Second)
			nm, _ := model.Expire(now, nil)
			nb, err := s.Expire(now, nil)
			if err != nil || nb != nm {
				t.Fatalf("step %d: Expire: bolt %d %v, memory %d", step, nb, err, nm)
			}
		default:
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openBolt(t, path)
			s.mem.check(t)
		}
		sameContents(t, fmt.Sprint("step ", step), s, model)
	}
}

func TestBoltRefusesCorruptFile(t *testing.T) {
	for name, write := range map[string]func(*bolt.Tx) error{
		"short record": func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucketIfNotExists(bucketBindings)
			return b.Put(encodeKey(KeyOf([]byte("c"), 1, NA)), []byte{1, 2, 3})
		},
		"invalid binding": func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucketIfNotExists(bucketBindings)
			bad := bind("c", 1, NA, "2001:db8::1/128", time.Minute)
			bad.Lease = netip.MustParsePrefix("2001:db8::/64") // an IA_NA lease must be a /128
			return b.Put(encodeKey(bad.Key()), encodeBinding(bad))
		},
		"one lease twice": func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucketIfNotExists(bucketBindings)
			for _, c := range []string{"c1", "c2"} {
				x := bind(c, 1, NA, "2001:db8::1/128", time.Minute)
				if err := b.Put(encodeKey(x.Key()), encodeBinding(x)); err != nil {
					return err
				}
			}
			return nil
		},
		"other format": func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucketIfNotExists(bucketMeta)
			return b.Put(metaFormat, []byte{99})
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.leases")
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(write); err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			if s, err := OpenBolt(path); !errors.Is(err, ErrCorrupt) {
				if s != nil {
					_ = s.Close()
				}
				t.Fatalf("OpenBolt = %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := OpenBolt(filepath.Join(t.TempDir(), "no", "such", "dir", "x.leases")); err == nil {
		t.Fatal("OpenBolt in a missing directory succeeded")
	}
}

// A lease file of format 1 (records without the FQDN and relay tail)
// still loads, its bindings without those fields, and is marked format 2;
// a record with a torn tail is corrupt.
func TestBoltReadsFormat1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.leases")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := bind("c1", 1, NA, "2001:db8::1/128", time.Hour)
	if err := db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucketIfNotExists(bucketMeta)
		if err := m.Put(metaFormat, []byte{1}); err != nil {
			return err
		}
		bs, _ := tx.CreateBucketIfNotExists(bucketBindings)
		return bs.Put(encodeKey(b.Key()), encodeBinding(b)[:recordLen])
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s := openBolt(t, path)
	if got, ok := s.Get(b.Key()); !ok || !sameBinding(got, b) {
		t.Fatalf("format 1 binding: Get = %+v, %v; want %+v", got, ok, b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaFormat); len(v) != 1 || v[0] != boltFormat {
			t.Errorf("format after a load: %v, want %d", v, boltFormat)
		}
		return nil
	})
	b.FQDN = "h1.lab.example."
	rec := encodeBinding(b)
	if _, err := decodeBinding(encodeKey(b.Key()), rec[:len(rec)-1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a torn tail: %v, want ErrCorrupt", err)
	}
}

// --- SIGKILL: what Put returned for is in the file. ---

const helperEnv = "D6LAB_LEASE_HELPER_FILE"

// helperOp is step i of the helper's deterministic workload: mostly new
// bindings, and every sixth step an extension or a move (a new address for
// an existing key) or a deletion of an earlier one.
func helperOp(i int) (kind string, key, lease, expMin int) {
	switch i % 6 {
	case 4:
		if (i/6)%2 == 0 {
			return "ext", i - 4, i - 4 + 1, 10 + i
		}
		return "move", i - 4, 1_000_000 + i, 10 + i
	case 5:
		return "del", i - 4, 0, 0
	}
	return "put", i, i + 1, 10
}

func helperBinding(key, lease, expMin int) Binding {
	b := bind(fmt.Sprint("client-", key), uint32(key), NA, "2001:db8::1/128", time.Minute)
	b.Lease = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(lease >> 24), byte(lease >> 16), byte(lease >> 8), byte(lease)}), 128)
	b.Expires = t0.Add(time.Duration(expMin) * time.Minute)
	return b
}

type helperState map[int]struct{ lease, exp int }

func (m helperState) apply(i int) {
	kind, key, lease, exp := helperOp(i)
	if kind == "del" {
		delete(m, key)
		return
	}
	m[key] = struct{ lease, exp int }{lease, exp}
}

// TestHelperProcess is not a test: TestBoltSurvivesSIGKILL runs the test
// binary with helperEnv set and this test selected, and it then applies
// helperOp(0), helperOp(1), ... to a Bolt, printing each step's number
// once the store call has returned, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process of TestBoltSurvivesSIGKILL; runs only when it sets " + helperEnv)
	}
	s, err := OpenBolt(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	w := bufio.NewWriterSize(os.Stdout, 64)
	for i := 0; i < 1_000_000; i++ {
		kind, key, lease, exp := helperOp(i)
		if kind == "del" {
			err = s.Delete(KeyOf([]byte(fmt.Sprint("client-", key)), uint32(key), NA))
		} else {
			err = s.Put(helperBinding(key, lease, exp))
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Fprintf(w, "%d\n", i)
		w.Flush() // the step is acknowledged only once it is written
	}
	os.Exit(0)
}

// A process that Puts and Deletes, printing each step after the call
// returns, is SIGKILLed at a random step; the reopened file holds the state
// after the last printed step, or after the one following it (killed after
// its commit, before its print), never anything else.
func TestBoltSurvivesSIGKILL(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 3; round++ {
		killAt := 50 + rng.IntN(250)
		path := filepath.Join(t.TempDir(), "x.leases")
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		last, killed := -1, false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("helper said %q", sc.Text())
			}
			last = n
			if n >= killAt && !killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
		}

		before, after := helperState{}, helperState{}
		for i := 0; i <= last; i++ {
			before.apply(i)
			after.apply(i)
		}
		after.apply(last + 1)
		s := openBolt(t, path)
		okBefore, okAfter := matches(s, before), matches(s, after)
		_ = s.Close()
		if okBefore != nil && okAfter != nil {
			t.Fatalf("round %d, killed after step %d: the file matches neither the acknowledged state (%v) nor the one after the next step (%v)",
				round, last, okBefore, okAfter)
		}
		t.Logf("round %d: killed after step %d acknowledged; %d bindings restored", round, last, len(before))
	}
}

func matches(s *Bolt, want helperState) error {
	if s.Len() != len(want) {
		return fmt.Errorf("%d bindings, want %d", s.Len(), len(want))
	}
	for key, w := range want {
		wb := helperBinding(key, w.lease, w.exp)
		b, ok := s.Get(wb.Key())
		if !ok {
			return fmt.Errorf("client-%d missing", key)
		}
		if b.Lease != wb.Lease || !b.Expires.Equal(wb.Expires) {
			return fmt.Errorf("client-%d holds %s until %v, want %s until %v", key, b.Lease, b.Expires, wb.Lease, wb.Expires)
		}
	}
	return nil
}
