package capture

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"

	"d6lab/sim/netns"
)

// Snaplen is the capture length written in the file header; DHCPv6 packets
// are far shorter.
const Snaplen = 65535

// fileHeader and packetHeader are the sizes of the pcap file header and of
// each record header (classic pcap, as pcapgo.Writer writes them).
const (
	fileHeader   = 24
	packetHeader = 16
)

// drainWait bounds how long Stop waits for packets already queued on the
// socket to be written before it closes the socket.
const drainWait = 2 * time.Second

// Stats is what a capture saw.
type Stats struct {
	// Packets were written to the file, in Bytes bytes (headers included:
	// the file's size).
	Packets int64
	Bytes   int64
	// DroppedByCap packets matched but were not written: the file had
	// reached the size cap.
	DroppedByCap int64
	// KernelDrops packets matched but the socket's receive buffer was full.
	KernelDrops int64
}

// Capture is a running capture. Stop it exactly once.
type Capture struct {
	path    string
	ifIndex int
	max     int64
	handle  *pcapgo.EthernetHandle
	vm      *bpf.VM // the filter again, for what was queued before SetBPF
	file    *os.File
	buf     *bufio.Writer
	w       *pcapgo.Writer

	stopping atomic.Bool
	read     atomic.Int64 // packets taken off the socket (written, capped or skipped)
	done     chan struct{}

	mu      sync.Mutex // guards stats and werr between the reader and Stop
	stats   Stats
	capped  bool
	werr    error
	kpkts   int64 // queued by the kernel, summed over PACKET_STATISTICS reads
	stopped bool
}

// Start opens an AF_PACKET socket on node's link interface, inside node's
// namespace, and writes what it captures to path (created or truncated)
// until Stop. maxBytes caps the file's size; it must be at least large
// enough for the file header.
func Start(lab *netns.Lab, node, path string, maxBytes int64) (*Capture, error) {
	if maxBytes < fileHeader {
		return nil, fmt.Errorf("capture: size cap %d bytes is below the %d-byte pcap header", maxBytes, fileHeader)
	}
	ifName, ifIndex := lab.IfName(node), lab.IfIndex(node)
	if ifName == "" {
		return nil, fmt.Errorf("capture: %w: %q", netns.ErrUnknownNode, node)
	}
	var h *pcapgo.EthernetHandle
	if err := lab.Do(node, func() error {
		var err error
		h, err = pcapgo.NewEthernetHandle(ifName) // the socket stays in node's namespace
		return err
	}); err != nil {
		return nil, fmt.Errorf("capture: open %s in %s: %w", ifName, lab.Namespace(node), err)
	}
	fail := func(err error) (*Capture, error) {
		h.Close()
		return nil, err
	}
	if err := h.SetCaptureLength(Snaplen); err != nil {
		return fail(fmt.Errorf("capture: %w", err))
	}
	if err := h.SetBPF(dhcpv6Filter); err != nil {
		return fail(fmt.Errorf("capture: attach BPF filter: %w", err))
	}
	f, err := os.Create(path)
	if err != nil {
		return fail(fmt.Errorf("capture: %w", err))
	}
	vm, err := bpf.NewVM(dhcpv6Program)
	if err != nil {
		f.Close()
		return fail(fmt.Errorf("capture: BPF filter: %w", err))
	}
	c := &Capture{path: path, ifIndex: ifIndex, max: maxBytes, handle: h, vm: vm, file: f, buf: bufio.NewWriterSize(f, 64<<10), done: make(chan struct{})}
	c.w = pcapgo.NewWriter(c.buf)
	if err := c.w.WriteFileHeader(Snaplen, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return fail(fmt.Errorf("capture: write %s: %w", path, err))
	}
	c.stats.Bytes = fileHeader
	go c.loop()
	return c, nil
}

// Path returns the file the capture writes.
func (c *Capture) Path() string { return c.path }

