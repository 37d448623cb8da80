package lease

import "fmt"

// Durability is what a deferred Bolt's Sync has done with the changes it
// takes by the time it returns, and so what a crash can no longer take
// away from a client that was answered after it.
type Durability uint8

const (
	// OnDisk (the default, "fdatasync"): the changes are appended to the
	// log and the log fdatasynced. They survive the server's crash and the
	// machine's (a power loss, a kernel panic).
	OnDisk Durability = iota
	// InKernel ("write"): the changes are appended to the log with write(2)
	// and not flushed: in the kernel's page cache, they survive the
	// server process's crash or SIGKILL (the lab's faults), not a crash
	// of the machine before the kernel writes them back (its writeback
	// takes dirty pages older than vm.dirty_expire_centisecs, 30 s by
	// default). Kea 2.2's memfile keeps leases this way: strace of
	// kea-dhcp6 under `d6lab bench` shows a write(2) per lease and no
	// fsync or fdatasync.
	InKernel
)

// String is the flag value: "fdatasync" or "write".
func (d Durability) String() string {
	switch d {
	case OnDisk:
		return "fdatasync"
	case InKernel:
		return "write"
	}
	return fmt.Sprintf("Durability(%d)", uint8(d))
}

// ParseDurability reads a Durability's String.
func ParseDurability(s string) (Durability, error) {
	for _, d := range []Durability{OnDisk, InKernel} {
		if s == d.String() {
			return d, nil
		}
	}
	return 0, fmt.Errorf("lease: durability %q: want fdatasync (on disk: survives a power loss) or write (in the kernel: survives the server's crash)", s)
}

// Set and Type make a Durability a command-line flag (pflag.Value).
func (d *Durability) Set(s string) error {
	v, err := ParseDurability(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Type names the flag's values in help.
func (d *Durability) Type() string { return "fdatasync|write" }
