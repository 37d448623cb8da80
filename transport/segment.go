package transport

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxSegments and MaxSegmentBytes bound one segmented message: the kernel
// takes at most 64 segments (UDP_MAX_SEGMENTS) and one IPv6 payload.
const (
	MaxSegments     = 64
	MaxSegmentBytes = 65535 - 8
)

// RunEnd returns the end (exclusive, at most n) of the run of datagrams
// that starts at iovs[from] and can leave as one segmented message: each
// as long as the first, the last maybe shorter (a shorter one ends the
// run), at most MaxSegments of them and MaxSegmentBytes in all, and each
// going where the first goes (same(j) says so for datagram j; nil: all
// do).
func RunEnd(iovs []unix.Iovec, from, n int, same func(j int) bool) int {
	size, total := iovs[from].Len, iovs[from].Len
	j := from + 1
	for j < n && j-from < MaxSegments && iovs[j].Len <= size && total+iovs[j].Len <= MaxSegmentBytes &&
		(same == nil || same(j)) {
		total += iovs[j].Len
		j++
		if iovs[j-1].Len < size {
			break // a shorter datagram ends the run
		}
	}
	return j
}

// AppendSegment appends to oob a UDP_SEGMENT control message giving the
// segment size: sent with a message of several iovecs, it makes the
// kernel split the payload into datagrams of that size (generic
// segmentation offload, Linux 4.18).
func AppendSegment(oob []byte, size int) []byte {
	off := len(oob)
	oob = extend(oob, unix.CmsgSpace(2))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[off]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&oob[off+unix.CmsgLen(0)])) = uint16(size)
	return oob
}

// extend returns b grown by n zero bytes, in place when its capacity
// allows (no allocation: the control buffers are built once).
func extend(b []byte, n int) []byte {
	off := len(b)
	b = slices.Grow(b, n)[:off+n]
	clear(b[off:])
	return b
}
