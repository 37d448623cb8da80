package check

import (
	"fmt"
	"time"

	"d6lab/reports/history"
)

// Gap is one way the real client kind a profile models behaves that the
// profile does not model (clientsim/profile, profiles.yaml's gaps): what
// the real client does, what the simulated client does instead, and the
// trigger at which a run meets it. sim fills Lab.Gaps from the run's
// profile.
type Gap struct {
	Param     string `json:"param,omitempty"` // the profile parameter it concerns; "" for none
	When      string `json:"when"`            // a trigger (GapTriggers)
	Real      string `json:"real"`
	Simulated string `json:"simulated"`
}

// GapReport is one gap the run met, sized. The triggers (GapTriggers)
// and what each sizes, over the simulated clients only (a client a
// ClientKind event names as a real one is left out):
//
//   - dad_failed: each address a client kept after its DAD found it in
//     use (DADFailed). Its estimate is how long it stayed kept, unusable:
//     to the lease's end or End. Recoverable counts those whose holder, a
//     client of the population, let the address go at least the lease's
//     T1 before then: a real client that adds the address again at each
//     Renew (every T1) would have used it from its next Renew after that.
//   - release_gave_up, decline_gave_up: each Release or Decline exchange
//     that ran out of transmissions (GaveUp "release" or "decline").
//   - refreshed: each Information-request refresh (an Informed event
//     after the client's first).
//   - run: every run; nothing to count.
type GapReport struct {
	Gap
	Count       int          `json:"count"`                 // trigger occurrences (0 for run)
	Clients     int          `json:"clients"`               // distinct clients among them
	EstimateS   *Percentiles `json:"estimate_s,omitempty"`  // dad_failed: per occurrence (above)
	Recoverable int          `json:"recoverable,omitempty"` // dad_failed: holder gone before the lease's end
	Effect      string       `json:"effect"`                // the sizes in a sentence
}

// The triggers: clientsim/profile's Trigger values, named again here
// because reports may not import clientsim (ARCHITECTURE.md, import
// rules); a spec in sim holds GapTriggers and profile.Triggers equal.
const (
	TriggerDADFailed     = "dad_failed"
	TriggerReleaseGaveUp = "release_gave_up"
	TriggerDeclineGaveUp = "decline_gave_up"
	TriggerRefreshed     = "refreshed"
	TriggerRun           = "run"
)

// GapTriggers lists every trigger Gaps sizes.
var GapTriggers = []string{TriggerDADFailed, TriggerReleaseGaveUp, TriggerDeclineGaveUp, TriggerRefreshed, TriggerRun}

// gaps sizes each of lab.Gaps this run met (GapReport); a gap whose
// trigger never fired is left out, a "run" one always listed.
func (a *analyzer) gaps(r *Report, events history.Source, order []int32, lab Lab) {
	if len(lab.Gaps) == 0 {
		return
	}
	kinds, _ := realKinds(events)
	real := func(c int) bool { _, ok := kinds[c]; return ok }
	for _, g := range lab.Gaps {
		gr := GapReport{Gap: g}
		switch g.When {
		case TriggerDADFailed:
			a.gapKept(&gr, events, order, real)
		case TriggerReleaseGaveUp, TriggerDeclineGaveUp:
			detail := "release"
			if g.When == TriggerDeclineGaveUp {
				detail = "decline"
			}
			a.gapCount(&gr, events, real, func(e *history.Event) bool {
				return e.Kind == history.GaveUp && e.Detail == detail
			}, history.GaveUp)
			gr.Effect = fmt.Sprintf("%d %s exchange(s) of %d client(s) went unanswered", gr.Count, detail, gr.Clients)
		case TriggerRefreshed:
			seen := map[int]bool{}
			a.gapCount(&gr, events, real, func(e *history.Event) bool {
				first := !seen[e.Client]
				seen[e.Client] = true
				return !first
			}, history.Informed)
			gr.Effect = fmt.Sprintf("%d refresh(es) of %d client(s)", gr.Count, gr.Clients)
		case TriggerRun:
			gr.Effect = "applies to every run"
		}
		// (an unknown trigger never fires: its gap is not listed)
		if gr.Count > 0 || g.When == TriggerRun {
			r.Gaps = append(r.Gaps, gr)
		}
	}
}

// gapCount counts the simulated clients' events of kind within the run
// that match.
func (a *analyzer) gapCount(gr *GapReport, events history.Source, real func(int) bool, match func(*history.Event) bool, kind history.Kind) {
	clients := map[int]bool{}
	for i := range events.Len() {
		if events.Kind(i) != kind {
			continue
		}
		e := events.Event(i)
		if e.Client < 0 || real(e.Client) || e.At.Before(a.start) || e.At.After(a.end) || !match(&e) {
			continue
		}
		gr.Count++
		clients[e.Client] = true
	}
	gr.Clients = len(clients)
}

func (a *analyzer) gapKept(gr *GapReport, events history.Source, order []int32, real func(int) bool) {
	clients := map[int]bool{}
	var est []int64
	for _, c := range a.conflicts {
		if !c.kept || real(c.client) {
			continue
		}
		gr.Count++
		clients[c.client] = true
		end := a.end
		var t1 time.Duration
		if c.iv >= 0 {
			iv := &a.ivs[c.iv]
			end = iv.end.time()
			t1 = events.Event(int(order[iv.first.seq])).T1
		}
		est = append(est, millis(end.Sub(c.at)))
		if left, ok := a.holderLeft(c, end); ok && t1 > 0 && !left.Add(t1).After(end) {
			gr.Recoverable++
		}
	}
	gr.Clients = len(clients)
	p := summarize(est)
	gr.EstimateS = &p
	gr.Effect = fmt.Sprintf("%d address(es) of %d client(s) kept unusable after DAD found them in use, for p50 %s, max %s (to the lease's end or the run's); %d saw the holder let the address go at least T1 before that, which the real client would have used from its next Renew",
		gr.Count, gr.Clients, fmtS(p.P50), fmtS(p.Max), gr.Recoverable)
}

// holderLeft returns when the conflict's holder, a client of the
// population, let the address go: the end of its binding of the address
// that covered the conflict, when that was before end.
func (a *analyzer) holderLeft(c conflict, end time.Time) (time.Time, bool) {
	if c.peer == nil {
		return time.Time{}, false // a host outside the population: it never leaves
	}
	st, en := stampOf(c.at), stampOf(end)
	for _, i := range a.intervalsOf(*c.peer) {
		iv := &a.ivs[i]
		if iv.lease.prefix() != c.lease || iv.first.at > st || iv.end < st {
			continue
		}
		return iv.end.time(), iv.end < en
	}
	return time.Time{}, false
}

// fmtS writes seconds for a sentence: 1.92 s, 2400 s.
func fmtS(s float64) string {
	if s < 100 {
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}
