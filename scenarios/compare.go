package scenarios

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"d6lab/deploy"
)

// CompareVariant is one column of `d6lab compare`: a model and, where
// the model's outcome hangs on it, the servers' allocator.
type CompareVariant struct {
	Model     Model
	Allocator deploy.Allocator // "" keeps DefaultAllocator(Model)
	// Servers is how many servers the deployment has (0: 2); s1 has
	// Preference 255, the others 0, and the model's pools are split K ways
	// as for `servers: K` in a file.
	Servers int
}

// Name is the variant's column and directory name: the model, with the
// allocator when it is not the model's default.
func (v CompareVariant) Name() string {
	if v.Allocator == "" || v.Allocator == DefaultAllocator(v.Model) {
		return string(v.Model)
	}
	return string(v.Model) + "-" + string(v.Allocator)
}

// CompareVariants are the columns `d6lab compare` runs, in order: the
// three models of RFC 6853 §6 with their default allocators, then the
// identical model with an iterative allocator, the case RFC 6853 §7 warns
// about ("both servers must follow the same address allocation
// procedure").
var CompareVariants = []CompareVariant{
	{Model: Split}, {Model: Unique}, {Model: Identical}, {Model: Identical, Allocator: deploy.AllocSequential},
}

// Compare builds the standard scenario `d6lab compare` runs once per
// variant: two builtin servers (s1 at Preference 255, s2 at 0, rebind
// policy create, the variant's allocator: hash for identical and
// sequential otherwise unless the variant says), clients asking for one
// IA_NA, and one fault: s1, which granted every binding, is killed
// mid-lease. While it is down a tenth of the population more arrives; s1
// then comes back with its leases, and another tenth arrives.
//
// The timings are chosen so that every client meets the fault in the same
// phase of its lease, and the run sees the whole failover:
//
//   - the clients start over a ramp R of 2s, or 1s per 1000 clients when
//     that is longer (a rate a real server in the netns engine keeps up with);
//   - s1 is killed at K = R+3s: every client is bound by then (it starts by
//     R, waits at most SOL_MAX_DELAY 1s, and a Preference-255 Advertise makes
//     it Request at once, RFC 9915 §18.2.1; DAD makes the address usable at
//     most 2 s later);
//   - from K+1s, J = clients/10 new clients (at least one) arrive over 2s.
//     Only s2 answers them;
//   - T1 = K+5s, so no client has renewed before the kill: each one's Renew
//     (to s1, RFC 9915 §18.2.4) goes unanswered until T2 = T1+6s, when it
//     Rebinds to all servers (§18.2.5) and s2 answers;
//   - preferred = T2+4s and valid = preferred+10s, so the Rebind has 14s (more
//     than REB_TIMEOUT 10s, one retransmission) before the lease expires;
//   - at B = preferred + (R - 2s) s1 restarts with the leases it had (state
//     keep): after every client's T2, which comes by R+1s+T2 (a client is
//     granted its binding by R+1s), so every rebind is decided by s2 alone
//     whatever the population (with a longer ramp, the last clients' T2
//     would come after a restart at preferred, and s1, back, would extend
//     them); from B+2s J more clients arrive over 2s; s1 (Preference 255)
//     answers them. This is what RFC 6853 §7's allocator rule is about: the
//     two servers saw different clients while s1 was down, and neither knows
//     what the other gave. An allocator that maps a client to its address
//     (hash) gives each newcomer an address nobody holds; an iterative one
//     (sequential) carries on where s1 stopped, over the addresses s2 gave
//     the first wave, which the newcomers' duplicate address detection
//     catches (RFC 4862 §5.4): they Decline them (RFC 9915 §18.2.8) and
//     try again, a conflict each, until s1's allocator is past them;
//   - the run lasts K + 2×valid, well past the expiry of every lease s1
//     granted, so clients that failed to rebind are seen to expire and
//     start over.
//
// With the default ramp this is T1 10s, T2 16s, preferred 20s, valid 30s,
// kill at 5s, newcomers from 6s to 8s, s1 back at 20s, newcomers from 22s
// to 24s, duration 65s.
//
// The expect block holds what RFC 6853 predicts: no duplicates and no
// client left without an address in every model, each client back (from
// the kill) before its lease would have run out (valid - K, plus R - 2s
// for the clients a longer ramp binds later); in split and unique every
// affected client renumbers (§6.1: "the rebinding will fail and the client
// will acquire a new binding from the pool configured in the active
// server"), in identical with a deterministic allocator every one keeps its
// address and no newcomer conflicts (§7: "the other server will assign the
// same address by following the same algorithm"); with an iterative one,
// the second wave conflicts.
//
// Compare does not check its arguments; call Validate on the result (a
// clients count outside 1..MaxClients or an unknown model fails it).
func Compare(v CompareVariant, clients int) *Scenario {
	model := v.Model
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
	// The clients bound last are bound up to this much later than with
	// the default ramp, and their lease's deadlines move with them.
	later := ramp - DefaultRamp
	back := preferred + later
	joiners := max(1, clients/10)

	r := &rawScenario{
		name:        some("compare-" + v.Name()),
		description: some(fmt.Sprintf("RFC 6853 %s model: the preferred server s1 is killed at %s, mid-lease; %d clients arrive while it is down, %d more after it is back at %s", v.Name(), kill, joiners, joiners, back)),
		model:       some(model),
		serverCount: some(cmp.Or(v.Servers, 2)),
		lifetimes:   rawLifetimes{t1: some(t1), t2: some(t2), preferred: some(preferred), valid: some(valid)},
		clients:     rawClients{count: some(clients), ramp: some(ramp)},
		timeline: []rawAction{
			{at: some(kill), kind: some(Kill), target: some("s1")},
			{at: some(kill + time.Second), kind: some(Join), count: some(joiners), ramp: some(2 * time.Second)},
			{at: some(back), kind: some(Restart), target: some("s1"), state: some(Keep)},
			{at: some(back + 2*time.Second), kind: some(Join), count: some(joiners), ramp: some(2 * time.Second)},
		},
		duration: some(duration),
	}
	s := resolve(r, &collector{pos: positions{}})
	if v.Allocator != "" {
		for i := range s.Servers {
			s.Servers[i].Allocator = v.Allocator
		}
	}

	// A renumbered address is tentative while DAD runs (RFC 4862 §5.4):
	// at most DADDelay+DAD without a usable address is what a real host
	// on the link goes through; a kept address costs nothing.
	tentative := s.Clients.DADDelay + s.Clients.DAD
	bounds := [][2]string{
		{"duplicates.addresses", "== 0"},
		{"unrecovered", "== 0"},
		{"reacquire_s.max", "< " + strconv.Itoa(int((valid - kill + later).Seconds()))},
	}
	switch {
	case model == Identical && s.Servers[0].Allocator == deploy.AllocHash:
		bounds = append(bounds, [2]string{"outage_s.max", "== 0"}, [2]string{"conflicts.count", "== 0"},
			[2]string{"continuity", ">= 0.99"}, [2]string{"rebind.failure_rate", "<= 0.01"})
	case model == Identical:
		// §7: s1's iterative allocator hands the second wave the
		// addresses s2 gave the first; DAD on the link catches them.
		bounds = append(bounds, [2]string{"outage_s.max", "<= " + seconds(tentative)}, [2]string{"conflicts.count", "> 0"})
	default:
		bounds = append(bounds, [2]string{"outage_s.max", "<= " + seconds(tentative)},
			[2]string{"continuity", "<= 0.01"}, [2]string{"rebind.failure_rate", ">= 0.99"})
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

// seconds formats d for an expect bound: "2", "1.5".
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
