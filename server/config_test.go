package server

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/server/alloc"
)

func TestConfigValidate(t *testing.T) {
	base := testConfig("s")
	if err := base.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	tests := []struct {
		field string
		mod   func(c *Config)
	}{
		{"T1", func(c *Config) { c.T1 = 0 }},
		{"T1", func(c *Config) { c.T1 = 500 * time.Millisecond }},
		{"T2", func(c *Config) { c.T2 = c.T1 - time.Second }},
		{"Preferred", func(c *Config) { c.Preferred = c.T2 - time.Second }},
		{"Valid", func(c *Config) { c.Valid = c.Preferred - time.Second }},
		{"Valid", func(c *Config) { c.Valid = -time.Second }},
		{"Valid", func(c *Config) { c.Valid = 1 << 62 }},
		{"Pool", func(c *Config) { c.Pool = alloc.Pool{} }},
		{"Name", func(c *Config) { c.Name = "" }},
		{"DUID", func(c *Config) { c.DUID = []byte{0, 3} }},
		{"DUIDType", func(c *Config) { c.DUIDType = "en" }},
		{"Prefix", func(c *Config) { c.Prefix = netip.MustParsePrefix("10.0.0.0/8") }},
		{"Allocator", func(c *Config) { c.Allocator = "roundrobin" }},
		{"Rebind", func(c *Config) { c.Rebind = "kea" }},
		{"Unicast", func(c *Config) { c.Unicast = 9 }},
		{"DeclineHold", func(c *Config) { c.DeclineHold = -time.Second }},
	}
	for _, tc := range tests {
		c := base
		tc.mod(&c)
		err := c.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: Validate() = %v, want a ConfigError on %s", tc.field, err, tc.field)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: message %q does not name the field", tc.field, err)
		}
		if _, err := New(c, nil); err == nil {
			t.Errorf("%s: New accepted an invalid config", tc.field)
		}
	}
	// Equal lifetimes are fine, and an empty allocator means hash.
	c := base
	c.T1, c.T2, c.Preferred, c.Valid, c.Allocator = time.Minute, time.Minute, time.Minute, time.Minute, ""
	s, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config().Allocator != "hash" || s.Config().DeclineHold != time.Minute {
		t.Fatalf("defaults not filled: %+v", s.Config())
	}
	if err := DefaultConfig().Validate(); err == nil || !strings.Contains(err.Error(), "Name") {
		t.Fatalf("DefaultConfig without Name/Pool: %v", err)
	}
	d := DefaultConfig()
	d.Name, d.Pool = "x", base.Pool
	if err := d.Validate(); err != nil {
		t.Fatalf("DefaultConfig + Name + Pool: %v", err)
	}
}

func TestDefaultPrefix(t *testing.T) {
	c := testConfig("s")
	c.Prefix = netip.Prefix{}
	c.Pool = mustPool("2001:db8:7::100-2001:db8:7::1ff")
	s, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config().Prefix.String(); got != "2001:db8:7::/64" {
		t.Fatalf("default prefix %s", got)
	}
}

func TestDUID(t *testing.T) {
	ll1, _ := DeriveDUID("server-a", "ll")
	ll2, _ := DeriveDUID("server-a", "")
	llOther, _ := DeriveDUID("server-b", "ll")
	llt1, _ := DeriveDUID("server-a", "llt")
	llt2, _ := DeriveDUID("server-a", "llt")
	if string(ll1) != string(ll2) || string(llt1) != string(llt2) {
		t.Fatal("derived DUID not stable")
	}
	if string(ll1) == string(llOther) {
		t.Fatal("different names, same DUID")
	}
	for _, d := range [][]byte{ll1, llt1} {
		if err := ValidateDUID(d); err != nil {
			t.Fatal(err)
		}
	}
	if dd, _ := dhcpv6.DUIDFromBytes(ll1); dd.DUIDType() != dhcpv6.DUID_LL || len(ll1) != 10 {
		t.Fatalf("ll: %x", ll1)
	}
	if dd, _ := dhcpv6.DUIDFromBytes(llt1); dd.DUIDType() != dhcpv6.DUID_LLT || len(llt1) != 14 {
		t.Fatalf("llt: %x", llt1)
	}
	if ll1[4]&0x03 != 0x02 {
		t.Fatalf("MAC %x is not locally administered unicast", ll1[4:])
	}
	if _, err := DeriveDUID("x", "uuid"); !errors.Is(err, ErrInvalidDUID) {
		t.Fatalf("DeriveDUID(uuid): %v", err)
	}
	// Servers built from the same config share a DUID; a given DUID wins.
	c := testConfig("server-a")
	s1, _ := New(c, nil)
	s2, _ := New(c, nil)
	if string(s1.DUID()) != string(s2.DUID()) || string(s1.DUID()) != string(ll1) {
		t.Fatal("server DUID not derived from Name")
	}
	c.DUID, _ = ParseDUID("00:01:00:01:2f:00:00:01:02:00:00:00:00:07")
	s3, err := New(c, nil)
	if err != nil || FormatDUID(s3.DUID()) != "000100012f000001020000000007" {
		t.Fatalf("configured DUID: %x %v", s3.DUID(), err)
	}
	for _, bad := range []string{"", "0", "zz", "0001", strings.Repeat("00", 131)} {
		if _, err := ParseDUID(bad); !errors.Is(err, ErrInvalidDUID) {
			t.Errorf("ParseDUID(%q): %v", bad, err)
		}
	}
}

func TestPolicyNames(t *testing.T) {
	for _, n := range []string{"create", "zero", "nobinding", "silent"} {
		var p deploy.RebindPolicy
		if err := p.Set(n); err != nil || p.String() != n {
			t.Errorf("rebind %q: %v %v", n, p, err)
		}
	}
	if _, err := deploy.ParseRebindPolicy("kea"); err == nil || !strings.Contains(err.Error(), "create, zero, nobinding, silent") {
		t.Errorf("ParseRebindPolicy(kea): %v", err)
	}
	for _, n := range []string{"drop", "accept", "usemulticast"} {
		var p UnicastPolicy
		if err := p.Set(n); err != nil || p.String() != n {
			t.Errorf("unicast %q: %v %v", n, p, err)
		}
	}
	if _, err := ParseUnicastPolicy("maybe"); err == nil {
		t.Error("ParseUnicastPolicy(maybe) accepted")
	}
	for _, r := range DropReasons() {
		var back DropReason
		b, _ := r.MarshalText()
		if err := back.UnmarshalText(b); err != nil || back != r || strings.HasPrefix(r.String(), "DropReason(") {
			t.Errorf("drop reason %d: %q", r, b)
		}
	}
	c := Counters{Received: 3, Answered: 1, Dropped: map[DropReason]uint64{DropUnicast: 2}}
	j, err := json.Marshal(c)
	if err != nil || !strings.Contains(string(j), `"unicast":2`) {
		t.Fatalf("counters JSON: %s %v", j, err)
	}
}
