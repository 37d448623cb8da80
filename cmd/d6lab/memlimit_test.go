package main

import "testing"

func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"3.5GiB":  3758096384,
		"512 MiB": 512 << 20,
		"4GB":     4_000_000_000,
		"1048576": 1 << 20,
	} {
		got, err := parseMemoryLimit(in)
		if err != nil || got != want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "3.5XB", "100KiB", "0"} {
		if n, err := parseMemoryLimit(bad); err == nil {
			t.Errorf("parseMemoryLimit(%q) = %d, no error", bad, n)
		}
	}
}
