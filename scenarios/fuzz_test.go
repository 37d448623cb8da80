package scenarios_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"d6lab/scenarios"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// an *Error with a message and a line inside the input, and that whatever
// it accepts also passes Validate. Seeds: testdata/fuzz/FuzzParse, the
// shipped scenarios and the malformed ones.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"*.yaml", "testdata/bad/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned both a scenario and an error: %v", err)
			}
			var es scenarios.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse error is %T, want non-empty scenarios.Errors: %v", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range es {
				if e.Msg == "" || e.Line < 0 || e.Line > lines || e.File != "fuzz.yaml" {
					t.Fatalf("malformed error %#v for %d-line input", e, lines)
				}
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither a scenario nor an error")
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted a scenario that Validate rejects: %v", err)
		}
	})
}
