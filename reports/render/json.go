package render

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// File names a run directory holds.
const (
	ReportFile  = "report.json"
	CompareFile = "compare.json"
	HistoryFile = "history.jsonl"
	// The readable outputs (see pages.go).
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	JUnitFile    = "junit.xml"
)

// CompareDoc is the shape of compare.json.
type CompareDoc struct {
	Runs []*check.Report `json:"runs"`
}

// WriteReport writes one report as indented JSON.
func WriteReport(w io.Writer, r *check.Report) error { return writeJSON(w, r) }

// WriteCompare writes several reports as {"runs": [...]}.
func WriteCompare(w io.Writer, runs []*check.Report) error {
	if runs == nil {
		runs = []*check.Report{}
	}
	return writeJSON(w, CompareDoc{Runs: runs})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}

// ReadReport reads a report.json.
func ReadReport(r io.Reader) (*check.Report, error) {
	var rep check.Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return &rep, nil
}

// ReadCompare reads a compare.json.
func ReadCompare(r io.Reader) ([]*check.Report, error) {
	var doc CompareDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read compare: %w", err)
	}
	return doc.Runs, nil
}

// SaveRun writes report.json and, when events is not nil, history.jsonl
// into dir (created if needed).
func SaveRun(dir string, r *check.Report, events []history.Event) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	if err := saveFile(filepath.Join(dir, ReportFile), func(w io.Writer) error { return WriteReport(w, r) }); err != nil {
		return err
	}
	if events == nil {
		return nil
	}
	return saveFile(filepath.Join(dir, HistoryFile), func(w io.Writer) error { return history.WriteJSONL(w, events) })
}

// SaveCompare writes compare.json into dir (created if needed).
func SaveCompare(dir string, runs []*check.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save compare: %w", err)
	}
	return saveFile(filepath.Join(dir, CompareFile), func(w io.Writer) error { return WriteCompare(w, runs) })
}

// Rebuild recomputes a run's report from the history.jsonl and report.json
// in dir (the report supplies the lab), without re-running. Expect bounds
// are not re-evaluated: call Evaluate on the result.
func Rebuild(dir string) (*check.Report, error) {
	old, err := loadFile(filepath.Join(dir, ReportFile), ReadReport)
	if err != nil {
		return nil, err
	}
	events, err := loadFile(filepath.Join(dir, HistoryFile), history.ReadJSONLLog)
	if err != nil {
		return nil, err
	}
	r, _ := check.AnalyzeSource(events, old.Lab())
	// The servers' lease files are not in the history: keep what the run
	// found in them.
	r.LeaseFiles, r.ServerState = old.LeaseFiles, old.ServerState
	return r, nil
}

func saveFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("save %s: %w", path, cerr)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

func loadFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("load %s: %w", path, err)
	}
	return v, nil
}
