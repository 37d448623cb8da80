// Package clientsim is the room of d6lab's simulated DHCPv6 clients. It
// holds no code of its own: see its sub-packages.
//
//   - client: one RFC 9915 client as a sans-IO state machine (now and
//     messages in; messages, one timer and history events out);
//   - population: thousands of clients with deterministic DUIDs multiplexed
//     over one socket, demultiplexed by transaction ID, with a calendar
//     queue of their timers and an adapter (Run) over a transport.Conn and
//     a clock; it can also act as the clients' relay agent, and it churns
//     (join, leave, flap);
//   - load: the open-loop load generator behind `d6lab bench`, which
//     starts exchanges at a fixed rate and records their latency, with no
//     client state machine;
//   - profile: how each real client kind (dhclient, dhcpcd, dhcp6c)
//     departs from RFC 9915, every value with its source, as the
//     client's Deviations (clients.profile).
package clientsim
