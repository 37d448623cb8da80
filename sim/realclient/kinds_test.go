package realclient_test

import (
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/profile"
	"d6lab/deploy"
	"d6lab/sim/realclient"
)

var _ = Describe("client kinds", func() {
	It("has an adapter for every kind in deploy.ClientKinds, and none for another", func() {
		want := slices.Clone(deploy.ClientKinds)
		slices.Sort(want)
		Expect(realclient.Kinds()).To(Equal(want), "every real client kind needs an adapter")
		for _, k := range deploy.ClientKinds {
			a, err := realclient.Lookup(k)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Kind()).To(Equal(k))
			Expect(a.Package()).NotTo(BeEmpty(), "%s names its Debian package", k)
		}
		_, err := realclient.Lookup("nope")
		Expect(err).To(MatchError(ContainSubstring(`unknown client kind "nope"`)))
	})

	It("gives each kind its profile's deviations (dhcp6c's T2 floor), and none to a kind without a profile", func() {
		d := realclient.Deviations(deploy.Dhcp6c)
		Expect(d.MinT2).To(Equal(30 * time.Second))
		Expect(d.MinT2T1()).To(Equal(18 * time.Second))
		p, err := profile.Lookup(string(deploy.Dhclient))
		Expect(err).NotTo(HaveOccurred())
		Expect(realclient.Deviations(deploy.Dhclient)).To(Equal(p.Deviations))
		Expect(realclient.Deviations(deploy.Udhcpc6).IsRFC()).To(BeTrue())
	})

	It("says what is missing when a kind is not installed, and udhcpc6's applet when busybox lacks it", func() {
		for _, k := range deploy.ClientKinds {
			a, _ := realclient.Lookup(k)
			if err := a.Installed(); err != nil {
				Expect(err).To(MatchError(realclient.ErrNotInstalled))
				Expect(realclient.Lacks(k, realclient.Spec{IA: []string{"na"}})).To(Equal(err.Error()), "n/a with the reason")
				Expect(realclient.Usable(k, realclient.Spec{IA: []string{"na"}})).To(MatchError(realclient.ErrNotInstalled), "the lab skips on it")
				_, perr := realclient.Prepare(k, realclient.Spec{Dir: GinkgoT().TempDir(), IfName: "eth0", IA: []string{"na"}})
				Expect(perr).To(MatchError(realclient.ErrNotInstalled))
				if k == deploy.Udhcpc6 {
					Expect(err.Error()).To(Or(
						ContainSubstring("Debian's busybox 1.35 is built without the udhcpc6 applet"),
						ContainSubstring("Debian package busybox")))
				} else {
					Expect(err.Error()).To(ContainSubstring("Debian package " + a.Package()))
				}
				continue
			}
			Expect(a.Version()).NotTo(BeEmpty(), "%s is installed: its version", k)
			Expect(realclient.Lacks(k, realclient.Spec{IA: []string{"na"}})).To(BeEmpty())
			Expect(realclient.Usable(k, realclient.Spec{IA: []string{"na"}})).To(Succeed())
		}
	})

	It("maps the IA list to a capability and refuses a malformed one", func() {
		for ia, want := range map[string]realclient.Capability{
			"":      realclient.CapStateless,
			"na":    realclient.CapNA,
			"pd":    realclient.CapPD,
			"na,pd": realclient.CapNAPD,
			"pd,na": realclient.CapNAPD,
		} {
			var s realclient.Spec
			if ia != "" {
				s.IA = strings.Split(ia, ",")
			}
			Expect(s.Capability()).To(Equal(want), ia)
		}
		for _, bad := range [][]string{{"ta"}, {"na", "na"}, {"NA"}} {
			_, err := realclient.Spec{IA: bad}.Capability()
			Expect(err).To(HaveOccurred(), "%v", bad)
		}
	})
})
