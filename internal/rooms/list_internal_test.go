package rooms

import (
	"reflect"
	"testing"
)

// A package's variant for one main package (profile-guided optimization)
// is the package: its imports join the plain package's, once each.
func TestParseListMergesVariants(t *testing.T) {
	out := []byte("d6lab/wire\n" +
		"d6lab/server\td6lab/wire\td6lab/netaddr6\n" +
		"d6lab/server [d6lab/cmd/d6lab]\td6lab/wire [d6lab/cmd/d6lab]\td6lab/deploy [d6lab/cmd/d6lab]\n" +
		"d6lab/cmd/d6lab\td6lab/server [d6lab/cmd/d6lab]\n")
	want := map[string][]string{
		"d6lab/wire":      {},
		"d6lab/server":    {"d6lab/wire", "d6lab/netaddr6", "d6lab/deploy"},
		"d6lab/cmd/d6lab": {"d6lab/server"},
	}
	if got := parseList(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("parseList:\n got %v\nwant %v", got, want)
	}
}
