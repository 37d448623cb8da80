package capture_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/capture"
	"d6lab/sim/netns"
)

var _ = Describe("Counter", Label("netns"), func() {
	var lab *netns.Lab
	BeforeEach(func() {
		requireRoot()
		lab = newLab()
	})

	It("counts the messages a server node receives on port 547, with their arrival times, and nothing it sends", func() {
		var (
			mu  sync.Mutex
			got []time.Time
		)
		c, err := capture.Count(lab, "srv1", func(at time.Time) {
			mu.Lock()
			got = append(got, at)
			mu.Unlock()
		})
		Expect(err).NotTo(HaveOccurred())

		before := time.Now()
		send(lab, 546, 547, "solicit-1", "solicit-2", "solicit-3")
		send(lab, 0, 9999, "not-dhcpv6")
		send(lab, 0, 547, "\x0eleasequery") // RFC 5007 LEASEQUERY: the prober, not a client
		sendFrom(lab, "srv1", 547, 547, "sent-by-the-server")
		after := time.Now()

		st, err := c.Stop()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Packets).To(BeEquivalentTo(3))
		Expect(st.KernelDrops).To(BeZero())
		mu.Lock()
		defer mu.Unlock()
		Expect(got).To(HaveLen(3))
		for _, at := range got {
			// The kernel's clock: allow its granularity either side.
			Expect(at).To(BeTemporally(">=", before.Add(-time.Millisecond)))
			Expect(at).To(BeTemporally("<=", after.Add(time.Millisecond)))
		}

		_, err = c.Stop()
		Expect(err).To(MatchError(ContainSubstring("already stopped")))
	})

	It("counts what was queued before Stop, and calls back no more after it", func() {
		var (
			mu sync.Mutex
			n  int
		)
		c, err := capture.Count(lab, "srv1", func(time.Time) {
			mu.Lock()
			n++
			mu.Unlock()
		})
		Expect(err).NotTo(HaveOccurred())
		payloads := make([]string, 200)
		for i := range payloads {
			payloads[i] = "solicit"
		}
		send(lab, 546, 547, payloads...)
		st, err := c.Stop()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Packets + st.KernelDrops).To(BeEquivalentTo(200))
		mu.Lock()
		Expect(n).To(BeEquivalentTo(st.Packets))
		mu.Unlock()
		send(lab, 546, 547, "late")
		mu.Lock()
		Expect(n).To(BeEquivalentTo(st.Packets))
		mu.Unlock()
	})

	It("refuses an unknown node", func() {
		_, err := capture.Count(lab, "nobody", func(time.Time) {})
		Expect(err).To(MatchError(netns.ErrUnknownNode))
	})
})
