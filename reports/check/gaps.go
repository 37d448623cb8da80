package check

import (
	"fmt"

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
//   - release_gave_up, decline_gave_up: each Release or Decline exchange
//     that ran out of transmissions (GaveUp "release" or "decline").
//   - refreshed: each Information-request refresh (an Informed event
//     after the client's first).
//   - run: every run; nothing to count.
type GapReport struct {
	Gap
	Count   int    `json:"count"`   // trigger occurrences (0 for run)
	Clients int    `json:"clients"` // distinct clients among them
	Effect  string `json:"effect"`  // the sizes in a sentence
}

// The triggers: clientsim/profile's Trigger values, named again here
// because reports may not import clientsim (ARCHITECTURE.md, import
// rules); a spec in sim holds GapTriggers and profile.Triggers equal.
const (
	TriggerReleaseGaveUp = "release_gave_up"
	TriggerDeclineGaveUp = "decline_gave_up"
	TriggerRefreshed     = "refreshed"
	TriggerRun           = "run"
)

// GapTriggers lists every trigger Gaps sizes.
var GapTriggers = []string{TriggerReleaseGaveUp, TriggerDeclineGaveUp, TriggerRefreshed, TriggerRun}

// gaps sizes each of lab.Gaps this run met (GapReport); a gap whose
// trigger never fired is left out, a "run" one always listed.
func (a *analyzer) gaps(r *Report, events history.Source, lab Lab) {
	if len(lab.Gaps) == 0 {
		return
	}
	kinds, _ := realKinds(events)
	real := func(c int) bool { _, ok := kinds[c]; return ok }
	for _, g := range lab.Gaps {
		gr := GapReport{Gap: g}
		switch g.When {
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
