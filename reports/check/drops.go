package check

import (
	"time"

	"d6lab/reports/history"
)

// dropWindow is a span in which a client held a lease whose address it
// had taken off its interface (a Dropped event; dhcpcd at carrier loss):
// from the drop to the Restored event that put it back (back), then
// tentative until usable. back and usable are neverStamp while the
// address is still off; both are read clipped to the interval's end.
type dropWindow struct {
	from, back, usable stamp
}

// offNow finds the event's lease's open interval (ok) and tells whether
// its address is off the interface now (an open drop window).
func (a *analyzer) offNow(e *history.Event) (i int32, off, ok bool) {
	i, ok = a.openLease(e.Client, e.Lease)
	if !ok {
		return 0, false, false
	}
	ws := a.drops[i]
	return i, len(ws) > 0 && ws[len(ws)-1].back == neverStamp, true
}

// dropped opens a drop window on the client's open interval of the
// event's lease; a lease already off its interface stays so.
func (a *analyzer) dropped(e *history.Event) {
	i, off, ok := a.offNow(e)
	if !ok || off {
		return
	}
	if a.drops == nil {
		a.drops = map[int32][]dropWindow{}
	}
	a.drops[i] = append(a.drops[i], dropWindow{from: stampOf(e.At), back: neverStamp, usable: neverStamp})
}

// restored puts the lease's address back at the event, usable after its
// Tentative (a DADFailed before then takes that back): it closes the open
// drop window, or the last one if its address is not usable yet (added
// again after its DAD failed), and an interval not usable yet (an address
// kept after DAD found it in use) is usable from then.
func (a *analyzer) restored(e *history.Event) {
	i, off, ok := a.offNow(e)
	if !ok {
		return
	}
	at := stampOf(e.At)
	usable := stampOf(e.At.Add(max(e.Tentative, 0)))
	if ws := a.drops[i]; len(ws) > 0 {
		if w := &ws[len(ws)-1]; off || w.usable > at {
			w.back, w.usable = at, usable
		}
	}
	if iv := &a.ivs[i]; iv.usable > at {
		iv.usable = usable
	}
}

// dadFailedAgain takes back the usability a Restored promised the lease's
// address: its new DAD failed at the event (the interval's last drop
// window, if the event falls in its tentative tail, never ends).
func (a *analyzer) dadFailedAgain(i int32, at stamp) {
	ws := a.drops[i]
	if len(ws) == 0 {
		return
	}
	if w := &ws[len(ws)-1]; w.back <= at && at < w.usable {
		w.usable = neverStamp
	}
}

// onSpans appends to spans the parts of [from, to) in which interval i's
// address was on the client's interface: outside its drop windows, and,
// when usableOnly, outside their tentative tails too (back to usable).
func (a *analyzer) onSpans(spans []window, i int32, from, to time.Time, usableOnly bool) []window {
	for _, w := range a.drops[i] {
		if !to.After(from) {
			return spans
		}
		off, on := w.from.time(), w.back.time()
		if usableOnly {
			on = w.usable.time()
		}
		if !on.After(from) || !off.Before(to) {
			continue // wholly before or after [from, to)
		}
		if off.After(from) {
			spans = append(spans, window{from, off})
		}
		from = on
	}
	if to.After(from) {
		spans = append(spans, window{from, to})
	}
	return spans
}

// offAt tells whether interval i's address was off the interface, or
// tentative again after coming back, at t.
func (a *analyzer) offAt(i int32, t stamp) bool {
	for _, w := range a.drops[i] {
		if w.from <= t && t < w.usable {
			return true
		}
	}
	return false
}

// dropsReport fills Life's Dropped, DroppedS and Unrestored from the drop
// windows.
func (a *analyzer) dropsReport(r *Report) {
	var ms []int64
	for i, ws := range a.drops {
		end := a.ivs[i].end
		for _, w := range ws {
			r.Life.Dropped++
			if w.usable >= end {
				r.Life.Unrestored++ // not usable again before the lease, or the run, ended
				continue
			}
			ms = append(ms, millis(time.Duration(min(w.usable, end)-w.from)))
		}
	}
	if len(ms) > 0 {
		p := summarize(ms)
		r.Life.DroppedS = &p
	}
}
