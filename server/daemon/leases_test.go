package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"d6lab/server/lease"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := parseHexColon(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utc(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLeaseParsers(t *testing.T) {
	const t1, t2, pref, valid = 10 * time.Second, 16 * time.Second, 20 * time.Second, 30 * time.Second
	parsers := map[string]func(f *os.File) ([]lease.Binding, error){
		"kea":     func(f *os.File) ([]lease.Binding, error) { return parseKeaLeases(f, t1, t2) },
		"dhcpd":   func(f *os.File) ([]lease.Binding, error) { return parseDhcpdLeases(f, t1, t2) },
		"dnsmasq": func(f *os.File) ([]lease.Binding, error) { return parseDnsmasqLeases(f, t1, t2, pref, valid) },
	}
	c7 := "00:03:00:01:02:d6:c1:00:00:07"
	c8 := "00:03:00:01:02:d6:c1:00:00:08"
	for _, tc := range []struct {
		parser, file string
		want         []lease.Binding
		wantErr      bool
	}{
		{parser: "kea", file: "kea-leases6.csv", want: []lease.Binding{
			// the later row for ::1000 wins; ::1001 was released (valid 0);
			// ::1002 is declined (state 1)
			{DUID: mustHex(t, c7), IAID: 3238002695, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:d6::1000/128"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: time.Unix(1795757200-30, 0).UTC(), Expires: time.Unix(1795757200, 0).UTC()},
			{DUID: mustHex(t, c8), IAID: 2, Type: lease.PD, Lease: netip.MustParsePrefix("2001:db8:100:200::/56"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: time.Unix(1795757192-30, 0).UTC(), Expires: time.Unix(1795757192, 0).UTC()},
		}},
		{parser: "dhcpd", file: "dhcpd6.leases", want: []lease.Binding{
			// the IAID is little-endian in the key; the last block for an
			// IA wins; ::1111 was released
			{DUID: mustHex(t, c7), IAID: 0xc1000007, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:d6::1790/128"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: utc("2026-11-27 05:26:12"), Expires: utc("2026-11-27 05:26:42")},
			{DUID: mustHex(t, "00:03:00:01:02:d6:c1:00:00:22"), IAID: 2, Type: lease.PD, Lease: netip.MustParsePrefix("2001:db8:100:200::/56"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: time.Unix(1795757194-30, 0).UTC(), Expires: time.Unix(1795757194, 0).UTC()},
		}},
		{parser: "dnsmasq", file: "dnsmasq.leases", want: []lease.Binding{
			// the IPv4 line and the temporary address are skipped
			{DUID: mustHex(t, c7), IAID: 3238002695, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:d6::1465/128"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: time.Unix(1795757279-30, 0).UTC(), Expires: time.Unix(1795757279, 0).UTC()},
			{DUID: mustHex(t, c8), IAID: 1, Type: lease.NA, Lease: netip.MustParsePrefix("2001:db8:d6::1466/128"),
				T1: t1, T2: t2, Preferred: pref, Valid: valid,
				Granted: time.Unix(1795757280-30, 0).UTC(), Expires: time.Unix(1795757280, 0).UTC()},
		}},
		{parser: "kea", file: "malformed/kea-noheader.csv", wantErr: true},
		{parser: "dhcpd", file: "malformed/dhcpd-short.leases", wantErr: true},
		{parser: "dnsmasq", file: "malformed/dnsmasq-iaid.leases", wantErr: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := parsers[tc.parser](f)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d bindings %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if string(g.DUID) != string(w.DUID) || g.IAID != w.IAID || g.Type != w.Type || g.Lease != w.Lease ||
					g.T1 != w.T1 || g.T2 != w.T2 || g.Preferred != w.Preferred || g.Valid != w.Valid ||
					!g.Granted.Equal(w.Granted) || !g.Expires.Equal(w.Expires) {
					t.Errorf("binding %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestDhcpdString(t *testing.T) {
	for in, want := range map[string]string{
		`"\001\000ab"`:   "\x01\x00ab",
		`"x\"y\\z"`:      `x"y\z`,
		`01:02:ff`:       "\x01\x02\xff",
		`"\326\032\260"`: "\xd6\x1a\xb0",
	} {
		got, err := dhcpdString(in)
		if err != nil || string(got) != want {
			t.Errorf("dhcpdString(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"\00"`, `"abc`, `"ab\"`} {
		if _, err := dhcpdString(in); err == nil {
			t.Errorf("dhcpdString(%s): no error", in)
		}
	}
}
