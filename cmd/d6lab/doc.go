// Command d6lab is the one binary of the DHCPv6 redundancy lab:
//
//	d6lab serve    run the builtin DHCPv6 server on one interface
//	d6lab run      run a scenario file in network namespaces and report
//	d6lab compare  run the three RFC 6853 models against the same fault
//	d6lab clean    remove what a crashed run left behind
//
// Exit codes: 0 all expectations held, 1 an expectation was broken, 2 bad
// input or a lab set-up failure.
package main
