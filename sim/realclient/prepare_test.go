package realclient_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/sim/realclient"
)

// render is what Prepare made of spec, with the directory written $DIR:
// the argv, the clean stop, every file it wrote, and the notes.
func render(inst *realclient.Instance) string {
	dir := inst.Spec.Dir
	var b strings.Builder
	fmt.Fprintf(&b, "argv:\n")
	for _, a := range inst.Argv {
		fmt.Fprintf(&b, "  %s\n", a)
	}
	if len(inst.Stop.Argv) > 0 {
		fmt.Fprintf(&b, "stop argv:\n")
		for _, a := range inst.Stop.Argv {
			fmt.Fprintf(&b, "  %s\n", a)
		}
	} else {
		fmt.Fprintf(&b, "stop signal: %s\n", unix.SignalName(inst.Stop.Signal))
	}
	fmt.Fprintf(&b, "stop wait: %v\n", inst.Stop.Wait)
	Expect(filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if fi.IsDir() {
			fmt.Fprintf(&b, "--- %s/\n", rel)
			return nil
		}
		c, err := os.ReadFile(path)
		fmt.Fprintf(&b, "--- %s (%v)\n%s", rel, fi.Mode().Perm(), c)
		return err
	})).To(Succeed())
	fmt.Fprintf(&b, "notes:\n")
	for _, n := range inst.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return strings.ReplaceAll(b.String(), dir, "$DIR")
}

func golden(name, got string) {
	path := filepath.Join("testdata", name+".golden")
	if *update {
		Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "run `go test ./sim/realclient -update` to create %s", path)
	Expect(got).To(Equal(string(want)), "%s differs (go test ./sim/realclient -update rewrites it)", path)
}

var _ = Describe("Prepare", func() {
	spec := func(ia ...string) realclient.Spec {
		return realclient.Spec{
			Name: "c1", Dir: filepath.Join(GinkgoT().TempDir(), "c1"),
			Namespace: "d6ltest-c1", IfName: "d6ltest-n3", IA: ia,
		}
	}

	// Rendered without running anything: the adapters' Prepare needs no
	// installed client.
	for _, k := range deploy.ClientKinds {
		for _, c := range []struct {
			name string
			ia   []string
		}{{"na", []string{"na"}}, {"pd", []string{"pd"}}, {"napd", []string{"na", "pd"}}, {"stateless", nil}} {
			It(fmt.Sprintf("renders %s for %s", k, c.name), func() {
				a, err := realclient.Lookup(k)
				Expect(err).NotTo(HaveOccurred())
				inst, err := a.Prepare(spec(c.ia...))
				Expect(err).NotTo(HaveOccurred())
				Expect(inst.Kind).To(Equal(k))
				Expect(inst.Log).To(Equal(filepath.Join(inst.Spec.Dir, "client.log")))
				golden(fmt.Sprintf("%s-%s", k, c.name), render(inst))
			})
		}
	}

	It("runs dhclient with --dad-wait-time when DADWait is set, so that its script can make it Decline", func() {
		a, _ := realclient.Lookup(deploy.Dhclient)
		s := spec("na")
		s.DADWait = 1500 * time.Millisecond
		inst, err := a.Prepare(s)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Join(inst.Argv, " ")).To(ContainSubstring(" --dad-wait-time 2 "), "rounded up to whole seconds")
		golden("dhclient-na-dadwait", render(inst))
	})

	It("refuses a spec without a directory or an interface, or with quotes in its directory", func() {
		a, _ := realclient.Lookup(deploy.Dhcpcd)
		s := spec("na")
		s.Dir = ""
		_, err := a.Prepare(s)
		Expect(err).To(MatchError(ContainSubstring("no directory")))
		s = spec("na")
		s.IfName = ""
		_, err = a.Prepare(s)
		Expect(err).To(MatchError(ContainSubstring("no interface")))
		s = spec("na")
		s.Dir += `'x`
		_, err = a.Prepare(s)
		Expect(err).To(MatchError(ContainSubstring("no quotes")))
		s = spec("ta")
		_, err = a.Prepare(s)
		Expect(err).To(MatchError(ContainSubstring(`IA "ta"`)))
	})

	It("starts every client fresh: no lease or DUID left from an earlier run in its directory", func() {
		for _, k := range []deploy.ClientKind{deploy.Dhclient, deploy.Dhcpcd, deploy.Dhcp6c} {
			a, _ := realclient.Lookup(k)
			s := spec("na")
			Expect(os.MkdirAll(filepath.Join(s.Dir, "state"), 0o755)).To(Succeed())
			for _, f := range []string{"dhclient6.leases", "state/duid", "state/dhcp6c_duid"} {
				Expect(os.WriteFile(filepath.Join(s.Dir, f), []byte("old"), 0o644)).To(Succeed())
			}
			inst, err := a.Prepare(s)
			Expect(err).NotTo(HaveOccurred())
			_, err = inst.DUID()
			Expect(err).To(HaveOccurred(), "%s: a DUID before the client ran", k)
		}
	})
})

var _ = Describe("DUID", func() {
	It("reads dhclient's default-duid (C escapes), dhcpcd's hex and dhcp6c's length-prefixed file", func() {
		want := []byte{0, 1, 0, 1, 0x32, 0xa3, 0x8b, 0x70, 2, 0xd6, 0, 0, 0, 5}
		dir := GinkgoT().TempDir()
		cases := map[deploy.ClientKind]func(string){
			deploy.Dhclient: func(d string) {
				Expect(os.WriteFile(filepath.Join(d, "dhclient6.leases"),
					[]byte("default-duid \"\\000\\001\\000\\0012\\243\\213p\\002\\326\\000\\000\\000\\005\";\nlease6 {\n}\n"), 0o644)).To(Succeed())
			},
			deploy.Dhcpcd: func(d string) {
				Expect(os.WriteFile(filepath.Join(d, "state/duid"), []byte("00:01:00:01:32:a3:8b:70:02:d6:00:00:00:05\n"), 0o644)).To(Succeed())
			},
			deploy.Dhcp6c: func(d string) {
				Expect(os.WriteFile(filepath.Join(d, "state/dhcp6c_duid"), append([]byte{14, 0}, want...), 0o644)).To(Succeed())
			},
		}
		for k, write := range cases {
			a, _ := realclient.Lookup(k)
			inst, err := a.Prepare(realclient.Spec{Name: string(k), Dir: filepath.Join(dir, string(k)), IfName: "eth0", IA: []string{"na"}})
			Expect(err).NotTo(HaveOccurred())
			write(inst.Spec.Dir)
			Expect(inst.DUID()).To(Equal(want), "%s", k)
		}
	})
})
