package check

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"d6lab/reports/history"
)

// DNSReport compares the lab's DNS zones with the clients' bindings (RFC
// 6853 §7: "there is no indication as to which of the two leases is
// active", and records a dead server added are never removed). It is
// computed from the history alone: the zones are the records the
// DNSAdded and DNSRemoved events added and did not remove, as the lab saw
// them at each successful zone transfer (DNSTransfer without a Cause: a
// sample); "held" is the binding intervals of the package doc (IA_NA
// addresses, valid, tentative or not). Every "at End" figure is the zones
// as last transferred (by End) against the leases held at End. Only the
// DHCP servers' records count: AAAA and PTR records of an address in a
// server's prefix (Lab.Servers), AAAA records of a client's name, and
// DHCID records; the lab's own (its name server's AAAA) do not.
//
//   - Records: the AAAA, PTR and DHCID records in the zones at End (AAAA
//     and PTR apart too); Names: client names (owner names the lab maps
//     to a client, history.HostName) with at least one AAAA; Multi: such
//     names with more than one AAAA, MultiEvidence the first
//     DNSEvidenceCap of them with their addresses and the ones the client
//     holds.
//   - Abandoned: the AAAA records naming an address that no client holds
//     at End plus the PTR records whose address no client holds
//     (AbandonedAAAA, AbandonedPTR); AbandonedMax the most at any sample
//     from the fault on (every sample when there is none), each sample
//     compared with the leases held at its instant; Samples the series
//     (records, abandoned) per sample.
//   - StaleAtEnd: the clients that held an IA_NA address at some point
//     and sent a name (every simulated client does; a real client counts
//     when its name was ever in the zones) whose name's AAAA set at End
//     differs from the set of IA_NA addresses they hold at End (one
//     missing, one extra, or both); StaleEvidence the first
//     DNSEvidenceCap of them.
//   - ConvergeS: per affected client with an affected IA_NA lease, the
//     time from the fault to the first sample at or after it from which
//     on, at every later sample, the client's name's AAAA set equals the
//     set of IA_NA addresses it holds, the same addresses each time, and
//     it holds at least one: when its records settled on the binding it
//     ended with. (The first matching sample alone would not do: right
//     after the fault every affected client still holds its old lease,
//     which its records name.) Its resolution is the lab's sample step
//     (the dns: block's sample): a client whose records stayed right
//     converges at the first sample after the fault. Unconverged counts
//     the affected clients whose records did not match at the last
//     sample (or with no sample after the fault), not in ConvergeS; nil
//     when no client with an IA_NA lease was affected.
//   - Conflicts: the updates the DNS server refused because the name
//     belongs to another client (DHCID, RFC 4703 §5.3.2); Updates every
//     update by outcome (ok, conflict or an RCODE), UpdatesByServer the
//     same per sending DHCP server ("other" when the lab could not tell).
//   - ServerDied: when the DNS server's process ended, seconds since the
//     run started; nil when it did not. Transfers and FailedTransfers
//     count the zone transfers that worked and those that did not (the
//     zones then keep their last transferred state).
type DNSReport struct {
	Records int `json:"records"`
	AAAA    int `json:"aaaa"`
	PTR     int `json:"ptr"`
	Names   int `json:"names"`
	Multi   int `json:"multi"`

	MultiEvidence []DNSName `json:"multi_evidence"`

	Abandoned     int `json:"abandoned"`
	AbandonedAAAA int `json:"abandoned_aaaa"`
	AbandonedPTR  int `json:"abandoned_ptr"`
	AbandonedMax  int `json:"abandoned_max"`

	StaleAtEnd    int       `json:"stale_at_end"`
	StaleEvidence []DNSName `json:"stale_evidence"`

	ConvergeS   *Percentiles `json:"converge_s"` // nil: no client with an IA_NA lease affected
	Unconverged int          `json:"unconverged"`

	Conflicts       int                       `json:"conflicts"`
	Updates         map[string]int            `json:"updates"`
	UpdatesByServer map[string]map[string]int `json:"updates_by_server"`

	ServerDied      *float64 `json:"server_died"` // seconds since the start, to the millisecond; nil: it did not die
	Transfers       int      `json:"transfers"`
	FailedTransfers int      `json:"failed_transfers"`

	Samples DNSSamples `json:"samples"`
}

// DNSSamples is the zones over time, one entry per successful transfer.
type DNSSamples struct {
	AtS       []float64 `json:"at_s"` // seconds since the start, to the millisecond
	Records   []int     `json:"records"`
	Abandoned []int     `json:"abandoned"`
}

