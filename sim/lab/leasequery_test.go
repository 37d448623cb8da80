package lab_test

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim"
)

// The Leasequery prober in a small lab: two builtin servers (split), 20
// clients with seconds-long lifetimes, s1 killed for good at 5 s. The
// prober asks every second about 5 clients (every 4th). Before the kill
// both servers are asked, after it only s2; every lease an answer names
// is one the server granted that client; s2 knows nothing of s1's clients
// before they rebind to it.

const leasequeryLab = `
name: leasequery-prober
description: the Leasequery prober while s1 dies
model: split
link: 2001:db8:1:1::/64
lifetimes: {t1: 2s, t2: 3s, preferred: 4s, valid: 6s}
servers:
  - {name: s1, preference: 255}
  - {name: s2, preference: 0}
clients:
  count: 20
  ramp: 1s
leasequery: {interval: 1s, clients: 5}
timeline:
  - {at: 5s, action: kill, target: s1}
duration: 12s
`

var _ = Describe("the Leasequery prober", Label("netns"), func() {
	DescribeTable("asks only the running servers each round, and its answers name leases the servers granted", func(extra string) {
		path := filepath.Join(GinkgoT().TempDir(), "leasequery.yaml")
		Expect(os.WriteFile(path, []byte(leasequeryLab+extra), 0o644)).To(Succeed())
		sc, err := scenarios.Load(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Leasequery).To(Equal(&scenarios.Leasequery{Interval: time.Second, Clients: 5}))

		evs, err := playNetns(sc)
		Expect(err).NotTo(HaveOccurred())

		// The sampled clients: every 4th, with the population's DUIDs.
		seed := sim.PopulationConfig(sc, nil).Seed
		sampled := map[int]string{}
		for _, i := range []int{0, 4, 8, 12, 16} {
			sampled[i] = hex.EncodeToString(population.DUID(seed, i))
		}
		serverDUID := map[string]string{"s1": hex.EncodeToString(sim.ServerDUID(0)), "s2": hex.EncodeToString(sim.ServerDUID(1))}

		var start, kill, ended, lastAnswer time.Time
		type grant struct {
			client int
			server string
			lease  netip.Prefix
		}
		granted := map[grant]bool{}
		var rounds []history.Event
		perRound := map[int]map[string]int{} // round -> server -> answers
		var bound, none, noAnswer int
		noneFromS2BeforeKill := 0
		for _, e := range evs {
			switch e.Kind {
			case history.RunStarted:
				start = e.At
			case history.RunEnded:
				ended = e.At
			case history.ServerKilled:
				kill = e.At
			case history.Bound, history.Renewed, history.Rebound, history.Renumbered:
				granted[grant{e.Client, e.Server, e.Lease}] = true
			case history.LeasequeryRound:
				rounds = append(rounds, e)
				perRound[len(rounds)-1] = map[string]int{}
			case history.LeasequeryAnswer:
				Expect(rounds).NotTo(BeEmpty(), "an answer follows its round")
				r := len(rounds) - 1
				Expect(strings.Split(rounds[r].Detail, ",")).To(ContainElement(e.Server), "only servers the round asked answer in it")
				Expect(sampled).To(HaveKeyWithValue(e.Client, e.DUID), "a sampled client, with its population DUID")
				switch e.Cause {
				case history.LQBound:
					bound++
					Expect(e.Detail).To(Equal(history.LQByUDP), "the builtin server is asked by RFC 5007")
					Expect(granted).To(HaveKey(grant{e.Client, serverDUID[e.Server], e.Lease}),
						"client %d's lease %s named by %s is one %s granted it before the answer", e.Client, e.Lease, e.Server, e.Server)
					Expect(e.IA).To(Equal(history.IANA))
					Expect(e.Valid).To(BeNumerically(">", 0))
					Expect(e.Valid).To(BeNumerically("<=", 6*time.Second))
				case history.LQNone:
					none++
					Expect(e.Detail).To(Equal(history.LQByUDP))
					if e.Server == "s2" && kill.IsZero() {
						noneFromS2BeforeKill++
					}
				case history.LQNoAnswer:
					// Only s1, asked in the round under way when it was
					// killed: the running builtin servers answer all else.
					GinkgoWriter.Printf("no answer at %s from %s: %s\n", e.At.Sub(start), e.Server, e.Detail)
					Expect(e.Server).To(Equal("s1"), "no answer: %s", e.Detail)
					Expect(kill).NotTo(BeZero(), "no answer before the kill: %s", e.Detail)
					Expect(rounds[r].At.Before(kill)).To(BeTrue())
					Expect(e.Detail).To(HavePrefix(history.LQByUDP + ": "))
					noAnswer++
				default:
					Fail("unknown cause " + e.Cause)
				}
				perRound[r][e.Server]++
				lastAnswer = e.At
			}
		}
		GinkgoWriter.Printf("%d rounds; answers: %d bound, %d none, %d no answer\n", len(rounds), bound, none, noAnswer)
		Expect(start).NotTo(BeZero())
		Expect(kill).NotTo(BeZero())
		Expect(lastAnswer.Before(ended)).To(BeTrue(), "every answer comes before the run's end")
		// Rounds every second from 1 s to 11 s (one may skip on a busy host).
		Expect(len(rounds)).To(BeNumerically(">=", 9))
		Expect(len(rounds)).To(BeNumerically("<=", 11))
		for i, r := range rounds {
			Expect(r.At.After(start)).To(BeTrue())
			Expect(r.At.Before(start.Add(sc.Duration))).To(BeTrue(), "no round after the run's end")
			if r.At.Before(kill) {
				Expect(r.Detail).To(Equal("s1,s2"), "round %d at %s, before the kill", i, r.At.Sub(start))
			} else {
				Expect(r.Detail).To(Equal("s2"), "round %d at %s, after the kill: s1 is not asked", i, r.At.Sub(start))
			}
			for _, name := range strings.Split(r.Detail, ",") {
				Expect(perRound[i][name]).To(BeNumerically(">=", 5), "round %d: an answer from %s about each of the 5 clients", i, name)
			}
		}
		Expect(noAnswer).To(BeNumerically("<=", 5), "at most the one round that s1's kill interrupted")
		Expect(bound).To(BeNumerically(">", 0))
		Expect(noneFromS2BeforeKill).To(BeNumerically(">", 0), "in split, s2 knows nothing of s1's clients before the kill")
		// After the kill and a rebind (T2 3 s), s2 names s1's former
		// clients: some LQBound from s2 for a client that s1 had served.
		var s2Later bool
		for _, e := range evs {
			if e.Kind == history.LeasequeryAnswer && e.Cause == history.LQBound && e.Server == "s2" && e.At.After(kill.Add(3*time.Second)) {
				for g := range granted {
					if g.client == e.Client && g.server == serverDUID["s1"] {
						s2Later = true
					}
				}
			}
		}
		Expect(s2Later).To(BeTrue(), "s2 answers for a client that rebound to it from s1")
	},
		Entry("on the client link", ""),
		// Behind a relay the servers are on the server network: so is the
		// prober.
		Entry("behind a relay (relay: own)", "relay: own\n"),
	)
})

