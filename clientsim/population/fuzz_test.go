package population_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
	"d6lab/reports/history"
)

// FuzzDeliver feeds arbitrary datagrams to two populations: one
// soliciting, and a dhcpcd-like client (its addresses dropped at a link
// change) bound, its link just back, Confirming, the datagram carrying the
// Confirm's transaction ID so that the client reads it (the Confirm's
// answer, the re-addition and its DAD). None may
// panic, then or in the minute of timers after; each datagram is either
// dropped and counted or handled by the client holding its transaction ID.
func FuzzDeliver(f *testing.F) {
	files, _ := filepath.Glob("testdata/malformed/*.hex")
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var hexText strings.Builder
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				hexText.WriteString(strings.ReplaceAll(line, " ", ""))
			}
		}
		b := make([]byte, hexText.Len()/2)
		for i := range b {
			var v byte
			for _, c := range hexText.String()[2*i : 2*i+2] {
				v <<= 4
				switch {
				case c >= '0' && c <= '9':
					v |= byte(c - '0')
				case c >= 'a' && c <= 'f':
					v |= byte(c-'a') + 10
				}
			}
			b[i] = v
		}
		f.Add(b)
	}
	r := newResponder()
	p, err := population.New(population.Config{Count: 1, Seed: 8, IANA: true})
	if err != nil {
		f.Fatal(err)
	}
	p.Start(t0)
	p.Advance(t0.Add(time.Second))
	sol := p.Outbox(nil)[0].Payload
	f.Add(r.answer(sol))
	_, _, confirm, cr := confirming(f)
	success := cr.answer(confirm) // Success: the addresses go back
	f.Add(success)
	if m, err := dhcpv6.MessageFromBytes(success); err == nil {
		m.UpdateOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNotOnLink})
		f.Add(m.ToBytes()) // NotOnLink: the client solicits at the end of the RT
	}
	renew := slices.Clone(confirm)
	renew[0] = byte(dhcpv6.MessageTypeRenew)
	f.Add(cr.answer(renew)) // a Reply extending the lease

	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := population.New(population.Config{Count: 4, Seed: 8, IANA: true, IAPD: true})
		if err != nil {
			t.Fatal(err)
		}
		p.Start(t0)
		p.Advance(t0.Add(time.Second))
		p.Outbox(nil)
		p.Deliver(t0.Add(time.Second), b, serverAddr)
		st := p.Stats()
		var dropped uint64
		for _, n := range st.Dropped {
			dropped += n
		}
		if st.Received != 1 || dropped > 1 {
			t.Fatalf("received %d, dropped %v", st.Received, st.Dropped)
		}

		q, now, confirm, _ := confirming(t)
		b = slices.Clone(b)
		if len(b) >= 4 {
			copy(b[1:4], confirm[1:4]) // the Confirm's transaction ID
		}
		before := q.Stats()
		q.Deliver(now, b, serverAddr)
		st = q.Stats()
		dropped = 0
		for i, n := range st.Dropped {
			dropped += n - before.Dropped[i]
		}
		if st.Received-before.Received != 1 || dropped > 1 {
			t.Fatalf("confirming: received %d, dropped %v", st.Received-before.Received, st.Dropped)
		}
		// The minute after, nothing answered: whatever the datagram did
		// plays out (a re-addition's DAD, retransmissions, a new Solicit).
		end := now.Add(time.Minute)
		for {
			q.Outbox(nil)
			at, ok := q.NextTimer()
			if !ok || at.After(end) {
				break
			}
			q.Advance(at)
		}
	})
}

// confirming is a population of one dhcpcd-like client (DAD on; its
// addresses dropped at a link change) bound through a responder and its
// DAD passed, whose link then went down and came back at once: it is
// Confirming. It returns the population, the time of its Confirm, that
// Confirm, unanswered, and the responder that bound it.
func confirming(tb testing.TB) (*population.Population, time.Time, []byte, *responder) {
	tb.Helper()
	r := newResponder()
	bound := map[int]bool{}
	p, err := population.New(population.Config{
		Count: 1, Seed: 8, IANA: true, DAD: time.Second, DADDelay: time.Second,
		Deviations: client.Deviations{DropOnLinkChange: true},
		Sink: func(e history.Event) {
			if e.Kind == history.Bound {
				bound[e.Client] = true
			}
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	now := t0
	p.Start(now)
	answer := func() {
		for out := p.Outbox(nil); len(out) > 0; out = p.Outbox(nil) {
			var answers [][]byte
			for _, o := range out {
				if a := r.answer(o.Payload); a != nil {
					answers = append(answers, a)
				}
			}
			for _, a := range answers {
				p.Deliver(now, a, serverAddr)
			}
		}
	}
	// bound, then 5 s for each DAD to pass
	var settled time.Time
	for steps := 0; ; steps++ {
		answer()
		if len(bound) == 1 && settled.IsZero() {
			settled = now.Add(5 * time.Second)
		}
		at, ok := p.NextTimer()
		if steps == 10_000 || !ok || (!settled.IsZero() && at.After(settled)) {
			break
		}
		now = at
		p.Advance(now)
	}
	if len(bound) != 1 {
		tb.Fatalf("%d of 1 client bound", len(bound))
	}
	p.Flap(now, 0)
	for steps := 0; steps < 100; steps++ {
		for _, o := range p.Outbox(nil) {
			if dhcpv6.MessageType(o.Payload[0]) == dhcpv6.MessageTypeConfirm {
				return p, now, slices.Clone(o.Payload), r
			}
		}
		at, ok := p.NextTimer()
		if !ok {
			break
		}
		now = at
		p.Advance(now)
	}
	tb.Fatal("no Confirm after the link came back")
	return nil, time.Time{}, nil, nil
}
