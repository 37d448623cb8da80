package check

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// ServerLease is one binding a server's own lease file held after the run
// (read by the lab once the server had stopped).
type ServerLease struct {
	DUID    string // client DUID, hex
	IAID    uint32
	IA      string // "na" or "pd"
	Lease   netip.Prefix
	Expires time.Time // zero: the file does not say
}

// ServerFile is what the lab read from one server's lease file.
type ServerFile struct {
	Leases []ServerLease
	// Error says why there are no leases: the server keeps no lease
	// file, or it could not be read.
	Error string
}

// ServerState compares one server's lease file with the clients' history
// at End. Clients holds the leases clients still held from that server by
// their own account (the last grant of the lease came from it); File the
// file's unexpired bindings.
//
//   - Agree: in both (same client DUID, IA type and lease).
//   - Missing: a client holds it and the file does not: the server lost,
//     or never wrote, a binding it acknowledged.
//   - Stale: the file holds it and no client does (from this server): a
//     killed server's bindings, or ones a client moved elsewhere.
type ServerState struct {
	Server  string   `json:"server"`
	Read    bool     `json:"read"`            // the lease file was read
	Error   string   `json:"error,omitempty"` // why not
	Clients int      `json:"clients"`
	File    int      `json:"file"`
	Agree   int      `json:"agree"`
	Missing int      `json:"missing"`
	Stale   int      `json:"stale"`
	Example []string `json:"example,omitempty"` // up to 5 missing leases
}

// LeaseFiles sums ServerState over the servers whose file was read.
type LeaseFiles struct {
	Read    int `json:"read"` // servers whose lease file was read
	Clients int `json:"clients"`
	File    int `json:"file"`
	Agree   int `json:"agree"`
	Missing int `json:"missing"`
	Stale   int `json:"stale"`
}

type heldLease struct {
	duid, ia string
	lease    netip.Prefix
}

func (a *analyzer) serverState(r *Report, lab Lab, duids map[int]string) {
	if len(lab.Files) == 0 {
		return
	}
	held := make([]map[heldLease]bool, len(a.servers))
	for i := range held {
		held[i] = map[heldLease]bool{}
	}
	for k := range a.ivs {
		iv := &a.ivs[k]
		if iv.reason != endOpen {
			continue
		}
		srv := a.serverAt(iv, a.end)
		if srv < 0 || int(srv) >= len(held) {
			continue
		}
		held[srv][heldLease{duid: NormalizeDUID(duids[iv.client]), ia: a.str(iv.ia), lease: iv.lease.prefix()}] = true
	}
	for _, s := range lab.Servers {
		f, ok := lab.Files[s.Name]
		if !ok {
			continue
		}
		st := ServerState{Server: s.Name, Read: f.Error == "", Error: f.Error}
		id, known := a.byName[s.Name]
		var h map[heldLease]bool
		if known {
			h = held[id]
		}
		st.Clients = len(h)
		if st.Read {
			inFile := map[heldLease]bool{}
			for _, l := range f.Leases {
				if !l.Expires.IsZero() && !l.Expires.After(a.end) {
					continue
				}
				inFile[heldLease{duid: NormalizeDUID(l.DUID), ia: l.IA, lease: l.Lease}] = true
			}
			st.File = len(inFile)
			for l := range inFile {
				if h[l] {
					st.Agree++
				} else {
					st.Stale++
				}
			}
			var missing []string
			for l := range h {
				if !inFile[l] {
					st.Missing++
					missing = append(missing, fmt.Sprintf("%s %s (client %s)", l.ia, l.lease, l.duid))
				}
			}
			slices.Sort(missing)
			st.Example = missing[:min(len(missing), 5)]
			r.LeaseFiles.Read++
			r.LeaseFiles.Clients += st.Clients
			r.LeaseFiles.File += st.File
			r.LeaseFiles.Agree += st.Agree
			r.LeaseFiles.Missing += st.Missing
			r.LeaseFiles.Stale += st.Stale
		}
		r.ServerState = append(r.ServerState, st)
	}
}
