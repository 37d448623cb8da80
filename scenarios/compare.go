package scenarios

import (
	"fmt"
	"strconv"
	"time"
)

// Compare builds the standard scenario `d6lab compare` runs once per model:
// two builtin servers (s1 at Preference 255, s2 at 0, rebind policy create,
// allocator hash for identical and sequential otherwise), clients asking
// for one IA_NA, and one fault: s1, which granted every binding, is killed
// mid-lease.
//
// The timings are chosen so that every client meets the fault in the same
// phase of its lease, and the run sees the whole failover:
//
//   - the clients start over a ramp R of 2s, or 1s per 1000 clients when
//     that is longer (a rate a real server in the netns engine keeps up with);
//   - s1 is killed at K = R+3s: every client is bound by then (it starts by
//     R, waits at most SOL_MAX_DELAY 1s, and a Preference-255 Advertise makes
//     it Request at once, RFC 9915 §18.2.1);
//   - T1 = K+5s, so no client has renewed before the kill: each one's Renew
//     (to s1, RFC 9915 §18.2.4) goes unanswered until T2 = T1+6s, when it
//     Rebinds to all servers (§18.2.5) and s2 answers;
//   - preferred = T2+4s and valid = preferred+10s, so the Rebind has 14s (more
//     than REB_TIMEOUT 10s, one retransmission) before the lease expires;
//   - the run lasts K + 2×valid, well past the expiry of every lease s1
//     granted, so clients that failed to rebind are seen to expire and
//     start over.
//
// With the default ramp this is T1 10s, T2 16s, preferred 20s, valid 30s,
// kill at 5s, duration 65s.
//
// The expect block holds what RFC 6853 predicts: no duplicates and no
// client left without an address in every model; in split and unique every
// affected client renumbers (§6.1: "the rebinding will fail and the client
// will acquire a new binding from the pool configured in the active
// server"), in identical with a deterministic allocator every one keeps its
// address (§7: "the other server will assign the same address by following
// the same algorithm").
//
// Compare does not check its arguments; call Validate on the result (a
// clients count outside 1..MaxClients or an unknown model fails it).
func Compare(model Model, clients int) *Scenario {
	ramp := DefaultRamp
	if r := time.Duration((clients+999)/1000) * time.Second; r > ramp {
		ramp = r
	}
	kill := ramp + 3*time.Second
	t1 := kill + 5*time.Second
	t2 := t1 + 6*time.Second
	preferred := t2 + 4*time.Second
	valid := preferred + 10*time.Second
	duration := kill + 2*valid

	r := &rawScenario{
		name:        some("compare-" + string(model)),
		description: some(fmt.Sprintf("RFC 6853 %s model: the preferred server s1 is killed at %s, mid-lease", model, kill)),
		model:       some(model),
		serverCount: some(2),
		lifetimes:   rawLifetimes{t1: some(t1), t2: some(t2), preferred: some(preferred), valid: some(valid)},
		clients:     rawClients{count: some(clients), ramp: some(ramp)},
		timeline:    []rawAction{{at: some(kill), kind: some(Kill), target: some("s1")}},
		duration:    some(duration),
	}
	s := resolve(r, &collector{pos: positions{}})

	bounds := [][2]string{
		{"duplicates.addresses", "== 0"},
		{"unrecovered", "== 0"},
		{"outage_s.max", "== 0"},
		{"reacquire_s.max", "< " + strconv.Itoa(int((valid - kill).Seconds()))},
	}
	if model == Identical {
		bounds = append(bounds, [2]string{"continuity", ">= 0.99"}, [2]string{"rebind.failure_rate", "<= 0.01"})
	} else {
		bounds = append(bounds, [2]string{"continuity", "<= 0.01"}, [2]string{"rebind.failure_rate", ">= 0.99"})
	}
	for _, b := range bounds {
		e, err := NewExpect(b[0], b[1])
		if err != nil {
			panic("scenarios: Compare's own bound is invalid: " + err.Error())
		}
		s.Expect = append(s.Expect, e)
	}
	return s
}
