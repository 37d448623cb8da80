package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"d6lab/sim/netns"
	"d6lab/sim/session"
)

func cleanCmd() *cobra.Command {
	var all, dry bool
	c := &cobra.Command{
		Use:   "clean [PREFIX...]",
		Short: "Remove the namespaces, links and processes that crashed runs left behind",
		Long: `clean finds what d6lab runs left behind by their run prefix (d6l...) and removes it:
processes inside the run's namespaces (by PID), the run's links and namespaces.
Nothing that does not carry a d6lab run prefix is ever touched.

Without arguments it cleans every run whose owning d6lab process is gone;
--all includes runs that are still going. With PREFIX it cleans that run only.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			prefixes := args
			if len(prefixes) == 0 {
				left, err := netns.Leftovers()
				if err != nil {
					return fmt.Errorf("list leftovers: %w", err)
				}
				prefixes = runPrefixes(left)
			}
			for _, p := range prefixes {
				if !netns.ValidPrefix(p) {
					return badInput("%q is not a d6lab run prefix (d6l followed by up to 5 of [a-z0-9])", p)
				}
			}
			cleaned := 0
			for _, p := range prefixes {
				if len(args) == 0 && !all && session.Live(p) {
					fmt.Fprintf(out, "skip %s: its run is still going (use --all, or give the prefix)\n", p)
					continue
				}
				if dry {
					fmt.Fprintf(out, "would clean %s\n", p)
					continue
				}
				removed, err := netns.Clean(p)
				for _, r := range removed {
					fmt.Fprintf(out, "removed %s\n", r)
				}
				if err != nil {
					return fmt.Errorf("clean %s: %w", p, err)
				}
				session.Forget(p)
				cleaned++
			}
			if len(prefixes) == 0 {
				fmt.Fprintln(out, "nothing to clean")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also clean runs whose d6lab process is still alive")
	c.Flags().BoolVarP(&dry, "dry-run", "n", false, "only say what would be cleaned")
	return c
}

// runPrefixes extracts the distinct run prefixes from Leftovers' lines
// ("netns d6l1a2b-srv1", "link d6l1a2b-br in ...", "pid 42 ... in netns d6l1a2b-srv1").
func runPrefixes(lines []string) []string {
	seen := map[string]bool{}
	for _, l := range lines {
		for _, f := range strings.Fields(l) {
			if !strings.HasPrefix(f, netns.PrefixBase) {
				continue
			}
			if i := strings.IndexByte(f, '-'); i > 0 && netns.ValidPrefix(f[:i]) {
				seen[f[:i]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
