package netns_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"d6lab/sim/netns"
)

func TestParseStatCPU(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	d, err := netns.ParseStatCPU("42 (kea) (x y)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100")
	if err != nil || d != 3*time.Second {
		t.Fatalf("got %v, %v; want 3s", d, err)
	}
	if _, err := netns.ParseStatCPU("42 kea S 1"); err == nil {
		t.Error("a stat line without the command's parentheses: want an error")
	}
}

func TestProcessUsageOfThisProcess(t *testing.T) {
	kb, err := netns.ProcessMaxRSS(os.Getpid())
	if err != nil || kb <= 0 {
		t.Fatalf("VmHWM of this process: %d, %v", kb, err)
	}
	if _, err := netns.ProcessCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := netns.ProcessMaxRSS(-1); err == nil {
		t.Error("pid -1: want an error")
	}
}

func TestParseSNMP6(t *testing.T) {
	in := "Udp6InDatagrams                 \t3558647\nUdp6NoPorts \t0\nUdp6InErrors\t67353\nUdp6RcvbufErrors\t67350\nIcmp6InMsgs 4\n"
	st, err := netns.ParseSNMP6(bufio.NewScanner(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if st != (netns.UDPStats{InDatagrams: 3558647, RcvbufErrors: 67350, InErrors: 67353}) {
		t.Errorf("got %+v", st)
	}
	if _, err := netns.ParseSNMP6(bufio.NewScanner(strings.NewReader("Icmp6InMsgs 4\n"))); err == nil {
		t.Error("no UDP counters: want an error")
	}
}

func TestRusageOfThisProcess(t *testing.T) {
	u := netns.Rusage(unix.RUSAGE_SELF)
	if u.CPU <= 0 || u.MaxRSSKiB <= 0 {
		t.Fatalf("getrusage of this process: %+v", u)
	}
}
