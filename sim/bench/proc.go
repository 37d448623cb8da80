package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clkTck is the unit of /proc/<pid>/stat's utime and stime: USER_HZ,
// 100 on every Linux architecture Go supports.
const clkTck = 100

// procCPU returns the CPU time (user + system) process pid has used so far,
// from fields 14 and 15 of /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: cpu of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime + stime from the text of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses: fields are
// counted after its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed /proc stat %q", tail(stat, 80))
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short /proc stat %q", tail(stat, 80))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: malformed /proc stat times %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// procMaxRSS returns the peak resident set size of pid in KiB (VmHWM in
// /proc/<pid>/status).
func procMaxRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: memory of pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := firstInt(v)
			if err != nil {
				return 0, fmt.Errorf("bench: VmHWM of pid %d: %w", pid, err)
			}
			return kb, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("bench: pid %d: no VmHWM (a kernel thread, or gone)", pid)
}

// rusage returns the CPU time used so far by this process (who =
// RUSAGE_SELF) or by its reaped children (RUSAGE_CHILDREN).
func rusage(who int) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"cpu_model,omitempty"`
	Kernel string `json:"kernel"`
}

func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU()}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
