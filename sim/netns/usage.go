package netns

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clkTck is the unit of /proc/<pid>/stat's utime and stime: USER_HZ, 100
// on every Linux architecture Go supports.
const clkTck = 100

// Usage is what a process has consumed so far.
type Usage struct {
	CPU       time.Duration // user + system time
	MaxRSSKiB int64         // peak resident set size (VmHWM)
}

// Usage reads the process's CPU time and peak memory from /proc. It fails
// once the process has been reaped.
func (p *Process) Usage() (Usage, error) {
	cpu, err := ProcessCPU(p.PID)
	if err != nil {
		return Usage{}, err
	}
	rss, err := ProcessMaxRSS(p.PID)
	if err != nil {
		return Usage{}, err
	}
	return Usage{CPU: cpu, MaxRSSKiB: rss}, nil
}

// ProcessCPU returns the CPU time (user + system) process pid has used so
// far, from fields 14 and 15 of /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("netns: cpu of pid %d: %w", pid, err)
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime + stime from the text of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses: fields are
// counted after its last ')'.
func ParseStatCPU(stat string) (time.Duration, error) {
	f, err := statFields(stat, 13)
	if err != nil {
		return 0, err
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("netns: malformed /proc stat times %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// statFields splits the text of /proc/<pid>/stat after the command name
// (field 2, which may hold spaces and parentheses: fields are counted after
// its last ')'), so that f[0] is field 3 (state), f[2] field 5 (pgrp) and
// f[11] field 14 (utime). It wants at least n fields.
func statFields(stat string, n int) ([]string, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("netns: malformed /proc stat %q", clip(stat, 80))
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < n {
		return nil, fmt.Errorf("netns: short /proc stat %q", clip(stat, 80))
	}
	return f, nil
}

// ProcessMaxRSS returns the peak resident set size of pid in KiB (VmHWM in
// /proc/<pid>/status).
func ProcessMaxRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("netns: memory of pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("netns: VmHWM of pid %d: %w", pid, err)
			}
			return kb, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("netns: pid %d: no VmHWM (a kernel thread, or gone)", pid)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Rusage is what this process (who = unix.RUSAGE_SELF) or its reaped
// children (unix.RUSAGE_CHILDREN) have consumed so far (getrusage(2)); the
// zero Usage if the call fails.
func Rusage(who int) Usage {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return Usage{}
	}
	return Usage{CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), MaxRSSKiB: ru.Maxrss} // Maxrss: KiB on Linux
}
