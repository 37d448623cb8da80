package client

import "time"

// instant is a time on the client's clock in 8 bytes where a time.Time
// takes 24: nanoseconds since its settings' origin, 0 for the zero
// time.Time (none). A client keeps seven: at a million clients they are
// 112 MB smaller. Instants order as the times they stand for, the zero
// one first, for any time from the origin to 292 years after it.
type instant int64

// originBefore is how far the origin lies before Config.Epoch: times a
// little before the epoch are held too (a clock set back), and it stays
// after 1885, the earliest time that keeps a monotonic reading.
const originBefore = 1 << 61 // about 73 years

// defaultEpoch is Config.Epoch when it is zero.
var defaultEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is where a client's instants count from.
type clock struct {
	origin   time.Time // 73 years before Config.Epoch
	originNs int64     // origin.UnixNano()
	mono     bool      // origin has a monotonic reading (a wall clock's Epoch)
}

// clockFor is the clock of a client whose Config.Epoch is epoch.
func clockFor(epoch time.Time) clock {
	if epoch.IsZero() {
		epoch = defaultEpoch
	}
	o := epoch.Add(-originBefore)
	return clock{origin: o, originNs: o.UnixNano(), mono: o != o.Round(0)}
}

// at is t as an instant. Without a monotonic reading at the origin (the
// virtual engine's clock) times differ as their wall clocks do, which
// UnixNano tells faster than Sub (Sub of two wall times checks its result
// by adding it back).
func (k *clock) at(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	if !k.mono {
		return instant(t.UnixNano() - k.originNs)
	}
	return instant(t.Sub(k.origin))
}

// time is the time the instant i stands for, with the location and
// monotonic reading of Config.Epoch: the time given to at, when that was
// taken from the same clock as Epoch.
func (k *clock) time(i instant) time.Time {
	if i == 0 {
		return time.Time{}
	}
	return k.origin.Add(time.Duration(i))
}
