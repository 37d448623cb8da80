package server

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

const bulkCorpusDir = "testdata/fuzz/FuzzBulk"

// fuzzBulkServer is a server holding three clients behind relay "relay-a"
// on 2001:db8:5::/64 (remote IDs circuit-1..3), one behind "relay-b" and
// one that came directly, all bound at t0.
func fuzzBulkServer() *Server {
	s := newServer(testConfig("fuzz-bulk"))
	via := func(m *dhcpv6.Message, link string, extra ...dhcpv6.Option) *dhcpv6.Message {
		out, ok := s.HandleMessage(t0, relayForw(m, 0, link, "fe80::99", "p1", extra...), false)
		if !ok {
			panic("fuzzBulkServer: relayed message dropped")
		}
		in, err := out.(*dhcpv6.RelayMessage).GetInnerMessage()
		if err != nil {
			panic(err)
		}
		return in
	}
	bind := func(n int, link string, extra ...dhcpv6.Option) {
		adv := via(newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1)), link, extra...)
		via(newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s), elapsed(), naOpt(1, firstLease(adv))), link, extra...)
	}
	for n := 1; n <= 3; n++ {
		bind(n, "2001:db8:5::1", relayIDOpt("relay-a"), remoteIDOpt(fmt.Sprintf("circuit-%d", n)))
	}
	bind(4, "2001:db8:6::1", relayIDOpt("relay-b"), remoteIDOpt("circuit-4"))
	if bindClient(s, t0, 5) == "" {
		panic("fuzzBulkServer: direct client not bound")
	}
	return s
}

// bulkSeeds are Bulk Leasequery streams for the fuzz corpus, named.
func bulkSeeds() map[string][]byte {
	frame := func(ms ...dhcpv6.DHCPv6) []byte {
		var b []byte
		for _, m := range ms {
			b = AppendBulkFrame(b, m.ToBytes())
		}
		return b
	}
	byRelay := leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("relay-a")))
	m := map[string][]byte{
		"relay-id":            frame(byRelay),
		"relay-id-on-link":    frame(leasequeryMsg(bulkQueryOpt(queryByRelayID, "2001:db8:5::1", relayIDOpt("relay-a")))),
		"link-address":        frame(leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:5::77"))),
		"link-address-server": frame(leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:1::1"))),
		"remote-id":           frame(leasequeryMsg(bulkQueryOpt(queryByRemoteID, "::", remoteIDOpt("circuit-2")))),
		"unknown-relay":       frame(leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("nobody")))),
		"by-address":          frame(leasequeryMsg(byAddress("2001:db8:1::1"))),
		"by-client-id":        frame(leasequeryMsg(byClientID(5))),
		"two-queries":         frame(byRelay, leasequeryMsg(byClientID(2))),
		"solicit":             frame(newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1))),
		"no-client-id":        frame(newMsg(dhcpv6.MessageTypeLeaseQuery, byClientID(1))),
		"relay-forw":          frame(relayForw(byRelay, 0, "2001:db8:5::1", "fe80::1", "")),
		"cut-options": frame(leasequeryMsg(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery,
			OptionData: append(append([]byte{queryByRemoteID}, make([]byte, 16)...), 0, 37, 0, 9, 0, 0)})),
		"remote-id-short": frame(leasequeryMsg(bulkQueryOpt(queryByRemoteID, "::",
			&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRemoteID, OptionData: []byte{0, 0, 0x7e}}))),
		"short-length": {0, 2, 14, 0},
	}
	whole := m["two-queries"]
	m["truncated"] = whole[:len(whole)-5]
	return m
}

func bulkCorpusFile(stream []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", stream)
}

