package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"d6lab/sim/netns"
)

// countSnap is how much of a counted packet the kernel queues: the headers
// up to the DHCPv6 message type; the counter reads nothing else.
const countSnap = 14 + 40 + 8 + 1

// countRcvBuf is the counting socket's receive buffer (SO_RCVBUFFORCE):
// room for a burst of some ten thousand queued packets.
const countRcvBuf = 8 << 20

// CountStats is what a Counter saw.
type CountStats struct {
	// Packets were counted: handed to the callback.
	Packets int64
	// KernelDrops matched the filter but the socket's receive buffer was
	// full: they were not counted.
	KernelDrops int64
}

// Counter counts the DHCPv6 messages that arrive at a lab node's link
// interface for a server: IPv6 UDP to port 547 received by the node
// (PACKET_HOST or PACKET_MULTICAST: not what the node sends, nor what the
// bridge floods it for another host), except Leasequery (RFC 5007 message
// type 14, the lab's prober asking). Client messages and the
// Relay-forwards that carry them are counted alike. It keeps no file and
// no packet: for each one it calls the callback with the kernel's arrival
// time. Stop it exactly once.
type Counter struct {
	file *os.File
	raw  syscall.RawConn
	on   func(at time.Time)
	done chan struct{}

	mu      sync.Mutex // guards stats, rerr and stopped
	stats   CountStats
	rerr    error
	stopped bool
}

// Count starts counting on node's link interface, inside node's namespace:
// on is called from the counter's goroutine, once per message, in arrival
// order, until Stop. The socket's filter is attached before it is bound to
// the interface, so nothing else is ever queued on it.
func Count(lab *netns.Lab, node string, on func(at time.Time)) (*Counter, error) {
	ifIndex := lab.IfIndex(node)
	if ifIndex == 0 {
		return nil, fmt.Errorf("capture: %w: %q", netns.ErrUnknownNode, node)
	}
	var fd int
	if err := lab.Do(node, func() error {
		var err error
		fd, err = openCounting(ifIndex)
		return err
	}); err != nil {
		return nil, fmt.Errorf("capture: count on %s in %s: %w", lab.IfName(node), lab.Namespace(node), err)
	}
	f := os.NewFile(uintptr(fd), "count-"+node) // non-blocking: on the runtime's poller
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: count on %s: %w", node, err)
	}
	c := &Counter{file: f, raw: raw, on: on, done: make(chan struct{})}
	go c.loop()
	return c, nil
}

// openCounting opens the AF_PACKET socket in the calling thread's
// namespace: protocol 0 receives nothing until bind, which comes after the
// filter.
func openCounting(ifIndex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("%s: %w", what, err)
	}
	prog := make([]unix.SockFilter, len(countFilter))
	for i, ins := range countFilter {
		prog[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		return fail("attach BPF filter", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("SO_TIMESTAMPNS", err)
	}
	// Best effort: without CAP_NET_ADMIN the default buffer stays.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, countRcvBuf)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifIndex}); err != nil {
		return fail("bind", err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// loop reads until Stop sets the read deadline, then takes what is still
// queued and returns.
func (c *Counter) loop() {
	defer close(c.done)
	buf := make([]byte, 128)
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	for {
		var (
			at    time.Time
			rerr  error
			again bool
		)
		err := c.raw.Read(func(fd uintptr) bool {
			at, again, rerr = recvOne(int(fd), buf, oob)
			return !again
		})
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.drain(buf, oob)
			} else {
				c.fail(fmt.Errorf("capture: count: %w", err))
			}
			return
		}
		if rerr != nil {
			c.fail(fmt.Errorf("capture: count: %w", rerr))
			return
		}
		c.count(at)
	}
}

// drain counts what the kernel queued before Stop.
func (c *Counter) drain(buf, oob []byte) {
	err := c.raw.Control(func(fd uintptr) {
		for {
			at, again, err := recvOne(int(fd), buf, oob)
			if again {
				return
			}
			if err != nil {
				c.fail(fmt.Errorf("capture: count: %w", err))
				return
			}
			c.count(at)
		}
	})
	if err != nil {
		c.fail(fmt.Errorf("capture: count: %w", err))
	}
}

func (c *Counter) count(at time.Time) {
	c.on(at)
	c.mu.Lock()
	c.stats.Packets++
	c.mu.Unlock()
}

func (c *Counter) fail(err error) {
	c.mu.Lock()
	c.rerr = errors.Join(c.rerr, err)
	c.mu.Unlock()
}

// recvOne takes one packet off the socket: its arrival time (the kernel's
// SO_TIMESTAMPNS; the read's time when there is none), or again when
// nothing is queued.
func recvOne(fd int, buf, oob []byte) (at time.Time, again bool, err error) {
	_, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_DONTWAIT)
	for errors.Is(err, unix.EINTR) {
		_, oobn, _, _, err = unix.Recvmsg(fd, buf, oob, unix.MSG_DONTWAIT)
	}
	switch {
	case errors.Is(err, unix.EAGAIN):
		return time.Time{}, true, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return arrival(oob[:oobn]), false, nil
}

// arrival reads the SCM_TIMESTAMPNS control message.
func arrival(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Unix())
			}
		}
	}
	return time.Now()
}

