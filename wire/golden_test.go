package wire_test

import (
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the generated seeds of testdata/fuzz/FuzzDecodeDifferential")

const (
	goldenDir = "testdata/golden"
	corpusDir = "testdata/fuzz/FuzzDecodeDifferential"
)

var (
	clientDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x07}}
	serverDUID = &dhcpv6.DUIDLLT{HWType: iana.HWTypeEthernet, Time: 0x2c3e5a00, LinkLayerAddr: net.HardwareAddr{0x02, 0xd6, 0x1a, 0, 0, 0x01}}
	xid        = dhcpv6.TransactionID{0xa1, 0xb2, 0xc3}
	addr1      = net.ParseIP("2001:db8:1::42")
	prefix1    = &net.IPNet{IP: net.ParseIP("2001:db8:100::"), Mask: net.CIDRMask(56, 128)}
	// fqdnH7 is "h7" as a partial name (RFC 4704 §4.2), flags S=1.
	fqdnH7 = &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: []byte{1, 2, 'h', '7'}}
	rapid  = &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
	reconf = &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionReconfAccept}
	vendor = &dhcpv6.OptVendorClass{EnterpriseNumber: 40712, Data: [][]byte{[]byte("d6lab")}}
)

func msg(t dhcpv6.MessageType, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: xid}
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

func iana_(id byte, t1, t2 time.Duration, opts ...dhcpv6.Option) *dhcpv6.OptIANA {
	ia := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, id}, T1: t1, T2: t2}
	for _, o := range opts {
		ia.Options.Add(o)
	}
	return ia
}

func iapd(id byte, t1, t2 time.Duration, opts ...dhcpv6.Option) *dhcpv6.OptIAPD {
	ia := &dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, id}, T1: t1, T2: t2}
	for _, o := range opts {
		ia.Options.Add(o)
	}
	return ia
}

func iaAddr(ip net.IP, pref, valid time.Duration, opts ...dhcpv6.Option) *dhcpv6.OptIAAddress {
	a := &dhcpv6.OptIAAddress{IPv6Addr: ip, PreferredLifetime: pref, ValidLifetime: valid}
	for _, o := range opts {
		a.Options.Add(o)
	}
	return a
}

func iaPrefix(p *net.IPNet, pref, valid time.Duration) *dhcpv6.OptIAPrefix {
	return &dhcpv6.OptIAPrefix{Prefix: p, PreferredLifetime: pref, ValidLifetime: valid}
}

func status(c iana.StatusCode, text string) *dhcpv6.OptStatusCode {
	return &dhcpv6.OptStatusCode{StatusCode: c, StatusMessage: text}
}

func relay(t dhcpv6.MessageType, inner dhcpv6.DHCPv6, hop uint8, link, peer, ifname string, extra ...dhcpv6.Option) *dhcpv6.RelayMessage {
	r := &dhcpv6.RelayMessage{MessageType: t, HopCount: hop, LinkAddr: net.ParseIP(link), PeerAddr: net.ParseIP(peer)}
	if ifname != "" {
		r.AddOption(dhcpv6.OptInterfaceID([]byte(ifname)))
	}
	for _, o := range extra {
		r.AddOption(o)
	}
	r.AddOption(dhcpv6.OptRelayMessage(inner))
	return r
}

const hour = time.Hour

