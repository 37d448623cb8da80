package client

import (
	"testing"
	"unsafe"
)

// A million clients are a million Clients: the struct, with its first
// IA inside and the 8-byte header the allocator puts before an object of
// more than 512 bytes with pointers, stays in the 768-byte size class of
// Go's allocator (it was 1,024 bytes and its IA another 160).
func TestClientSize(t *testing.T) {
	if n := unsafe.Sizeof(Client{}) + 8; n > 768 {
		t.Fatalf("a Client is %d bytes with its header, more than 768", n)
	}
}

// Clients made with Config.Peer share its settings when the rest of
// their Config is the same, and keep their own when it is not.
func TestPeerSharesSettings(t *testing.T) {
	cfg := Config{Index: 0, DUID: []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, IANA: true, Jitter: 0.1}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Index, cfg.DUID, cfg.Peer = 1, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 2}, a
	b, _ := New(cfg)
	cfg.Jitter = 0.2
	c, _ := New(cfg)
	if b.cfg != a.cfg || c.cfg == a.cfg || c.cfg.Jitter != 0.2 || b.index != 1 {
		t.Fatalf("shared: b %v, c %v (jitter %v)", b.cfg == a.cfg, c.cfg == a.cfg, c.cfg.Jitter)
	}
}
