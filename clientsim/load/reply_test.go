package load

import (
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/wire"
)

// answerFirst starts one exchange on an engine configured by cfg, answers
// its first message with ans (the transaction ID patched in when match is
// set) and returns the engine and the message it sent next, decoded (nil
// when it sent none).
func answerFirst(t *testing.T, cfg Config, ans canned, match bool) (*engine, *wire.Message) {
	t.Helper()
	cfg.Server = netip6("[2001:db8::547]:547")
	cfg.LinkAddr = linkAddr
	e := testEngine(t, cfg)
	out := make([]byte, maxMsg)
	n := e.start(0, out)
	var sent wire.Message
	if err := sent.Decode(out[:n]); err != nil {
		t.Fatalf("the Solicit: %v", err)
	}
	if match {
		ans.setXID(sent.TransactionID)
	}
	var m wire.Message
	n = e.onReply(ans.b, int64(time.Millisecond), &m, out)
	if n == 0 {
		return e, nil
	}
	next := new(wire.Message)
	if err := next.Decode(out[:n]); err != nil {
		t.Fatalf("the next message: %v", err)
	}
	return e, next
}

// TestReadReply: what the generator reads from an answer through wire
// (its type, transaction ID, Rapid Commit, Status Codes, the first IA_NA's
// and IA_PD's first lease, the Server Identifier) and what it does with it.
func TestReadReply(t *testing.T) {
	st := func(c iana.StatusCode) *dhcpv6.OptStatusCode { return &dhcpv6.OptStatusCode{StatusCode: c} }
	noAddrs := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 7}}
	noAddrs.Options.Add(st(iana.StatusNoAddrsAvail))
	notOnLink := &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:1::42"), ValidLifetime: time.Hour}
	notOnLink.Options.Add(st(iana.StatusNotOnLink))
	badAddr := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 7}}
	badAddr.Options.Add(notOnLink)
	expired := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 7}}
	expired.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:1::42")})
	rapid := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
	adv := func(na, pd bool, o ...dhcpv6.Option) []byte {
		return answer(dhcpv6.MessageTypeAdvertise, 0, na, pd, o...)
	}
	rep := func(na, pd bool, o ...dhcpv6.Option) []byte { return answer(dhcpv6.MessageTypeReply, 0, na, pd, o...) }
	twice := cannedAnswer(adv(true, false), true)
	twice = canned{b: relayed(twice.b), at: twice.at + len(relayed(twice.b)) - len(twice.b)}

	type outcome int
	const (
		request    outcome = iota // the exchange goes on with a Request
		done                      // the main exchange completed
		failed                    // refused
		unexpected                // counted Unexpected, the slot still waits
	)
	for _, c := range []struct {
		name     string
		cfg      Config
		ans      canned
		mismatch bool
		want     outcome
	}{
		{"advertise-na", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(true, false), false), false, request},
		{"advertise-pd", Config{Exchange: FourMessage, PD: true}, cannedAnswer(adv(false, true), false), false, request},
		{"advertise-both", Config{Exchange: FourMessage, NA: true, PD: true}, cannedAnswer(adv(true, true), false), false, request},
		{"advertise-both-relayed", Config{Exchange: FourMessage, NA: true, PD: true, Relay: true}, cannedAnswer(adv(true, true), true), false, request},
		{"advertise-twice-relayed", Config{Exchange: FourMessage, NA: true, Relay: true}, twice, false, request},
		{"advertise-status-success", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(true, false, st(iana.StatusSuccess)), false), false, request},
		{"advertise-sa", Config{NA: true, Exchange: SolicitAdvertise}, cannedAnswer(adv(true, false), false), false, done},
		{"reply-rapid", Config{NA: true, Exchange: RapidCommit}, cannedAnswer(rep(true, false, rapid), false), false, done},
		{"advertise-to-rapid", Config{NA: true, Exchange: RapidCommit}, cannedAnswer(adv(true, false), false), false, request},
		{"reply-without-rapid", Config{NA: true, Exchange: RapidCommit}, cannedAnswer(rep(true, false), false), false, unexpected},
		{"reply-to-solicit", Config{Exchange: FourMessage, NA: true}, cannedAnswer(rep(true, false, rapid), false), false, unexpected},
		{"status", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(true, false, st(iana.StatusNoAddrsAvail)), false), false, failed},
		{"ia-status", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(false, false, noAddrs), false), false, failed},
		{"lease-status", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(false, false, badAddr), false), false, failed},
		{"valid-lifetime-0", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(false, false, expired), false), false, failed},
		{"pd-missing", Config{Exchange: FourMessage, NA: true, PD: true}, cannedAnswer(adv(true, false), false), false, failed},
		{"na-missing", Config{Exchange: FourMessage, NA: true, PD: true}, cannedAnswer(adv(false, true), false), false, failed},
		{"late", Config{Exchange: FourMessage, NA: true}, cannedAnswer(adv(true, false), false), true, unexpected},
		{"solicit-echoed", Config{Exchange: FourMessage, NA: true}, cannedAnswer(answer(dhcpv6.MessageTypeSolicit, 0, true, false), false), false, unexpected},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, next := answerFirst(t, c.cfg, c.ans, !c.mismatch)
			got := e.c
			var want counters
			want.started, want.kind[kSolicit].Sent = 1, 1
			switch c.want {
			case request:
				want.kind[kSolicit].Completed, want.kind[kRequest].Sent = 1, 1
			case done:
				want.kind[kSolicit].Completed, want.completed = 1, 1
			case failed:
				want.kind[kSolicit].Completed, want.kind[kSolicit].Failed, want.failed = 1, 1, 1
			case unexpected:
				want.unexpected = 1
			}
			if got != want {
				t.Fatalf("counters %+v, want %+v", got, want)
			}
			if (next != nil) != (c.want == request) {
				t.Fatalf("sent %+v", next)
			}
			if c.want != request {
				return
			}
			if c.cfg.Relay != (len(next.Relays) == 1) {
				t.Errorf("relay levels %d", len(next.Relays))
			}
			// RFC 9915 §18.2.2: the Request echoes the Server Identifier
			// and the IAs with what was advertised.
			if next.Type != wire.Request || string(next.ServerID) != string(testSID[4:]) {
				t.Errorf("type %d, Server Identifier %x", next.Type, next.ServerID)
			}
			if c.cfg.NA && (len(next.IANA) != 1 || len(next.IANA[0].Leases) != 1 ||
				netip.AddrFrom16(next.IANA[0].Leases[0].Addr) != netip.MustParseAddr("2001:db8:1::42")) {
				t.Errorf("IA_NA %+v", next.IANA)
			}
			if c.cfg.PD && (len(next.IAPD) != 1 || len(next.IAPD[0].Leases) != 1 || next.IAPD[0].Leases[0].Bits != 56 ||
				netip.AddrFrom16(next.IAPD[0].Leases[0].Addr) != netip.MustParseAddr("2001:db8:100:4200::")) {
				t.Errorf("IA_PD %+v", next.IAPD)
			}
		})
	}
}

