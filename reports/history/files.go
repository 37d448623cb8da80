package history

// PcapFile is the name, in a run's output directory beside its history,
// of the capture of the clients' DHCPv6 traffic that a netns run writes
// (sim/lab, sim/capture) and the reports link (reports/render): declared
// here, in the leaf both import, so the engine need not import the
// renderer for it.
const PcapFile = "clients.pcap"
