package virtual

import (
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// What scribble writes: other values a client could act on without
// running away (no lifetime of a nanosecond, renewed a nanosecond later).
const (
	scribbledT1, scribbledT2 = 4321 * time.Second, 5432 * time.Second
	scribbledValid           = 12345 * time.Second
)

// scribble overwrites what a server's answer holds in the server's reused
// storage (server.SetAnswerReuse): the message header, its IA options
// and everything in them, and its Status Code. A client that kept any of
// it past delivery would see it change (link_test.go). The Client and
// Server Identifier options are the client's own and the server's shared
// one, never rewritten: left alone.
func scribble(m *dhcpv6.Message) {
	m.MessageType, m.TransactionID = dhcpv6.MessageTypeNone, dhcpv6.TransactionID{0xee, 0xee, 0xee}
	for _, o := range m.Options.Options {
		switch v := o.(type) {
		case *dhcpv6.OptIANA:
			v.IaId, v.T1, v.T2 = [4]byte{0xee, 0xee, 0xee, 0xee}, scribbledT1, scribbledT2
			scribbleOptions(v.Options.Options)
		case *dhcpv6.OptIAPD:
			v.IaId, v.T1, v.T2 = [4]byte{0xee, 0xee, 0xee, 0xee}, scribbledT1, scribbledT2
			scribbleOptions(v.Options.Options)
		case *dhcpv6.OptStatusCode:
			v.StatusCode, v.StatusMessage = iana.StatusUnspecFail, "scribbled"
		}
	}
}

func scribbleOptions(opts []dhcpv6.Option) {
	for _, o := range opts {
		switch v := o.(type) {
		case *dhcpv6.OptIAAddress:
			fill(v.IPv6Addr)
			v.PreferredLifetime, v.ValidLifetime = scribbledValid, scribbledValid
		case *dhcpv6.OptIAPrefix:
			if v.Prefix != nil {
				fill(v.Prefix.IP)
				fill(net.IP(v.Prefix.Mask))
			}
			v.PreferredLifetime, v.ValidLifetime = scribbledValid, scribbledValid
		case *dhcpv6.OptStatusCode:
			v.StatusCode, v.StatusMessage = iana.StatusUnspecFail, "scribbled"
		}
	}
}

func fill(b net.IP) {
	for i := range b {
		b[i] = 0xee
	}
}
