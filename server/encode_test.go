package server

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// checkEncode fails unless the fast encoder and insomniacslk agree on out.
func checkEncode(t *testing.T, s *Server, out dhcpv6.DHCPv6) {
	t.Helper()
	want := out.ToBytes()
	if got := s.encode(out); !bytes.Equal(got, want) {
		t.Fatalf("encode differs from ToBytes for %s:\n got %x\nwant %x", out.Summary(), got, want)
	}
}

// Every answer the server gives to the fuzz seeds, in sequence (so that
// bindings exist for Renew, Release, ...), encodes as insomniacslk does.
func TestEncodeMatchesToBytes(t *testing.T) {
	s := fuzzServer()
	for round := 0; round < 2; round++ {
		for name, pkt := range seedMessages() {
			msg, err := dhcpv6.FromBytes(pkt)
			if err != nil {
				continue
			}
			for _, mc := range []bool{true, false} {
				if out, ok := s.HandleMessage(t0, msg, mc); ok {
					t.Run(name, func(t *testing.T) { checkEncode(t, s, out) })
				}
			}
		}
	}
}

// FuzzEncodeMatchesToBytes builds answers from fuzz input with every
// option type the fast encoder writes by hand (and some it does not:
// Preference, Client ID, DNS) with odd values: nil and IPv4 addresses,
// nil prefixes and masks, negative and sub-second lifetimes, long status
// text; and compares with insomniacslk's encoding.
func FuzzEncodeMatchesToBytes(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint64(1))
	f.Add([]byte("an IA_NA and an IA_PD with status"), uint64(42))
	f.Add(bytes.Repeat([]byte{0xff}, 64), uint64(7))
	s := fuzzServer()
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) { encodeCase(t, s, data, seed) })
}

// The fuzz body over 3000 seeds, without fuzzing: every go test run.
func TestEncodeRandomAnswers(t *testing.T) {
	s := fuzzServer()
	for seed := uint64(0); seed < 3000; seed++ {
		encodeCase(t, s, nil, seed)
	}
}

func encodeCase(t *testing.T, s *Server, data []byte, seed uint64) {
	{
		rng := rand.New(rand.NewPCG(seed, uint64(len(data))))
		next := func(n int) []byte {
			out := make([]byte, n)
			for i := range out {
				if len(data) > 0 {
					out[i], data = data[0], data[1:]
				} else {
					out[i] = byte(rng.Uint32())
				}
			}
			return out
		}
		dur := func() time.Duration {
			v := int64(binary.BigEndian.Uint64(next(8)))
			switch rng.IntN(4) {
			case 0: // around a second boundary: rounding matters
				return time.Duration(v%5000) * time.Millisecond
			case 1: // whole seconds, past 32 bits sometimes
				return time.Duration(v%(1<<34)) * time.Second
			case 2:
				return time.Duration(v >> rng.IntN(64))
			}
			return time.Duration(v)
		}
		ip := func() net.IP {
			switch rng.IntN(4) {
			case 0:
				return nil
			case 1:
				return net.IP(next(4))
			case 2:
				return net.IP(next(3)) // not an IP at all
			}
			return net.IP(next(16))
		}
		m := &dhcpv6.Message{MessageType: dhcpv6.MessageType(next(1)[0])}
		copy(m.TransactionID[:], next(3))
		for n := rng.IntN(6); n > 0; n-- {
			switch rng.IntN(9) {
			case 0:
				ia := &dhcpv6.OptIANA{T1: dur(), T2: dur()}
				copy(ia.IaId[:], next(4))
				for k := rng.IntN(3); k > 0; k-- {
					ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: ip(), PreferredLifetime: dur(), ValidLifetime: dur()})
				}
				if rng.IntN(2) == 0 {
					ia.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusCode(rng.IntN(9)), StatusMessage: string(next(rng.IntN(20)))})
				}
				m.AddOption(ia)
			case 1:
				pd := &dhcpv6.OptIAPD{T1: dur(), T2: dur()}
				copy(pd.IaId[:], next(4))
				for k := rng.IntN(3); k > 0; k-- {
					p := &dhcpv6.OptIAPrefix{PreferredLifetime: dur(), ValidLifetime: dur()}
					if rng.IntN(5) > 0 {
						p.Prefix = &net.IPNet{IP: ip()}
						if rng.IntN(4) > 0 {
							p.Prefix.Mask = net.CIDRMask(rng.IntN(129), 128)
						}
					}
					pd.Options.Add(p)
				}
				m.AddOption(pd)
			case 2:
				m.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusCode(binary.BigEndian.Uint16(next(2))), StatusMessage: string(next(rng.IntN(40)))})
			case 3:
				m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionCode(rng.IntN(300)), OptionData: next(rng.IntN(10))})
			case 4:
				m.AddOption(s.sid)
			case 5:
				m.AddOption(dhcpv6.OptPreference(next(1)[0]))
			case 6:
				m.AddOption(cid(rng.IntN(1000)))
			case 7:
				m.AddOption(dhcpv6.OptDNS(net.IP(next(16))))
			case 8:
				m.AddOption(dhcpv6.OptInformationRefreshTime(dur()))
			}
		}
		checkEncode(t, s, m)
	}
}

// The encoder makes one allocation for a Reply with one IA_NA: its buffer.
func TestEncodeAllocs(t *testing.T) {
	s := fuzzServer()
	out, ok := s.HandleMessage(t0, newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), elapsed(), naOpt(1)), true)
	if !ok {
		t.Fatal("no Reply")
	}
	if a := testing.AllocsPerRun(100, func() { _ = s.encode(out) }); a != 1 {
		t.Fatalf("encode: %v allocations, want 1", a)
	}
}
