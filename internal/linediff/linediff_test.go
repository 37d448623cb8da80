package linediff_test

import (
	"testing"

	"d6lab/internal/linediff"
)

func TestFirst(t *testing.T) {
	for _, c := range []struct {
		x, y string
		n    int
		a, b string
	}{
		{"a\nb\n", "a\nb\n", 0, "", ""},
		{"a\nb\n", "a\nc\n", 2, "b", "c"},
		{"a\n", "a\nb", 2, "", "b"},
		{"", "x", 1, "", "x"},
	} {
		n, a, b := linediff.First([]byte(c.x), []byte(c.y))
		if n != c.n || string(a) != c.a || string(b) != c.b {
			t.Errorf("First(%q, %q) = %d, %q, %q; want %d, %q, %q", c.x, c.y, n, a, b, c.n, c.a, c.b)
		}
	}
}
