package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"d6lab/deploy"
	"d6lab/netaddr6"
)

// Step one of loading: the YAML is decoded into a yaml.Node tree and walked
// by hand into a raw scenario, whose fields remember whether the file set
// them. Walking nodes (rather than yaml.Unmarshal into structs) gives every
// error its line and column, rejects unknown keys with the list of valid
// ones, and catches duplicate keys. Step two (resolve.go) fills defaults,
// derives pools and checks the whole.

// opt is a raw value and whether the file gave it.
type opt[T any] struct {
	V   T
	Set bool
}

func (o opt[T]) or(def T) T {
	if o.Set {
		return o.V
	}
	return def
}

func some[T any](v T) opt[T] { return opt[T]{V: v, Set: true} }

type rawScenario struct {
	name, description opt[string]
	model             opt[Model]
	link              opt[netip.Prefix]
	lifetimes         rawLifetimes
	serverCount       opt[int]    // servers: N
	servers           []rawServer // servers: [...]
	serversListed     bool
	clients           rawClients
	timeline          []rawAction
	duration          opt[time.Duration]
	expect            []Expect
	relay             opt[Relay]
	dns               *rawDNS        // nil: no dns: block
	leasequery        *rawLeasequery // nil: no leasequery: block
}

type rawDNS struct {
	zone        opt[string]
	ttl, sample opt[time.Duration]
}

type rawLeasequery struct {
	interval opt[time.Duration]
	clients  opt[int]
}

type rawLifetimes struct{ t1, t2, preferred, valid, infoRefresh opt[time.Duration] }

type rawServer struct {
	name        opt[string]
	kind        opt[deploy.Kind]
	preference  opt[int]
	allocator   opt[deploy.Allocator]
	rebind      opt[deploy.RebindPolicy]
	rapidCommit opt[bool]
	prefix      opt[netip.Prefix]
	pool        opt[netaddr6.Pool]
	pdPool      opt[netip.Prefix]
	pdLen       opt[int]
}

type rawClients struct {
	count       opt[int]
	ramp        opt[time.Duration]
	ia          opt[[]IA]
	timescale   opt[float64]
	seed        opt[uint64]
	rapidCommit opt[bool]
	dad         opt[time.Duration]
	dadDelay    opt[time.Duration]
	jitter      opt[float64]
	profile     opt[deploy.Profile]
	real        opt[[]RealClients]
}

type rawAction struct {
	at     opt[time.Duration]
	kind   opt[ActionKind]
	target opt[string]
	state  opt[RestartState]
	loss   opt[float64]
	delay  opt[time.Duration]
	count  opt[int]
	ramp   opt[time.Duration]
	addr   opt[netip.Addr]
	down   opt[time.Duration]
	line   int
}

