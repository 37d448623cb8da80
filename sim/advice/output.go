package advice

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"d6lab/sim/sweep"
)

// JSONFile is advice.json's name in the output directory.
const JSONFile = "advice.json"

// Text writes the answer for a person: the recommendation and the
// figures behind it, the runner-up, what each constraint cost, the
// caveats.
func (a *Advice) Text(w io.Writer) {
	q := a.Question
	fmt.Fprintf(w, "question: %d clients, %d servers; outage p99 <= %ss", q.Clients, q.Servers, fmtFloat(q.MaxOutageS))
	if q.MaxReacquireS != nil {
		fmt.Fprintf(w, ", re-acquisition p99 <= %ss", fmtFloat(*q.MaxReacquireS))
	}
	fmt.Fprintf(w, ", steady load <= %s per server", num(q.MaxLoadMPS, "/s"))
	if q.PoolBudget != nil {
		fmt.Fprintf(w, ", pools <= %gx the clients", *q.PoolBudget)
	}
	fmt.Fprintf(w, "\nmeasured: %d runs (%d simulated clients each, profile %s, seed %d, virtual engine) in %.1f s; load scaled x%s\n\n",
		a.Runs, q.Sample, q.Profile, q.Seed, a.WallS, fmtFloat(float64(q.Clients)/float64(q.Sample)))
	if a.Recommended == nil {
		fmt.Fprintf(w, "no point meets the question: %s.\n", a.binding())
	} else {
		fmt.Fprintf(w, "recommended: %s\n", a.Recommended.Label())
		figures(w, a.Recommended)
		if a.RunnerUp != nil {
			fmt.Fprintf(w, "runner-up:   %s\n", a.RunnerUp.Label())
			figures(w, a.RunnerUp)
		} else {
			fmt.Fprintln(w, "runner-up:   none (no point of another model meets the question)")
		}
	}
	fmt.Fprintln(w, "\nconstraints:")
	for _, c := range a.Costs {
		fmt.Fprintf(w, "  %-14s %s (%d of %d points break it)\n", c.Constraint, c.Note, c.Broken, len(a.Candidates))
	}
	fmt.Fprintln(w, "\ncaveats:")
	for _, c := range a.Caveats {
		fmt.Fprintf(w, "  - %s\n", c)
	}
}

func figures(w io.Writer, c *Candidate) {
	f := func(p *float64, unit string) string {
		if p == nil {
			return "n/a"
		}
		return num(*p, unit)
	}
	fmt.Fprintf(w, "  outage p99 %s, re-acquisition p50 %s p99 %s, continuity %s\n", f(c.OutageP99, "s"), f(c.ReacquireP50, "s"), f(c.ReacquireP99, "s"), f(c.Continuity, ""))
	fmt.Fprintf(w, "  steady load %s on the busiest server, failover peak %s all servers; duplicates %d, unrecovered %d\n", f(c.Load, "/s"), f(c.Peak, "/s"), c.Duplicates, c.Unrecovered)
}

// Save writes advice.json, the sweep (sweep.json, sweep.html) and, with a
// recommendation, recommended.yaml into dir.
func (a *Advice) Save(dir string, q *Question) error {
	if err := sweep.Save(dir, a.Sweep); err != nil {
		return err
	}
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("advise: encode %s: %w", JSONFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("advise: %w", err)
	}
	if a.Recommended == nil {
		// A file left by an earlier answer in dir would be taken for this one's.
		if err := os.Remove(filepath.Join(dir, ScenarioFile)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("advise: %w", err)
		}
		return nil
	}
	y, err := a.ScenarioYAML(q)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ScenarioFile), y, 0o644); err != nil {
		return fmt.Errorf("advise: %w", err)
	}
	return nil
}

// binding names what keeps every point out, for the headline of an
// answer without a recommendation.
func (a *Advice) binding() string {
	var binds, broken []string
	for _, c := range a.Costs {
		if c.Binds {
			binds = append(binds, c.Constraint)
		}
		if c.Broken > 0 {
			broken = append(broken, c.Constraint)
		}
	}
	if len(binds) > 0 {
		return "dropping " + orList(binds) + " alone would give one"
	}
	return "no one constraint's removal gives one; broken: " + strings.Join(broken, ", ")
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return "either " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
