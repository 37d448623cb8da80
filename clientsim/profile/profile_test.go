package profile_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/clientsim/profile"
	"d6lab/deploy"
)

// edit returns the embedded file with old replaced by new (once), failing
// when old is not there.
func edit(old, new string) []byte {
	s := string(profile.File())
	ExpectWithOffset(1, s).To(ContainSubstring(old))
	return []byte(strings.Replace(s, old, new, 1))
}

var _ = Describe("profiles.yaml", func() {
	It("parses, with an entry for every deploy.Profile and none other", func() {
		names, err := profile.Names()
		Expect(err).NotTo(HaveOccurred())
		want := make([]string, 0, len(deploy.Profiles))
		for _, p := range deploy.Profiles {
			want = append(want, string(p))
		}
		Expect(names).To(ConsistOf(want))
		for _, p := range deploy.Profiles {
			got, err := profile.Lookup(string(p))
			Expect(err).NotTo(HaveOccurred(), string(p))
			Expect(got.Name).To(Equal(string(p)))
			Expect(got.Client).NotTo(BeEmpty())
			Expect(got.Params).To(HaveLen(19), "every parameter, in the file's order")
			for _, q := range got.Params {
				Expect(q.Source).NotTo(BeEmpty(), "%s.%s", p, q.Name)
			}
		}
	})

	It("rfc is today's behaviour: no deviation at all", func() {
		p, err := profile.Lookup(string(deploy.ProfileRFC))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Deviations).To(Equal(client.Deviations{}))
		Expect(p.Deviations.IsRFC()).To(BeTrue())
		cfg := client.Config{Jitter: 0.1}
		p.Apply(&cfg)
		Expect(cfg).To(Equal(client.Config{Jitter: 0.1}))
	})

	It("dhclient: ISC dhclient 4.4.3's deviations (client/dhc6.c)", func() {
		p, err := profile.Lookup(string(deploy.ProfileDhclient))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Deviations).To(Equal(client.Deviations{
			LowestServerIDFirst:  true,
			UncappedFirstRenewRT: true,
			WholeSecondClock:     true,
			NoBinding:            client.NoBindingSolicit,
			NoAddrsSolicit:       true,
			SolicitDelayEvery:    true,
			SolMaxRT:             120 * time.Second,
			InfMaxRT:             120 * time.Second,
			IgnoreMaxRTOptions:   true,
			MRCRetransmissions:   true,
			IgnoreLinkChange:     true,
			KeepDADFailed:        true,
			ReaddKept:            true,
		}))
		q, ok := p.Param("rebind_at")
		Expect(ok).To(BeTrue())
		Expect(q.Source).To(ContainSubstring("dhc6_retrans_init"))
		Expect(q.Source).To(ContainSubstring("do_depref"))
		Expect(q.Measured).To(HaveLen(2))
		Expect(q.Measured[0].Run).To(Equal(p.Runs[0].ID))
		Expect(q.Measured[1].Run).To(Equal("split-kill-real-dhclient"))
	})

	It("dhcpcd: dhcpcd 9.4.1's deviations (src/dhcp6.c)", func() {
		p, err := profile.Lookup(string(deploy.ProfileDhcpcd))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Deviations).To(Equal(client.Deviations{
			TakeFirstAdvertise: true,
			NoBinding:          client.NoBindingSolicit,
			NoAddrsSolicit:     true,
			SolicitDelayEvery:  true,
			FixedInitialDelay:  true,
			DoubledRT:          true,
			FailDrops:          true,
			PDRebindConfirm:    true,
			DropOnLinkChange:   true,
			KeepDADFailed:      true,
			ReaddKept:          true,
		}))
		cfg := client.Config{}
		p.Apply(&cfg)
		Expect(cfg.Deviations).To(Equal(p.Deviations))
	})

	It("dhcp6c: WIDE dhcp6c 20080615's deviations (dhcp6c_ia.c, dhcp6.h)", func() {
		p, err := profile.Lookup(string(deploy.ProfileDhcp6c))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Deviations).To(Equal(client.Deviations{
			SolicitDelayEvery:  true,
			SolMaxRT:           120 * time.Second,
			InfMaxRT:           120 * time.Second,
			IgnoreMaxRTOptions: true,
			FailHalts:          true,
			IgnoreLinkChange:   true,
			MinT2:              30 * time.Second,
			KeepDADFailed:      true,
		}))
		Expect(p.Deviations.MinT2T1()).To(Equal(18 * time.Second))
		q, ok := p.Param("min_t2")
		Expect(ok).To(BeTrue())
		Expect(q.Source).To(ContainSubstring("DHCP6_DURATION_MIN"))
	})

	It("an unknown name is an error naming the valid ones", func() {
		_, err := profile.Lookup("udhcpc6")
		Expect(err).To(MatchError(profile.ErrUnknown))
		Expect(err.Error()).To(ContainSubstring("dhclient, dhcp6c, dhcpcd, rfc"))
	})

	DescribeTable("a mistake in the file fails the parse, saying where",
		func(b []byte, want string) {
			_, err := profile.Parse(b)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("a misspelt parameter (KnownFields)",
			edit("      preference_tie:\n        value: lowest-server-id", "      preference_tye:\n        value: lowest-server-id"),
			"field preference_tye not found"),
		Entry("a misspelt key of a parameter",
			edit("        value: first\n        source: >-", "        valeu: first\n        source: >-"),
			"field valeu not found"),
		Entry("an unknown value",
			edit("nobinding:\n        value: solicit", "nobinding:\n        value: request-twice"),
			`dhclient.parameters.nobinding.value: unknown value "request-twice" (valid: request, request-once, solicit)`),
		Entry("a duration that is not one",
			edit("value: 120s", "value: 120"),
			"dhclient.parameters.sol_max_rt.value"),
		Entry("a floor that is not whole seconds",
			edit("      min_t2:\n        value: 30s", "      min_t2:\n        value: 30.5s"),
			`dhcp6c.parameters.min_t2.value: value "30.5s": want none, or whole seconds > 0 such as 30s`),
		Entry("a missing parameter",
			edit("      link_change:\n        value: ignore", "      link_chang:\n        value: ignore"),
			"field link_chang not found"),
		Entry("a parameter without its source",
			edit("        source: src/dhcp6.h SOL_MAX_RT 3600 (RFC 7083)\n", ""),
			"dhcpcd.parameters.sol_max_rt.source: missing"),
		Entry("a measurement naming no run of its profile",
			edit("          - run: issue-13-readme\n            observed: took", "          - run: issue-14\n            observed: took"),
			`dhcpcd.parameters.preference.measured[0].run: "issue-14" is not in dhcpcd.runs`),
		Entry("a gap with an unknown trigger",
			edit("        when: release_gave_up\n", "        when: release_gave_upp\n"),
			`dhclient.gaps[0].when: unknown trigger "release_gave_upp" (valid: release_gave_up, decline_gave_up, refreshed, run)`),
		Entry("a gap naming no parameter",
			edit("      - param: noaddrs\n        when: run", "      - param: no_addrs\n        when: run"),
			`dhcp6c.gaps[1].param: "no_addrs" is no parameter`),
		Entry("a gap without what the real client does",
			edit("        simulated: retransmits it up to 4 times in all (RFC 9915 §7.6 REL_MAX_RC)\n", ""),
			"dhcpcd.gaps[0]: real and simulated are required"),
	)

	It("every gap the Debian clients' profiles know, and none for rfc (what the reports size: reports/check gaps.go)", func() {
		want := map[string][]string{
			"rfc":      nil,
			"dhclient": {"mrc release_gave_up", "mrc decline_gave_up"},
			"dhcpcd":   {"mrc release_gave_up", " refreshed"},
			"dhcp6c":   {"mrc release_gave_up", "noaddrs run"},
		}
		for name, gaps := range want {
			p, err := profile.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			var got []string
			for _, g := range p.Gaps {
				got = append(got, g.Param+" "+string(g.When))
			}
			Expect(got).To(Equal(gaps), name)
		}
	})

	It("a profile that leaves a parameter out fails", func() {
		b := edit("      link_change:\n        value: confirm\n        source: RFC 9915 §18.2.3, §18.2.12 (Confirm the addresses, Rebind with an IA_PD)\n        measured: []\n", "")
		_, err := profile.Parse(b)
		Expect(err).To(MatchError(ContainSubstring("rfc.parameters.link_change: missing")))
	})
})
