package lease

import (
	"iter"
	"net/netip"
	"sync"
	"time"
)

// Memory is an in-memory Store. It indexes bindings by key and by lease,
// and keeps a min-heap on expiry so that Expire costs O(log n) per binding
// it removes and O(1) when none is due. It is safe for concurrent use (a
// reporter may iterate while the server runs).
type Memory struct {
	mu      sync.RWMutex
	byKey   map[Key]*entry
	byLease map[netip.Prefix]*entry
	heap    []*entry // min-heap on b.Expires
}

type entry struct {
	b   Binding
	key Key
	idx int // position in heap
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{byKey: make(map[Key]*entry), byLease: make(map[netip.Prefix]*entry)}
}

// Get implements Store.
func (m *Memory) Get(k Key) (Binding, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.byKey[k]
	if !ok {
		return Binding{}, false
	}
	return e.b, true
}

// GetByLease implements Store.
func (m *Memory) GetByLease(p netip.Prefix) (Binding, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.byLease[p]
	if !ok {
		return Binding{}, false
	}
	return e.b, true
}

// Put implements Store. It copies b.DUID (and allocates nothing when the
// key is bound already).
func (m *Memory) Put(b Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	_, _, _, err := m.put(b)
	return err
}

// put is Put of a valid b, returning the binding as stored (its DUID the
// store's) and the one it replaced (had: there was one).
func (m *Memory) put(b Binding) (stored, prev Binding, had bool, err error) {
	k := KeyView(b.DUID, b.IAID, b.Type)
	m.mu.Lock()
	defer m.mu.Unlock()
	if other, ok := m.byLease[b.Lease]; ok && other.key != k {
		return Binding{}, Binding{}, false, ErrConflict
	}
	if e, ok := m.byKey[k]; ok {
		if e.b.Lease != b.Lease {
			delete(m.byLease, e.b.Lease)
			m.byLease[b.Lease] = e
		}
		prev = e.b
		b.DUID = e.b.DUID // same key, same bytes
		e.b = b
		m.fix(e.idx)
		return b, prev, true, nil
	}
	k.DUID = string(b.DUID) // the store's own copy
	b.DUID = []byte(k.DUID)
	e := &entry{b: b, key: k, idx: len(m.heap)}
	m.byKey[k] = e
	m.byLease[b.Lease] = e
	m.heap = append(m.heap, e)
	m.up(e.idx)
	return b, Binding{}, false, nil
}

// Delete implements Store.
func (m *Memory) Delete(k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byKey[k]; ok {
		m.remove(e)
	}
	return nil
}

// Expire implements Store. fn runs with the store unlocked and may call
// the store.
func (m *Memory) Expire(now time.Time, fn func(Binding)) (int, error) {
	var gone []Binding
	n := 0
	m.mu.Lock()
	for len(m.heap) > 0 && !now.Before(m.heap[0].b.Expires) {
		e := m.heap[0]
		m.remove(e)
		n++
		if fn != nil {
			gone = append(gone, e.b)
		}
	}
	m.mu.Unlock()
	for _, b := range gone {
		fn(b)
	}
	return n, nil
}

// Len implements Store.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byKey)
}

// All implements Store: it iterates over a snapshot taken when iteration
// starts, so the loop body may call the store.
func (m *Memory) All() iter.Seq[Binding] {
	return func(yield func(Binding) bool) {
		m.mu.RLock()
		snap := make([]Binding, 0, len(m.heap))
		for _, e := range m.heap {
			snap = append(snap, e.b)
		}
		m.mu.RUnlock()
		for _, b := range snap {
			if !yield(b) {
				return
			}
		}
	}
}

func (m *Memory) remove(e *entry) {
	delete(m.byKey, e.key)
	delete(m.byLease, e.b.Lease)
	i, last := e.idx, len(m.heap)-1
	if i != last {
		m.swap(i, last)
	}
	m.heap[last] = nil
	m.heap = m.heap[:last]
	if i != last {
		m.fix(i)
	}
}

func (m *Memory) less(i, j int) bool { return m.heap[i].b.Expires.Before(m.heap[j].b.Expires) }

func (m *Memory) swap(i, j int) {
	m.heap[i], m.heap[j] = m.heap[j], m.heap[i]
	m.heap[i].idx, m.heap[j].idx = i, j
}

func (m *Memory) fix(i int) {
	if !m.down(i) {
		m.up(i)
	}
}

func (m *Memory) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.less(i, p) {
			return
		}
		m.swap(i, p)
		i = p
	}
}

func (m *Memory) down(i0 int) bool {
	i, n := i0, len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && m.less(r, l) {
			c = r
		}
		if !m.less(c, i) {
			break
		}
		m.swap(i, c)
		i = c
	}
	return i > i0
}