// The keys each mapping accepts, in the order the README documents them.
var (
	scenarioKeys = []string{"name", "description", "model", "link", "lifetimes", "servers", "clients", "timeline", "duration", "expect", "relay", "dns", "leasequery"}
	lifetimeKeys = []string{"t1", "t2", "preferred", "valid", "info_refresh"}
	serverKeys   = []string{"name", "kind", "preference", "allocator", "rebind", "rapid_commit", "prefix", "pool", "pd_pool", "pd_len"}
	clientKeys   = []string{"count", "ramp", "ia", "timescale", "seed", "rapid_commit", "dad", "dad_delay", "jitter", "profile", "real"}
	realKeys     = []string{"kind", "count", "ia"}
	actionKeys   = []string{"at", "action", "target", "state", "loss", "delay", "count", "ramp", "address", "down"}
	dnsKeys      = []string{"zone", "ttl", "sample"}
	lqKeys       = []string{"interval", "clients"}
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML decodes data into the single document's root node. It returns
// nil after recording an error when the text is not one YAML document.
func parseYAML(c *collector, data []byte) *yaml.Node {
	data, line, problem := utf8Text(data)
	if problem != "" {
		c.at(line, 0, "", nil, "YAML syntax: %s", problem)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.at(0, 0, "", nil, "empty scenario: want a mapping with at least name, model, clients and duration")
			return nil
		}
		yamlError(c, data, err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		yamlError(c, data, err)
		return nil
	default:
		c.at(next.Line, next.Column, "", nil, "a scenario file holds one YAML document; found another")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || isEmptyNode(doc.Content[0]) {
		// A document of a start marker alone ("---"): the library places
		// its empty node after the end of the stream, on a line past the
		// last of a file that does not end in a line break. The marker's
		// line is where the file says nothing.
		c.at(doc.Line, doc.Column, "", nil, "empty scenario: want a mapping with at least name, model, clients and duration")
		return nil
	}
	return doc.Content[0]
}

// isEmptyNode reports whether n is a null the file left implicit (no
// value, no tag written), as after a bare "---".
func isEmptyNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style&yaml.TaggedStyle == 0
}

// yamlError turns a YAML syntax error into an *Error on the line at fault.
func yamlError(c *collector, data []byte, err error) {
	line, problem := splitYAMLError(err)
	line = locateSyntaxError(data, line, problem)
	hint := ""
	if src := sourceLine(data, line); strings.Contains(src, ": >") || strings.Contains(src, ": !") ||
		strings.Contains(src, ": |") || strings.Contains(src, ": *") || strings.Contains(src, ": &") ||
		strings.Contains(src, ": @") || strings.Contains(src, ": `") || strings.Contains(src, ": %") {
		hint = ` (a value starting with >, !, |, *, &, @, backquote or % must be quoted, e.g. continuity: ">= 0.95")`
	} else if strings.HasSuffix(strings.TrimSpace(src), "::") {
		hint = ` (an address ending in "::" at the end of a line reads as a key: quote it)`
	}
	c.at(line, 0, "", nil, "YAML syntax: %s%s", problem, hint)
}

func splitYAMLError(err error) (line int, problem string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// maxLocateBytes bounds the work locateSyntaxError may do.
const maxLocateBytes = 8 << 20

// locateSyntaxError finds the line a YAML syntax error is on. The YAML
// library reports where the enclosing block or flow started (counted from
// 0 for parser errors, from 1 for scanner errors), or no line at all (a
// control character), not the offending line. The offending line is the
// first one, from there on, such that the text up to and including it fails
// with the same problem. Text that fails so through a line still does with
// more lines, so the search gallops from the reported line (1, 2, 4, ...
// lines on) to a prefix that fails, then halves the gap: O(log lines)
// decodes. Trying each line in turn, as it did, decoded the text once per
// line between the two: a control character on line 26 of a 698-byte input
// took 4 ms to reject, and one on line 2,000 of an 80 KB file exhausted
// maxLocateBytes and was put on line 1.
func locateSyntaxError(data []byte, reported int, problem string) int {
	from := max(reported, 1)
	ends := lineEnds(data)
	if from > len(ends) {
		return from
	}
	budget := maxLocateBytes
	fails := func(k int) bool {
		budget -= ends[k-1]
		return yamlProblem(data[:ends[k-1]]) == problem
	}
	lo, hi := from-1, 0 // through lo the text does not fail so; through hi it does
	for k, step := from, 1; budget > 0; k, step = min(k+step, len(ends)), step*2 {
		if fails(k) {
			hi = k
			break
		}
		lo = k
		if k == len(ends) {
			break
		}
	}
	if hi == 0 {
		return from
	}
	for hi-lo > 1 && budget > 0 {
		if mid := lo + (hi-lo)/2; fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// yamlProblem is the problem text of the first syntax error in data, or "".
func yamlProblem(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			_, p := splitYAMLError(err)
			return p
		}
	}
}

func sourceLine(data []byte, line int) string {
	ends := lineEnds(data)
	if line < 1 || line > len(ends) {
		return ""
	}
	start := 0
	if line > 1 {
		start = ends[line-2]
	}
	return string(data[start:ends[line-1]])
}

type decoder struct{ c *collector }

func (d decoder) errAt(n *yaml.Node, field string, valid []string, format string, args ...any) {
	d.c.at(n.Line, n.Column, field, valid, format, args...)
}

// deref follows aliases (bounded, so a cycle cannot hang the loader). The
// result keeps the alias's own position, so errors point where it is used.
func (d decoder) deref(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	if n.Kind != yaml.AliasNode {
		return n
	}
	t := n
	for i := 0; t != nil && t.Kind == yaml.AliasNode && i < 16; i++ {
		t = t.Alias
	}
	if t == nil || t.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	cp := *t
	cp.Line, cp.Column = n.Line, n.Column
	return &cp
}

type entry struct {
	key   string
	k, v  *yaml.Node
	field string
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", short(n.Value))
	}
	return "something else"
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping returns n's entries in file order. Unknown and duplicate keys are
// errors; the position of each known value is recorded under its field.
func (d decoder) mapping(n *yaml.Node, field string, keys []string) ([]entry, bool) {
	n = d.deref(n)
	if n.Kind != yaml.MappingNode {
		what := "metric paths to bounds"
		if keys != nil {
			what = strings.Join(keys, ", ")
		}
		d.errAt(n, field, nil, "want a mapping of %s, got %s", what, kindName(n))
		return nil, false
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errAt(k, field, keys, "keys must be plain names, got %s", kindName(k))
			continue
		}
		if keys != nil && !slices.Contains(keys, k.Value) {
			d.errAt(k, join(field, k.Value), keys, "unknown key %q", short(k.Value))
			continue
		}
		f := join(field, k.Value)
		if seen[k.Value] {
			d.errAt(k, f, nil, "duplicate key %q", short(k.Value))
			continue
		}
		seen[k.Value] = true
		dv := d.deref(v)
		d.c.pos[f] = position{dv.Line, dv.Column}
		out = append(out, entry{key: k.Value, k: k, v: dv, field: f})
	}
	return out, true
}

// scalar checks that n is a non-null scalar without a local tag.
func (d decoder) scalar(n *yaml.Node, field, want string) bool {
	n = d.deref(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		d.errAt(n, field, nil, "want %s, got %s", want, kindName(n))
		return false
	case n.ShortTag() == "!!null":
		d.errAt(n, field, nil, "has no value; want %s", want)
		return false
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		d.errAt(n, field, nil, "unexpected YAML tag %q; quote the value (\"%s %s\")", n.Tag, n.Tag, short(n.Value))
		return false
	}
	return true
}

func (d decoder) str(n *yaml.Node, field string) opt[string] {
	if !d.scalar(n, field, "a string") {
		return opt[string]{}
	}
	return some(d.deref(n).Value)
}

func enum[T ~string](d decoder, n *yaml.Node, field string, valid []T) opt[T] {
	if !d.scalar(n, field, "one of "+strings.Join(names(valid), ", ")) {
		return opt[T]{}
	}
	n = d.deref(n)
	if !slices.Contains(valid, T(n.Value)) {
		d.errAt(n, field, names(valid), "unknown value %q", short(n.Value))
		return opt[T]{}
	}
	return some(T(n.Value))
}

func (d decoder) integer(n *yaml.Node, field string, lo, hi int64) opt[int] {
	if !d.scalar(n, field, "an integer") {
		return opt[int]{}
	}
	n = d.deref(n)
	var v int64
	if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		d.errAt(n, field, nil, "want an integer, got %q", short(n.Value))
		return opt[int]{}
	}
	if v < lo || v > hi {
		d.errAt(n, field, nil, "%d is out of range %d..%d", v, lo, hi)
		return opt[int]{}
	}
	return some(int(v))
}