// goldens are the golden packets, built with insomniacslk in wire's
// canonical option order (AppendTo's), so each decodes and encodes again
// to the same bytes. testdata/golden holds their encodings.
func goldens() map[string]dhcpv6.DHCPv6 {
	cid, sid := dhcpv6.OptClientID(clientDUID), dhcpv6.OptServerID(serverDUID)
	oro := dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSolMaxRT, dhcpv6.OptionFQDN)
	et := dhcpv6.OptElapsedTime(1230 * time.Millisecond)
	naLease := func() *dhcpv6.OptIANA {
		return iana_(1, hour, 2*hour, iaAddr(addr1, 3*hour, 4*hour))
	}
	pdLease := func() *dhcpv6.OptIAPD {
		return iapd(2, hour, 2*hour, iaPrefix(prefix1, 3*hour, 4*hour))
	}
	request := msg(dhcpv6.MessageTypeRequest, cid, sid,
		iana_(1, 0, 0, iaAddr(addr1, 0, 0)), iapd(2, 0, 0, iaPrefix(prefix1, 0, 0)), oro, et, fqdnH7)
	reply := msg(dhcpv6.MessageTypeReply, cid, sid, naLease(), pdLease(), fqdnH7)
	return map[string]dhcpv6.DHCPv6{
		"solicit": msg(dhcpv6.MessageTypeSolicit, cid,
			iana_(1, 0, 0), iapd(2, 0, 0, iaPrefix(&net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(56, 128)}, 0, 0)),
			oro, et, rapid, reconf, fqdnH7, vendor),
		"advertise": msg(dhcpv6.MessageTypeAdvertise, cid, sid,
			iana_(1, hour, 2*hour, iaAddr(addr1, 3*hour, 4*hour), status(iana.StatusSuccess, "")),
			pdLease(), dhcpv6.OptPreference(255)),
		"advertise-noaddrs": msg(dhcpv6.MessageTypeAdvertise, cid, sid,
			dhcpv6.OptPreference(7), status(iana.StatusNoAddrsAvail, "no addresses")),
		"request":     request,
		"reply":       reply,
		"reply-rapid": msg(dhcpv6.MessageTypeReply, cid, sid, naLease(), rapid),
		"reply-nobinding": msg(dhcpv6.MessageTypeReply, cid, sid,
			iana_(1, 0, 0, iaAddr(addr1, 0, 0, status(iana.StatusNoBinding, "gone")), status(iana.StatusNoBinding, "no binding"))),
		"renew":   msg(dhcpv6.MessageTypeRenew, cid, sid, naLease(), pdLease(), et),
		"rebind":  msg(dhcpv6.MessageTypeRebind, cid, naLease(), et),
		"release": msg(dhcpv6.MessageTypeRelease, cid, sid, naLease(), et),
		"relay-forw-request": relay(dhcpv6.MessageTypeRelayForward,
			relay(dhcpv6.MessageTypeRelayForward, request, 0, "2001:db8:1::1", "fe80::7", "eth0",
				&dhcpv6.OptRemoteID{EnterpriseNumber: 3561, RemoteID: []byte("port-7")}),
			1, "::", "2001:db8:ffff::a", "up", dhcpv6.OptRelayPort(547)),
		"relay-repl-reply": relay(dhcpv6.MessageTypeRelayReply, reply, 0, "2001:db8:1::1", "fe80::7", "eth0"),
	}
}

