package history

// pages is an append-only list kept in pages of pageSize items (the first
// grows to it by doubling, so that a short log holds little; a full page
// never moves). Growing it copies the first page at most and leaves no
// more garbage, where a slice doubled to a million items left as much
// again for the collector at each step (an extra was 48 bytes then: a
// million-client day's renumbered leases allocated 256 MB for 52 MB
// kept).
type pages[T any] struct {
	p [][]T
	n int
}

const (
	pageBits = 12
	pageSize = 1 << pageBits
)

// add appends x and returns its index.
func (s *pages[T]) add(x T) int {
	i := s.n
	if i&(pageSize-1) == 0 && i > 0 || len(s.p) == 0 {
		size := pageSize
		if i == 0 {
			size = 16
		}
		s.p = append(s.p, make([]T, 0, size))
	}
	pg := &s.p[len(s.p)-1]
	*pg = append(*pg, x) // the first page doubles until pageSize
	s.n++
	return i
}

// at is item i (0 <= i < len).
func (s *pages[T]) at(i int) *T { return &s.p[i>>pageBits][i&(pageSize-1)] }

// len is the number of items added.
func (s *pages[T]) len() int { return s.n }
