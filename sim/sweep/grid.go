package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"d6lab/scenarios"
)

// Fields are the scenario fields a sweep may vary, in the order a point's
// lifetimes are listed.
var Fields = []string{"lifetimes.t1", "lifetimes.t2", "lifetimes.preferred", "lifetimes.valid"}

// Value is one value of an axis: a duration, or a ratio of the point's
// valid lifetime ("0.5v").
type Value struct {
	Abs   time.Duration // set when Ratio is 0
	Ratio float64       // 0 < Ratio <= 1: a share of valid
}

func (v Value) String() string {
	if v.Ratio > 0 {
		return strconv.FormatFloat(v.Ratio, 'f', -1, 64) + "v"
	}
	return v.Abs.String()
}

// Axis is one varied field and its values, in the order given.
type Axis struct {
	Field  string
	Values []Value
}

// ParseVary parses --vary: "FIELD=V,V,...,FIELD=V,..." (a token with '='
// starts the next field; specs from several flags are joined). A value is
// a Go duration ("300s", "1h") or, for t1, t2 and preferred, a ratio of
// valid ("0.5v", 0 < ratio <= 1). Errors name the field and value.
func ParseVary(specs []string) ([]Axis, error) {
	var axes []Axis
	seen := map[string]bool{}
	for _, spec := range specs {
		for tok := range strings.SplitSeq(spec, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				return nil, fmt.Errorf("--vary %q: an empty value", spec)
			}
			if field, val, ok := strings.Cut(tok, "="); ok {
				if !isField(field) {
					return nil, fmt.Errorf("--vary: %q is not a field a sweep varies; want one of %s", field, strings.Join(Fields, ", "))
				}
				if seen[field] {
					return nil, fmt.Errorf("--vary: %s is given twice", field)
				}
				seen[field] = true
				axes = append(axes, Axis{Field: field})
				tok = val
			} else if len(axes) == 0 {
				return nil, fmt.Errorf("--vary %q: want FIELD=VALUE,... (a field first)", spec)
			}
			a := &axes[len(axes)-1]
			v, err := parseValue(a.Field, tok)
			if err != nil {
				return nil, err
			}
			a.Values = append(a.Values, v)
		}
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("--vary: no field given; want e.g. lifetimes.valid=300s,900s,lifetimes.t1=0.5v")
	}
	return axes, nil
}

func isField(f string) bool {
	for _, x := range Fields {
		if x == f {
			return true
		}
	}
	return false
}

func parseValue(field, s string) (Value, error) {
	if r, ok := strings.CutSuffix(s, "v"); ok {
		if field == "lifetimes.valid" {
			return Value{}, fmt.Errorf("--vary %s=%s: valid cannot be a ratio of itself; give a duration", field, s)
		}
		x, err := strconv.ParseFloat(r, 64)
		if err != nil || math.IsNaN(x) || x <= 0 || x > 1 {
			return Value{}, fmt.Errorf("--vary %s=%s: want a ratio of valid in (0, 1] such as 0.5v", field, s)
		}
		return Value{Ratio: x}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Value{}, fmt.Errorf("--vary %s=%s: want a duration (300s, 1h) or a ratio of valid (0.5v)", field, s)
	}
	if d <= 0 {
		return Value{}, fmt.Errorf("--vary %s=%s: must be positive", field, s)
	}
	return Value{Abs: d}, nil
}

// Lifetimes expands the axes over base (the scenario's lifetimes) into the
// grid's points, the cartesian product in the order the axes were given
// (the last axis varying fastest). A field no axis varies keeps base's
// ratio to valid (t1, t2, preferred), or base's value (valid); preferred
// is then raised to t2 when shorter, so that t2 <= preferred holds. Ratio
// values are rounded to whole seconds (at least 1 s). The points are not
// validated: Derive does that.
func Lifetimes(base scenarios.Lifetimes, axes []Axis) []scenarios.Lifetimes {
	idx := make([]int, len(axes))
	var out []scenarios.Lifetimes
	for {
		vals := map[string]Value{}
		for i, a := range axes {
			vals[a.Field] = a.Values[idx[i]]
		}
		out = append(out, point(base, vals))
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

func point(base scenarios.Lifetimes, vals map[string]Value) scenarios.Lifetimes {
	l := base
	if v, ok := vals["lifetimes.valid"]; ok {
		l.Valid = v.Abs
	}
	ratio := func(d time.Duration) float64 {
		if base.Valid <= 0 {
			return 0
		}
		return float64(d) / float64(base.Valid)
	}
	of := func(field string, baseV time.Duration) (time.Duration, bool) {
		v, ok := vals[field]
		if ok && v.Ratio == 0 {
			return v.Abs, true
		}
		r := ratio(baseV)
		if ok {
			r = v.Ratio
		}
		return max(time.Second, time.Duration(math.Round(r*l.Valid.Seconds()))*time.Second), ok
	}
	l.T1, _ = of("lifetimes.t1", base.T1)
	l.T2, _ = of("lifetimes.t2", base.T2)
	var given bool
	l.Preferred, given = of("lifetimes.preferred", base.Preferred)
	if !given && l.Preferred < l.T2 {
		l.Preferred = l.T2
	}
	return l
}

// Label names a point's lifetimes briefly: "t1 150s t2 240s pref 240s valid 300s".
func Label(l scenarios.Lifetimes) string {
	return fmt.Sprintf("t1 %s t2 %s pref %s valid %s", secs(l.T1), secs(l.T2), secs(l.Preferred), secs(l.Valid))
}

func secs(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