// TestRejectedReplies reads testdata/malformed/*.hex and
// testdata/unexpected/*.hex (one message in hex, '#' comments): every
// malformed one (wire says ErrMalformed) counts as Malformed, every one
// wire leaves to insomniacslk (ErrNotFastPath: another message type, a
// relay without a Relay Message option) as Unexpected, and nothing else
// changes.
func TestRejectedReplies(t *testing.T) {
	for _, c := range []struct {
		dir  string
		err  error
		want func(*counters) *uint64
	}{
		{"malformed", wire.ErrMalformed, func(c *counters) *uint64 { return &c.malformed }},
		{"unexpected", wire.ErrNotFastPath, func(c *counters) *uint64 { return &c.unexpected }},
	} {
		files, err := filepath.Glob(filepath.Join("testdata", c.dir, "*.hex"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s inputs: %v", c.dir, err)
		}
		for _, f := range files {
			t.Run(c.dir+"/"+filepath.Base(f), func(t *testing.T) {
				b := readHex(t, f)
				var m wire.Message
				if err := m.Decode(b); !errors.Is(err, c.err) {
					t.Fatalf("wire: %v, want %v", err, c.err)
				}
				e, next := answerFirst(t, Config{NA: true}, canned{b: b}, false)
				var want counters
				want.started, want.kind[kSolicit].Sent = 1, 1
				*c.want(&want) = 1
				if e.c != want || next != nil {
					t.Errorf("counters %+v, want %+v", e.c, want)
				}
			})
		}
	}
}

// TestDeepRelay: an answer inside more Relay-reply levels than wire
// unwraps (wire.MaxRelayDepth) counts as Unexpected.
func TestDeepRelay(t *testing.T) {
	b := answer(dhcpv6.MessageTypeAdvertise, 0, true, false)
	for range wire.MaxRelayDepth + 1 {
		b = relayed(b)
	}
	e, next := answerFirst(t, Config{NA: true}, canned{b: b}, false)
	if e.c.unexpected != 1 || e.c.malformed != 0 || next != nil {
		t.Errorf("counters %+v", e.c)
	}
}

func readHex(t *testing.T, f string) []byte {
	t.Helper()
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
