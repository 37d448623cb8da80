package rooms

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// A Room is a folder of the module and the rooms its packages may import
// besides their own.
type Room struct {
	// Name is the room's name, used in messages and in MayImport.
	Name string
	// Path is the folder, relative to the module root. A package belongs to
	// the room with the longest Path that is its own path or a parent of it.
	Path string
	// MayImport names the other rooms the room's packages may import.
	MayImport []string
}

// Table is d6lab's rule table, from the top (cmd) down to the leaves
// (history, deploy, netaddr6, transport, wire). A package that no room holds breaks the
// rules too: a new folder gets a row here first.
var Table = []Room{
	{Name: "cmd", Path: "cmd", MayImport: []string{"sim", "server", "clientsim", "scenarios", "reports", "history", "deploy", "netaddr6", "transport", "wire"}},
	{Name: "sim", Path: "sim", MayImport: []string{"server", "clientsim", "scenarios", "reports", "history", "deploy", "netaddr6", "transport", "wire"}},
	{Name: "server", Path: "server", MayImport: []string{"history", "deploy", "netaddr6", "transport", "wire"}},
	{Name: "clientsim", Path: "clientsim", MayImport: []string{"history", "netaddr6", "transport", "wire"}},
	{Name: "scenarios", Path: "scenarios", MayImport: []string{"history", "deploy", "netaddr6"}},
	{Name: "reports", Path: "reports", MayImport: []string{"history", "netaddr6"}},
	{Name: "history", Path: "reports/history"},
	{Name: "deploy", Path: "deploy"},
	{Name: "netaddr6", Path: "netaddr6"},
	{Name: "transport", Path: "transport"},
	{Name: "wire", Path: "wire"},
	{Name: "internal", Path: "internal"},
}

// Of returns the room of the package at rel (a path relative to the module
// root, "" for the root package itself).
func Of(table []Room, rel string) (Room, bool) {
	best, found := Room{}, false
	for _, r := range table {
		if (rel == r.Path || strings.HasPrefix(rel, r.Path+"/")) && len(r.Path) >= len(best.Path) {
			best, found = r, true
		}
	}
	return best, found
}

// A Violation is one package, or one import, that breaks the rules.
type Violation struct {
	// From imports To; To is empty when From itself is in no room.
	From, To string
	// Why says which rule is broken.
	Why string
}

func (v Violation) String() string {
	if v.To == "" {
		return fmt.Sprintf("%s: %s", v.From, v.Why)
	}
	return fmt.Sprintf("%s imports %s: %s", v.From, v.To, v.Why)
}

// Judge applies table to an import graph: imports maps each package of the
// module at path module to what it imports (any package; those outside the
// module are ignored). The violations come sorted.
func Judge(table []Room, module string, imports map[string][]string) []Violation {
	rel := func(p string) (string, bool) {
		if p == module {
			return "", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	var out []Violation
	for from, deps := range imports {
		fr, ok := rel(from)
		if !ok {
			continue
		}
		src, ok := Of(table, fr)
		if !ok {
			out = append(out, Violation{From: from, Why: "in no room: add its folder to rooms.Table"})
			continue
		}
		for _, to := range deps {
			tr, ok := rel(to)
			if !ok {
				continue
			}
			dst, ok := Of(table, tr)
			switch {
			case !ok:
				out = append(out, Violation{From: from, To: to, Why: "the imported package is in no room: add its folder to rooms.Table"})
			case dst.Name == src.Name || contains(src.MayImport, dst.Name):
			default:
				allowed := "nothing else"
				if len(src.MayImport) > 0 {
					allowed = strings.Join(src.MayImport, ", ")
				}
				out = append(out, Violation{From: from, To: to,
					Why: fmt.Sprintf("room %s may not import room %s (it may import %s)", src.Name, dst.Name, allowed)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Graph runs `go list -deps` on ./... in dir (a module root) and returns the
// module's path and the non-test imports of each of its packages.
func Graph(dir string) (module string, imports map[string][]string, err error) {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	out, err := run("list", "-m", "-f", "{{.Path}}")
	if err != nil {
		return "", nil, err
	}
	module = strings.TrimSpace(string(out))
	out, err = run("list", "-deps", "-e", "-f", `{{if not .Standard}}{{.ImportPath}}{{range .Imports}}{{"\t"}}{{.}}{{end}}{{end}}`, "./...")
	if err != nil {
		return "", nil, err
	}
	return module, parseList(out), nil
}

// parseList reads go list's lines of a package and its imports, a tab
// before each (a variant's path holds a space). A package built for one
// main package apart, as with profile-guided optimization
// ("d6lab/server [d6lab/cmd/d6lab]"), is the package itself: its imports
// are added to the plain package's.
func parseList(out []byte) map[string][]string {
	imports := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		pkg := plain(f[0])
		if _, seen := imports[pkg]; !seen {
			imports[pkg] = []string{}
		}
		for _, d := range f[1:] {
			if d = plain(d); !contains(imports[pkg], d) {
				imports[pkg] = append(imports[pkg], d)
			}
		}
	}
	return imports
}

// plain is an import path without go list's variant suffix (" [main]").
func plain(p string) string {
	if i := strings.Index(p, " ["); i >= 0 {
		return p[:i]
	}
	return p
}

// Check judges the module at dir by table.
func Check(table []Room, dir string) ([]Violation, error) {
	module, imports, err := Graph(dir)
	if err != nil {
		return nil, err
	}
	return Judge(table, module, imports), nil
}
