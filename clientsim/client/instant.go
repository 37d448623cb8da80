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

// origin is the origin of the instants of a client whose Config.Epoch is
// epoch.
func origin(epoch time.Time) time.Time {
	if epoch.IsZero() {
		epoch = defaultEpoch
	}
	return epoch.Add(-originBefore)
}

// at is t as an instant.
func (s *settings) at(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	return instant(t.Sub(s.origin))
}

// time is the time the instant i stands for, with the location and
// monotonic reading of Config.Epoch: the time given to at, when that was
// taken from the same clock as Epoch.
func (s *settings) time(i instant) time.Time {
	if i == 0 {
		return time.Time{}
	}
	return s.origin.Add(time.Duration(i))
}
