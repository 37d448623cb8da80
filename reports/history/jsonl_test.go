package history_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

var _ = Describe("JSON lines", func() {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events := []history.Event{
		{At: t0, Kind: history.RunStarted},
		{At: t0.Add(1500 * time.Millisecond), Kind: history.Bound, Client: 7, DUID: "000300010a0b0c0d0e0f",
			Server: "0001000100000001", IA: history.IANA, IAID: 1,
			Lease: netip.MustParsePrefix("2001:db8::17/128"),
			T1:    50 * time.Second, T2: 80 * time.Second, Preferred: 90 * time.Second, Valid: 100 * time.Second},
		{At: t0.Add(2 * time.Second), Kind: history.Renumbered, Client: 8, IA: history.IAPD,
			Lease: netip.MustParsePrefix("2001:db8:100::/56"), Old: netip.MustParsePrefix("2001:db8:200::/56"),
			Valid: time.Hour},
		{At: t0.Add(3 * time.Second), Kind: history.Refused, Client: 9, Cause: history.CauseNoBinding, Detail: "no binding <for> \"you\""},
		{At: t0.Add(4 * time.Second), Kind: history.ServerKilled, Server: "a"},
	}

	It("writes one event per line and reads back the same events", func() {
		var buf bytes.Buffer
		Expect(history.WriteJSONL(&buf, events)).To(Succeed())
		Expect(strings.Count(buf.String(), "\n")).To(Equal(len(events)))
		Expect(buf.String()).To(ContainSubstring(`"lease":"2001:db8::17/128"`))
		Expect(buf.String()).To(ContainSubstring(`<for>`), "HTML is not escaped")
		Expect(buf.String()).NotTo(ContainSubstring(`"old"`+":\"\""), "a zero Old is omitted")

		back, err := history.ReadJSONL(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(Equal(events))
	})

	It("streams through a Writer", func() {
		var buf bytes.Buffer
		w := history.NewWriter(&buf)
		for _, e := range events {
			Expect(w.Write(e)).To(Succeed())
		}
		Expect(buf.Len()).To(BeZero(), "buffered until Flush")
		Expect(w.Flush()).To(Succeed())
		back, err := history.ReadJSONL(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(HaveLen(len(events)))
	})

	It("reads back what encoding/json reads, for 20,000 drawn events as the Writer writes them", func() {
		r := rand.New(rand.NewPCG(3, 4))
		var buf bytes.Buffer
		w := history.NewWriter(&buf)
		for range 20_000 {
			// (an event encoding/json cannot write, or read back: an
			// invalid prefix is written "invalid Prefix", is left out)
			var back history.Event
			if e := randomEvent(r); json.Unmarshal([]byte(viaJSON(e)), &back) == nil {
				Expect(w.Write(e)).To(Succeed())
			}
		}
		Expect(w.Flush()).To(Succeed())
		var want []history.Event
		for line := range bytes.Lines(buf.Bytes()) {
			var e history.Event
			Expect(json.Unmarshal(line, &e)).To(Succeed())
			want = append(want, e)
		}
		got, err := history.ReadJSONL(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(len(want)))
		for i := range want {
			Expect(got[i]).To(Equal(want[i]), "event %d", i)
		}
	})

	It("skips blank lines and names the line it cannot decode", func() {
		f, err := os.Open("testdata/malformed.jsonl")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		back, err := history.ReadJSONL(f)
		var le *history.LineError
		Expect(errors.As(err, &le)).To(BeTrue())
		Expect(le.Line).To(Equal(4))
		Expect(err.Error()).To(ContainSubstring("line 4"))
		Expect(back).To(HaveLen(2), "the events before the bad line are returned")
		Expect(back[1].Lease).To(Equal(netip.MustParsePrefix("2001:db8::1/128")))
	})
})