func (d decoder) unsigned(n *yaml.Node, field string) opt[uint64] {
	if !d.scalar(n, field, "an unsigned integer") {
		return opt[uint64]{}
	}
	n = d.deref(n)
	var v uint64
	if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		d.errAt(n, field, nil, "want an integer 0..%d, got %q", uint64(math.MaxUint64), short(n.Value))
		return opt[uint64]{}
	}
	return some(v)
}

func (d decoder) float(n *yaml.Node, field string) opt[float64] {
	if !d.scalar(n, field, "a number") {
		return opt[float64]{}
	}
	n = d.deref(n)
	var v float64
	if tag := n.ShortTag(); (tag != "!!int" && tag != "!!float") || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errAt(n, field, nil, "want a finite number, got %q", short(n.Value))
		return opt[float64]{}
	}
	return some(v)
}

func (d decoder) boolean(n *yaml.Node, field string) opt[bool] {
	if !d.scalar(n, field, "true or false") {
		return opt[bool]{}
	}
	n = d.deref(n)
	var v bool
	if n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.errAt(n, field, []string{"true", "false"}, "want true or false, got %q", short(n.Value))
		return opt[bool]{}
	}
	return some(v)
}

func (d decoder) duration(n *yaml.Node, field string) opt[time.Duration] {
	if !d.scalar(n, field, `a duration like "10s"`) {
		return opt[time.Duration]{}
	}
	n = d.deref(n)
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errAt(n, field, nil, "want a Go duration like \"10s\", \"1m30s\" or \"250ms\", got %q", short(n.Value))
		return opt[time.Duration]{}
	}
	return some(v)
}

