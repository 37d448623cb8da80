package ddns

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestDDNS(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "server/ddns")
}
