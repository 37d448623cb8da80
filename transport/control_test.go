package transport

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestParseControl reads what recvmmsg returns, and survives what it
// should never return: a truncated or lying header ends the walk.
func TestParseControl(t *testing.T) {
	oob := appendPktinfo(nil, 7)
	pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
	pi.Addr = [16]byte{0: 0xff, 1: 0x02, 15: 2}
	gro := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&gro[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	*(*int32)(unsafe.Pointer(&gro[unix.CmsgLen(0)])) = 120
	both := append(append([]byte(nil), oob...), gro...)

	c := ParseControl(both)
	if !c.Pktinfo || c.IfIndex != 7 || c.Dst != pi.Addr || c.Segment != 120 {
		t.Fatalf("pktinfo and GRO: got %+v", c)
	}
	if c := ParseControl(gro); c.Pktinfo || c.Segment != 120 {
		t.Fatalf("GRO alone: got %+v", c)
	}
	lying := append([]byte(nil), both...)
	(*unix.Cmsghdr)(unsafe.Pointer(&lying[0])).SetLen(len(lying) + 1) // longer than the buffer
	short := append([]byte(nil), both...)
	(*unix.Cmsghdr)(unsafe.Pointer(&short[0])).SetLen(3) // shorter than a header
	for name, b := range map[string][]byte{
		"empty": nil, "truncated header": both[:5], "length past the end": lying, "length under a header": short,
		"truncated value": both[:unix.CmsgLen(0)+4],
	} {
		if c := ParseControl(b); c.Pktinfo || c.Segment != 0 {
			t.Errorf("%s: got %+v, want nothing", name, c)
		}
	}
}