func (d decoder) address(n *yaml.Node, field string) opt[netip.Addr] {
	if !d.scalar(n, field, "an IPv6 address") {
		return opt[netip.Addr]{}
	}
	n = d.deref(n)
	a, err := netip.ParseAddr(strings.TrimSpace(n.Value))
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		d.errAt(n, field, nil, "%q is not an IPv6 address", short(n.Value))
		return opt[netip.Addr]{}
	}
	return some(a)
}

func (d decoder) prefix(n *yaml.Node, field string) opt[netip.Prefix] {
	if !d.scalar(n, field, "an IPv6 prefix") {
		return opt[netip.Prefix]{}
	}
	n = d.deref(n)
	p, err := netaddr6.ParsePrefix(strings.TrimSpace(n.Value))
	if err != nil {
		d.errAt(n, field, nil, "%v", err)
		return opt[netip.Prefix]{}
	}
	return some(p)
}

func (d decoder) pool(n *yaml.Node, field string) opt[netaddr6.Pool] {
	if !d.scalar(n, field, `a prefix or a range "first-last"`) {
		return opt[netaddr6.Pool]{}
	}
	n = d.deref(n)
	p, err := netaddr6.ParsePool(n.Value)
	if err != nil {
		d.errAt(n, field, nil, "%v", err)
		return opt[netaddr6.Pool]{}
	}
	return some(p)
}

func (d decoder) seq(n *yaml.Node, field, want string) ([]*yaml.Node, bool) {
	n = d.deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errAt(n, field, nil, "want a list of %s, got %s", want, kindName(n))
		return nil, false
	}
	return n.Content, true
}

func (d decoder) required(n *yaml.Node, field string, present []entry, keys ...string) {
	for _, k := range keys {
		if !slices.ContainsFunc(present, func(e entry) bool { return e.key == k }) {
			d.errAt(n, join(field, k), nil, "required")
		}
	}
}

