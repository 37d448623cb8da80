package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/scenarios"
)

var _ = Describe("relay:", func() {
	It("defaults to none: clients and servers share the link", func() {
		s := mustParse("split", "")
		Expect(s.Relay).To(Equal(scenarios.NoRelay))
		Expect(s.Relayed()).To(BeFalse())
	})
	DescribeTable("reads each kind",
		func(v string, want scenarios.Relay, relayed bool) {
			s := mustParse("unique", "relay: "+v+"\n")
			Expect(s.Relay).To(Equal(want))
			Expect(s.Relayed()).To(Equal(relayed))
		},
		Entry("none", "none", scenarios.NoRelay, false),
		Entry("own", "own", scenarios.OwnRelay, true),
		Entry("dhcrelay", "dhcrelay", scenarios.Dhcrelay, true),
	)
	It("refuses another value, naming the line and the valid ones", func() {
		_, err := parse("split", "relay: kea\n")
		Expect(err).To(MatchError(ContainSubstring(`t.yaml:6:8: relay: unknown value "kea"`)))
		Expect(err).To(MatchError(ContainSubstring("none, own, dhcrelay")))
	})
	It("ships a relayed scenario of each kind for every model", func() {
		for _, r := range []scenarios.Relay{scenarios.OwnRelay, scenarios.Dhcrelay} {
			for _, m := range scenarios.Models {
				s, err := scenarios.Load("relay-" + string(r) + "-" + string(m) + ".yaml")
				Expect(err).NotTo(HaveOccurred())
				Expect(s.Relay).To(Equal(r))
				Expect(s.Model).To(Equal(m))
			}
		}
	})
})
