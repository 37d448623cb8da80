package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"d6lab/deploy"
	"d6lab/server/daemon"
	"d6lab/sim/capture"
	"d6lab/sim/session"
)

// Options tune a conformance run.
type Options struct {
	// Kind is the server kind to check.
	Kind deploy.Kind
	// OutDir receives conform.json, pcap/<id>.pcap and the servers'
	// files and logs (servers/).
	OutDir string
	// Timeout bounds every wait for an answer; 0 means DefaultTimeout.
	Timeout time.Duration
	// Checks selects checks by ID (see IDs); empty runs them all.
	Checks []string
	// Binary is the d6lab executable that runs the builtin server;
	// default: the running executable.
	Binary string
	// Prefix names the lab's namespaces; default: netns.NewPrefix().
	Prefix string
	// Log receives a progress line per check; nil: silent.
	Log io.Writer
	// Seed feeds transaction IDs and client orders (0: 1).
	Seed uint64
}

// DefaultTimeout is how long a check waits for an answer.
const DefaultTimeout = 2 * time.Second

// pcapMax caps each check's capture.
const pcapMax = 64 << 20

// ErrUnknownCheck is returned for a check ID not in the catalogue.
var ErrUnknownCheck = errors.New("conform: unknown check")

// Select validates ids against the catalogue.
func Select(ids []string) error {
	for _, id := range ids {
		found := false
		for _, d := range catalogue {
			if d.id == id {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%w %q (valid: %s)", ErrUnknownCheck, id, strings.Join(IDs(), ", "))
		}
	}
	return nil
}

// Missing returns why kind cannot run here ("" when it can): unknown to
// daemon or not installed.
func Missing(kind deploy.Kind) string {
	a, err := daemon.Lookup(kind)
	if err != nil {
		return "no adapter: " + err.Error()
	}
	if err := a.Installed(); err != nil {
		return "not installed: " + err.Error()
	}
	return ""
}

// Run checks one server kind in a fresh lab and writes OutDir/conform.json.
// A kind that cannot run (see Missing) gives a report with Missing set and
// no checks, and no error. The lab is torn down before Run returns; when
// ctx is cancelled Run stops after the check at hand and returns the
// partial report with ctx's error.
func Run(ctx context.Context, opt Options) (rep *Report, err error) {
	if err := Select(opt.Checks); err != nil {
		return nil, err
	}
	if opt.OutDir == "" {
		return nil, errors.New("conform: no output directory")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	rep = &Report{Server: string(opt.Kind), Checks: []Check{}}
	if m := Missing(opt.Kind); m != "" {
		rep.Missing = m
		return rep, nil
	}
	ad, _ := daemon.Lookup(opt.Kind)
	rep.Version = ad.Version()
	if err := os.MkdirAll(filepath.Join(opt.OutDir, "pcap"), 0o755); err != nil {
		return nil, fmt.Errorf("conform: %w", err)
	}
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}

	// The session claims the prefix, so that `d6lab clean` leaves the lab
	// alone while this process lives, and tears everything down (Close).
	ses, err := session.Open(session.Options{
		Name: "conform", Binary: opt.Binary, FindBinary: opt.Kind == deploy.Builtin, Prefix: opt.Prefix,
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ses.Close()) }()
	opt.Binary, opt.Prefix = ses.Binary, ses.Prefix
	if err := ses.Create(labSpec(opt.Prefix)); err != nil {
		return nil, err
	}
	p, err := newProbe(ctx, ses.Lab, "clients", opt.Timeout)
	if err != nil {
		return nil, err
	}
	ses.OnClose(func() error { p.close(); return nil })
	r := &runner{
		ctx: ctx, opt: opt, kind: opt.Kind, dir: opt.OutDir, lab: ses.Lab, p: p,
		nodes: map[string]*node{"srv1": {name: "srv1"}, "srv2": {name: "srv2"}},
		rng:   rand.New(rand.NewPCG(opt.Seed, opt.Seed^0xc0)),
		notes: map[string]bool{},
	}
	ses.OnClose(func() error { r.stopAll(); return nil })

	defs := selected(opt.Checks)
	logf("conform %s %s: lab %s, %d checks, timeout %s", opt.Kind, rep.Version, opt.Prefix, len(defs), opt.Timeout)
	for i, d := range defs {
		if ctx.Err() != nil {
			break
		}
		c := runCheck(r, d)
		rep.Checks = append(rep.Checks, c)
		logf("conform %s [%d/%d] %-20s %-4s %s (%.1fs)", opt.Kind, i+1, len(defs), d.id, c.Verdict, clip(c.Detail, 140), c.Duration.Seconds())
	}
	rep.Notes = r.order
	if r.pdErr != "" {
		rep.Notes = append(rep.Notes, "runs without a PD pool: "+r.pdErr)
	}
	if werr := WriteJSON(opt.OutDir, rep); werr != nil {
		return rep, werr
	}
	return rep, ctx.Err()
}

func selected(ids []string) []def {
	if len(ids) == 0 {
		return catalogue
	}
	var out []def
	for _, d := range catalogue {
		for _, id := range ids {
			if d.id == id {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// runCheck runs one check with its capture.
func runCheck(r *runner, d def) Check {
	c := Check{ID: d.id, Name: d.name}
	r.p.drain()
	r.p.take()
	rel := filepath.Join("pcap", d.id+".pcap")
	path := filepath.Join(r.dir, rel)
	start := time.Now()
	capt, cerr := capture.Start(r.lab, "clients", path, pcapMax)
	d.run(r, &c)
	if cerr == nil {
		if _, err := capt.Stop(); err != nil {
			c.Detail += " (capture: " + err.Error() + ")"
		}
	} else {
		c.Detail += " (no capture: " + cerr.Error() + ")"
	}
	c.Duration = time.Since(start)
	lines := r.p.take()
	if c.Evidence.Pcap != "" { // shared with an earlier check
		_ = os.Remove(path)
	} else {
		c.Evidence = Evidence{Packets: lines}
		if cerr == nil {
			c.Evidence.Pcap = rel
		}
		if d.id == "preference" || d.id == "preference-unasked" {
			r.prefEv = c.Evidence
		}
	}
	if c.Verdict == "" {
		c.Verdict, c.Detail = Fail, "the check gave no verdict: "+c.Detail
	}
	if r.ctx.Err() != nil && c.Verdict != Pass {
		c.Verdict, c.Detail = NA, "interrupted: "+c.Detail
	}
	return c
}
