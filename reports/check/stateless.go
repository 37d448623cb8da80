package check

import (
	"strings"
	"time"

	"d6lab/reports/history"
)

// Stateless measures the configuration outage of stateless clients
// (Information-request, RFC 9915 §18.2.6; Information Refresh Time,
// §21.23). A stateless client is one with an Informed event. Each
// Informed event carries the refresh time the client adopted
// ("refresh=6s" in Detail: the server's Information Refresh Time clamped
// to IRT_MINIMUM, or IRT_DEFAULT when the server sent none).
//
//   - Refreshes: refresh times that fell due before End.
//   - RefreshFailures: those the client did not see answered within
//     StatelessTolerance of the refresh time: the Reply came later, or
//     not by End.
//   - Affected: stateless clients with at least one refresh failure.
//   - OutageS: per affected client, the total time it went without a
//     successful Reply past its refresh times (from each late refresh's
//     due time to the Reply, or to End), summarised over the affected
//     clients.
type Stateless struct {
	Clients         int         `json:"clients"`
	Refreshes       int         `json:"refreshes"`
	RefreshFailures int         `json:"refresh_failures"`
	Affected        int         `json:"affected"`
	OutageS         Percentiles `json:"outage_s"`
}

// StatelessTolerance is how late a refresh's Reply may come and still
// count as on time: INF_TIMEOUT (1 s, RFC 9915 §7.6) times the clients'
// timescale, so at full scale a Reply to the first transmission is on time
// and one that needed a retransmission is not, but never below 1 s. A
// scaled run (timescale 0.01: refreshes every 6 s) on a loaded 2-core
// machine sees its own scheduling delay a client's refresh or a server's
// Reply by a few hundred milliseconds; a floor under that counted the
// machine, not the servers, as outage. A second late is no outage an
// operator would see, and a real one (a frozen or dead server) lasts until
// the next retransmission that reaches a live server: seconds.
func StatelessTolerance(timescale float64) time.Duration {
	if timescale <= 0 {
		timescale = 1
	}
	return max(time.Duration(float64(time.Second)*timescale), time.Second)
}

func (a *analyzer) stateless(r *Report, events history.Source, order []int32) {
	tol := StatelessTolerance(r.Timescale)
	type state struct {
		last    time.Time
		refresh time.Duration
		outage  time.Duration
		failed  bool
	}
	per := map[int]*state{}
	var clients []int // first-seen order, for a deterministic summary
	late := func(s *state, at time.Time) {
		if s.refresh <= 0 {
			return
		}
		due := s.last.Add(s.refresh)
		if due.After(a.end) || due.Before(a.start) {
			return
		}
		r.Stateless.Refreshes++
		if d := at.Sub(due); d > tol {
			r.Stateless.RefreshFailures++
			s.outage += d
			s.failed = true
		}
	}
	for _, idx := range order {
		if events.Kind(int(idx)) != history.Informed {
			continue
		}
		ev := events.Event(int(idx))
		e := &ev
		if e.At.After(a.end) {
			break
		}
		if e.Client < 0 {
			continue
		}
		s := per[e.Client]
		if s == nil {
			s = &state{}
			per[e.Client] = s
			clients = append(clients, e.Client)
		} else {
			late(s, e.At)
		}
		s.last = e.At
		s.refresh = 0
		if v, ok := strings.CutPrefix(e.Detail, "refresh="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				s.refresh = d
			}
		}
	}
	var ms []int64
	for _, c := range clients {
		s := per[c]
		late(s, a.end) // a refresh due and unanswered by End
		if s.failed {
			r.Stateless.Affected++
			ms = append(ms, millis(s.outage))
		}
	}
	r.Stateless.Clients = len(clients)
	r.Stateless.OutageS = summarize(ms)
}
