package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// maxLine bounds one JSON line when reading (a Detail can be long).
const maxLine = 16 << 20

// Writer appends events to a JSON-lines stream (history.jsonl), one event
// per line. It buffers: call Flush (or Close on the underlying file after
// Flush) when done.
type Writer struct {
	bw  *bufio.Writer
	enc *json.Encoder
	buf []byte // one line (appendEvent)
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Write appends one event.
func (w *Writer) Write(e Event) error {
	if b, ok := appendEvent(w.buf[:0], &e); ok {
		w.buf = append(b, '\n')
		if _, err := w.bw.Write(w.buf); err != nil {
			return fmt.Errorf("history: write %s event: %w", e.Kind, err)
		}
		return nil
	}
	if err := w.enc.Encode(e); err != nil {
		return fmt.Errorf("history: write %s event: %w", e.Kind, err)
	}
	return nil
}

// Flush writes buffered events to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("history: flush: %w", err)
	}
	return nil
}

// WriteJSONL writes events as JSON lines.
func WriteJSONL(w io.Writer, events []Event) error {
	return WriteSourceJSONL(w, Events(events))
}

// WriteSourceJSONL writes every event of src as JSON lines, the same
// bytes WriteJSONL writes for the same events in a slice, one event in
// memory at a time.
func WriteSourceJSONL(w io.Writer, src Source) error {
	jw := NewWriter(w)
	for i := range src.Len() {
		if err := jw.Write(src.Event(i)); err != nil {
			return err
		}
	}
	return jw.Flush()
}

// LineError is a line of a JSON-lines history that could not be decoded.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("history: line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadJSONL reads a JSON-lines history. Blank lines are skipped; a line
// that is not an event fails with a *LineError naming it (with the events
// before it).
func ReadJSONL(r io.Reader) ([]Event, error) {
	var events []Event
	err := ScanJSONL(r, func(e Event) { events = append(events, e) })
	return events, err
}

// ReadJSONLLog is ReadJSONL into a Log, for a history too large to hold
// as a []Event: a million-client day's four million events in a few
// hundred MB, not several GB. A merged grant (Renewals, Extended) keeps
// its record (Log.Append).
func ReadJSONLLog(r io.Reader) (*Log, error) {
	l := &Log{}
	err := ScanJSONL(r, l.Append)
	return l, err
}

// ScanJSONL reads a JSON-lines history, calling fn with each event in
// order. Blank lines are skipped; a line that is not an event stops it
// with a *LineError naming the line. A line as the Writer writes an
// ordinary event is read by hand (parseEvent), any other by
// encoding/json: the same events either way.
func ScanJSONL(r io.Reader, fn func(Event)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var st strTable
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		var e Event
		if !parseEvent(b, &e, &st) {
			e = Event{}
			if err := json.Unmarshal(b, &e); err != nil {
				return &LineError{Line: line, Err: err}
			}
		}
		fn(e)
	}
	if err := sc.Err(); err != nil {
		return &LineError{Line: line + 1, Err: err}
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
