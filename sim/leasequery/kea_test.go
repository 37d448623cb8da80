package leasequery_test

import (
	"encoding/json"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server/lease"
	"d6lab/sim/leasequery"
)

// fakeKea is a UNIX socket that answers each connection the way
// kea-dhcp6's control socket does: it reads one JSON command, writes the
// answer answer(cmd) gives and closes the connection.
func fakeKea(answer func(cmd map[string]any) string) (path string, commands <-chan map[string]any) {
	GinkgoHelper()
	path = filepath.Join(GinkgoT().TempDir(), "kea6-ctrl.sock")
	l, err := net.Listen("unix", path)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(l.Close)
	ch := make(chan map[string]any, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var cmd map[string]any
			if err := json.NewDecoder(c).Decode(&cmd); err == nil {
				ch <- cmd
				c.Write([]byte(answer(cmd)))
			}
			c.Close()
		}
	}()
	return path, ch
}

var _ = Describe("Kea's control socket (lease_cmds: lease6-get-by-duid)", func() {
	now := time.Unix(1_800_000_000, 0)

	It("sends lease6-get-by-duid with the DUID as colon-separated hex", func() {
		var cmd map[string]any
		Expect(json.Unmarshal(leasequery.KeaCommand([]byte{0, 3, 0, 1, 0xab, 0xcd}), &cmd)).To(Succeed())
		Expect(cmd).To(Equal(map[string]any{
			"command":   "lease6-get-by-duid",
			"arguments": map[string]any{"duid": "00:03:00:01:ab:cd"},
		}))
	})

	It("result 0: the leases still bound (state default, cltt + valid-lft not passed), with what remains of their lifetimes", func() {
		answer := `{"result": 0, "text": "2 IPv6 lease(s) found.", "arguments": {"leases": [
		  {"ip-address": "2001:db8:1::7", "type": "IA_NA", "prefix-len": 128, "duid": "00:03:00:01:02:cc:00:00:00:01", "iaid": 1, "cltt": 1799999990, "valid-lft": 30, "preferred-lft": 20, "state": 0, "subnet-id": 1},
		  {"ip-address": "2001:db8:100::", "type": "IA_PD", "prefix-len": 56, "duid": "00:03:00:01:02:cc:00:00:00:01", "iaid": 2, "cltt": 1799999990, "valid-lft": 30, "preferred-lft": 5, "state": 0, "subnet-id": 1},
		  {"ip-address": "2001:db8:1::8", "type": "IA_NA", "prefix-len": 128, "duid": "00:03:00:01:02:cc:00:00:00:01", "iaid": 1, "cltt": 1799999990, "valid-lft": 30, "preferred-lft": 20, "state": 1, "subnet-id": 1},
		  {"ip-address": "2001:db8:1::9", "type": "IA_NA", "prefix-len": 128, "duid": "00:03:00:01:02:cc:00:00:00:01", "iaid": 1, "cltt": 1799999900, "valid-lft": 30, "preferred-lft": 20, "state": 0, "subnet-id": 1}
		]}}`
		ls, err := leasequery.ParseKea([]byte(answer), clientDUID(1), now)
		Expect(err).NotTo(HaveOccurred())
		Expect(ls).To(Equal([]leasequery.Lease{
			{Type: lease.NA, Prefix: netip.MustParsePrefix("2001:db8:1::7/128"), Preferred: 10 * time.Second, Valid: 20 * time.Second},
			{Type: lease.PD, Prefix: netip.MustParsePrefix("2001:db8:100::/56"), Preferred: 0, Valid: 20 * time.Second},
		}), "the declined lease (state 1) and the expired one not yet reclaimed are not bindings")
	})

	It("result 3: no lease; another result: an error with Kea's text; the Control Agent's one-element list too", func() {
		ls, err := leasequery.ParseKea([]byte(`{"result": 3, "text": "0 IPv6 lease(s) found."}`), clientDUID(1), now)
		Expect(err).NotTo(HaveOccurred())
		Expect(ls).To(BeEmpty())
		_, err = leasequery.ParseKea([]byte(`{"result": 1, "text": "'duid' parameter not specified"}`), clientDUID(1), now)
		Expect(err).To(MatchError(ContainSubstring("result 1: 'duid' parameter not specified")))
		_, err = leasequery.ParseKea([]byte(`[{"result": 2, "text": "'lease6-get-by-duid' command not supported."}]`), clientDUID(1), now)
		Expect(err).To(MatchError(ContainSubstring("result 2")))
		_, err = leasequery.ParseKea([]byte(`{"text": "no result"}`), clientDUID(1), now)
		Expect(err).To(MatchError(ContainSubstring("without a result")))
		_, err = leasequery.ParseKea([]byte(`<html>`), clientDUID(1), now)
		Expect(err).To(MatchError(ContainSubstring("not JSON")))
	})

	It("refuses an answer naming another DUID's lease", func() {
		answer := `{"result": 0, "arguments": {"leases": [{"ip-address": "2001:db8:1::7", "type": "IA_NA", "duid": "00:03:00:01:02:cc:00:00:00:02", "cltt": 1799999990, "valid-lft": 30, "state": 0}]}}`
		_, err := leasequery.ParseKea([]byte(answer), clientDUID(1), now)
		Expect(err).To(MatchError(ContainSubstring("a lease of DUID 00:03:00:01:02:cc:00:00:00:02")))
	})

	It("asks over the UNIX socket and reads the answer", func() {
		cltt := time.Now().Unix()
		path, commands := fakeKea(func(cmd map[string]any) string {
			args, _ := cmd["arguments"].(map[string]any)
			switch args["duid"] {
			case "00:03:00:01:02:cc:00:00:00:01":
				b, _ := json.Marshal(map[string]any{"result": 0, "text": "1 IPv6 lease(s) found.", "arguments": map[string]any{"leases": []any{
					map[string]any{"ip-address": "2001:db8:1::7", "type": "IA_NA", "prefix-len": 128, "duid": args["duid"], "cltt": cltt, "valid-lft": 3600, "preferred-lft": 1800, "state": 0},
				}}})
				return string(b)
			case "00:03:00:01:02:cc:00:00:00:02":
				return `{"result": 3, "text": "0 IPv6 lease(s) found."}`
			}
			return `{"result": 1, "text": "bad duid"}`
		})
		ls, err := leasequery.Kea(path, clientDUID(1), 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(prefixes(ls)).To(Equal([]netip.Prefix{netip.MustParsePrefix("2001:db8:1::7/128")}))
		Expect((<-commands)["command"]).To(Equal("lease6-get-by-duid"))
		ls, err = leasequery.Kea(path, clientDUID(2), 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(ls).To(BeEmpty())
		_, err = leasequery.Kea(path, []byte{1, 2, 3}, 5*time.Second)
		Expect(err).To(MatchError(ContainSubstring("bad duid")))
	})

	It("fails, naming the socket, when nothing listens there", func() {
		_, err := leasequery.Kea(filepath.Join(GinkgoT().TempDir(), "none.sock"), clientDUID(1), time.Second)
		Expect(err).To(MatchError(ContainSubstring("none.sock")))
	})
})
