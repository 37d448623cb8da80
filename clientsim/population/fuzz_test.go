package population_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"d6lab/clientsim/population"
)

// FuzzDeliver feeds arbitrary datagrams to a soliciting population: none
// may panic, and each is either dropped and counted or handled by the
// client holding its transaction ID.
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
	})
}