// scenario decodes the root mapping; nil when the root is not one.
func (d decoder) scenario(root *yaml.Node) *rawScenario {
	r := &rawScenario{}
	root = d.deref(root)
	es, ok := d.mapping(root, "", scenarioKeys)
	if !ok {
		return nil
	}
	d.required(root, "", es, "name", "model", "clients", "duration")
	for _, e := range es {
		switch e.key {
		case "name":
			r.name = d.str(e.v, e.field)
		case "description":
			r.description = d.str(e.v, e.field)
		case "model":
			r.model = enum(d, e.v, e.field, Models)
		case "link":
			r.link = d.prefix(e.v, e.field)
		case "lifetimes":
			d.lifetimes(e.v, e.field, &r.lifetimes)
		case "servers":
			d.servers(e.v, e.field, r)
		case "clients":
			d.clients(e.v, e.field, &r.clients)
		case "timeline":
			d.timeline(e.v, e.field, r)
		case "duration":
			r.duration = d.duration(e.v, e.field)
		case "expect":
			d.expect(e.v, e.field, r)
		case "relay":
			r.relay = enum(d, e.v, e.field, Relays)
		case "dns":
			r.dns = d.dns(e.v, e.field)
		case "leasequery":
			r.leasequery = d.leasequery(e.v, e.field)
		}
	}
	return r
}

// dns decodes the dns: block ({zone: lab.example., ttl: 30s, sample: 1s});
// zone is required, the rest default (resolve).
func (d decoder) dns(n *yaml.Node, field string) *rawDNS {
	n = d.deref(n)
	es, ok := d.mapping(n, field, dnsKeys)
	if !ok {
		return &rawDNS{}
	}
	d.required(n, field, es, "zone")
	r := &rawDNS{}
	for _, e := range es {
		switch e.key {
		case "zone":
			r.zone = d.str(e.v, e.field)
		case "ttl":
			r.ttl = d.duration(e.v, e.field)
		case "sample":
			r.sample = d.duration(e.v, e.field)
		}
	}
	return r
}

// leasequery decodes the leasequery: block ({interval: 2s, clients: 50});
// every key defaults, so {} turns the prober on.
func (d decoder) leasequery(n *yaml.Node, field string) *rawLeasequery {
	es, _ := d.mapping(n, field, lqKeys)
	r := &rawLeasequery{}
	for _, e := range es {
		switch e.key {
		case "interval":
			r.interval = d.duration(e.v, e.field)
		case "clients":
			r.clients = d.integer(e.v, e.field, 1, MaxClients)
		}
	}
	return r
}

func (d decoder) lifetimes(n *yaml.Node, field string, l *rawLifetimes) {
	es, _ := d.mapping(n, field, lifetimeKeys)
	for _, e := range es {
		v := d.duration(e.v, e.field)
		switch e.key {
		case "t1":
			l.t1 = v
		case "t2":
			l.t2 = v
		case "preferred":
			l.preferred = v
		case "valid":
			l.valid = v
		case "info_refresh":
			l.infoRefresh = v
		}
	}
}

func (d decoder) servers(n *yaml.Node, field string, r *rawScenario) {
	n = d.deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		r.serverCount = d.integer(n, field, 1, MaxServers)
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errAt(n, field, nil, "want a server count (like 2) or a list of servers, got %s", kindName(n))
		return
	}
	r.serversListed = true
	if len(n.Content) == 0 {
		d.errAt(n, field, nil, "want at least one server")
	}
	if len(n.Content) > MaxServers {
		d.errAt(n, field, nil, "%d servers; at most %d", len(n.Content), MaxServers)
		return
	}
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		item = d.deref(item)
		d.c.pos[f] = position{item.Line, item.Column}
		var s rawServer
		es, _ := d.mapping(item, f, serverKeys)
		for _, e := range es {
			switch e.key {
			case "name":
				s.name = d.str(e.v, e.field)
			case "kind":
				s.kind = enum(d, e.v, e.field, deploy.Kinds)
			case "preference":
				s.preference = d.integer(e.v, e.field, 0, 255)
			case "allocator":
				s.allocator = enum(d, e.v, e.field, deploy.Allocators)
			case "rebind":
				s.rebind = enum(d, e.v, e.field, deploy.RebindPolicies)
			case "rapid_commit":
				s.rapidCommit = d.boolean(e.v, e.field)
			case "prefix":
				s.prefix = d.prefix(e.v, e.field)
			case "pool":
				s.pool = d.pool(e.v, e.field)
			case "pd_pool":
				s.pdPool = d.prefix(e.v, e.field)
			case "pd_len":
				s.pdLen = d.integer(e.v, e.field, 1, 128)
			}
		}
		r.servers = append(r.servers, s)
	}
}

