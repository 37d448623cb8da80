package linediff

import "bytes"

// First is the number (from 1) of the first line where x and y differ,
// with that line of each (nil past the end), or 0 when they are the same.
func First(x, y []byte) (n int, a, b []byte) {
	lx, ly := bytes.Split(x, []byte("\n")), bytes.Split(y, []byte("\n"))
	for i := range max(len(lx), len(ly)) {
		a, b = nil, nil
		if i < len(lx) {
			a = lx[i]
		}
		if i < len(ly) {
			b = ly[i]
		}
		if !bytes.Equal(a, b) {
			return i + 1, a, b
		}
	}
	return 0, nil, nil
}
