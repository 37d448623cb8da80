package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK       = 0
	exitBroken   = 1 // an expectation was broken
	exitBadInput = 2 // bad flags, bad scenario, lab set-up failure
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(format string, a ...any) error {
	return &exitError{code: exitBadInput, err: fmt.Errorf(format, a...)}
}

func main() {
	root := &cobra.Command{
		Use:           "d6lab",
		Short:         "DHCPv6 redundancy lab: measure RFC 6853's deployment models",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitBadInput, err: err}
	})
	root.AddCommand(serveCmd(), runCmd(), compareCmd(), cleanCmd())
	os.Exit(execute(root))
}

func execute(root *cobra.Command) int {
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "d6lab:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) are bad input.
	return exitBadInput
}
