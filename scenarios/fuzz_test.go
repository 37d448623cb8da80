package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

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
			lines := yamlLines(data)
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

// yamlLines counts data's lines as the YAML library does, and so as the
// lines of Parse's errors: LF, CR, NEL, LS and PS each end one, CR LF once
// (YAML 1.1 §5.4, which go.yaml.in/yaml/v3 follows), in UTF-8 or, after a
// byte-order mark, UTF-16. Counting LF alone failed on " \r0" (seed
// found-lone-cr), whose error YAML rightly puts on line 2.
func yamlLines(data []byte) int {
	text := string(data)
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		u := make([]uint16, (len(data)-2)/2)
		for i := range u {
			lo, hi := data[2+2*i], data[3+2*i]
			if data[0] == 0xFE {
				lo, hi = hi, lo
			}
			u[i] = uint16(hi)<<8 | uint16(lo)
		}
		text = string(utf16.Decode(u))
	}
	n := 1
	for i, r := range text {
		switch r {
		case '\n', 0x85, 0x2028, 0x2029:
			n++
		case '\r':
			if !strings.HasPrefix(text[i+1:], "\n") {
				n++
			}
		}
	}
	return n
}
