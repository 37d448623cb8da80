package transport

// Messages is how many messages u's last WriteBatch built: fewer than its
// datagrams when runs were segmented.
func Messages(u *UDP) int { return u.batch.wm }

// Coalesced is how many runs u's ReadBatch read as one datagram (generic
// receive offload).
func Coalesced(u *UDP) int { return u.batch.coalesced }