// loop reads packets until the socket is closed.
func (c *Capture) loop() {
	defer close(c.done)
	for {
		data, ci, err := c.handle.ReadPacketData()
		if err != nil {
			if c.stopping.Load() {
				return
			}
			c.mu.Lock()
			c.werr = errors.Join(c.werr, fmt.Errorf("capture: read: %w", err))
			c.mu.Unlock()
			return
		}
		c.write(data, ci)
		c.read.Add(1)
	}
}

// write records one packet, or counts it against the cap.
func (c *Capture) write(data []byte, ci gopacket.CaptureInfo) {
	// Until bind, the socket may have queued packets of other interfaces,
	// and until SetBPF, packets the filter rejects (ND, MLD): the filter
	// runs again here so that they stay out of the file.
	if ci.InterfaceIndex != 0 && ci.InterfaceIndex != c.ifIndex {
		return
	}
	if n, err := c.vm.Run(data); err != nil || n == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := int64(packetHeader + len(data))
	if c.capped || c.werr != nil || c.stats.Bytes+size > c.max {
		c.capped = true // stop writing for good: the file keeps a prefix of the run
		c.stats.DroppedByCap++
		return
	}
	if err := c.w.WritePacket(ci, data); err != nil {
		c.werr = fmt.Errorf("capture: write %s: %w", c.path, err)
		return
	}
	c.stats.Packets++
	c.stats.Bytes += size
}

// pollKernel adds the kernel's counters since the last read (the socket's
// PACKET_STATISTICS reset on every read).
func (c *Capture) pollKernel() error {
	s, err := c.handle.Stats()
	if err != nil {
		return fmt.Errorf("capture: socket statistics: %w", err)
	}
	c.mu.Lock()
	// tp_packets counts the drops too.
	c.kpkts += int64(s.Packets) - int64(s.Drops)
	c.stats.KernelDrops += int64(s.Drops)
	c.mu.Unlock()
	return nil
}

// Stop lets the reader take what the kernel has already queued (up to a
// bound), closes the socket and the file, and returns the counters. A
// second Stop returns an error.
func (c *Capture) Stop() (Stats, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return Stats{}, errors.New("capture: already stopped")
	}
	c.stopped = true
	c.mu.Unlock()

	var errs []error
	deadline := time.Now().Add(drainWait)
	for {
		if err := c.pollKernel(); err != nil {
			errs = append(errs, err)
			break
		}
		c.mu.Lock()
		queued := c.kpkts
		c.mu.Unlock()
		select {
		case <-c.done: // the reader failed: nothing left to wait for
		default:
			if c.read.Load() < queued && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
		}
		break
	}
	c.stopping.Store(true)
	if err := c.handle.Close(); err != nil {
		errs = append(errs, fmt.Errorf("capture: close socket: %w", err))
	}
	<-c.done

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr != nil {
		errs = append(errs, c.werr)
	}
	if err := c.buf.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("capture: write %s: %w", c.path, err))
	}
	if err := c.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("capture: close %s: %w", c.path, err))
	}
	return c.stats, errors.Join(errs...)
}

// dhcpv6Filter accepts IPv6 UDP packets (no extension headers: DHCPv6
// never carries any) whose source or destination port is 546 or 547, and
// rejects everything else (ND, MLD, ...).
var dhcpv6Program = []bpf.Instruction{
	/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x86dd, SkipTrue: 9},
	/* 2 */ bpf.LoadAbsolute{Off: 14 + 6, Size: 1}, // IPv6 next header
	/* 3 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 7}, // UDP
	/* 4 */ bpf.LoadAbsolute{Off: 14 + 40, Size: 2}, // UDP source port
	/* 5 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 546, SkipTrue: 4},
	/* 6 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 547, SkipTrue: 3},
	/* 7 */ bpf.LoadAbsolute{Off: 14 + 42, Size: 2}, // UDP destination port
	/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 546, SkipTrue: 1},
	/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 547, SkipFalse: 1},
	/* 10 */ bpf.RetConstant{Val: Snaplen}, // accept
	/* 11 */ bpf.RetConstant{Val: 0}, // reject
}

// dhcpv6Filter is dhcpv6Program for the kernel.
var dhcpv6Filter = mustAssemble(dhcpv6Program)

func mustAssemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	return raw
}
