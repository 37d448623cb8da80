package scenarios

import (
	"fmt"
	"io"
	"os"
	"regexp"
)

// MaxFileSize bounds a scenario file; real ones are a few hundred bytes.
const MaxFileSize = 1 << 20

// Load reads, parses and resolves the scenario file at path. Problems in
// the file come back as Errors (every one found, in line order); a file
// that cannot be read gives a wrapped I/O error.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	return Parse(path, data)
}

// Parse decodes data (file names it in errors) in two steps: YAML nodes to
// raw values, checking keys and types; then raw values to a Scenario,
// filling defaults, deriving pools and checking the whole. It returns every
// problem it finds as Errors, leaving out those that only follow from an
// earlier one (a field that failed to decode is not complained about again,
// nor are pools derived from a link or model that is wrong).
func Parse(file string, data []byte) (*Scenario, error) {
	c := &collector{file: file, pos: positions{}}
	root := parseYAML(c, data)
	if root == nil {
		sortErrors(c.errs)
		return nil, c.errs
	}
	raw := decoder{c}.scenario(root)
	if raw == nil {
		return nil, c.errs
	}
	decoded := len(c.errs)
	s := resolve(raw, c)
	validate(s, c)
	errs := dropCascades(c.errs, decoded, c.pos)
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return s, nil
}

var derivedField = regexp.MustCompile(`^(servers\[\d+\])\.(prefix|pool|pd_pool|pd_len)$`)

// dropCascades keeps the first n errors (from decoding) and, of the later
// ones, those that do not follow from another: an error on a field (or
// inside one) that already has an error, or on a derived address whose
// inputs (link, model, the server's prefix, ...) are themselves wrong.
func dropCascades(errs Errors, n int, pos positions) Errors {
	bad := map[string]bool{}
	for _, e := range errs {
		bad[e.Field] = true
	}
	out := append(Errors{}, errs[:n]...)
next:
	for i, e := range errs[n:] {
		for _, d := range errs[:n+i] {
			if d.Field != "" && within(e.Field, d.Field) {
				continue next
			}
		}
		if m := derivedField.FindStringSubmatch(e.Field); m != nil && !pos.has(e.Field) {
			deps := []string{"link", "model"}
			switch m[2] {
			case "pool":
				deps = append(deps, m[1]+".prefix")
			case "pd_len":
				deps = append(deps, m[1]+".pd_pool", "clients.count")
			}
			for _, dep := range deps {
				if bad[dep] {
					continue next
				}
			}
		}
		out = append(out, e)
	}
	return out
}
