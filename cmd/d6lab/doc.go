// Command d6lab is the one binary of the DHCPv6 redundancy lab:
//
//	d6lab run      run scenario files (netns or virtual engine) and report each
//	d6lab compare  run the three RFC 6853 models against the same fault
//	d6lab report   rebuild every output of a run or comparison from its history
//	d6lab conform  check one server or client kind against what RFC 6853 and RFC 9915 need
//	d6lab sweep    run a grid of lifetimes in each model and chart load against outage
//	d6lab advise   answer an operator's bounds with a model and timers, from a sweep
//	d6lab bench    measure a server's exchanges/s, drops and latency
//	d6lab serve    run the builtin DHCPv6 server on one interface
//	d6lab servers  list the server kinds, their versions, and what is missing
//	d6lab clean    remove what crashed runs left behind
//
// (and cobra's completion and help). Exit codes: 0 every expectation held
// (for conform: no check failed), 1 one was broken (a check failed), 2 bad
// input or a lab set-up failure, 130 interrupted (the lab was torn down).
//
// default.pgo is a CPU profile of a million-client split day on the
// virtual engine, which go build uses to optimize the binary for it
// (profile-guided optimization; make pgo refreshes it). It changes how
// fast d6lab runs, never what it does.
package main
