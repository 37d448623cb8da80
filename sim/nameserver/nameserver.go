package nameserver

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"d6lab/deploy"
	"d6lab/server/daemon"

	"github.com/miekg/dns"
)

// Program paths (Debian bind9 and bind9-utils). Nothing in d6lab sets them;
// they are variables so that a caller on a host that installs them
// elsewhere can.
var (
	NamedBinary     = "/usr/sbin/named"                     // bind9
	CheckConfBinary = "/usr/bin/named-checkconf"            // bind9-utils
	checkConfAlt    = []string{"/usr/sbin/named-checkconf"} // older layouts
)

// ErrNotInstalled is wrapped by Installed's error (daemon's, so that one
// errors.Is covers the servers and the DNS server).
var ErrNotInstalled = daemon.ErrNotInstalled

// Installed says what is missing: named (Debian bind9) or named-checkconf
// (bind9-utils); nil when both are there.
func Installed() error {
	var errs []error
	if !executable(NamedBinary) {
		errs = append(errs, fmt.Errorf("%w: %s missing (install the Debian package bind9)", ErrNotInstalled, NamedBinary))
	}
	if checkConf() == "" {
		errs = append(errs, fmt.Errorf("%w: %s missing (install the Debian package bind9-utils)", ErrNotInstalled, CheckConfBinary))
	}
	return errors.Join(errs...)
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// checkConf is the named-checkconf to run, "" when there is none.
func checkConf() string {
	if executable(CheckConfBinary) {
		return CheckConfBinary
	}
	return ""
}

var namedVersion daemon.VersionCache

// Version is `named -v`'s first line up to the version ("BIND
// 9.18.49-1~deb12u3-Debian" of "BIND 9.18.49-1~deb12u3-Debian (Extended
// Support Version) <id:>"), "" when named is missing.
func Version() string {
	return namedVersion.Get(func(out string) string {
		line := daemon.FirstLine(out)
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "BIND" {
			return f[0] + " " + f[1]
		}
		return line
	}, NamedBinary, "-v")
}

// KeyBytes is the length of a key NewKey makes: RFC 8945 §6 asks for at
// least the HMAC's output length (32 bytes for SHA-256).
const KeyBytes = 32

// NewKey makes a fresh TSIG key (RFC 8945) for a run: hmac-sha256, 32
// random bytes, the secret in base64, named name (made fully qualified).
func NewKey(name string) (deploy.TSIG, error) {
	name = dns.Fqdn(strings.ToLower(name))
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return deploy.TSIG{}, fmt.Errorf("nameserver: key name %q: not a domain name", name)
	}
	b := make([]byte, KeyBytes)
	if _, err := rand.Read(b); err != nil {
		return deploy.TSIG{}, fmt.Errorf("nameserver: key %s: %w", name, err)
	}
	return deploy.TSIG{Name: name, Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString(b)}, nil
}

// runCheckConf runs `named-checkconf -z conf` and returns an error quoting
// its output when it refuses the configuration.
func runCheckConf(conf string) error {
	bin := checkConf()
	if bin == "" {
		return Installed()
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-z", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = filepath.Dir(conf)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("nameserver: named-checkconf refused %s: %s", conf, msg)
	}
	return nil
}
