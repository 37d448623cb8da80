package scenarios

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// utf8Text returns a scenario file's text as UTF-8. YAML streams may be
// UTF-16, announced by a byte-order mark (YAML 1.2 §5.2; an editor's
// "Unicode" is UTF-16LE with one), and go.yaml.in/yaml/v3 reads them; but
// this package finds lines in the bytes itself (locateSyntaxError,
// sourceLine), where UTF-16's line feed is two bytes and a byte 0x0A may
// be half of another character. So a UTF-16 file is turned into UTF-8
// first, without its mark, and parsed as that: every line number is the
// same in both. Malformed UTF-16 is refused as the YAML library refuses
// it, with its words, on the line where the bad code unit is (line > 0).
// Anything else is returned as it is.
func utf8Text(data []byte) (text []byte, line int, problem string) {
	var order binary.ByteOrder
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		order = binary.LittleEndian
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		order = binary.BigEndian
	default:
		return data, 0, ""
	}
	in := data[2:]
	out := make([]byte, 0, len(in)+len(in)/2)
	lines := lineCounter{n: 1}
	for len(in) > 0 {
		if len(in) < 2 {
			return nil, lines.n, "incomplete UTF-16 character"
		}
		u := rune(order.Uint16(in))
		in = in[2:]
		switch {
		case utf16.IsSurrogate(u) && u >= 0xDC00:
			return nil, lines.n, "unexpected low surrogate area"
		case utf16.IsSurrogate(u):
			if len(in) < 2 {
				return nil, lines.n, "incomplete UTF-16 surrogate pair"
			}
			lo := rune(order.Uint16(in))
			if lo < 0xDC00 || lo > 0xDFFF {
				return nil, lines.n, "expected low surrogate area"
			}
			in = in[2:]
			u = utf16.DecodeRune(u, lo)
		}
		lines.add(u)
		out = utf8.AppendRune(out, u)
	}
	return out, 0, ""
}

// lineEnds returns where each line of UTF-8 text ends, as YAML counts
// lines (lineCounter): ends[k-1] is the length of the text through line k,
// its line break included, and the last is len(text).
func lineEnds(text []byte) []int {
	var ends []int
	lines := lineCounter{n: 1}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		i += size
		if n := lines.n; lines.add(r) > n {
			ends = append(ends, i)
		} else if r == '\n' && len(ends) > 0 && ends[len(ends)-1] == i-1 {
			ends[len(ends)-1] = i // a CR LF ends its line after the LF
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(text) {
		ends = append(ends, len(text))
	}
	return ends
}

// lineCounter counts lines as YAML does: LF, CR, NEL, LS and PS each end
// one, CR LF one (YAML 1.1 §5.4, which go.yaml.in/yaml/v3 follows).
type lineCounter struct {
	n      int  // the line being read, from 1
	lastCR bool // the last character was a CR
}

// add counts r and returns the line being read after it.
func (l *lineCounter) add(r rune) int {
	switch r {
	case '\n':
		if !l.lastCR {
			l.n++
		}
	case '\r', 0x85, 0x2028, 0x2029:
		l.n++
	}
	l.lastCR = r == '\r'
	return l.n
}
