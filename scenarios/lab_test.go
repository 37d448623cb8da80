package scenarios_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/render"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim/lab"
	"d6lab/sim/netns"
	"d6lab/sim/realclient"
	"d6lab/sim/session"
)

// This file runs every shipped scenario end to end in network namespaces
// (sim/lab, real `d6lab serve` processes) and asserts, beyond each file's
// own expect: bounds, what RFC 6853 (BCP 180) claims for its model:
//
//   - split and unique, preferred server lost: the affected clients
//     renumber (continuity <= 5 %) into a surviving server's pool (split)
//     or prefix (unique);
//   - identical with hash allocators: they keep their addresses
//     (continuity >= 95 %);
//   - identical with sequential allocators and a wiping restart: the same
//     address goes to two clients, and the report proves it;
//   - every other run: no duplicate, every affected client recovered.
//
// The ordinary scenarios (at most largeClients clients) run concurrently,
// each in its own lab, so the suite lasts about as long as the longest of
// them; larger ones (label "large") run alone afterwards, because on a
// small host the concurrent runs would delay the preferred server's
// Advertises past the clients' first Solicit RT and change who binds where.

// largeClients is the population above which a scenario runs alone.
const largeClients = 1000

// shippedScenario is one *.yaml file of this folder, loaded when the spec
// tree is built.
type shippedScenario struct {
	file string
	sc   *scenarios.Scenario
	err  error
}

func shippedScenarios() []shippedScenario {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		panic(err)
	}
	slices.Sort(files)
	out := make([]shippedScenario, 0, len(files))
	for _, f := range files {
		sc, err := scenarios.Load(f)
		out = append(out, shippedScenario{file: f, sc: sc, err: err})
	}
	return out
}

func large(s shippedScenario) bool { return s.sc != nil && s.sc.TotalClients() > largeClients }

func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN)")
	}
}

// labRun is one scenario playing (or played) in its own lab.
type labRun struct {
	sc     *scenarios.Scenario
	prefix string
	dir    string
	log    *syncBuffer
	done   chan struct{}
	took   time.Duration
	res    *lab.Result
	rep    *check.Report
	err    error
}

// wait blocks until the run ended (its lab torn down), failing the spec
// if it overruns its scenario's duration by more than a minute.
func (r *labRun) wait() {
	GinkgoHelper()
	Eventually(r.done).WithTimeout(r.sc.Duration+time.Minute).WithPolling(100*time.Millisecond).
		Should(BeClosed(), "run of %s (lab %s) did not end", r.sc.Name, r.prefix)
}

// labSuite owns the binary, the output root and every run of the suite.
type labSuite struct {
	once     sync.Once
	root     string // temporary folder of the binary
	out      string // temporary folder of the runs, one folder each
	bin      string
	buildErr error

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	prefixes map[string]bool
	runs     map[string]*labRun // by scenario file
	keep     bool               // a spec failed: keep the runs' folder for inspection

	smallOnce sync.Once
}

var labs = &labSuite{prefixes: map[string]bool{}, runs: map[string]*labRun{}}

// binary builds cmd/d6lab once per suite (servers run as `d6lab serve`).
func (s *labSuite) binary() string {
	GinkgoHelper()
	s.once.Do(func() {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.root, s.buildErr = os.MkdirTemp("", "d6lab-scenarios-"); s.buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		s.bin = filepath.Join(s.root, "d6lab")
		out, err := exec.Command(goTool, "build", "-o", s.bin, "d6lab/cmd/d6lab").CombinedOutput()
		if err != nil {
			s.buildErr = fmt.Errorf("go build d6lab/cmd/d6lab: %w\n%s", err, out)
			return
		}
		// The runs' folders hold the servers' lease files, and a server
		// commits (fsyncs) every binding before it replies. On tmpfs that
		// costs nothing, so the concurrent labs, and other packages' tests
		// writing to the same disk, do not slow the servers down: nothing
		// a scenario measures depends on the disk (its faults are SIGKILL,
		// SIGSTOP and link cuts, which a written page survives).
		s.out = s.root
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			if d, err := os.MkdirTemp("/dev/shm", "d6lab-scenarios-"); err == nil {
				s.out = d
			}
		}
	})
	Expect(s.buildErr).NotTo(HaveOccurred())
	return s.bin
}

// prefix returns a run prefix no other run of the suite and no namespace
// on the host uses.
func (s *labSuite) prefix() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		p := netns.NewPrefix()
		if !s.prefixes[p] && len(namespacesOf(p)) == 0 {
			s.prefixes[p] = true
			return p
		}
	}
}

