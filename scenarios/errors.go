package scenarios

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a scenario, located by file, line, column and
// field. Field is a dotted path with 0-based indexes, such as
// "servers[1].allocator" or "expect.reacquire_s.p99"; Valid lists the
// accepted values when the problem is an unknown name.
type Error struct {
	File   string
	Line   int // 1-based; 0 when unknown (a scenario built in code)
	Column int // 1-based; 0 when unknown
	Field  string
	Msg    string
	Valid  []string
}

// Error prints "file:line:col: field: message (valid: a, b, c)", leaving out
// the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	loc := e.File
	if e.Line > 0 {
		if loc != "" {
			loc += ":"
		}
		loc += strconv.Itoa(e.Line)
		if e.Column > 0 {
			loc += ":" + strconv.Itoa(e.Column)
		}
	}
	if loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if len(e.Valid) > 0 {
		b.WriteString(" (valid: ")
		b.WriteString(strings.Join(e.Valid, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Errors is every problem found in one scenario, in file order.
type Errors []*Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders errors by position; errors with no line go last, in
// the order they were found.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// position is where a field's value sits in the file.
type position struct{ line, col int }

// positions maps field paths to the position of their value in the file.
// Fields filled by default or derivation have no entry; an error about
// them is placed at the nearest enclosing field that has one.
type positions map[string]position

// at returns the position of field, or of its nearest ancestor.
func (p positions) at(field string) position {
	for f := field; ; {
		if pos, ok := p[f]; ok {
			return pos
		}
		parent, ok := parentField(f)
		if !ok {
			return position{}
		}
		f = parent
	}
}

// has reports whether field itself was written in the file.
func (p positions) has(field string) bool {
	_, ok := p[field]
	return ok
}

// parentField strips the last ".name" or "[i]" from a field path.
func parentField(f string) (string, bool) {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return "", f != ""
	}
	return f[:i], true
}

// within reports whether field is f or lies under f.
func within(field, f string) bool {
	if !strings.HasPrefix(field, f) {
		return false
	}
	rest := field[len(f):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// collector gathers errors for one file.
type collector struct {
	file string
	pos  positions
	errs Errors
}

// at records an error at an explicit line and column.
func (c *collector) at(line, col int, field string, valid []string, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...), Valid: valid})
}

// field records an error located by its field path.
func (c *collector) field(field string, valid []string, format string, args ...any) {
	p := c.pos.at(field)
	c.at(p.line, p.col, field, valid, format, args...)
}

// names turns a list of string-like values into strings for Error.Valid.
func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// short cuts a value quoted in a message to a readable length.
func short(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "..."
	}
	return s
}
