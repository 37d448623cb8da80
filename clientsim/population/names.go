package population

import "encoding/hex"

// namesPerChunk is how many clients' names one string of names holds.
const namesPerChunk = 4096

// duidLen is the length of a population's DUIDs (DUID), and nameLen that
// of their names in hex.
const (
	duidLen = 10
	nameLen = 2 * duidLen
)

// names gives the population's clients' DUIDs in hex (client.Namer): a
// client's name is a slice of a string that holds namesPerChunk of them,
// written the first time one of them is asked for. A million names take
// 20 MB and a few hundred strings, where a string each took 40 MB (its
// header in the Client, its 24 bytes on the heap).
type names struct {
	seed   uint64
	chunks []string
}

// DUIDHex is the DUID of client i in hex (DUID).
func (n *names) DUIDHex(i int) string {
	k := i / namesPerChunk
	for len(n.chunks) <= k {
		n.chunks = append(n.chunks, "")
	}
	if n.chunks[k] == "" {
		b := make([]byte, 0, namesPerChunk*nameLen)
		for j := k * namesPerChunk; j < (k+1)*namesPerChunk; j++ {
			b = hex.AppendEncode(b, DUID(n.seed, j))
		}
		n.chunks[k] = string(b)
	}
	o := i % namesPerChunk * nameLen
	return n.chunks[k][o : o+nameLen]
}
