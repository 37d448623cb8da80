package render

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// PcapFile is the capture of the clients' DHCPv6 traffic that a netns run
// leaves in its directory (sim/lab writes it; its size is capped, and it is
// absent when the capture was off or the engine was virtual): the name is
// history.PcapFile.
const PcapFile = history.PcapFile

// SaveRunPages writes the readable outputs of one run into dir (created if
// needed): report.html, report.md and junit.xml. SaveRun writes the JSON.
// The pages link history.jsonl and clients.pcap when dir holds them (a run
// made with --no-history-file keeps no history.jsonl).
func SaveRunPages(dir string, run *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save pages: %w", err)
	}
	r := run.Report
	held := func(name string) bool {
		fi, err := os.Stat(filepath.Join(dir, name))
		return err == nil && fi.Mode().IsRegular()
	}
	files := []string{ReportFile, MarkdownFile, JUnitFile}
	if held(HistoryFile) {
		files = append(files, HistoryFile)
	}
	var extra []string
	if held(PcapFile) {
		extra = append(extra, PcapFile)
	}
	files = append(files, extra...)
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error { return htmlRun(w, run, files) }},
		{MarkdownFile, func(w io.Writer) error { return markdownRun(w, r, extra) }},
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
