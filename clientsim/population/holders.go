package population

// holderIndex lists, per IA_NA address, the clients that were granted it
// (the DAD index, Population.holders), in the order they were added. One
// client, the usual case, is the map's value itself; more (a duplicate
// grant) go to a list the value points to. Keys are the address's 16
// bytes and values int32, so the map holds no pointer for the collector
// to scan: at a million clients it is a million entries.
type holderIndex struct {
	m     map[[16]byte]int32 // >= 0: the one client listed; < 0: lists[-1-v]
	lists [][]int32
	free  []int32 // unused slots of lists
	one   [1]int32
}

func newHolderIndex(n int) *holderIndex {
	return &holderIndex{m: make(map[[16]byte]int32, n)}
}

// get is the clients listed under a, in order; a single client comes as a
// view that the next call on x changes.
func (x *holderIndex) get(a [16]byte) []int32 {
	v, ok := x.m[a]
	switch {
	case !ok:
		return nil
	case v >= 0:
		x.one[0] = v
		return x.one[:]
	}
	return x.lists[-1-v]
}

// set lists hs under a, in place of what was listed (nothing when empty).
func (x *holderIndex) set(a [16]byte, hs []int32) {
	l := int32(-1)
	if v, ok := x.m[a]; ok && v < 0 {
		l = -1 - v
	}
	if len(hs) > 1 {
		if l < 0 {
			if n := len(x.free); n > 0 {
				l, x.free = x.free[n-1], x.free[:n-1]
			} else {
				l = int32(len(x.lists))
				x.lists = append(x.lists, nil)
			}
			x.m[a] = -1 - l
		}
		x.lists[l] = hs
		return
	}
	if len(hs) == 1 {
		x.m[a] = hs[0]
	} else {
		delete(x.m, a)
	}
	if l >= 0 {
		x.lists[l] = nil
		x.free = append(x.free, l)
	}
}
