package render

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"d6lab/reports/check"
)

// SaveRunPages writes the readable outputs of one run into dir (created if
// needed): report.html, report.md and junit.xml. SaveRun writes the JSON.
func SaveRunPages(dir string, run *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save pages: %w", err)
	}
	r := run.Report
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error { return HTML(w, run) }},
		{MarkdownFile, func(w io.Writer) error { return Markdown(w, r) }},
		{JUnitFile, func(w io.Writer) error { return JUnit(w, r) }},
	} {
		if err := saveFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

// SaveComparePages writes the readable outputs of a comparison into dir
// (created if needed): report.html, report.md and junit.xml (one test
// suite per run). SaveCompare writes compare.json.
func SaveComparePages(dir string, runs []*Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save pages: %w", err)
	}
	reps := make([]*check.Report, len(runs))
	for i, run := range runs {
		reps[i] = run.Report
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error { return HTMLCompare(w, runs) }},
		{MarkdownFile, func(w io.Writer) error { return MarkdownCompare(w, reps) }},
		{JUnitFile, func(w io.Writer) error { return JUnit(w, reps...) }},
	} {
		if err := saveFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}
