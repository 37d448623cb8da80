// Package profile holds the client profiles (clients.profile in a scenario,
// deploy.Profiles): what makes the simulated RFC 9915 client behave as a
// measured real client kind, so that a population shows what hosts of that
// kind would do in each deployment model.
//
// The profiles live in one file, profiles.yaml, embedded here. Each names
// the client and the source tree read, the runs its figures come from
// (runs), and every parameter with its value, the source code finding
// behind it (source) and what runs observed (measured). Lookup returns a
// profile; Apply (or the Deviations field) turns it into the client's
// client.Deviations. The "rfc" profile sets none: today's RFC 9915
// behaviour.
//
// Parameters and their values (the first one is RFC 9915; client.Deviations
// documents each deviation and the code it models):
//
//	preference       wait | first                 first: Request from the first Advertise at once (TakeFirstAdvertise)
//	preference_tie   first-received | lowest-server-id   equal Preference: lowest Server ID first (LowestServerIDFirst)
//	rebind_at        t2 | renew-retransmission    Rebind at the first Renew retransmission at or after T2, or a lifetime's end past T2 before it (UncappedFirstRenewRT)
//	lease_clock      reply | whole-second         the expiry re-armed at the Rebind's start, in whole seconds from the Reply's second (WholeSecondClock)
//	nobinding        request | request-once | solicit   NoBinding to Renew/Rebind (NoBinding)
//	noaddrs          keep | solicit               NoAddrsAvail/NoPrefixAvail to Renew/Rebind: Solicit keeping the leases (NoAddrsSolicit)
//	zero_lifetime    remove                       every client read removes a lease given lifetime 0 at once
//	solicit_delay    first | every                every Solicit waits up to SOL_MAX_DELAY (SolicitDelayEvery)
//	initial_delay    uniform | fixed              initial delays of max x (1 + [0, 0.1)) (FixedInitialDelay)
//	sol_max_rt       duration (3600s)             SOL_MAX_RT (SolMaxRT)
//	inf_max_rt       duration (3600s)             INF_MAX_RT (InfMaxRT)
//	max_rt_option    honour | ignore              the SOL_MAX_RT/INF_MAX_RT options (IgnoreMaxRTOptions)
//	retransmission   rand-of-last | rand-of-doubled   each RT min(2 RTprev, MRT) x (1 + [-0.1, 0.1)), the first IRT x (1 + [0, 0.1)) (DoubledRT)
//	failed_exchange  keep | drop | halt           a failed Request/Confirm/PD Rebind or a Decline drops every lease (FailDrops); a failed Request is the last word (FailHalts)
//	mrc              transmissions | retransmissions   an exchange with an MRC sends it MRC + 1 times (MRCRetransmissions)
//	pd_rebind        rebind | confirm             with an IA_PD, Rebind with Confirm's parameters for CNF_MAX_RD (PDRebindConfirm)
//	link_change      confirm | drop | ignore      drop: the addresses leave the interface at the change, back once an answer keeps them (DropOnLinkChange); ignore: LinkChanged does nothing (IgnoreLinkChange)
//	min_t2           none | duration (30s)        a T2 under it raised to it, T1 to 5/8 of it in whole seconds (MinT2)
//	dad_failure      decline | keep | readd       keep: an address DAD finds in use is kept, unusable, not declined (KeepDADFailed); readd: and added again at each Renew, a new DAD (ReaddKept)
//
// A profile's gaps list what the real client does that no parameter
// models: what it does (with the source or the run that showed it), what
// the simulated client does instead, and the trigger (Trigger: a history
// event) at which a run meets it. sim gives them to the reports, which
// list the gaps a run met and size them (reports/check, gaps.go): the
// report says what differs and by how much where the model stops.
//
// To add a measurement, append a run to the profile's runs (id, date,
// where, what) and an entry to the parameter's measured list naming it; to
// change what a profile does, change a value and its source. The spec in
// this folder fails on a typo in any key or value, a parameter missing from
// a profile, a measurement naming no run of its profile, a gap naming
// no parameter or an unknown trigger, and a deploy.Profile with no entry.
//
// Lookup takes the profile's name as a string: clientsim may not import
// deploy (ARCHITECTURE.md, import rules); sim converts deploy.Profile.
package profile
