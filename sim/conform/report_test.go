package conform

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"

	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
)

var _ = g.Describe("reports", func() {
	rep := func(server string, verdicts ...check.Verdict) *Report {
		r := &Report{Server: server, Version: "1.0"}
		for i, v := range verdicts {
			r.Checks = append(r.Checks, Check{ID: catalogue[i].id, Name: catalogue[i].name, Verdict: v, Detail: "measured " + v.Conform(),
				Evidence: Evidence{Pcap: "pcap/" + catalogue[i].id + ".pcap", Packets: []string{"→ SOLICIT xid 010203"}}})
		}
		return r
	}

	g.It("writes conform.json with the issue's fields", func() {
		dir := g.GinkgoT().TempDir()
		Expect(WriteJSON(dir, rep("kea", Pass, Fail, NA))).To(Succeed())
		b, err := os.ReadFile(filepath.Join(dir, JSONFile))
		Expect(err).NotTo(HaveOccurred())
		var raw map[string]any
		Expect(json.Unmarshal(b, &raw)).To(Succeed())
		Expect(raw).To(HaveLen(3)) // server, version, checks (notes and missing only when set)
		Expect(raw).To(HaveKeyWithValue("server", "kea"))
		Expect(raw).To(HaveKeyWithValue("version", "1.0"))
		checks := raw["checks"].([]any)
		Expect(checks).To(HaveLen(3))
		c := checks[1].(map[string]any)
		Expect(c).To(HaveLen(5))
		Expect(c).To(HaveKeyWithValue("id", "preference"))
		Expect(c).To(HaveKeyWithValue("verdict", "fail"))
		Expect(c).To(HaveKey("name"))
		Expect(c).To(HaveKey("detail"))
		Expect(c["evidence"]).To(HaveKeyWithValue("pcap", "pcap/preference.pcap"))
		back, err := ReadJSON(filepath.Join(dir, JSONFile))
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Failed()).To(BeTrue())
	})

	g.It("writes JUnit with a suite per server, failure for fail and skipped for n/a", func() {
		path := filepath.Join(g.GinkgoT().TempDir(), JUnitFile)
		missing := &Report{Server: "coredhcp", Missing: "not installed: go module refused"}
		Expect(WriteJUnit(path, []*Report{rep("kea", Pass, Fail, NA), missing})).To(Succeed())
		b, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		var s junitSuites
		Expect(xml.Unmarshal(b, &s)).To(Succeed())
		Expect(s.Suites).To(HaveLen(2))
		Expect(s.Tests).To(Equal(4))
		Expect(s.Failures).To(Equal(1))
		Expect(s.Skipped).To(Equal(2))
		Expect(s.Suites[0].Cases[1].Failure).NotTo(BeNil())
		Expect(s.Suites[0].Cases[2].Skipped).NotTo(BeNil())
		Expect(s.Suites[0].Cases[0].SystemOut).To(ContainSubstring("pcap/ia-na-exchange.pcap"))
	})

	g.It("prints one row per check and one column per server", func() {
		var buf bytes.Buffer
		missing := &Report{Server: "coredhcp", Missing: "not installed"}
		Expect(Matrix(&buf, []*Report{rep("kea", Pass, Fail), rep("dhcpd", Pass), missing})).To(Succeed())
		out := buf.String()
		Expect(out).To(MatchRegexp(`check\s+kea 1.0\s+dhcpd 1.0\s+coredhcp`))
		Expect(out).To(MatchRegexp(`ia-na-exchange\s+pass\s+pass\s+not installed`))
		Expect(out).To(MatchRegexp(`preference\s+FAIL\s+-\s+not installed`))
		Expect(out).To(ContainSubstring("kea preference: measured fail"))
	})

	g.It("rejects an unknown check ID naming the valid ones", func() {
		err := Select([]string{"ia-na-exchange", "nope"})
		Expect(err).To(MatchError(ErrUnknownCheck))
		Expect(err.Error()).To(ContainSubstring("leasequery"))
		Expect(Select(IDs())).To(Succeed())
	})
})
