package check

import (
	"testing"
	"time"
	"unsafe"
)

// A million-client day has two million binding intervals: an interval
// keeps its instants as nanoseconds and its first grant inside it (it
// was 240 bytes and a grant slice of its own, 32 more).
func TestIntervalSize(t *testing.T) {
	if n := unsafe.Sizeof(interval{}); n > 160 {
		t.Fatalf("an interval is %d bytes, more than 160", n)
	}
}

// A stamp gives back the instant, the zero time and neverUsable, and
// keeps order; times beyond its range come back as its nearest.
func TestStampRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 1, 5, time.UTC)
	for _, tm := range []time.Time{at, {}, neverUsable, time.Unix(0, 0)} {
		if got := stampOf(tm).time(); !got.Equal(tm) {
			t.Errorf("stampOf(%v).time() = %v", tm, got)
		}
	}
	if !(stampOf(time.Time{}) < stampOf(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)) &&
		stampOf(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)) < stampOf(at) &&
		stampOf(at) < stampOf(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) &&
		stampOf(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) < stampOf(neverUsable)) {
		t.Error("stamps out of order")
	}
}
