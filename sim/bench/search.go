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
// to 5/s, and stops when the bracket is within 5 % or after 24 steps.
func DefaultSearch() SearchConfig {
	return SearchConfig{Start: 500, MinRate: 5, MaxRate: 2_000_000, Tolerance: 0.05, MaxSteps: 24}
}

// Measure runs one step at the offered rate (a whole number of
// exchanges/s) and reports whether it passed (drops within the bound).
type Measure func(ctx context.Context, rate float64) (pass bool, err error)

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

// SearchResult is the bracket a search ended with.
type SearchResult struct {
	// Pass is the highest offered rate that passed (0: none), Fail the
	// lowest that failed (0: none).
	Pass    float64 `json:"pass"`
	Fail    float64 `json:"fail"`
	Steps   int     `json:"steps"`
	Outcome Outcome `json:"outcome"`
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

// Search finds the highest rate at which measure passes: an exponential
// ramp from Start (doubling while it passes, halving while it fails), then
// a bisection of the bracket, until the bracket is within Tolerance. It
// assumes that passing is monotonic in the rate; noise only costs extra
// steps, bounded by MaxSteps.
func Search(ctx context.Context, cfg SearchConfig, measure Measure) (SearchResult, error) {
	if err := cfg.Validate(); err != nil {
		return SearchResult{}, err
	}
	var res SearchResult
	lo, hi := 0.0, math.Inf(1) // highest pass, lowest fail
	done := func(o Outcome) (SearchResult, error) {
		res.Pass, res.Outcome = lo, o
		if !math.IsInf(hi, 1) {
			res.Fail = hi
		}
		return res, nil
	}
	for {
		var r float64
		switch {
		case lo > 0 && !math.IsInf(hi, 1):
			if hi-lo <= cfg.Tolerance*hi {
				return done(Converged)
			}
			r = math.Round((lo + hi) / 2)
			if r <= lo || r >= hi { // whole rates: nothing left between them
				return done(Converged)
			}
		case math.IsInf(hi, 1): // ramping up
			if lo == 0 {
				r = math.Round(cfg.Start)
			} else {
				if lo >= cfg.MaxRate {
					return done(ReachedMax)
				}
				r = math.Min(2*lo, math.Round(cfg.MaxRate))
			}
		default: // lo == 0: ramping down
			if hi <= cfg.MinRate {
				return done(NonePassed)
			}
			r = math.Max(math.Round(hi/2), math.Ceil(cfg.MinRate))
		}
		if res.Steps >= cfg.MaxSteps {
			return done(OutOfSteps)
		}
		pass, err := measure(ctx, r)
		res.Steps++
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			res, _ = done(OutOfSteps)
			return res, err
		}
		if pass {
			lo = r
		} else {
			hi = r
		}
	}
}
