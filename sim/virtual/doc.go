// Package virtual is d6lab's in-process engine: the builtin server core and
// the client population on an in-memory link, driven by a virtual clock.
// Nothing reads the wall clock or a socket, every random draw is seeded, so
// a run is deterministic and a minute of DHCPv6 takes milliseconds.
//
// The link delivers datagrams synchronously and in order. It hands the
// messages over as Go values (population.Config.InMemory, the server's
// HandleMessage): no encoding or decoding, which was a third of a run's
// CPU; every shipped scenario gives the same history as with the wire
// (SetWire, Options.Wire), which a relayed population, a Client FQDN
// option and a server with lifetimes the wire would round still take.
// The clients build their messages in storage the population recycles
// at each Outbox (population.Outgoing); a frozen server's queue keeps a
// copy. A server builds each answer in values it reuses for the next
// (server.Server.SetAnswerReuse): a client keeps nothing of an answer once
// it is delivered, which link_test.go checks by overwriting every answer
// after delivery.
// The history is kept as a history.Log (Engine.History), 48 bytes an
// event; Events builds the []history.Event for small runs and specs.
// Asked to (SetMergeRenewals, Options.MergeRenewals), it merges renewals
// (history.Log.AppendMerging): a renewal that only extends the client's
// last grant is counted in that grant's event, a tenth of the events of a
// day of renewals and the same report (merge_test.go).
//
// Each answer goes to the client that sent the message it answers, as to
// a host's own socket (population.Config.Direct), unless the
// population's relay stands between: no client draws its transaction ID
// again because another client holds one.
//
// With the history merging renewals, steady clients coast (coast.go,
// SetCoasting, Options.PlayRenewals to turn it off): a client just granted
// or extended a lease plays its renewals up to the next action or the end
// of the run at once, without messages (client.Client.Coast), and a client
// whose Renew nobody answers (its server killed or cut off) plays its
// retransmissions up to T2 the same way (client.Client.CoastRenew); the
// engine extends the server's binding, counts the renewals in the merged
// history and each message in its receiving server's load, in the second
// it would have come. The history is the same, byte for byte
// (coast_test.go), and a day of a million clients is a few renewals a
// client on the link instead of 48.
//
// A run can be interrupted (RunScenarioContext: its context is looked at
// every few thousand steps) and reports the virtual time it has played as
// often (Options.Progress, which `d6lab run` and `compare` draw as a bar).
//
// Faults act on the in-memory servers the way the netns engine acts on
// processes: Kill stops the server, which Restart brings back with its
// bindings (its durable store) or without, Freeze queues what it would
// receive (its socket buffer) until Thaw, Cut drops everything to and from
// it until Heal. RunScenario lets the bindings of a server go when it is
// killed and no later action restarts it with them: a million of them is
// memory a large run wants back.
package virtual