// start launches sc in a fresh lab; the run is judged (lab.Report) and
// saved under its folder when it ends.
func (s *labSuite) start(key string, sc *scenarios.Scenario) *labRun {
	GinkgoHelper()
	bin := s.binary()
	r := &labRun{sc: sc, prefix: s.prefix(), log: &syncBuffer{}, done: make(chan struct{})}
	r.dir = filepath.Join(s.out, r.prefix+"-"+sc.Name)
	s.mu.Lock()
	s.runs[key] = r
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer GinkgoRecover()
		defer s.wg.Done()
		defer close(r.done)
		t0 := time.Now()
		r.res, r.err = lab.Run(s.ctx, sc, lab.Options{OutDir: r.dir, Binary: bin, Prefix: r.prefix, Log: r.log})
		r.took = time.Since(t0)
		if r.err == nil {
			r.rep = lab.Report(sc, r.res)
			r.err = render.SaveRun(r.dir, r.rep, r.res.Events)
		}
	}()
	return r
}

// stagger separates the starts of the concurrent runs. Their clients
// arrive in a burst (300 over 2 s); bursts that overlap would make the
// servers of one lab wait for the CPU long enough for a preferred server's
// Advertise to miss the clients' first Solicit RT.
const stagger = 2 * time.Second

// startSmall launches every ordinary shipped scenario, the longest first,
// stagger apart.
func (s *labSuite) startSmall(all []shippedScenario) {
	s.smallOnce.Do(func() {
		var small []shippedScenario
		for _, x := range all {
			if x.err == nil && !large(x) {
				small = append(small, x)
			}
		}
		slices.SortStableFunc(small, func(a, b shippedScenario) int { return cmp.Compare(b.sc.Duration, a.sc.Duration) })
		for i, x := range small {
			if i > 0 {
				time.Sleep(stagger)
			}
			s.start(x.file, x.sc)
		}
	})
}

// run returns the run of a shipped file, launching the ordinary ones
// together on first use.
func (s *labSuite) run(x shippedScenario, all []shippedScenario) *labRun {
	GinkgoHelper()
	if large(x) {
		s.waitAll() // alone: wait for whatever else the suite launched
		return s.start(x.file, x.sc)
	}
	s.startSmall(all)
	s.mu.Lock()
	r := s.runs[x.file]
	s.mu.Unlock()
	Expect(r).NotTo(BeNil(), "%s was not launched (see the first failure)", x.file)
	return r
}

// waitAll waits for every run the suite launched so far to end.
func (s *labSuite) waitAll() {
	GinkgoHelper()
	s.mu.Lock()
	others := make([]*labRun, 0, len(s.runs))
	for _, r := range s.runs {
		others = append(others, r)
	}
	s.mu.Unlock()
	for _, r := range others {
		r.wait()
	}
}

// close stops whatever still runs (a filtered or failed suite), waits for
// the teardowns, and removes the output unless a spec failed.
func (s *labSuite) close() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	if s.keep {
		fmt.Fprintf(GinkgoWriter, "lab runs kept in %s\n", s.out)
	} else {
		_ = os.RemoveAll(s.out)
	}
	if s.out != s.root {
		_ = os.RemoveAll(s.root)
	}
}

var _ = AfterSuite(func() { labs.close() })

