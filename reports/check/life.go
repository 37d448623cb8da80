package check

import "d6lab/reports/history"

// Life counts the client life-cycle events that churn, duplicate address
// detection and link flaps cause (RFC 9915 §18.2.3, §18.2.7, §18.2.8):
//
//   - Released: leases released (a client leaving, or the run's end when
//     the engine releases; one per lease).
//   - Declined: leases declined because another host uses the address.
//   - Confirmed: Confirms answered Success (the addresses are on-link).
//   - NotOnLink: Confirms answered NotOnLink.
//   - Dropped: addresses a client took off its interface while it held
//     their leases (a Dropped event: dhcpcd at carrier loss, the dhcpcd
//     profile's link_change: drop, or a real client's address log).
//     DroppedS is, per drop, the seconds until the address was usable
//     again (back on the interface, then its DAD), over the drops usable
//     again before the lease ended; Unrestored counts the others (the
//     lease, or the run, ended first, or each DAD after the return
//     failed). Without a drop all three are left out of
//     the JSON.
type Life struct {
	Released   int          `json:"released"`
	Declined   int          `json:"declined"`
	Confirmed  int          `json:"confirmed"`
	NotOnLink  int          `json:"notonlink"`
	Dropped    int          `json:"dropped,omitempty"`
	DroppedS   *Percentiles `json:"dropped_s,omitempty"`
	Unrestored int          `json:"unrestored,omitempty"`
}

func (a *analyzer) life(r *Report, events history.Source) {
	for i := range events.Len() {
		switch events.Kind(i) {
		case history.Released, history.Declined, history.Confirmed:
		default:
			continue // counts nothing
		}
		ev := events.Event(i)
		e := &ev
		if e.Client < 0 || e.At.After(a.end) || e.At.Before(a.start) {
			continue
		}
		switch e.Kind {
		case history.Released:
			r.Life.Released++
		case history.Declined:
			r.Life.Declined++
		case history.Confirmed:
			if e.Cause == history.CauseNotOnLink {
				r.Life.NotOnLink++
			} else {
				r.Life.Confirmed++
			}
		}
	}
}
