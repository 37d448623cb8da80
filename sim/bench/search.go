package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// SearchConfig bounds a search for the highest passing rate.
type SearchConfig struct {
	// Start is the first rate tried (exchanges/s).
	Start float64
	// MinRate is the lowest rate tried: the search gives up when it fails.
	MinRate float64
	// MaxRate: the ramp stops doubling there (a server that passes at
	// MaxRate is reported at MaxRate, not saturated).
	MaxRate float64
	// Tolerance ends the search once (fail - pass) <= Tolerance * fail,
	// with pass the highest passing rate and fail the lowest failing one.
	Tolerance float64
	// MaxSteps bounds the number of measurements.
	MaxSteps int
}

// DefaultSearch starts at 500/s, doubles up to 2,000,000/s, halves down
// to 5/s, and stops when both brackets are within 5 % or after 28 steps.
func DefaultSearch() SearchConfig {
	return SearchConfig{Start: 500, MinRate: 5, MaxRate: 2_000_000, Tolerance: 0.05, MaxSteps: 28}
}

// Verdict is one step judged by the two criteria of a search.
type Verdict struct {
	// Drops: the drops stayed within the bound (and the load tool kept
	// the offered rate).
	Drops bool
	// Latency: the p99 latency stayed within the bound.
	Latency bool
}

// Pass reports whether the step passes the headline criterion: drops and
// latency both within their bounds.
func (v Verdict) Pass() bool { return v.Drops && v.Latency }

// Measure runs one step at the offered rate (a whole number of
// exchanges/s) and judges it.
type Measure func(ctx context.Context, rate float64) (Verdict, error)

// Outcome is how a search ended.
type Outcome string

// Search outcomes.
const (
	// Converged: the bracket [Pass, Fail] is within the tolerance.
	Converged Outcome = "converged"
	// ReachedMax: every rate up to MaxRate passed.
	ReachedMax Outcome = "reached-max-rate"
	// NonePassed: even MinRate failed.
	NonePassed Outcome = "none-passed"
	// OutOfSteps: MaxSteps measurements did not narrow the bracket enough.
	OutOfSteps Outcome = "out-of-steps"
)

// Bracket is where one criterion's search ended: Pass the highest offered
// rate that passed it (0: none), Fail the lowest that failed (0: none).
type Bracket struct {
	Pass    float64 `json:"pass"`
	Fail    float64 `json:"fail"`
	Outcome Outcome `json:"outcome"`
}

// SearchResult is where a search ended. The embedded Bracket is the
// headline: drops and p99 latency within their bounds. DropsOnly is the
// same search judged by the drops alone (the criterion `d6lab bench` used
// before it had a latency bound), kept as a second figure.
type SearchResult struct {
	Bracket
	DropsOnly Bracket `json:"drops_only"`
	Steps     int     `json:"steps"`
}

// ErrBadSearch is returned for a SearchConfig that cannot run.
var ErrBadSearch = errors.New("bench: invalid search config")

// Validate returns ErrBadSearch (wrapped) when the bounds cannot make a
// search: rates below 1/s, Start outside [MinRate, MaxRate], a tolerance
// outside (0, 1), no steps.
func (cfg SearchConfig) Validate() error {
	if cfg.Start < 1 || cfg.MinRate < 1 || cfg.MaxRate < cfg.Start || cfg.Start < cfg.MinRate ||
		cfg.Tolerance <= 0 || cfg.Tolerance >= 1 || cfg.MaxSteps < 1 {
		return fmt.Errorf("%w: %+v", ErrBadSearch, cfg)
	}
	return nil
}

// bracket is one criterion's state: lo the highest passing rate (0:
// none yet), hi the lowest failing one (+Inf: none yet).
type bracket struct{ lo, hi float64 }

func newBracket() bracket { return bracket{hi: math.Inf(1)} }

// next is the rate this bracket wants measured next, or the outcome when
// it is done: an exponential ramp from Start (doubling while it passes,
// halving while it fails), then a bisection until within Tolerance.
func (b bracket) next(cfg SearchConfig) (float64, Outcome) {
	switch {
	case b.lo > 0 && !math.IsInf(b.hi, 1):
		if b.hi-b.lo <= cfg.Tolerance*b.hi {
			return 0, Converged
		}
		r := math.Round((b.lo + b.hi) / 2)
		if r <= b.lo || r >= b.hi { // whole rates: nothing left between them
			return 0, Converged
		}
		return r, ""
	case math.IsInf(b.hi, 1): // ramping up
		if b.lo == 0 {
			return math.Round(cfg.Start), ""
		}
		if b.lo >= cfg.MaxRate {
			return 0, ReachedMax
		}
		return math.Min(2*b.lo, math.Round(cfg.MaxRate)), ""
	default: // lo == 0: ramping down
		if b.hi <= cfg.MinRate {
			return 0, NonePassed
		}
		return math.Max(math.Round(b.hi/2), math.Ceil(cfg.MinRate)), ""
	}
}

// record narrows the bracket with a measurement at r. A pass is taken as
// proof and a failure as possibly noise: on a shared machine other work
// can only slow a step down, never speed it up. So a pass above the
// lowest failure lifts the pass and reopens the bracket upwards (that
// failure was noise), and a failure at or below the highest pass is
// ignored. A failure above the bracket says nothing new.
func (b *bracket) record(r float64, pass bool) {
	switch {
	case pass && r > b.lo:
		b.lo = r
		if b.hi <= r {
			b.hi = math.Inf(1)
		}
	case !pass && r > b.lo && r < b.hi:
		b.hi = r
	}
}

func (b bracket) result(o Outcome) Bracket {
	res := Bracket{Pass: b.lo, Outcome: o}
	if !math.IsInf(b.hi, 1) {
		res.Fail = b.hi
	}
	return res
}

// Search finds the highest rate at which a step passes both criteria
// (Verdict.Pass), and the highest at which it passes the drops alone,
// from the same steps: each step narrows both brackets. It narrows the
// headline bracket first (an exponential ramp from Start, doubling while
// it passes, halving while it fails, then a bisection until within
// Tolerance), then the drops-only one, which starts from what the first
// part measured (a server whose p99 breaks its bound at 16,000/s and whose
// drops pass there starts its drops-only bracket at 16,000/s). It assumes
// that passing is monotonic in the rate for each criterion, and treats a
// contradiction as a failure that was noise (bracket.record): the result's
// Pass is always the highest rate any step passed. Noise costs extra
// steps, bounded by MaxSteps (a bracket still open then ends OutOfSteps).
func Search(ctx context.Context, cfg SearchConfig, measure Measure) (SearchResult, error) {
	if err := cfg.Validate(); err != nil {
		return SearchResult{}, err
	}
	var res SearchResult
	both, drops := newBracket(), newBracket()
	done := func(ob, od Outcome) SearchResult {
		res.Bracket, res.DropsOnly = both.result(ob), drops.result(od)
		return res
	}
	for {
		r, ob := both.next(cfg)
		rd, od := drops.next(cfg)
		switch {
		case ob != "" && od != "":
			return done(ob, od), nil
		case ob != "":
			r = rd
		}
		if res.Steps >= cfg.MaxSteps {
			return done(orOutOfSteps(ob), orOutOfSteps(od)), nil
		}
		v, err := measure(ctx, r)
		res.Steps++
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return done(OutOfSteps, OutOfSteps), err
		}
		both.record(r, v.Pass())
		drops.record(r, v.Drops)
	}
}

func orOutOfSteps(o Outcome) Outcome {
	if o == "" {
		return OutOfSteps
	}
	return o
}
