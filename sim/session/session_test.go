package session_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/session"
)

var _ = Describe("Session", func() {
	BeforeEach(func() {
		old := session.OwnerDir
		session.OwnerDir = GinkgoT().TempDir()
		DeferCleanup(func() { session.OwnerDir = old })
	})

	It("claims its prefix at Open and releases it at Close", func() {
		s, err := session.Open(session.Options{Prefix: "d6t-claim"})
		Expect(err).NotTo(HaveOccurred())
		Expect(filepath.Join(session.OwnerDir, "d6t-claim.pid")).To(BeAnExistingFile())
		Expect(session.Live("d6t-claim")).To(BeTrue())
		Expect(s.Close()).To(Succeed())
		Expect(filepath.Join(session.OwnerDir, "d6t-claim.pid")).NotTo(BeAnExistingFile())
	})

	It("runs the cleanups last registered first, joins their errors, and closes once", func() {
		s, err := session.Open(session.Options{Name: "spec"})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Prefix).NotTo(BeEmpty())
		var order []string
		boom := errors.New("boom")
		s.OnClose(func() error { order = append(order, "capture"); return nil })
		s.OnClose(func() error { order = append(order, "servers"); return boom })
		s.OnClose(func() error { order = append(order, "clients"); return nil })
		err = s.Close()
		Expect(err).To(MatchError(boom))
		Expect(order).To(Equal([]string{"clients", "servers", "capture"}))
		Expect(s.Close()).To(MatchError(boom), "a second Close returns the first one's error")
		Expect(order).To(HaveLen(3), "a second Close runs nothing")
	})

	It("goes on with the cleanups after one that panics, and returns the panic as an error", func() {
		s, err := session.Open(session.Options{Name: "spec"})
		Expect(err).NotTo(HaveOccurred())
		var order []string
		s.OnClose(func() error { order = append(order, "capture"); return nil })
		s.OnClose(func() error {
			var r *struct{ n []int }
			r.n = append(r.n, 1) // a nil pointer, as lab.Run's real clients once had
			return nil
		})
		s.OnClose(func() error { order = append(order, "clients"); return nil })
		err = s.Close()
		Expect(err).To(MatchError(ContainSubstring("spec: a cleanup panicked: runtime error: invalid memory address")))
		Expect(order).To(Equal([]string{"clients", "capture"}))
		Expect(session.Live(s.Prefix)).To(BeFalse(), "the prefix is released")
	})

	It("finds the running binary when asked", func() {
		s, err := session.Open(session.Options{FindBinary: true})
		Expect(err).NotTo(HaveOccurred())
		defer s.Close()
		Expect(s.Binary).To(BeAnExistingFile())
	})
})

var _ = Describe("Progress", func() {
	It("writes the plain status line every period, and lines as they come", func() {
		var buf syncBuffer
		p := session.NewProgress(&buf, false)
		p.Start(time.Second, 30*time.Millisecond, func(time.Duration) string { return "status" })
		p.Logf("a line %d", 1)
		Eventually(buf.String).Should(ContainSubstring("status\n"))
		p.End()
		Expect(buf.String()).To(ContainSubstring("a line 1\n"))
	})

	It("writes no status without a period when no terminal is attached", func() {
		var buf syncBuffer
		p := session.NewProgress(&buf, false)
		p.Start(time.Second, 0, func(time.Duration) string { return "status" })
		time.Sleep(50 * time.Millisecond)
		p.End()
		Expect(buf.String()).To(BeEmpty())
	})

	It("draws a bar on a terminal and clears it for a line", func() {
		var buf syncBuffer
		p := session.NewProgress(&buf, true)
		p.Start(time.Second, 0, func(time.Duration) string { return "step 1" })
		Eventually(buf.String).Should(ContainSubstring("step 1"))
		p.Logf("between")
		p.End()
		p.End()
		Expect(buf.String()).To(ContainSubstring("between\n"))
		Expect(buf.String()).To(ContainSubstring("\033[2K"))
	})

	It("stands a tracked task's bar at its position, not at the time elapsed", func() {
		var buf syncBuffer
		p := session.NewProgress(&buf, true)
		p.Track(time.Hour, 0, func(time.Duration) time.Duration { return 45 * time.Minute }, func(time.Duration) string { return "tracked" })
		Eventually(buf.String).Should(ContainSubstring(" 75% "))
		p.End()
	})

	It("is silent without a writer", func() {
		p := session.NewProgress(nil, true)
		p.Start(time.Second, time.Millisecond, func(time.Duration) string { return "x" })
		p.Logf("x")
		p.End()
	})
})

// syncBuffer is a bytes.Buffer safe for the reporter's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
