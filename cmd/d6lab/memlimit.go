package main

import (
	"fmt"
	"runtime/debug"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// memoryLimitFlag adds --memory-limit to every command: a soft cap on the
// Go heap of this process (runtime/debug.SetMemoryLimit, as GOMEMLIMIT).
// The collector keeps the heap under it by running more often, rather
// than letting it grow to twice what is live (GOGC=100): a virtual-engine
// day of 100,000 clients peaked at 624 MiB resident with 259 MiB live and
// at 353 MiB with --memory-limit 320MiB, same report, 43 % more CPU. A
// limit below what is live cannot be kept; the collector then spends up to
// half the CPU trying (the runtime's own bound). Child processes (servers,
// real clients) are not limited.
func memoryLimitFlag(root *cobra.Command) {
	var limit string
	root.PersistentFlags().StringVar(&limit, "memory-limit", "",
		"soft cap on this process's Go heap, e.g. 3.5GiB or 500MB (as GOMEMLIMIT; the collector works harder to stay under it); empty: GOMEMLIMIT or none")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if limit == "" {
			return nil
		}
		n, err := parseMemoryLimit(limit)
		if err != nil {
			return badInput("--memory-limit: %v", err)
		}
		debug.SetMemoryLimit(n)
		return nil
	}
}

// parseMemoryLimit reads a size with a unit (humanize.ParseBytes: 3.5GiB,
// 512 MiB, 4GB; a bare number is bytes); at least 1 MiB.
func parseMemoryLimit(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 3.5GiB or 500MB", s)
	}
	if n < 1<<20 || n > 1<<62 {
		return 0, fmt.Errorf("%q: must be between 1MiB and 4EiB", s)
	}
	return int64(n), nil
}