// DNSName is one client name as the zones had it at End: its AAAA
// addresses and the IA_NA addresses the client held.
type DNSName struct {
	Name   string   `json:"name"`   // owner name; "" when the client's name was never in the zones
	Client int      `json:"client"` // the client the name belongs to
	AAAA   []string `json:"aaaa"`   // addresses of its AAAA records, sorted
	Held   []string `json:"held"`   // addresses the client holds at End, sorted
}

// DNSEvidenceCap bounds DNSReport's evidence lists.
const DNSEvidenceCap = 10

// DNSUpdateOther keys UpdatesByServer for updates from no known server.
const DNSUpdateOther = "other"

// rrKey identifies one record of the zones.
type rrKey struct {
	name, typ string
	addr      netip.Addr // AAAA and PTR
	rdata     string     // DHCID
}

// holdings answers "who holds what when" from the analyzer's intervals.
type holdings struct {
	a      *analyzer
	byAddr map[netip.Addr][]int32 // IA_NA intervals by address (by client: a.intervalsOf)
	edges  []int64                // starts and ends of the IA_NA intervals, unix ns, sorted
}

// changed tells whether an IA_NA interval started or ended in (from, to],
// or to is at or past End: whether addrHeld and naHeld may answer
// differently at to than at from.
func (h *holdings) changed(from, to time.Time) bool {
	if !to.Before(h.a.end) {
		return true
	}
	f := from.UnixNano()
	k, _ := slices.BinarySearch(h.edges, f+1)
	return k < len(h.edges) && h.edges[k] <= to.UnixNano()
}

func (a *analyzer) holdings() *holdings {
	h := &holdings{a: a, byAddr: map[netip.Addr][]int32{}}
	for i := range a.ivs {
		iv := &a.ivs[i]
		if a.str(iv.ia) == history.IANA && iv.lease.nbits() == 128 {
			x := iv.lease.prefix().Addr()
			h.byAddr[x] = append(h.byAddr[x], int32(i))
			h.edges = append(h.edges, int64(iv.first.at), int64(iv.end))
		}
	}
	slices.Sort(h.edges)
	return h
}

// lazyHoldings returns a function building a.holdings() on its first
// call: only runs with DNS or Leasequery events need it.
func (a *analyzer) lazyHoldings() func() *holdings {
	var h *holdings
	return func() *holdings {
		if h == nil {
			h = a.holdings()
		}
		return h
	}
}

// validAt tells whether the interval is valid at t; at or after End, only
// the intervals still open at End are.
func (h *holdings) validAt(iv *interval, t time.Time) bool {
	if iv.start().After(t) {
		return false
	}
	if !t.Before(h.a.end) {
		return iv.reason == endOpen
	}
	return iv.end.time().After(t)
}

// addrHeld tells whether any client holds address x at t.
func (h *holdings) addrHeld(x netip.Addr, t time.Time) bool {
	for _, i := range h.byAddr[x] {
		if h.validAt(&h.a.ivs[i], t) {
			return true
		}
	}
	return false
}