func (d decoder) clients(n *yaml.Node, field string, c *rawClients) {
	n = d.deref(n)
	es, ok := d.mapping(n, field, clientKeys)
	if !ok {
		return
	}
	d.required(n, field, es, "count")
	for _, e := range es {
		switch e.key {
		case "count":
			c.count = d.integer(e.v, e.field, 1, MaxClients)
		case "ramp":
			c.ramp = d.duration(e.v, e.field)
		case "ia":
			c.ia = d.ias(e.v, e.field)
		case "timescale":
			c.timescale = d.float(e.v, e.field)
		case "seed":
			c.seed = d.unsigned(e.v, e.field)
		case "rapid_commit":
			c.rapidCommit = d.boolean(e.v, e.field)
		case "dad":
			c.dad = d.duration(e.v, e.field)
		case "dad_delay":
			c.dadDelay = d.duration(e.v, e.field)
		case "jitter":
			c.jitter = d.float(e.v, e.field)
		case "profile":
			c.profile = enum(d, e.v, e.field, deploy.Profiles)
		case "real":
			c.real = d.realClients(e.v, e.field)
		}
	}
}

// ias decodes a list of IA types (clients.ia, clients.real[i].ia).
func (d decoder) ias(n *yaml.Node, field string) opt[[]IA] {
	items, ok := d.seq(n, field, "IA types (na, pd); [] for stateless")
	if !ok {
		return opt[[]IA]{}
	}
	ias := []IA{}
	good := true
	for i, it := range items {
		v := enum(d, it, fmt.Sprintf("%s[%d]", field, i), IATypes)
		if !v.Set {
			good = false
			continue
		}
		if slices.Contains(ias, v.V) {
			d.errAt(d.deref(it), fmt.Sprintf("%s[%d]", field, i), nil, "%q listed twice", v.V)
			good = false
			continue
		}
		ias = append(ias, v.V)
	}
	if !good {
		return opt[[]IA]{}
	}
	return some(ias)
}

// realClients decodes clients.real: a list of {kind, count, ia}.
func (d decoder) realClients(n *yaml.Node, field string) opt[[]RealClients] {
	items, ok := d.seq(n, field, "real clients ({kind: dhclient, count: 5})")
	if !ok {
		return opt[[]RealClients]{}
	}
	out := []RealClients{}
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		item = d.deref(item)
		d.c.pos[f] = position{item.Line, item.Column}
		es, ok := d.mapping(item, f, realKeys)
		if !ok {
			continue
		}
		d.required(item, f, es, "kind", "count")
		r := RealClients{line: item.Line}
		for _, e := range es {
			switch e.key {
			case "kind":
				r.Kind = enum(d, e.v, e.field, deploy.ClientKinds).V
			case "count":
				r.Count = d.integer(e.v, e.field, 1, MaxRealClients).V
			case "ia":
				if v := d.ias(e.v, e.field); v.Set {
					r.IA = v.V
				}
			}
		}
		out = append(out, r)
	}
	return some(out)
}

