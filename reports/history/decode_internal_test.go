package history

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// viaStd is what encoding/json decodes from line.
func viaStd(line []byte) (Event, error) {
	var e Event
	err := json.Unmarshal(line, &e)
	return e, err
}

// sameAsStd fails t unless parseEvent either refuses line or decodes the
// event encoding/json decodes from it. It reports whether parseEvent took
// the line.
func sameAsStd(t *testing.T, line []byte) bool {
	t.Helper()
	var got Event
	var st strTable
	if !parseEvent(line, &got, &st) {
		return false
	}
	want, err := viaStd(line)
	if err != nil {
		t.Fatalf("parseEvent took %q, which encoding/json refuses: %v", line, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nparseEvent    %#v\nencoding/json %#v", line, got, want)
	}
	return true
}

func peer(i int) *int { return &i }

// writtenEvents are events as the engines write them, every field used.
var writtenEvents = []Event{
	{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Kind: RunStarted, Client: -1, Detail: "split-24h"},
	{At: time.Date(2026, 1, 1, 0, 0, 4, 506646221, time.UTC), Kind: Bound, Client: 70084, DUID: "000300010256b582c77d",
		Server: "0003000102d61ab00001", IA: IANA, IAID: 1, Lease: netip.MustParsePrefix("2001:db8:1:1::1:467/128"),
		T1: 30 * time.Minute, T2: 48 * time.Minute, Preferred: time.Hour, Valid: 2 * time.Hour, Tentative: 1695472762,
		Renewals: 1, Extended: time.Date(2026, 1, 1, 0, 30, 4, 506646221, time.UTC)},
	{At: time.Date(2026, 1, 1, 1, 18, 12, 431012600, time.UTC), Kind: Renumbered, Client: 204094, DUID: "0003000102cf52456543",
		Server: "0003000102d61ab00002", IA: IAPD, IAID: 4294967295, Lease: netip.MustParsePrefix("2001:db8:100::/56"),
		Old: netip.MustParsePrefix("2001:db8:200::/56"), T1: 1, Valid: -time.Second},
	{At: time.Date(2024, 2, 29, 23, 59, 59, 1, time.UTC), Kind: Declined, Client: 3, DUID: "00030001", Cause: CauseDAD, Peer: peer(0)},
	{At: time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), Kind: ServerLoad, Client: -1, Server: "s2", Detail: "50326"},
	{At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Kind: Refused, Client: 1<<63 - 1, Cause: CauseNoBinding, Peer: peer(-7)},
	{At: time.Date(9999, 12, 31, 0, 0, 0, 100, time.UTC), Kind: Expired, Client: -1 << 63, Renewals: -1,
		Lease: netip.MustParsePrefix("10.0.0.0/8"), Old: netip.MustParsePrefix("::ffff:10.0.0.1/128")},
	{},
}

func TestParseEventTakesWhatTheWriterWrites(t *testing.T) {
	for _, e := range writtenEvents {
		line, ok := appendEvent(nil, &e)
		if !ok {
			t.Fatalf("appendEvent refused %#v", e)
		}
		if !sameAsStd(t, line) {
			t.Errorf("parseEvent refused the Writer's %s", line)
		}
	}
}