// naHeld returns the IA_NA addresses client c holds at t, sorted.
func (h *holdings) naHeld(c int, t time.Time) []netip.Addr {
	var out []netip.Addr
	for _, i := range h.a.intervalsOf(c) {
		iv := &h.a.ivs[i]
		if h.a.str(iv.ia) != history.IANA || iv.lease.nbits() != 128 || !h.validAt(iv, t) {
			continue
		}
		if x := iv.lease.prefix().Addr(); !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// holds tells whether client c holds lease p at t (any IA type).
func (h *holdings) holds(c int, p netip.Prefix, t time.Time) bool {
	pp := packPrefix(p)
	for _, i := range h.a.intervalsOf(c) {
		if iv := &h.a.ivs[i]; iv.lease == pp && h.validAt(iv, t) {
			return true
		}
	}
	return false
}

// holdsAny tells whether client c holds any lease at t.
func (h *holdings) holdsAny(c int, t time.Time) bool {
	for _, i := range h.a.intervalsOf(c) {
		if h.validAt(&h.a.ivs[i], t) {
			return true
		}
	}
	return false
}

// affectedClients returns, sorted, the affected clients of the package
// doc (a lease valid at the fault, last granted by a faulted server), only
// those with such a lease of IA type ia unless ia is "".
func (a *analyzer) affectedClients(ia string) []int {
	if !a.faultFound {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for i := range a.ivs {
		iv := &a.ivs[i]
		if seen[iv.client] || (ia != "" && a.str(iv.ia) != ia) {
			continue
		}
		if a.validAtFault(iv) && a.faultServers[a.grantorAtFault(iv)] {
			seen[iv.client] = true
			out = append(out, iv.client)
		}
	}
	slices.Sort(out)
	return out
}

// isProbe tells the DNS and Leasequery event kinds apart: they describe
// the lab's DNS server and prober, not a lease or a server's state.
func isProbe(k history.Kind) bool {
	switch k {
	case history.DNSTransfer, history.DNSAdded, history.DNSRemoved, history.DNSUpdate,
		history.DNSServerDied, history.LeasequeryAnswer, history.LeasequeryRound:
		return true
	}
	return false
}

// dns fills r.DNS when the history has a zone transfer.
func (a *analyzer) dns(r *Report, events history.Source, order []int32, hold func() *holdings, servers []ServerInfo) {
	var evs []*history.Event
	transfers := false
	real := map[int]bool{}
	for _, idx := range order {
		switch events.Kind(int(idx)) {
		case history.DNSTransfer, history.DNSAdded, history.DNSRemoved, history.DNSUpdate, history.DNSServerDied, history.ClientKind:
		default:
			continue // nothing for this checker
		}
		e := events.Event(int(idx))
		if e.At.After(a.end) {
			break
		}
		switch e.Kind {
		case history.DNSTransfer:
			transfers = true
			c := e // a copy of its own: only these reach the heap
			evs = append(evs, &c)
		case history.DNSAdded, history.DNSRemoved, history.DNSUpdate, history.DNSServerDied:
			c := e
			evs = append(evs, &c)
		case history.ClientKind:
			real[e.Client] = true
		}
	}
	if !transfers {
		return
	}
	h := hold()
	d := &DNSReport{
		MultiEvidence: []DNSName{}, StaleEvidence: []DNSName{},
		Updates: map[string]int{}, UpdatesByServer: map[string]map[string]int{},
		Samples: DNSSamples{AtS: []float64{}, Records: []int{}, Abandoned: []int{}},
	}
	var prefixes []netip.Prefix
	for _, s := range servers {
		if s.Prefix.IsValid() {
			prefixes = append(prefixes, s.Prefix)
		}
	}
	// managed tells the records of the DHCP servers from the lab's own
	// (the name server's AAAA): an address in a server's prefix, or a
	// client's name; every record when the lab names no prefix
	managed := func(e *history.Event) bool {
		if len(prefixes) == 0 || e.Cause == history.DNSTypeDHCID || (e.Cause == history.DNSTypeAAAA && e.Client >= 0) {
			return true
		}
		return e.Lease.IsValid() && slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(e.Lease.Addr()) })
	}
	zone := map[rrKey]bool{}
	aaaa := map[string]map[netip.Addr]bool{} // owner name -> its AAAA addresses
	nameOf := map[int]string{}               // client -> its name
	clientOf := map[string]int{}             // name -> client
	abandoned := func(t time.Time) (nAAAA, nPTR int) {
		for k := range zone {
			switch {
			case k.typ == history.DNSTypeAAAA && !h.addrHeld(k.addr, t):
				nAAAA++
			case k.typ == history.DNSTypePTR && k.addr.IsValid() && !h.addrHeld(k.addr, t):
				nPTR++
			}
		}
		return nAAAA, nPTR
	}
	recordsOf := func(c int) []netip.Addr {
		var out []netip.Addr
		for x := range aaaa[nameOf[c]] {
			out = append(out, x)
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return out
	}

	affected := a.affectedClients(history.IANA)
	// per affected client: the first sample of its current matching
	// streak (zero: none) and the addresses it matched on
	settled := make([]time.Time, len(affected))
	matched := make([][]netip.Addr, len(affected))

	// a sample needs computing only when the zones or the holdings
	// changed since the last one computed
	var last time.Time // the last sample computed
	dirty := true      // the zones changed since
	var nA, nP int     // its abandoned records
	converging := false
	for i := 0; i < len(evs); {
		j := i
		for j < len(evs) && evs[j].At.Equal(evs[i].At) {
			j++
		}
		// a transfer's differences carry its instant: apply them first
		for _, e := range evs[i:j] {
			switch e.Kind {
			case history.DNSAdded, history.DNSRemoved:
				if !managed(e) {
					continue
				}
				k := rrKey{name: e.Detail, typ: e.Cause}
				if e.Cause == history.DNSTypeDHCID {
					k.rdata = e.DUID
				} else if e.Lease.IsValid() {
					k.addr = e.Lease.Addr()
				}
				add := e.Kind == history.DNSAdded
				dirty = true
				if add {
					zone[k] = true
				} else {
					delete(zone, k)
				}
				if e.Cause != history.DNSTypeAAAA || !k.addr.IsValid() {
					continue
				}
				if add && e.Client >= 0 {
					nameOf[e.Client], clientOf[e.Detail] = e.Detail, e.Client
				}
				set := aaaa[e.Detail]
				if set == nil {
					set = map[netip.Addr]bool{}
					aaaa[e.Detail] = set
				}
				if add {
					set[k.addr] = true
				} else {
					delete(set, k.addr)
				}
			case history.DNSUpdate:
				cause := e.Cause
				if cause == "" {
					cause = history.DNSUpdateOK
				}
				d.Updates[cause]++
				if cause == history.DNSUpdateConflict {
					d.Conflicts++
				}
				srv := e.Server
				if srv == "" {
					srv = DNSUpdateOther
				}
				if d.UpdatesByServer[srv] == nil {
					d.UpdatesByServer[srv] = map[string]int{}
				}
				d.UpdatesByServer[srv][cause]++
			case history.DNSServerDied:
				if d.ServerDied == nil {
					d.ServerDied = ptr(float64(millis(e.At.Sub(a.start))) / 1000)
				}
			}
		}
		for _, e := range evs[i:j] {
			if e.Kind != history.DNSTransfer {
				continue
			}
			if e.Cause != "" {
				d.FailedTransfers++
				continue
			}
			d.Transfers++
			t := e.At
			fresh := dirty || last.IsZero() || h.changed(last, t)
			if fresh {
				nA, nP = abandoned(t)
				last, dirty = t, false
			}
			if !a.faultFound || !t.Before(a.faultAt) {
				// From the fault on: during the initial ramp a server's
				// update can reach the zones a moment before its client
				// records the binding, which is no failover's doing.
				d.AbandonedMax = max(d.AbandonedMax, nA+nP)
			}
			d.Samples.AtS = append(d.Samples.AtS, float64(millis(t.Sub(a.start)))/1000)
			d.Samples.Records = append(d.Samples.Records, len(zone))
			d.Samples.Abandoned = append(d.Samples.Abandoned, nA+nP)
			if !a.faultFound || t.Before(a.faultAt) || (converging && !fresh) {
				continue // nothing changed: every client's state stays
			}
			converging = true
			for k, c := range affected {
				held := h.naHeld(c, t)
				switch {
				case len(held) == 0 || !slices.Equal(held, recordsOf(c)):
					settled[k] = time.Time{}
				case settled[k].IsZero() || !slices.Equal(held, matched[k]):
					// a new match, or the records and the binding both
					// changed between two samples
					settled[k], matched[k] = t, held
				}
			}
		}
		i = j
	}

	// the zones as last transferred, against the leases held at End
	for k := range zone {
		d.Records++
		switch k.typ {
		case history.DNSTypeAAAA:
			d.AAAA++
		case history.DNSTypePTR:
			d.PTR++
		}
	}
	d.AbandonedAAAA, d.AbandonedPTR = abandoned(a.end)
	d.Abandoned = d.AbandonedAAAA + d.AbandonedPTR
	evidence := func(c int) DNSName {
		return DNSName{Name: nameOf[c], Client: c, AAAA: addrStrings(recordsOf(c)), Held: addrStrings(h.naHeld(c, a.end))}
	}
	var multi []int
	for name, set := range aaaa {
		c, ok := clientOf[name]
		if !ok || len(set) == 0 || nameOf[c] != name {
			continue
		}
		d.Names++
		if len(set) > 1 {
			multi = append(multi, c)
		}
	}
	slices.Sort(multi)
	d.Multi = len(multi)
	for _, c := range multi[:min(len(multi), DNSEvidenceCap)] {
		d.MultiEvidence = append(d.MultiEvidence, evidence(c))
	}
	for _, c := range h.namedClients(nameOf, real) {
		if !slices.Equal(h.naHeld(c, a.end), recordsOf(c)) {
			d.StaleAtEnd++
			if len(d.StaleEvidence) < DNSEvidenceCap {
				d.StaleEvidence = append(d.StaleEvidence, evidence(c))
			}
		}
	}
	if len(affected) > 0 {
		var converge []int64
		for _, t := range settled {
			if t.IsZero() {
				d.Unconverged++
				continue
			}
			converge = append(converge, millis(t.Sub(a.faultAt)))
		}
		d.ConvergeS = ptr(summarize(converge))
	}
	r.DNS = d
}

// namedClients returns, sorted, the clients that held an IA_NA address at
// some point and sent a name: every simulated client, and a real one
// (real[c]) whose name was ever in the zones.
func (h *holdings) namedClients(nameOf map[int]string, real map[int]bool) []int {
	var out []int
	x := h.a.intervalsByClient()
	for id := range int32(h.a.ids.n) {
		ivs := x.of(id)
		if len(ivs) == 0 {
			continue
		}
		c := h.a.ivs[ivs[0]].client
		if real[c] {
			if _, ok := nameOf[c]; !ok {
				continue
			}
		}
		if slices.ContainsFunc(ivs, func(i int32) bool { return h.a.str(h.a.ivs[i].ia) == history.IANA }) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func addrStrings(xs []netip.Addr) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
