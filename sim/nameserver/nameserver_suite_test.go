package nameserver_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestNameserver(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "nameserver")
}
