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
type Life struct {
	Released  int `json:"released"`
	Declined  int `json:"declined"`
	Confirmed int `json:"confirmed"`
	NotOnLink int `json:"notonlink"`
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