// Third-party servers are asked the way each can answer: Kea through its
// control socket (lease_cmds), dnsmasq through its lease file, wide not at
// all (it keeps no lease file: every answer says so).
const leasequeryKinds = `
name: leasequery-kinds
description: the Leasequery prober asking Kea, dnsmasq and wide
model: split
link: 2001:db8:1:3::/64
lifetimes: {t1: 10s, t2: 16s, preferred: 20s, valid: 30s}
servers:
  - {name: s1, kind: kea, preference: 255}
  - {name: s2, kind: dnsmasq, preference: 0}
  - {name: s3, kind: wide, preference: 0}
clients:
  count: 10
  ramp: 1s
leasequery: {interval: 1s, clients: 5}
duration: 6s
`

var _ = Describe("the Leasequery prober with third-party servers", Label("netns", "thirdparty"), func() {
	It("asks Kea by lease_cmds, dnsmasq by its lease file, and says wide cannot be asked", func() {
		for _, k := range []deploy.Kind{deploy.Kea, deploy.Dnsmasq, deploy.Wide} {
			a, err := daemon.Lookup(k)
			Expect(err).NotTo(HaveOccurred())
			if err := a.Installed(); err != nil {
				Skip(err.Error())
			}
		}
		path := filepath.Join(GinkgoT().TempDir(), "leasequery-kinds.yaml")
		Expect(os.WriteFile(path, []byte(leasequeryKinds), 0o644)).To(Succeed())
		sc, err := scenarios.Load(path)
		Expect(err).NotTo(HaveOccurred())
		evs, err := playNetns(sc)
		Expect(err).NotTo(HaveOccurred())

		granted := map[string]bool{} // client/lease
		how := map[string]map[string]int{}
		keaBound := 0
		for _, e := range evs {
			switch e.Kind {
			case history.Bound, history.Renewed, history.Rebound, history.Renumbered:
				granted[fmt.Sprint(e.Client, e.Lease)] = true
			case history.LeasequeryRound:
				Expect(e.Detail).To(Equal("s1,s2,s3"))
			case history.LeasequeryAnswer:
				method, _, _ := strings.Cut(e.Detail, ": ")
				if how[e.Server] == nil {
					how[e.Server] = map[string]int{}
				}
				how[e.Server][method+" "+e.Cause]++
				if e.Cause == history.LQBound {
					Expect(granted).To(HaveKey(fmt.Sprint(e.Client, e.Lease)), "%s names client %d's lease %s", e.Server, e.Client, e.Lease)
					if e.Server == "s1" {
						keaBound++
					}
				}
				if e.Cause == history.LQNoAnswer {
					Expect(e.Server).To(Equal("s3"), "%s: %s", e.Server, e.Detail)
					Expect(e.Detail).To(ContainSubstring("no lease file"))
				}
			}
		}
		GinkgoWriter.Printf("answers: %v\n", how)
		for m := range how["s1"] {
			Expect(m).To(HavePrefix(history.LQByControl + " "))
		}
		for m := range how["s2"] {
			Expect(m).To(HavePrefix(history.LQByFile + " "))
		}
		Expect(how["s3"]).To(HaveKey(history.LQByFile + " " + history.LQNoAnswer))
		Expect(keaBound).To(BeNumerically(">", 0), "Kea, preferred, names its clients' leases")
	})
})
