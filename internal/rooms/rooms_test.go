package rooms_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/internal/rooms"
)

func list(vs []rooms.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("\n  " + v.String())
	}
	return b.String()
}

var _ = Describe("the import rules", func() {
	It("hold in this repository (non-test imports, go list -deps)", func() {
		vs, err := rooms.Check(rooms.Table, "../..")
		Expect(err).NotTo(HaveOccurred())
		Expect(vs).To(BeEmpty(), "imports that break rooms.Table (see ARCHITECTURE.md):%s", list(vs))
	})

	It("see the whole tree", func() {
		module, imports, err := rooms.Graph("../..")
		Expect(err).NotTo(HaveOccurred())
		Expect(module).To(Equal("d6lab"))
		Expect(imports).To(HaveKey("d6lab/cmd/d6lab"))
		Expect(imports["d6lab/cmd/d6lab"]).To(ContainElement("d6lab/sim"))
		Expect(imports).To(HaveKey("d6lab/reports/history"))
		// cmd/d6lab is built with a profile (default.pgo): go list names
		// its dependencies' variants "d6lab/server [d6lab/cmd/d6lab]".
		for pkg, deps := range imports {
			Expect(pkg).NotTo(ContainSubstring(" ["), "a variant kept apart")
			for _, d := range deps {
				Expect(d).NotTo(ContainSubstring(" ["), "%s imports a variant", pkg)
			}
		}
	})

	It("accept a fixture module whose rooms import downwards", func() {
		vs, err := rooms.Check(rooms.Table, "testdata/clean")
		Expect(err).NotTo(HaveOccurred())
		Expect(vs).To(BeEmpty(), list(vs))
	})

	It("reject a fixture module where a lower room (reports) imports a higher one (sim), naming the import", func() {
		vs, err := rooms.Check(rooms.Table, "testdata/upward")
		Expect(err).NotTo(HaveOccurred())
		Expect(vs).To(HaveLen(1), list(vs))
		Expect(vs[0].String()).To(Equal(
			"fixture/reports/x imports fixture/sim/y: room reports may not import room sim (it may import history, netaddr6)"))
	})

	It("reject a fixture module with a package in no room", func() {
		vs, err := rooms.Check(rooms.Table, "testdata/stray")
		Expect(err).NotTo(HaveOccurred())
		Expect(vs).To(HaveLen(1), list(vs))
		Expect(vs[0].String()).To(Equal("fixture/tools/z: in no room: add its folder to rooms.Table"))
	})

	DescribeTable("place a package in the room with the longest matching folder",
		func(rel, room string) {
			r, ok := rooms.Of(rooms.Table, rel)
			Expect(ok).To(BeTrue())
			Expect(r.Name).To(Equal(room))
		},
		Entry(nil, "reports/history", "history"),
		Entry(nil, "reports/check", "reports"),
		Entry(nil, "reports", "reports"),
		Entry(nil, "sim/netns", "sim"),
		Entry(nil, "cmd/d6lab", "cmd"),
		Entry(nil, "server/daemon", "server"),
	)

	It("do not place a folder that only shares a name prefix with a room", func() {
		_, ok := rooms.Of(rooms.Table, "simx/y")
		Expect(ok).To(BeFalse())
	})
})
