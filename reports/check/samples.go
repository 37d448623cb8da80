package check

import "slices"

// Samples holds the per-client values behind a Report's percentiles, for
// drawing their distribution (the Report keeps only the summary).
type Samples struct {
	// ReacquireS is the re-acquisition time, in seconds, of each affected
	// client that recovered, ascending (len == Report.ReacquireS.Count;
	// Report.Unrecovered clients have none).
	ReacquireS []float64
	// LeasequeryGapS is the Leasequery gap, in seconds, of each sampled
	// affected client, ascending (len == Report.Leasequery.GapS.Count;
	// nil without a prober).
	LeasequeryGapS []float64
}

func (a *analyzer) samples() Samples {
	s := Samples{ReacquireS: make([]float64, len(a.reacqMs))}
	for i, ms := range a.reacqMs {
		s.ReacquireS[i] = float64(ms) / 1000
	}
	slices.Sort(s.ReacquireS)
	for _, ms := range a.lqGapMs {
		s.LeasequeryGapS = append(s.LeasequeryGapS, float64(ms)/1000)
	}
	slices.Sort(s.LeasequeryGapS)
	return s
}
