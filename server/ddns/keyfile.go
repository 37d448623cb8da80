package ddns

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"

	"d6lab/deploy"
)

// The key file of `d6lab serve --ddns-key-file`: one line with three
// fields separated by blanks, the key's name, its algorithm and its secret
// in base64, as in
//
//	d6lab-ddns. hmac-sha256. c2VjcmV0IGtleSBvZiB0aGUgbGFi
//
// Names without the final dot get one; the algorithm is one of Algorithms
// ("hmac-sha256" and "HMAC-SHA256." say the same). Blank lines and lines
// starting with '#' are ignored; exactly one key line is allowed.

// ParseKey reads a key file's contents.
func ParseKey(b []byte) (deploy.TSIG, error) {
	var k deploy.TSIG
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return k, fmt.Errorf("line %d: want \"name algorithm secret\", got %d fields", n, len(f))
		}
		if found {
			return k, fmt.Errorf("line %d: a second key (one key per file)", n)
		}
		found = true
		k = deploy.TSIG{Name: dns.CanonicalName(f[0]), Algorithm: dns.CanonicalName(f[1]), Secret: f[2]}
	}
	if err := sc.Err(); err != nil {
		return k, err
	}
	if !found {
		return k, fmt.Errorf("no key line (want \"name algorithm secret\")")
	}
	if err := ValidateKey(k); err != nil {
		return k, err
	}
	return k, nil
}

// ReadKeyFile reads the key file at path.
func ReadKeyFile(path string) (deploy.TSIG, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return deploy.TSIG{}, err
	}
	k, err := ParseKey(b)
	if err != nil {
		return k, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// FormatKey is the key file of k (ParseKey's format).
func FormatKey(k deploy.TSIG) []byte {
	return fmt.Appendf(nil, "# TSIG key for d6lab serve --ddns-key-file: name algorithm secret\n%s %s %s\n",
		k.Name, k.Algorithm, k.Secret)
}

// WriteKeyFile writes k to path, readable by its owner only.
func WriteKeyFile(path string, k deploy.TSIG) error {
	return os.WriteFile(path, FormatKey(k), 0o600)
}
