package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/iana"
)

// DUID types (RFC 9915 §11.1).
const (
	duidTypeLLT = 1
	duidTypeLL  = 3
)

// DUIDEpoch is the origin of a DUID-LLT's time field (RFC 9915 §11.2):
// midnight UTC, January 1, 2000.
var DUIDEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// ErrNoLinkLayerAddr reports an interface with no link-layer address to
// build a DUID-LL or DUID-LLT of (a loopback, a tun device).
var ErrNoLinkLayerAddr = errors.New("server: no link-layer address for a DUID")

// DUIDLL returns the DUID-LL (RFC 9915 §11.4) of a link-layer address:
// type 3, the hardware type (iana.HWTypeEthernet, 1, for Ethernet), then
// the address.
func DUIDLL(hwType iana.HWType, lladdr net.HardwareAddr) []byte {
	d := make([]byte, 4, 4+len(lladdr))
	binary.BigEndian.PutUint16(d[0:], duidTypeLL)
	binary.BigEndian.PutUint16(d[2:], uint16(hwType))
	return append(d, lladdr...)
}

// DUIDLLT returns the DUID-LLT (RFC 9915 §11.2) of a link-layer address:
// type 1, the hardware type, the time t in seconds since DUIDEpoch modulo
// 2^32, then the address.
func DUIDLLT(hwType iana.HWType, t time.Time, lladdr net.HardwareAddr) []byte {
	d := make([]byte, 8, 8+len(lladdr))
	binary.BigEndian.PutUint16(d[0:], duidTypeLLT)
	binary.BigEndian.PutUint16(d[2:], uint16(hwType))
	binary.BigEndian.PutUint32(d[4:], uint32(t.Unix()-DUIDEpoch.Unix())) // mod 2^32
	return append(d, lladdr...)
}

// HardwareDUID returns a device's own DUID made of its link-layer address:
// kind "ll" (or "") a DUID-LL, "llt" a DUID-LLT with the time now. An
// empty or all-zero address is ErrNoLinkLayerAddr.
func HardwareDUID(kind string, hwType iana.HWType, lladdr net.HardwareAddr, now time.Time) ([]byte, error) {
	zero := true
	for _, b := range lladdr {
		zero = zero && b == 0
	}
	if zero {
		return nil, ErrNoLinkLayerAddr
	}
	var d []byte
	switch kind {
	case "", "ll":
		d = DUIDLL(hwType, lladdr)
	case "llt":
		d = DUIDLLT(hwType, now, lladdr)
	default:
		return nil, fmt.Errorf("%w: unknown DUID kind %q (valid: ll, llt)", ErrInvalidDUID, kind)
	}
	if err := ValidateDUID(d); err != nil {
		return nil, err
	}
	return d, nil
}
