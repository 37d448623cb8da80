package leasequery_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestLeasequery(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "leasequery")
}
