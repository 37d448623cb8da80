package server

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

const corpusDir = "testdata/fuzz/FuzzHandle"

func fuzzServer() *Server {
	cfg := testConfig("fuzz")
	cfg.RapidCommit = true
	cfg.DNS = testDNS() // the Client FQDN option is read and DNS changes are made (fqdn.go)
	return newServer(cfg)
}

// seedMessages are real encoded messages for the fuzz corpus, named.
func seedMessages() map[string][]byte {
	s := fuzzServer()
	sid := sidOf(s)
	oro := dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, 82)
	rc := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
	sol := newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), oro, naOpt(1), pdOpt(2))
	a := "2001:db8:1::1"
	m := map[string][]byte{
		"solicit":             sol.ToBytes(),
		"solicit-rapid":       newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), rc, naOpt(1, a)).ToBytes(),
		"request":             newMsg(dhcpv6.MessageTypeRequest, cid(1), sid, elapsed(), naOpt(1, a), pdOpt(2, "2001:db8:100::/56")).ToBytes(),
		"renew":               newMsg(dhcpv6.MessageTypeRenew, cid(1), sid, elapsed(), naOpt(1, a)).ToBytes(),
		"rebind":              newMsg(dhcpv6.MessageTypeRebind, cid(1), elapsed(), naOpt(1, a), pdOpt(2, "2001:db8:200::/56")).ToBytes(),
		"release":             newMsg(dhcpv6.MessageTypeRelease, cid(1), sid, naOpt(1, a)).ToBytes(),
		"decline":             newMsg(dhcpv6.MessageTypeDecline, cid(1), sid, naOpt(1, a)).ToBytes(),
		"confirm":             newMsg(dhcpv6.MessageTypeConfirm, cid(1), naOpt(1, a)).ToBytes(),
		"information-request": newMsg(dhcpv6.MessageTypeInformationRequest, cid(1), oro).ToBytes(),
		"relay-forw":          relayForw(sol, 0, "2001:db8:1::1", "fe80::1234", "eth0").ToBytes(),
		"relay-forw-nested": relayForw(relayForw(sol, 0, "2001:db8:1::1", "fe80::1234", "eth0"),
			1, "::", "2001:db8:ffff::a", "up", dhcpv6.OptRelayPort(547)).ToBytes(),
		"relay-forw-9-levels": nest(newMsg(dhcpv6.MessageTypeInformationRequest, cid(1)), HopCountLimit+1).ToBytes(),
		// RFC 5007 Leasequery from a requestor, by address and by client ID
		// (client 1 holds leases once "request" has run).
		"leasequery":            leasequeryMsg(byAddress(a)).ToBytes(),
		"leasequery-clientid":   leasequeryMsg(lqQueryOpt(queryByClientID, "2001:db8:1::1", cid(1))).ToBytes(),
		"relay-forw-leasequery": relayForw(leasequeryMsg(byClientID(1)), 0, "2001:db8:1::1", "2001:db8:1::fe", "").ToBytes(),
	}
	full := m["request"]
	m["truncated-option"] = full[:len(full)-7]
	m["truncated-header"] = full[:3]
	nested := m["relay-forw-nested"]
	m["relay-forw-truncated"] = nested[:len(nested)-5]
	// Malformed LEASEQUERYs: the query option cut inside its link-address,
	// query-options cut inside an option, an unknown query-type.
	m["leasequery-short-query"] = leasequeryMsg(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: []byte{1, 0x20, 1, 0xd}}).ToBytes()
	m["leasequery-cut-options"] = leasequeryMsg(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery,
		OptionData: append(append([]byte{queryByAddress}, make([]byte, 16)...), 0, 5, 0, 24, 0x20)}).ToBytes()
	m["leasequery-unknown-type"] = leasequeryMsg(lqQueryOpt(200, "::", cid(1))).ToBytes()
	// Client FQDN options (RFC 4704): a partial name in a Request, a fully
	// qualified one in a Rapid Commit Solicit, a compression pointer.
	m["request-fqdn"] = newMsg(dhcpv6.MessageTypeRequest, cid(1), sid, elapsed(), naOpt(1, a), fqdnOpt(fqdnS, 2, 'h', '1')).ToBytes()
	m["solicit-rapid-fqdn"] = newMsg(dhcpv6.MessageTypeSolicit, cid(2), elapsed(), rc, naOpt(1),
		fqdnOpt(fqdnS, 2, 'h', '2', 3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0)).ToBytes()
	m["solicit-fqdn-pointer"] = newMsg(dhcpv6.MessageTypeSolicit, cid(3), elapsed(), naOpt(1), fqdnOpt(0, 2, 'h', '3', 0xc0, 0x05, 0)).ToBytes()
	return m
}

// corpusFile renders one input in the go test fuzz v1 format.
func corpusFile(pkt []byte, multicast bool) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\nbool(%v)\n", pkt, multicast)
}

