package check

import (
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

const (
	histMaxMs  = 30 * 24 * 3600 * 1000 // 30 days: longer values are clamped
	histDigits = 4
)

// summarize builds the percentiles of values in milliseconds with an
// HdrHistogram. Percentiles report the lowest value of their histogram
// bucket (exact below 16.4 s, within 0.01% above); Max is exact.
func summarize(ms []int64) Percentiles {
	p := Percentiles{Count: len(ms)}
	if len(ms) == 0 {
		return p
	}
	h := hdrhistogram.New(1, histMaxMs, histDigits)
	for _, v := range ms {
		_ = h.RecordValue(min(max(v, 0), histMaxMs)) // clamped: cannot fail
	}
	at := func(q float64) float64 { return float64(lowestEquivalent(h, h.ValueAtQuantile(q))) / 1000 }
	p.P50, p.P95, p.P99 = at(50), at(95), at(99)
	p.Max = float64(slices.Max(ms)) / 1000
	return p
}

// lowestEquivalent returns the first value of v's bucket. Buckets are
// aligned power-of-two ranges, so it is v+1-s for the largest power of two
// s for which v+1-s is still equivalent to v.
func lowestEquivalent(h *hdrhistogram.Histogram, v int64) int64 {
	low := v
	for s := int64(2); s <= v+1; s <<= 1 {
		if !h.ValuesAreEquivalent(v, v+1-s) {
			break
		}
		low = v + 1 - s
	}
	return low
}
