package trace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured link-layer frame: an Ethernet frame as
// sim/capture writes it, stamped with the kernel's receive time.
type Frame struct {
	At   time.Time
	Data []byte
}

// ErrLinkType is returned by ReadPcap for a capture that is not of
// Ethernet frames.
var ErrLinkType = errors.New("trace: capture is not of Ethernet frames")

// ReadPcap reads a classic pcap file of Ethernet frames (sim/capture's
// clients.pcap, or any pcap with link type Ethernet). On a read error (a
// file cut short by a crash: a truncated last record) it returns the
// frames read before it together with the error, so that the caller may
// still use them.
func ReadPcap(path string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	frames, err := ReadPcapFrom(f)
	if err != nil {
		return frames, fmt.Errorf("trace: %s: %w", path, err)
	}
	return frames, nil
}

// ReadPcapFrom is ReadPcap on a reader.
func ReadPcapFrom(r io.Reader) ([]Frame, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	if lt := pr.LinkType(); lt != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%w (link type %v)", ErrLinkType, lt)
	}
	var out []Frame
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("record %d: %w", len(out)+1, err)
		}
		out = append(out, Frame{At: ci.Timestamp, Data: data})
	}
}

// sortFrames returns frames in time order (stable: equal times keep the
// capture's order), leaving the caller's slice alone.
func sortFrames(frames []Frame) []Frame {
	if slices.IsSortedFunc(frames, cmpFrame) {
		return frames
	}
	s := slices.Clone(frames)
	slices.SortStableFunc(s, cmpFrame)
	return s
}

func cmpFrame(a, b Frame) int { return a.At.Compare(b.At) }
