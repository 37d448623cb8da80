// Package history holds the event types that every part of d6lab records and
// every checker reads: what a simulated client did (solicited, bound,
// renewed, rebound, renumbered, refused, expired, declined, released, ...)
// and what the lab did (a server started, killed, frozen, cut off, ...).
//
// It is a leaf package: the protocol cores, the engines and the reports may
// all import it, and it imports nothing of d6lab. A history is append-only;
// checkers decide afterwards (the Jepsen/porcupine shape).
//
// A history is a []Event, or a Log for a large run: fixed 48-byte records
// with interned strings and lifetimes, which gives back exactly the events
// appended. Both are a Source, what the checkers read. A Log may merge
// renewals (AppendMerging, merge.go): a Renewed that only extends the
// client's last grant is counted in that grant's event (Renewals,
// Extended) instead of being appended, which the checkers read as the
// renewals themselves. The Writer writes
// JSON lines (history.jsonl), ordinary events by hand and the rest through
// encoding/json: the same bytes either way. ScanJSONL reads them back the
// same way: a line as the Writer's own encoder writes it by hand
// (decode.go), any other through encoding/json, the same events either
// way.
package history