// The seed corpus in testdata is the one bulkSeeds builds. Regenerate it
// with D6LAB_WRITE_CORPUS=1 go test -run TestFuzzBulkCorpus ./server/.
func TestFuzzBulkCorpus(t *testing.T) {
	write := os.Getenv("D6LAB_WRITE_CORPUS") == "1"
	for name, stream := range bulkSeeds() {
		path := filepath.Join(bulkCorpusDir, "seed-"+name)
		want := bulkCorpusFile(stream)
		if write {
			if err := os.MkdirAll(bulkCorpusDir, 0o755); err != nil {
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

// FuzzBulk feeds an arbitrary byte stream, as a requestor's end of a Bulk
// Leasequery connection, through the framing to HandleBulk, frame by
// frame until the core ends the connection: it must never panic, and
// every answer must be a well-formed sequence (RFC 5460 §5.2): framed
// messages that decode, all with the query's transaction ID, a
// LEASEQUERY-REPLY first; alone, it holds no client data; otherwise it
// holds one client's, each LEASEQUERY-DATA one more, and a bare
// LEASEQUERY-DONE ends it.
func FuzzBulk(f *testing.F) {
	for _, stream := range bulkSeeds() {
		f.Add(stream)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		s := fuzzBulkServer()
		sc := NewBulkScanner(bytes.NewReader(stream))
		for sc.Scan() {
			q := sc.Bytes()
			a := s.HandleBulk(t0.Add(7e9), q)
			if a.End == BulkEndPanic && a.Close {
				t.Fatalf("core panicked (or framed a message too long) on %x", q)
			}
			if a.Close {
				if len(a.Frames) > 0 {
					t.Fatalf("answered and ended the connection on %x", q)
				}
				return
			}
			checkBulkSequence(t, q, a.Frames)
		}
	})
}

func checkBulkSequence(t *testing.T, q []byte, frames [][]byte) {
	t.Helper()
	if len(frames) == 0 {
		t.Fatalf("no answer and the connection kept open on %x", q)
	}
	for i, f := range frames {
		if len(f) < 2 || int(f[0])<<8|int(f[1]) != len(f)-2 {
			t.Fatalf("frame %d has a wrong length prefix: %x", i, f)
		}
		d, err := dhcpv6.FromBytes(f[2:])
		if err != nil {
			t.Fatalf("frame %d does not decode: %v", i, err)
		}
		m, ok := d.(*dhcpv6.Message)
		if !ok {
			t.Fatalf("frame %d is a %s", i, d.Type())
		}
		if !bytes.Equal(m.TransactionID[:], q[1:4]) {
			t.Fatalf("frame %d has transaction ID %x, the query %x", i, m.TransactionID, q[1:4])
		}
		data := m.Options.Get(dhcpv6.OptionClientData)
		switch {
		case i == 0:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryReply {
				t.Fatalf("the answer starts with a %s", m.MessageType)
			}
			if want := 0; len(frames) > 1 {
				want = 1
				if len(data) != want {
					t.Fatalf("a LEASEQUERY-REPLY followed by more has %d client data", len(data))
				}
			} else if len(data) != want {
				t.Fatalf("a lone LEASEQUERY-REPLY has %d client data", len(data))
			}
		case i == len(frames)-1:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryDone || len(m.Options.Options) != 0 {
				t.Fatalf("the answer ends with a %s of %d options", m.MessageType, len(m.Options.Options))
			}
		default:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryData || len(data) != 1 || len(m.Options.Options) != 1 {
				t.Fatalf("frame %d: a %s with %d client data in %d options", i, m.MessageType, len(data), len(m.Options.Options))
			}
		}
		for _, cd := range data {
			var opts dhcpv6.Options
			if err := opts.FromBytes(cd.ToBytes()); err != nil {
				t.Fatalf("client data does not parse: %v", err)
			}
			if opts.GetOne(dhcpv6.OptionClientID) == nil || opts.GetOne(dhcpv6.OptionCLTTime) == nil {
				t.Fatalf("client data without Client ID or OPTION_CLT_TIME: %v", opts)
			}
			for _, a := range opts.Get(dhcpv6.OptionIAAddr) {
				if v := a.(*dhcpv6.OptIAAddress).ValidLifetime; v <= 0 {
					t.Fatalf("reported %s with valid lifetime %s", net.IP(a.(*dhcpv6.OptIAAddress).IPv6Addr), v)
				}
			}
		}
	}
}
