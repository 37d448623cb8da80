// Package render presents check.Reports: an aligned terminal table for one
// run, a side-by-side table comparing runs (one column per model), and the
// JSON files a run leaves behind (report.json, compare.json, with the
// history.jsonl it was computed from, so a report can be rebuilt without
// re-running).
package render
