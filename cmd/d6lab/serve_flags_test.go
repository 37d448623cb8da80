package main_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("d6lab serve's --leases-sync and --procs", func() {
	// lo exists everywhere and --duid spares it a link-layer address:
	// serve refuses these before it binds anything.
	base := []string{"serve", "--iface", "lo", "--pool", "2001:db8:6::a:0/112", "--duid", "00030001020000000001"}
	DescribeTable("exit 2 naming the flag",
		func(want string, args ...string) {
			code, _, stderr := d6(append(append([]string{}, base...), args...)...)
			Expect(code).To(Equal(2), "stderr: %s", stderr)
			Expect(stderr).To(ContainSubstring(want))
		},
		Entry("--leases-sync without --leases", "--leases-sync write needs --leases", "--leases-sync", "write"),
		Entry("--leases-sync not a durability", `durability "fsync"`, "--leases-sync", "fsync"),
		Entry("--procs negative", "--procs -1: want 1 or more", "--procs", "-1"),
	)
})
