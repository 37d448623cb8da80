package check

import (
	"cmp"
	"slices"
	"time"
)

// maxSamples bounds the binding share series when the step is automatic.
const maxSamples = 600

type delta struct {
	at  int64 // unix nanoseconds
	srv int32
	d   int32
}

// share samples the number of valid bindings per server (the server of the
// latest grant of each interval) at Started + k*step, k >= 0, before End;
// Last counts the bindings still valid at End.
func (a *analyzer) share(r *Report, step time.Duration) {
	bs := BindingShare{AtS: []float64{}, Series: map[string][]int{}, Last: map[string]int{}}
	for id := range a.servers {
		bs.Last[a.servers[id].name] = 0
	}
	for i := range a.ivs {
		iv := &a.ivs[i]
		if iv.reason == endOpen {
			bs.Last[a.servers[a.grantAt(iv, a.nGrants(iv)-1).srv].name]++
		}
	}
	dur := a.end.Sub(a.start)
	if step <= 0 {
		step = time.Second
		if n := dur / step; n > maxSamples {
			step = ((dur/maxSamples + time.Second - 1) / time.Second) * time.Second
		}
	}
	bs.StepS = step.Seconds()
	// One segment per run of grants from the same server: the segments
	// of a run meet end to start, so counting them one by one adds and
	// takes away 1 at each meeting instant, which no sample can see
	// apart. A steady client renewing with one server all day is one
	// segment, not one per renewal.
	n := 0
	for i := range a.ivs {
		n += 2
		iv := &a.ivs[i]
		for k := 1; k < a.nGrants(iv); k++ {
			if a.grantAt(iv, k).srv != a.grantAt(iv, k-1).srv {
				n += 2
			}
		}
	}
	deltas := make([]delta, 0, n)
	for i := range a.ivs {
		iv := &a.ivs[i]
		for k, n := 0, a.nGrants(iv); k < n; {
			g := a.grantAt(iv, k)
			for k++; k < n && a.grantAt(iv, k).srv == g.srv; k++ {
			}
			to := a.segEnd(iv, k-1)
			if to.After(g.at.time()) {
				deltas = append(deltas, delta{int64(g.at), g.srv, 1}, delta{to.UnixNano(), g.srv, -1})
			}
		}
	}
	slices.SortFunc(deltas, func(x, y delta) int { return cmp.Compare(x.at, y.at) })
	counts := make([]int, len(a.servers))
	series := make([][]int, len(a.servers))
	next := 0
	for k := 0; ; k++ {
		t := a.start.Add(time.Duration(k) * step)
		if !t.Before(a.end) || k > 100*maxSamples {
			break
		}
		tn := t.UnixNano()
		for next < len(deltas) && deltas[next].at <= tn {
			counts[deltas[next].srv] += int(deltas[next].d)
			next++
		}
		bs.AtS = append(bs.AtS, t.Sub(a.start).Seconds())
		for id := range series {
			series[id] = append(series[id], counts[id])
		}
	}
	for id, s := range series {
		if s == nil {
			s = []int{}
		}
		bs.Series[a.servers[id].name] = s
	}
	r.BindingShare = bs
}