// parseCases are lines with what parseEvent does with them: true, read
// (and then as encoding/json reads it); false, handed to encoding/json.
var parseCases = []struct {
	line string
	took bool
}{
	{`{}`, true},
	{`{"client":-0}`, true},
	{`{"client":-9223372036854775808}`, true},
	{`{"client":9223372036854775807}`, true},
	{`{"iaid":4294967295}`, true},
	{`{"at":"2024-02-29T00:00:00.5Z","extended":"0000-01-01T00:00:00Z"}`, true},
	{`{"duid":"","server":"","cause":""}`, true},
	{`{"lease":"2001:db8::1/64","old":"2001:db8::/48"}`, true},
	// encoding/json's, each for a reason
	{`{"client":9223372036854775808}`, false},
	{`{"client":-9223372036854775809}`, false},
	{`{"client":12345678901234567890123}`, false},
	{`{"client":18446744073709551617}`, false},  // 2^64 + 1, 1 in a uint64
	{`{"client":-18446744073709551615}`, false}, // 1 - 2^64
	{`{"client":01}`, false},
	{`{"client":1.0}`, false},
	{`{"client":1e3}`, false},
	{`{"client":-}`, false},
	{`{"client":"1"}`, false},
	{`{"iaid":-0}`, false},
	{`{"iaid":-1}`, false},
	{`{"iaid":4294967296}`, false},
	{`{"peer":null}`, false},
	{`{"kind":"a\"b"}`, false},
	{`{"kind":"a\\b"}`, false},
	{`{"kind":"é"}`, false},
	{"{\"kind\":\"tab\there\"}", false},
	{`{"kind":"open}`, false},
	{`{"kind":"x","at":"2026-01-01T00:00:00Z"}`, false}, // out of order
	{`{"kind":"x","kind":"y"}`, false},                  // twice
	{`{"KIND":"x"}`, false},
	{`{"other":1}`, false},
	{`{"lease":""}`, false},
	{`{"lease":"2001:db8::1"}`, false},
	{`{"lease":"2001:db8::1/129"}`, false},
	{`{"at":"2026-01-01T00:00:00+01:00"}`, false},
	{`{"at":"2026-01-01T00:00:00z"}`, false},
	{`{"at":"2026-01-01t00:00:00Z"}`, false},
	{`{"at":"2026-02-29T00:00:00Z"}`, false},
	{`{"at":"2026-04-31T00:00:00Z"}`, false},
	{`{"at":"2026-13-01T00:00:00Z"}`, false},
	{`{"at":"2026-01-01T24:00:00Z"}`, false},
	{`{"at":"2026-01-01T00:60:00Z"}`, false},
	{`{"at":"2026-01-01T00:00:60Z"}`, false},
	{`{"at":"2026-01-01T00:00:00.Z"}`, false},
	{`{"at":"2026-01-01T00:00:00,5Z"}`, false},
	{`{"at":"2026-01-01T00:00:00.1234567891Z"}`, false},
	{`{"at":"-001-01-01T00:00:00Z"}`, false},
	{`{"at":null}`, false},
	{` {}`, false},
	{`{} `, false},
	{"{}\r", false},
	{`{"client":1,}`, false},
	{`{"client":1}}`, false},
	{`{"client" :1}`, false},
	{`null`, false},
	{``, false},
	{`{`, false},
	{`{"`, false},
	{`{"at"`, false},
}

func TestParseEventCases(t *testing.T) {
	for _, c := range parseCases {
		if took := sameAsStd(t, []byte(c.line)); took != c.took {
			t.Errorf("%s: parseEvent took it %v, want %v", c.line, took, c.took)
		}
	}
}

func TestParseEventAllocations(t *testing.T) {
	// A renewal as the engine writes it: its DUID is made anew, and the
	// text of its lease for netip.ParsePrefix, which takes a string.
	line := []byte(`{"at":"2026-01-01T00:30:04.506646221Z","kind":"renewed","client":70084,"duid":"000300010256b582c77d","server":"0003000102d61ab00001","ia":"na","iaid":1,"lease":"2001:db8:1:1::1:467/128","t1":1800000000000,"t2":2880000000000,"preferred":3600000000000,"valid":7200000000000}`)
	var st strTable
	var e Event
	if !parseEvent(line, &e, &st) {
		t.Fatal("refused")
	}
	if n := testing.AllocsPerRun(1000, func() {
		e = Event{}
		parseEvent(line, &e, &st)
	}); n > 2 {
		t.Errorf("%v allocations a line, want at most 2 (the DUID, the lease's text)", n)
	}
}

func TestStrTableStops(t *testing.T) {
	var st strTable
	for i := range strTableMax + 10 {
		_ = st.get([]byte(time.Duration(i).String()))
	}
	if len(st.m) != strTableMax {
		t.Fatalf("%d strings kept, want %d", len(st.m), strTableMax)
	}
	if s := st.get([]byte("x-new")); s != "x-new" {
		t.Fatalf("got %q past the table's end", s)
	}
}

// FuzzParseMatchesJSON: whatever parseEvent takes, encoding/json decodes
// to the same Event.
func FuzzParseMatchesJSON(f *testing.F) {
	for _, e := range writtenEvents {
		line, _ := appendEvent(nil, &e)
		f.Add(line)
	}
	for _, c := range parseCases {
		f.Add([]byte(c.line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		sameAsStd(t, line)
	})
}

func BenchmarkParseEvent(b *testing.B) {
	var lines [][]byte
	for _, e := range writtenEvents[:5] {
		line, _ := appendEvent(nil, &e)
		lines = append(lines, line)
	}
	b.Run("parseEvent", func(b *testing.B) {
		var st strTable
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var e Event
			if !parseEvent(lines[i%len(lines)], &e, &st) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var e Event
			if err := json.Unmarshal(lines[i%len(lines)], &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
