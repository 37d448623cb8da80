// Package render presents check.Reports: an aligned terminal table for one
// run, a side-by-side table comparing runs (one column per model), the JSON
// files a run leaves behind (report.json, compare.json, with the
// history.jsonl it was computed from, so a report can be rebuilt without
// re-running, unless the run was made with --no-history-file), and the readable outputs: report.html (one self-contained
// page, charts from package chart inlined as SVG, no script, no network),
// report.md (a summary for a pull-request comment) and junit.xml (one test
// case per expectation, for CI). Every readable output says what the
// simulated clients' profile does not model where the run met it
// (gaps.go).
package render
