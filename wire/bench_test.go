package wire_test

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/wire"
)

// benchDecode measures decoding the golden packet name with wire (into one
// reused Message) and with insomniacslk's dhcpv6.FromBytes, side by side.
func benchDecode(b *testing.B, name string) {
	pkt, err := readGolden(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("wire", func(b *testing.B) {
		var m wire.Message
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			if err := m.Decode(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("insomniacslk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			if _, err := dhcpv6.FromBytes(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchAppend measures encoding the golden packet name: wire's AppendTo
// into a reused buffer against insomniacslk's ToBytes, each from its own
// decoded form.
func benchAppend(b *testing.B, name string) {
	pkt, err := readGolden(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("wire", func(b *testing.B) {
		var m wire.Message
		if err := m.Decode(pkt); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			if _, err := m.AppendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("insomniacslk", func(b *testing.B) {
		d, err := dhcpv6.FromBytes(pkt)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			_ = d.ToBytes()
		}
	})
}

func BenchmarkDecodeSolicit(b *testing.B)        { benchDecode(b, "solicit") }
func BenchmarkDecodeRequest(b *testing.B)        { benchDecode(b, "request") }
func BenchmarkDecodeRelayedRequest(b *testing.B) { benchDecode(b, "relay-forw-request") }
func BenchmarkAppendAdvertise(b *testing.B)      { benchAppend(b, "advertise") }
func BenchmarkAppendReply(b *testing.B)          { benchAppend(b, "reply") }
func BenchmarkAppendRelayedReply(b *testing.B)   { benchAppend(b, "relay-repl-reply") }