// Stop counts what the kernel has already queued, closes the socket and
// returns the counters; after it returns the callback is not called again.
// A second Stop returns an error.
func (c *Counter) Stop() (CountStats, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return CountStats{}, errors.New("capture: counter already stopped")
	}
	c.stopped = true
	c.mu.Unlock()

	var errs []error
	if err := c.file.SetReadDeadline(time.Now()); err != nil {
		errs = append(errs, fmt.Errorf("capture: count: stop: %w", err))
		c.file.Close() // the reader then fails, which ends it
	}
	<-c.done
	var drops uint32
	if err := c.raw.Control(func(fd uintptr) {
		s, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err == nil {
			drops = s.Drops
		}
	}); err == nil {
		c.mu.Lock()
		c.stats.KernelDrops += int64(drops)
		c.mu.Unlock()
	}
	if err := c.file.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		errs = append(errs, fmt.Errorf("capture: count: close socket: %w", err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rerr != nil {
		errs = append(errs, c.rerr)
	}
	return c.stats, errors.Join(errs...)
}

// countProgram accepts what Counter counts: packets the node receives
// (skb->pkt_type PACKET_HOST or PACKET_MULTICAST; PACKET_OUTGOING is what
// it sends, PACKET_OTHERHOST a unicast the bridge flooded for someone
// else), IPv6 UDP (no extension headers: DHCPv6 never carries any) to port
// 547 (RFC 9915 §7.2: servers and relays listen there), whose first
// payload byte, the message type, is not LEASEQUERY (14, RFC 5007). It
// keeps countSnap bytes of each.
var countProgram = []bpf.Instruction{
	/* 0 */ bpf.LoadExtension{Num: bpf.ExtType},
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_HOST, SkipTrue: 1},
	/* 2 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_MULTICAST, SkipTrue: 9},
	// countPorts: the rest, which bpf.VM can run (it has no ExtType).
	/* 3 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
	/* 4 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x86dd, SkipTrue: 7},
	/* 5 */ bpf.LoadAbsolute{Off: 14 + 6, Size: 1}, // IPv6 next header
	/* 6 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 5}, // UDP
	/* 7 */ bpf.LoadAbsolute{Off: 14 + 42, Size: 2}, // UDP destination port
	/* 8 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 547, SkipTrue: 3},
	/* 9 */ bpf.LoadAbsolute{Off: 14 + 48, Size: 1}, // DHCPv6 msg-type
	/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 14, SkipTrue: 1}, // LEASEQUERY
	/* 11 */ bpf.RetConstant{Val: countSnap}, // accept
	/* 12 */ bpf.RetConstant{Val: 0}, // reject
}

// countPorts is countProgram after the packet-type test.
var countPorts = countProgram[3:]

// countFilter is countProgram for the kernel.
var countFilter = mustAssemble(countProgram)
