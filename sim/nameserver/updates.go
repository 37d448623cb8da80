package nameserver

import (
	"errors"
	"net/netip"
	"time"
)

// Update is one RFC 2136 update as BIND logged it.
type Update struct {
	At      time.Time
	Source  netip.Addr // the sender
	Zone    string
	Name    string // the (first) name it updated or whose prerequisite failed, lower case FQDN
	Outcome string // history.DNSUpdateOK, history.DNSUpdateConflict, or the refusing RCODE in lower case
}

// ReadUpdates parses UpdateLog; a line it cannot parse is skipped and
// counted (second result).
func ReadUpdates(path string) ([]Update, int, error) {
	return nil, 0, errors.New("nameserver: ReadUpdates: not implemented yet")
}