var _ = Describe("shipped scenarios in network namespaces", Label("netns"), func() {
	all := shippedScenarios()

	AfterEach(func() {
		if CurrentSpecReport().Failed() {
			labs.mu.Lock()
			labs.keep = true
			labs.mu.Unlock()
		}
	})

	It("ships scenarios for every claim the suite checks", func() {
		seen := map[claim]int{}
		for _, x := range all {
			Expect(x.err).NotTo(HaveOccurred())
			seen[claimOf(x.sc)]++
		}
		Expect(seen).To(HaveKey(claimRenumber))
		Expect(seen).To(HaveKey(claimContinuity))
		Expect(seen).To(HaveKey(claimDuplicates))
		Expect(seen).To(HaveKey(claimConflicts))
	})

	for _, x := range all {
		labels := Labels{}
		if large(x) {
			labels = append(labels, "large")
		}
		It(fmt.Sprintf("%s holds its expect: bounds and what RFC 6853 claims for it", x.file), labels, func() {
			requireRoot()
			Expect(x.err).NotTo(HaveOccurred())
			r := labs.run(x, all)
			r.wait()
			if errors.Is(r.err, daemon.ErrNotInstalled) || errors.Is(r.err, realclient.ErrNotInstalled) {
				Skip(r.err.Error()) // names the Debian package; scripts/setup.sh installs them all
			}
			Expect(r.err).NotTo(HaveOccurred(), "run of %s failed; progress:\n%s", x.file, r.log.String())
			Expect(namespacesOf(r.prefix)).To(BeEmpty(), "namespaces the run left in /run/netns")
			Expect(processesWith(r.dir)).To(BeEmpty(), "processes the run left")
			AddReportEntry("measured", measured(r))
			if len(x.sc.Clients.Real) > 0 {
				assertRealClientsLeftNoTrace(r)
			}
			assertScenario(r)
		})
	}

	// interrupted runs sc, cancels it mid-scenario as SIGINT does in
	// `d6lab run`, and checks the run returned the cancellation and left
	// nothing: no namespace, no process, no claim.
	interrupted := func(sc *scenarios.Scenario) {
		bin := labs.binary()
		prefix := labs.prefix()
		dir := filepath.Join(labs.out, prefix+"-interrupted")
		log := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			_, err := lab.Run(ctx, sc, lab.Options{OutDir: dir, Binary: bin, Prefix: prefix, Log: log})
			errc <- err
		}()

		Eventually(log.String).WithTimeout(30*time.Second).Should(ContainSubstring("clients starting"),
			"the run never reached its clients")
		servers := processesWith(dir)
		Expect(servers).To(HaveLen(len(sc.Servers)), "server processes of the run")
		Expect(namespacesOf(prefix)).To(HaveLen(len(sc.Servers)+2+sc.Clients.RealCount()),
			"namespaces of the run (servers, clients, link, one per real client)")
		time.Sleep(2 * time.Second) // clients binding, real ones started: mid-scenario
		cancel()                    // what SIGINT does in `d6lab run`

		var runErr error
		Eventually(errc).WithTimeout(30 * time.Second).Should(Receive(&runErr))
		Expect(runErr).To(MatchError(context.Canceled))
		Expect(runErr.Error()).NotTo(ContainSubstring("cleanup"), "a teardown step failed")
		Expect(namespacesOf(prefix)).To(BeEmpty(), "namespaces left in /run/netns")
		for _, p := range servers {
			Expect(p.alive()).To(BeFalse(), "server process %d still exists", p.pid)
		}
		Expect(processesWith(dir)).To(BeEmpty())
		Expect(filepath.Join(session.OwnerDir, prefix+".pid")).NotTo(BeAnExistingFile())
	}

	It("tears the lab down when the run is interrupted mid-scenario", func() {
		requireRoot()
		sc, err := scenarios.Load("split-kill.yaml")
		Expect(err).NotTo(HaveOccurred())
		interrupted(sc)
	})

	It("tears the lab down, real clients too, when a run with real clients is interrupted", func() {
		requireRoot()
		if why := realclient.Lacks(deploy.Dhclient, realclient.Spec{IA: []string{realclient.IANA}}); why != "" {
			Skip(why + " (run scripts/setup.sh)")
		}
		sc, err := scenarios.Load("split-kill.yaml")
		Expect(err).NotTo(HaveOccurred())
		// Until 2026-12-05 the real clients' cleanup wrote to the run's
		// result, nil once the run had failed: the interrupted run
		// panicked mid-teardown and left its lab.
		sc.Clients.Real = []scenarios.RealClients{{Kind: deploy.Dhclient, Count: 2, IA: []scenarios.IA{scenarios.NA}}}
		interrupted(sc)
	})

	It("rejects a malformed scenario with exit code 2, file:line and field, before creating anything", func() {
		requireRoot()
		bin := labs.binary()
		if _, err := exec.LookPath("unshare"); err != nil {
			Skip("needs unshare(1) (util-linux) to watch /run/netns privately")
		}
		tmp := GinkgoT().TempDir()
		bad := filepath.Join(tmp, "bad.yaml")
		Expect(os.WriteFile(bad, []byte(`name: bad
model: split
servers:
  - {name: s1, preference: 255}
  - {name: s2, allocator: lru}
clients:
  count: 10
duration: 60s
`), 0o644)).To(Succeed())
		good, err := filepath.Abs("split-kill.yaml")
		Expect(err).NotTo(HaveOccurred())
		out := filepath.Join(tmp, "out")
		listing := filepath.Join(tmp, "netns.txt")

		// The command runs in a private mount namespace with its own empty
		// /run/netns, so that what it would create there is seen exactly,
		// whatever other labs (of this suite or of other packages) do on
		// the host meanwhile. A valid scenario comes first: loading all
		// files before running any is what keeps the lab untouched.
		script := `mkdir -p /run/netns && mount -t tmpfs d6lab-check /run/netns || exit 99
"$0" run "$1" "$2" --out "$3"
rc=$?
ls -A /run/netns > "$4"
exit $rc`
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, bin, good, bad, out, listing)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var werr error
		Eventually(waited).WithTimeout(20*time.Second).Should(Receive(&werr), "d6lab run went on with a malformed file")
		Expect(werr).To(HaveOccurred())
		Expect(cmd.ProcessState.ExitCode()).To(Equal(2), "stderr: %s", stderr.String())
		Expect(stderr.String()).To(ContainSubstring(bad + ":5:"))
		Expect(stderr.String()).To(ContainSubstring("servers[1].allocator"))
		Expect(stderr.String()).To(ContainSubstring(`"lru"`))
		names, err := os.ReadFile(listing)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(string(names))).To(BeEmpty(), "namespaces the command created")
		Expect(out).NotTo(BeAnExistingFile(), "the valid scenario ran before the malformed one was read")
	})
})

// syncBuffer is a bytes.Buffer safe for the lab's logger and a spec.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
