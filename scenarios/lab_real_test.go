package scenarios_test

import (
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
)

// hostLinks describes the host namespace's interfaces and addresses when
// the suite started: no run may change them.
var hostLinks = linksNow()

func linksNow() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		fmt.Fprintf(&b, "%s %s %v %v\n", i.Name, i.HardwareAddr, i.Flags, addrs)
	}
	return b.String()
}

// hostResolvConf is the checksum of the host's /etc/resolv.conf when the
// suite started ("" when it has none): no real client may change it.
var hostResolvConf = fileSum("/etc/resolv.conf")

func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// assertRealClientsLeftNoTrace: a run with real clients left the host's
// resolv.conf as it was, no /etc/netns entry of its prefix, and every
// real client's files in its own directory of the run; the report breaks
// the metrics down by kind, one row per kind the scenario ran.
func assertRealClientsLeftNoTrace(r *labRun) {
	GinkgoHelper()
	Expect(fileSum("/etc/resolv.conf")).To(Equal(hostResolvConf), "the host's /etc/resolv.conf changed during the run")
	Expect(linksNow()).To(Equal(hostLinks), "the host's interfaces or addresses changed during the run")
	entries, _ := filepath.Glob(filepath.Join("/etc/netns", r.prefix+"*"))
	Expect(entries).To(BeEmpty(), "/etc/netns entries of the run")
	Expect(r.res.RealClients).To(HaveLen(r.sc.Clients.RealCount()))
	for _, rc := range r.res.RealClients {
		Expect(rc.Dir).To(HavePrefix(r.dir), "real client %s's files outside the run directory", rc.Name)
		Expect(filepath.Join(rc.Dir, "addrs.jsonl")).To(BeAnExistingFile())
		Expect(rc.Running).To(BeTrue(), "real client %s exited before the end; its log: %s", rc.Name, filepath.Join(rc.Dir, "client.log"))
		Expect(rc.Events).To(BeNumerically(">", 0), "no history event from real client %s", rc.Name)
	}
	kinds := []string{check.Simulated}
	for _, x := range r.sc.Clients.Real {
		kinds = append(kinds, string(x.Kind))
	}
	var got []string
	for _, k := range r.rep.ByKind {
		got = append(got, k.Kind)
	}
	Expect(got).To(ConsistOf(kinds), "the report's breakdown by client kind: %s", strings.Join(got, ", "))
}
