package conform

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// Summary returns a one-line decoded summary of m: its type, transaction
// ID and key options (client and server IDs, ORO, Preference, status, the
// IAs with their leases and timers, relay fields). dir is "→" for what the
// probe sent and "←" for what it received; peer is the other end.
func Summary(dir string, m dhcpv6.DHCPv6, peer netip.AddrPort) string {
	var sb strings.Builder
	sb.WriteString(dir)
	sb.WriteByte(' ')
	describe(&sb, m)
	if peer.IsValid() {
		// The zone is an interface index of the lab's namespace: it means
		// nothing outside it.
		peer = netip.AddrPortFrom(peer.Addr().WithZone(""), peer.Port())
		if dir == "→" {
			fmt.Fprintf(&sb, " to %s", peer)
		} else {
			fmt.Fprintf(&sb, " from %s", peer)
		}
	}
	return sb.String()
}

func describe(sb *strings.Builder, m dhcpv6.DHCPv6) {
	if r, ok := m.(*dhcpv6.RelayMessage); ok {
		fmt.Fprintf(sb, "%s hop %d link %s peer %s", typeName(r.MessageType), r.HopCount, ipString(r.LinkAddr), ipString(r.PeerAddr))
		if id := r.Options.InterfaceID(); id != nil {
			fmt.Fprintf(sb, " iface-id %q", id)
		}
		if inner := r.Options.RelayMessage(); inner != nil {
			sb.WriteString(" { ")
			describe(sb, inner)
			sb.WriteString(" }")
		}
		return
	}
	msg, ok := m.(*dhcpv6.Message)
	if !ok {
		fmt.Fprintf(sb, "%s", m.Type())
		return
	}
	fmt.Fprintf(sb, "%s xid %s", typeName(msg.MessageType), hex.EncodeToString(msg.TransactionID[:]))
	var parts []string
	for _, o := range msg.Options.Options {
		if s := optionSummary(o); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) > 0 {
		sb.WriteString(" [")
		sb.WriteString(strings.Join(parts, ", "))
		sb.WriteString("]")
	}
}

func optionSummary(o dhcpv6.Option) string {
	switch o.Code() {
	case dhcpv6.OptionClientID:
		return "client " + shortHex(o.ToBytes())
	case dhcpv6.OptionServerID:
		return "server " + shortHex(o.ToBytes())
	case dhcpv6.OptionORO:
		var codes []string
		b := o.ToBytes()
		for i := 0; i+1 < len(b); i += 2 {
			codes = append(codes, fmt.Sprint(binary.BigEndian.Uint16(b[i:])))
		}
		return "ORO " + strings.Join(codes, " ")
	case dhcpv6.OptionPreference:
		b := o.ToBytes()
		if len(b) == 1 {
			return fmt.Sprintf("preference %d", b[0])
		}
	case dhcpv6.OptionStatusCode:
		if s, ok := o.(*dhcpv6.OptStatusCode); ok {
			return "status " + statusString(s)
		}
	case dhcpv6.OptionRapidCommit:
		return "rapid-commit"
	case dhcpv6.OptionElapsedTime:
		return ""
	case dhcpv6.OptionIANA:
		if ia, ok := o.(*dhcpv6.OptIANA); ok {
			var leases []string
			for _, a := range ia.Options.Addresses() {
				leases = append(leases, fmt.Sprintf("%s pl %d vl %d", ipString(a.IPv6Addr), secs(a.PreferredLifetime.Seconds()), secs(a.ValidLifetime.Seconds())))
			}
			if st := ia.Options.Status(); st != nil {
				leases = append(leases, "status "+statusString(st))
			}
			return fmt.Sprintf("IA_NA %d T1 %d T2 %d {%s}", binary.BigEndian.Uint32(ia.IaId[:]), secs(ia.T1.Seconds()), secs(ia.T2.Seconds()), strings.Join(leases, "; "))
		}
	case dhcpv6.OptionIAPD:
		if ia, ok := o.(*dhcpv6.OptIAPD); ok {
			var leases []string
			for _, p := range ia.Options.Prefixes() {
				pfx := "::/0"
				if p.Prefix != nil {
					pfx = p.Prefix.String()
				}
				leases = append(leases, fmt.Sprintf("%s pl %d vl %d", pfx, secs(p.PreferredLifetime.Seconds()), secs(p.ValidLifetime.Seconds())))
			}
			if st := ia.Options.Status(); st != nil {
				leases = append(leases, "status "+statusString(st))
			}
			return fmt.Sprintf("IA_PD %d T1 %d T2 %d {%s}", binary.BigEndian.Uint32(ia.IaId[:]), secs(ia.T1.Seconds()), secs(ia.T2.Seconds()), strings.Join(leases, "; "))
		}
	case dhcpv6.OptionLQQuery:
		b := o.ToBytes()
		if len(b) >= 17 {
			a, _ := netip.AddrFromSlice(b[1:17])
			return fmt.Sprintf("LQ_QUERY type %d link %s", b[0], a)
		}
	case dhcpv6.OptionClientData:
		return "CLIENT_DATA {" + clientDataSummary(o.ToBytes()) + "}"
	case dhcpv6.OptionDNSRecursiveNameServer:
		return "DNS servers"
	case dhcpv6.OptionInformationRefreshTime:
		return "information-refresh"
	}
	return fmt.Sprintf("opt %d", uint16(o.Code()))
}

func clientDataSummary(b []byte) string {
	var opts dhcpv6.Options
	if err := opts.FromBytes(b); err != nil {
		return "unparsable"
	}
	var parts []string
	for _, o := range opts {
		if s := optionSummary(o); s != "" {
			parts = append(parts, s)
		}
	}
	for _, o := range opts.Get(dhcpv6.OptionIAAddr) {
		if a, ok := o.(*dhcpv6.OptIAAddress); ok {
			parts = append(parts, "address "+ipString(a.IPv6Addr))
		}
	}
	return strings.Join(parts, ", ")
}

func secs(f float64) int64 { return int64(f) }

func typeName(t dhcpv6.MessageType) string {
	switch t {
	case dhcpv6.MessageTypeLeaseQuery:
		return "LEASEQUERY"
	case dhcpv6.MessageTypeLeaseQueryReply:
		return "LEASEQUERY-REPLY"
	}
	return t.String()
}

func statusString(s *dhcpv6.OptStatusCode) string {
	if s.StatusMessage != "" {
		return fmt.Sprintf("%s %q", s.StatusCode, s.StatusMessage)
	}
	return s.StatusCode.String()
}

// shortHex prints a DUID in hex, eliding the middle of long ones.
func shortHex(b []byte) string {
	h := hex.EncodeToString(b)
	if len(h) > 28 {
		return h[:12] + "…" + h[len(h)-12:]
	}
	return h
}

func ipString(ip []byte) string {
	if a, ok := netip.AddrFromSlice(ip); ok {
		return a.String()
	}
	return "?"
}
