package population

import "github.com/insomniacslk/dhcp/iana"

const mask40 = 1<<40 - 1

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// MAC is the link-layer address of client index in a population seeded
// with seed: 02 (locally administered, unicast) followed by 40 bits that
// are an odd multiple of the index plus an offset, modulo 2^40. Both
// depend on the seed; as the multiplier is odd the map is one-to-one, so
// indexes below 2^40 never share a MAC.
func MAC(seed uint64, index int) [6]byte {
	mix := splitmix64(seed)
	mult := (splitmix64(mix) | 1) & mask40
	v := (uint64(index)*mult + mix) & mask40
	return [6]byte{0x02, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// DUID is the DUID-LL (RFC 9915 §11.4: type 3, hardware type 1, then the
// MAC) of client index in a population seeded with seed.
func DUID(seed uint64, index int) []byte {
	m := MAC(seed, index)
	ht := uint16(iana.HWTypeEthernet)
	return []byte{0, 3, byte(ht >> 8), byte(ht), m[0], m[1], m[2], m[3], m[4], m[5]}
}