func (d decoder) timeline(n *yaml.Node, field string, r *rawScenario) {
	items, ok := d.seq(n, field, "actions")
	if !ok {
		return
	}
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		item = d.deref(item)
		d.c.pos[f] = position{item.Line, item.Column}
		a := rawAction{line: item.Line}
		es, ok := d.mapping(item, f, actionKeys)
		if ok {
			d.required(item, f, es, "at", "action")
		}
		var state, loss, delay, target, count, ramp, address, down *entry
		for j, e := range es {
			switch e.key {
			case "at":
				a.at = d.duration(e.v, e.field)
			case "action":
				a.kind = enum(d, e.v, e.field, ActionKinds)
			case "target":
				target = &es[j]
				a.target = d.str(e.v, e.field)
			case "count":
				count = &es[j]
				a.count = d.integer(e.v, e.field, 1, 1_000_000)
			case "ramp":
				ramp = &es[j]
				a.ramp = d.duration(e.v, e.field)
			case "address":
				address = &es[j]
				a.addr = d.address(e.v, e.field)
			case "down":
				down = &es[j]
				a.down = d.duration(e.v, e.field)
			case "state":
				state = &es[j]
				a.state = enum(d, e.v, e.field, RestartStates)
			case "loss":
				loss = &es[j]
				a.loss = d.float(e.v, e.field)
			case "delay":
				delay = &es[j]
				a.delay = d.duration(e.v, e.field)
			}
		}
		if a.kind.Set {
			if state != nil && a.kind.V != Restart {
				d.errAt(state.k, state.field, nil, "only with action restart, not %s", a.kind.V)
			}
			for _, e := range []*entry{loss, delay} {
				if e != nil && a.kind.V != Impair {
					d.errAt(e.k, e.field, nil, "only with action impair, not %s", a.kind.V)
				}
			}
			if a.kind.V == Impair && loss == nil && delay == nil {
				d.errAt(item, f, nil, "impair needs loss, delay or both")
			}
			if a.kind.V.ClientAction() {
				if target != nil {
					d.errAt(target.k, target.field, nil, "action %s acts on clients and takes no target", a.kind.V)
				}
				needCount := a.kind.V == Join || a.kind.V == Leave
				if count == nil && needCount {
					d.errAt(item, f+".count", nil, "action %s needs count", a.kind.V)
				}
				if count != nil && !needCount {
					d.errAt(count.k, count.field, nil, "only with action join or leave, not %s", a.kind.V)
				}
			} else {
				if target == nil && ok {
					d.errAt(item, f+".target", nil, "required")
				}
				if count != nil {
					d.errAt(count.k, count.field, nil, "only with action join or leave, not %s", a.kind.V)
				}
			}
			if ramp != nil && a.kind.V != Join {
				d.errAt(ramp.k, ramp.field, nil, "only with action join, not %s", a.kind.V)
			}
			if a.kind.V == Occupy && address == nil {
				d.errAt(item, f+".address", nil, "action occupy needs address")
			}
			if address != nil && a.kind.V != Occupy {
				d.errAt(address.k, address.field, nil, "only with action occupy, not %s", a.kind.V)
			}
			if down != nil && a.kind.V != Flap {
				d.errAt(down.k, down.field, nil, "only with action flap, not %s", a.kind.V)
			}
		}
		r.timeline = append(r.timeline, a)
	}
}

func (d decoder) expect(n *yaml.Node, field string, r *rawScenario) {
	es, _ := d.mapping(n, field, nil)
	for _, e := range es {
		switch {
		case !IsMetricPath(e.key):
			d.errAt(e.k, e.field, numericMetricPaths(), "unknown metric path %q", e.key)
			continue
		case !NumericMetric(e.key):
			d.errAt(e.k, e.field, numericMetricPaths(), "%q is text and cannot carry a numeric bound", e.key)
			continue
		}
		if !d.scalar(e.v, e.field, `a bound like "< 40"`) {
			continue
		}
		if t := e.v.ShortTag(); t != "!!str" {
			d.errAt(e.v, e.field, Operators, "want a bound with an operator, like \"== %s\", got %s", short(e.v.Value), short(e.v.Value))
			continue
		}
		x, err := NewExpect(e.key, e.v.Value)
		if err != nil {
			d.errAt(e.v, e.field, Operators, "%v", err)
			continue
		}
		x.Line = e.k.Line
		r.expect = append(r.expect, x)
	}
}
