package conform

import (
	"testing"

	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestConform(t *testing.T) {
	RegisterFailHandler(g.Fail)
	g.RunSpecs(t, "conform")
}
