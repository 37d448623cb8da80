package main

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"d6lab/scenarios"
	"d6lab/sim/session"
	"d6lab/sim/virtual"
)

// virtualEvery is how often the virtual engine's plain progress line is
// written when no terminal is attached (a terminal gets a bar): the netns
// lab's period, so a run shorter than it writes none.
const virtualEvery = 10 * time.Second

// virtualProgress shows virtual-engine runs under way on w: a bar that
// fills with the virtual time they have played, labelled with each run's
// and the wall time so far. A million-client day is minutes of silence
// otherwise.
type virtualProgress struct {
	prog   *session.Progress
	scs    []*scenarios.Scenario
	played []atomic.Int64 // per run: virtual time played, ns
}

// startVirtualProgress begins the progress of the virtual runs of scs on
// w; give each run its options (options) and end it (end) before
// printing anything else.
func startVirtualProgress(w io.Writer, scs []*scenarios.Scenario) *virtualProgress {
	v := &virtualProgress{prog: session.NewProgress(w, isTerminal(w)), scs: scs, played: make([]atomic.Int64, len(scs))}
	var total time.Duration
	for _, sc := range scs {
		total += sc.Duration
	}
	v.prog.Track(total, virtualEvery, v.position, v.status)
	return v
}

// options are vopt with run i's progress reported here.
func (v *virtualProgress) options(i int, vopt virtual.Options) virtual.Options {
	vopt.Progress = func(played time.Duration) { v.played[i].Store(int64(played)) }
	return vopt
}

// position is the virtual time played by every run together.
func (v *virtualProgress) position(time.Duration) time.Duration {
	var sum time.Duration
	for i := range v.played {
		sum += time.Duration(v.played[i].Load())
	}
	return sum
}

// status is the progress line: each run's virtual time played of its
// duration, then the wall time so far.
func (v *virtualProgress) status(el time.Duration) string {
	var b strings.Builder
	for i, sc := range v.scs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s of %s", sc.Name, time.Duration(v.played[i].Load()).Truncate(time.Second), sc.Duration)
	}
	fmt.Fprintf(&b, " virtual; %s wall", el.Truncate(time.Second))
	return b.String()
}

// end stops the progress and clears its bar.
func (v *virtualProgress) end() { v.prog.End() }
