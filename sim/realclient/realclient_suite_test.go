package realclient_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestRealclient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "realclient")
}

// d6labBin is `d6lab serve`'s binary for the specs that run real clients
// in a lab; built once, as root only (the others need no server).
var d6labBin string

var _ = BeforeSuite(func() {
	if os.Geteuid() != 0 {
		return
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	d6labBin = filepath.Join(GinkgoT().TempDir(), "d6lab")
	out, err := exec.Command(goBin, "build", "-o", d6labBin, "d6lab/cmd/d6lab").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build d6lab/cmd/d6lab:\n%s", out)
})
