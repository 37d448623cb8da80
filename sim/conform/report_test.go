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

	g.Describe("client reports", func() {
		client := func(kind string, verdicts ...check.Verdict) *Report {
			r := &Report{Client: kind, Version: "9.4.1"}
			for i, v := range verdicts {
				d := clientCatalogue[i]
				r.Checks = append(r.Checks, Check{ID: d.id, Name: d.name, Verdict: v, Detail: "measured " + v.Conform(),
					Evidence: Evidence{Pcap: "pcap/" + d.id + ".pcap", Packets: []string{"+0.412 → SOLICIT xid 010203"}}})
			}
			return r
		}
		missing := &Report{Client: "udhcpc6", Missing: "not installed: no applet", Checks: []Check{
			{ID: clientCatalogue[0].id, Name: clientCatalogue[0].name, Verdict: NA, Detail: "not installed: no applet"},
		}}

		g.It("write conform.json with client instead of server", func() {
			dir := g.GinkgoT().TempDir()
			Expect(WriteJSON(dir, client("dhcpcd", Pass, Fail))).To(Succeed())
			b, err := os.ReadFile(filepath.Join(dir, JSONFile))
			Expect(err).NotTo(HaveOccurred())
			var raw map[string]any
			Expect(json.Unmarshal(b, &raw)).To(Succeed())
			Expect(raw).To(HaveKeyWithValue("client", "dhcpcd"))
			Expect(raw).NotTo(HaveKey("server"))
			back, err := ReadJSON(filepath.Join(dir, JSONFile))
			Expect(err).NotTo(HaveOccurred())
			Expect(back.Subject()).To(Equal("dhcpcd"))
			Expect(back.Side()).To(Equal("client"))
			Expect(back.Failed()).To(BeTrue())
		})

		g.It("print a column per client kind, a kind not installed with its n/a checks", func() {
			var buf bytes.Buffer
			Expect(Matrix(&buf, []*Report{client("dhcpcd", Pass, Fail), client("dhclient", Pass, Pass), missing})).To(Succeed())
			out := buf.String()
			Expect(out).To(MatchRegexp(`check\s+dhcpcd 9.4.1\s+dhclient 9.4.1\s+udhcpc6`))
			Expect(out).To(MatchRegexp(`preference-255\s+pass\s+pass\s+n/a`))
			Expect(out).To(MatchRegexp(`preference-wait\s+FAIL\s+pass\s+not installed`))
			Expect(out).To(MatchRegexp(`failed\s+1/2\s+0/2\s+0/1`))
			Expect(out).To(ContainSubstring("udhcpc6: not installed: no applet"))
			Expect(out).To(ContainSubstring("dhcpcd preference-wait: measured fail"))
		})

		g.It("write a JUnit suite per client kind", func() {
			path := filepath.Join(g.GinkgoT().TempDir(), JUnitFile)
			Expect(WriteJUnit(path, []*Report{client("dhcpcd", Pass, Fail), missing})).To(Succeed())
			b, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			var s junitSuites
			Expect(xml.Unmarshal(b, &s)).To(Succeed())
			Expect(s.Suites).To(HaveLen(2))
			Expect(s.Suites[0].Name).To(Equal("conform client dhcpcd 9.4.1"))
			Expect(s.Suites[0].Cases[0].ClassName).To(Equal("conform.client.dhcpcd"))
			Expect(s.Suites[0].Failures).To(Equal(1))
			Expect(s.Suites[1].Skipped).To(Equal(2)) // installed, and the check
		})

		g.It("reject an unknown client check ID naming the valid ones", func() {
			err := SelectClient([]string{"renew-t1", "ia-na-exchange"})
			Expect(err).To(MatchError(ErrUnknownClientCheck))
			Expect(err.Error()).To(ContainSubstring("rebind-t2"))
			Expect(SelectClient(ClientIDs())).To(Succeed())
		})

		g.It("run the long ones only when asked, saying how long they take", func() {
			var long []string
			for _, d := range clientCatalogue {
				if d.long == "" {
					Expect(d.skip(ClientOptions{})).To(BeEmpty(), d.id)
					continue
				}
				long = append(long, d.id)
				Expect(d.skip(ClientOptions{})).To(And(ContainSubstring("takes "+d.long), ContainSubstring("--checks "+d.id)))
				Expect(d.skip(ClientOptions{Long: true})).To(BeEmpty())
				Expect(d.skip(ClientOptions{Checks: []string{d.id}})).To(BeEmpty())
			}
			Expect(long).To(ConsistOf("info-refresh", "request-fail", "release-unanswered"))
		})

		g.It("have IDs distinct from the server side's", func() {
			for _, id := range ClientIDs() {
				Expect(IDs()).NotTo(ContainElement(id))
			}
		})
	})

	g.It("rejects an unknown check ID naming the valid ones", func() {
		err := Select([]string{"ia-na-exchange", "nope"})
		Expect(err).To(MatchError(ErrUnknownCheck))
		Expect(err.Error()).To(ContainSubstring("leasequery"))
		Expect(Select(IDs())).To(Succeed())
	})
})
