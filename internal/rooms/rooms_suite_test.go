package rooms_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestRooms(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "rooms")
}
