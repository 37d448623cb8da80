package scenarios_test

import (
	"os"
	"testing"

	"d6lab/scenarios"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("split-kill.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scenarios.Parse("split-kill.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