// extraSeeds are fuzz seeds beside the goldens: edge cases at each
// length rule, and messages insomniacslk rejects.
func extraSeeds() map[string][]byte {
	g := goldens()
	req := g["request"].ToBytes()
	relayed := g["relay-forw-request"].ToBytes()
	hdr := []byte{3, 0xa1, 0xb2, 0xc3}
	with := func(opts ...[]byte) []byte {
		b := append([]byte(nil), hdr...)
		for _, o := range opts {
			b = append(b, o...)
		}
		return b
	}
	opt := func(code uint16, v ...byte) []byte {
		return append([]byte{byte(code >> 8), byte(code), byte(len(v) >> 8), byte(len(v))}, v...)
	}
	zeros := func(n int) []byte { return make([]byte, n) }
	return map[string][]byte{
		"empty":                 {},
		"short-header":          req[:3],
		"header-only":           hdr,
		"option-header-cut":     append(append([]byte(nil), hdr...), 0, 1, 0),
		"option-overrun":        req[:len(req)-3],
		"ia-na-11":              with(opt(3, zeros(11)...)),
		"ia-na-12":              with(opt(3, zeros(12)...)),
		"ia-pd-11":              with(opt(25, zeros(11)...)),
		"iaaddr-23":             with(opt(3, append(zeros(12), opt(5, zeros(23)...)...)...)),
		"iaprefix-24":           with(opt(25, append(zeros(12), opt(26, zeros(24)...)...)...)),
		"iaprefix-len0":         with(opt(25, append(zeros(12), opt(26, zeros(25)...)...)...)),
		"iaprefix-len200":       with(opt(25, append(zeros(12), opt(26, append(zeros(8), append([]byte{200}, zeros(16)...)...)...)...)...)),
		"status-1":              with(opt(13, 0)),
		"elapsed-3":             with(opt(8, 0, 0, 0)),
		"preference-0":          with(opt(7)),
		"oro-odd":               with(opt(6, 0, 23, 0)),
		"oro-twice":             with(opt(6, 0, 23), opt(6, 0, 24)),
		"oro-repeats":           with(opt(6, 0, 23, 0, 24, 0, 23), opt(6, 0, 23)),
		"oro-long-repeats":      with(opt(6, longORO()...)),
		"rapid-commit-long":     with(opt(14, 1, 2)),
		"duid-llt-short":        with(opt(1, 0, 1, 0, 1, 0, 0, 0)),
		"duid-uuid-17":          with(opt(1, append([]byte{0, 4}, zeros(15)...)...)),
		"duid-1":                with(opt(2, 0)),
		"client-id-twice":       with(opt(1, 0, 3, 0, 1, 0xaa), opt(1, 0, 3, 0, 1, 0xbb)),
		"fqdn-empty":            with(opt(39)),
		"fqdn-label-overrun":    with(opt(39, 1, 5, 'a')),
		"fqdn-pointer-cut":      with(opt(39, 1, 0xc0)),
		"fqdn-pointer":          with(opt(39, 1, 1, 'a', 0, 0xc0, 1)),
		"fqdn-nested-pointer":   with(opt(39, 1, 0xc0, 0, 0xc0, 0)),
		"dns-17":                with(opt(23, zeros(17)...)),
		"user-class-empty":      with(opt(15)),
		"vendor-class-no-data":  with(opt(16, 0, 0, 0, 1)),
		"vendor-opts-cut":       with(opt(17, 0, 0, 0, 1, 0, 1, 0)),
		"relay-port-3":          with(opt(135, 0, 0, 0)),
		"relay-msg-in-solicit":  with(opt(9, hdr...)),
		"dhcpv4-msg":            with(opt(87, zeros(10)...)),
		"unknown-type":          append([]byte{200}, req[1:]...),
		"relay-short":           relayed[:33],
		"relay-no-message":      append(append([]byte(nil), relayed[:34]...), opt(18, 'x')...),
		"relay-empty-message":   append(append([]byte(nil), relayed[:34]...), opt(9)...),
		"relay-cut":             relayed[:len(relayed)-5],
		"relay-inner-confirm":   append(append([]byte(nil), relayed[:34]...), opt(9, 4, 1, 2, 3)...),
		"ia-in-ia":              with(opt(3, append(zeros(12), opt(3, zeros(12)...)...)...)),
		"relay-msg-in-ia":       with(opt(3, append(zeros(12), opt(9, hdr...)...)...)),
		"information-refresh-5": with(opt(32, zeros(5)...)),
	}
}

// writeGolden writes testdata/golden/NAME.hex for each golden and the
// seed corpus files for the goldens and extraSeeds (-update).
func writeGolden() error {
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		return err
	}
	seeds := extraSeeds()
	for name, d := range goldens() {
		b := d.ToBytes()
		if err := os.WriteFile(filepath.Join(goldenDir, name+".hex"), []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			return err
		}
		seeds["golden-"+name] = b
	}
	names := make([]string, 0, len(seeds))
	for n := range seeds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seeds[n])
		if err := os.WriteFile(filepath.Join(corpusDir, "seed-"+n), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readGolden reads testdata/golden/NAME.hex.
func readGolden(name string) ([]byte, error) {
	s, err := os.ReadFile(filepath.Join(goldenDir, name+".hex"))
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(strings.TrimSpace(string(s)))
}

// parseSeed reads a fuzz corpus file holding one []byte value.
func parseSeed(data []byte) ([]byte, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("not a one-value corpus file")
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	if lit, ok = strings.CutSuffix(lit, ")"); !ok {
		return nil, fmt.Errorf("not a []byte value: %s", lines[1])
	}
	s, err := strconv.Unquote(lit)
	return []byte(s), err
}

// longORO is an ORO value of 100 codes, 50 distinct, each twice: past
// shortORO, so deduplicated with the bitset.
func longORO() []byte {
	var b []byte
	for i := 0; i < 100; i++ {
		c := 1000 + i%50*64 // spread over bitset words
		b = append(b, byte(c>>8), byte(c))
	}
	return b
}