// The seed corpus in testdata is the one seedMessages builds. Regenerate
// it with D6LAB_WRITE_CORPUS=1 go test -run TestFuzzCorpus ./server/.
func TestFuzzCorpus(t *testing.T) {
	write := os.Getenv("D6LAB_WRITE_CORPUS") == "1"
	for name, pkt := range seedMessages() {
		path := filepath.Join(corpusDir, "seed-"+name)
		want := corpusFile(pkt, !strings.HasPrefix(name, "relay"))
		if write {
			if err := os.MkdirAll(corpusDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v); regenerate with D6LAB_WRITE_CORPUS=1", path, err)
		}
	}
}

// FuzzHandle feeds arbitrary datagrams to Handle: it must never panic (or
// need its recover), keep its counters consistent, and every answer must
// decode and be an Advertise, a Reply, a LEASEQUERY-REPLY or a Relay-reply
// sent to a sensible port. It is also a differential test of the two
// decoding paths: a second pair of servers (without DNS, whose Client
// FQDN option insomniacslk re-encodes rather than keeps) gets the same
// datagrams, one through Handle (wire, or insomniacslk where wire says
// ErrNotFastPath) and one through dhcpv6.FromBytes, HandleMessage and
// ToBytes; the answers, where they go and the counters must be the same.
func FuzzHandle(f *testing.F) {
	for name, pkt := range seedMessages() {
		f.Add(pkt, !strings.HasPrefix(name, "relay"))
	}
	src := netip.MustParseAddrPort("[fe80::1]:10546")
	f.Fuzz(func(t *testing.T, pkt []byte, multicast bool) {
		s := fuzzServer()
		fast, slow := pathServer(), pathServer()
		for round := 0; round < 2; round++ { // twice: the second sees the state the first left
			checkPaths(t, fast, slow, pkt, src, multicast)
			reply, dst, ok := s.Handle(t0, pkt, src, multicast)
			c := s.Counters()
			if c.Dropped[DropPanic] != 0 {
				t.Fatalf("handler panicked on %x", pkt)
			}
			counterInvariant(t, s)
			if !ok {
				continue
			}
			out, err := dhcpv6.FromBytes(reply)
			if err != nil {
				t.Fatalf("answer %x does not decode: %v", reply, err)
			}
			switch out.Type() {
			case dhcpv6.MessageTypeAdvertise, dhcpv6.MessageTypeReply:
				if dst.Port() != 546 {
					t.Fatalf("client answer to port %d", dst.Port())
				}
			case dhcpv6.MessageTypeLeaseQueryReply:
				if dst != src {
					t.Fatalf("LEASEQUERY-REPLY to %s, not back to the requestor %s", dst, src)
				}
			case dhcpv6.MessageTypeRelayReply:
				if dst.Port() != 547 && dst.Port() != src.Port() {
					t.Fatalf("relay answer to port %d", dst.Port())
				}
				if _, err := out.GetInnerMessage(); err != nil {
					t.Fatalf("Relay-reply without a message: %v", err)
				}
			default:
				t.Fatalf("answered with a %s", out.Type())
			}
		}
	})
}

// pathServer is fuzzServer without DNS, for the differential of the two
// decoding paths.
func pathServer() *Server {
	cfg := testConfig("fuzz")
	cfg.RapidCommit = true
	return newServer(cfg)
}

// checkPaths hands pkt to fast through Handle and to slow through
// insomniacslk and HandleMessage, and fails unless both drop it for the
// same reason or answer it with the same bytes to the same place.
func checkPaths(t *testing.T, fast, slow *Server, pkt []byte, src netip.AddrPort, multicast bool) {
	t.Helper()
	got, gotDst, gotOK := fast.Handle(t0, pkt, src, multicast)
	var want []byte
	var wantDst netip.AddrPort
	wantOK := false
	if msg, err := dhcpv6.FromBytes(pkt); err != nil {
		slow.ctr.received.Add(1)
		slow.ctr.dropped[DropMalformed].Add(1)
	} else if out, ok := slow.HandleMessage(t0, msg, multicast); ok {
		want, wantDst, wantOK = out.ToBytes(), ReplyAddr(src, msg), true
	}
	if gotOK != wantOK || !bytes.Equal(got, want) || gotDst != wantDst {
		t.Fatalf("the two paths differ on %x:\nHandle:        %v %s %x\nHandleMessage: %v %s %x", pkt, gotOK, gotDst, got, wantOK, wantDst, want)
	}
	if fc, sc := fast.Counters(), slow.Counters(); !maps.Equal(fc.Dropped, sc.Dropped) || fc.Answered != sc.Answered {
		t.Fatalf("the two paths count %x differently:\nHandle:        %+v\nHandleMessage: %+v", pkt, fc, sc)
	}
}
