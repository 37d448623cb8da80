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
// client's name is a slice of a string that holds up to namesPerChunk of
// them, written the first time one of them is asked for. A million names
// take 20 MB and a few hundred strings, where a string each took 40 MB
// (its header in the Client, its 24 bytes on the heap). A chunk is written
// as far as the population's clients reach into it (count, which
// AddClients raises), and rewritten longer (twice, at least) when a client
// asks past its end: a population of four writes four names, not 4,096.
type names struct {
	seed   uint64
	count  int // the population's clients, as far as New and AddClients made them
	chunks []string
}

// DUIDHex is the DUID of client i in hex (DUID).
func (n *names) DUIDHex(i int) string {
	k, o := i/namesPerChunk, i%namesPerChunk
	for len(n.chunks) <= k {
		n.chunks = append(n.chunks, "")
	}
	end := (o + 1) * nameLen
	if end > len(n.chunks[k]) {
		// Names handed out keep the shorter string, whose bytes are the
		// same.
		have := len(n.chunks[k]) / nameLen
		want := min(namesPerChunk, max(o+1, 2*have, n.count-k*namesPerChunk))
		b := make([]byte, 0, want*nameLen)
		b = append(b, n.chunks[k]...)
		for j := k*namesPerChunk + have; j < k*namesPerChunk+want; j++ {
			b = hex.AppendEncode(b, DUID(n.seed, j))
		}
		n.chunks[k] = string(b)
	}
	return n.chunks[k][end-nameLen : end]
}
