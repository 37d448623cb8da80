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
	exitBadInput = 2 // bad flags, bad scenario or run directory, lab set-up failure
)

// exitError carries an exit code up to main, with what kind of failure it
// is (printed before the message; empty: named after the code).
type exitError struct {
	code int
	kind string
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// what names the failure for the exit message.
func (e *exitError) what() string {
	if e.kind != "" {
		return e.kind
	}
	switch e.code {
	case exitBroken:
		return "expectation broken"
	case exitBadInput:
		return "bad input"
	case exitInterrupted:
		return "interrupted"
	}
	return "error"
}

func badInput(format string, a ...any) error {
	return &exitError{code: exitBadInput, err: fmt.Errorf(format, a...)}
}

// labFailed is exit 2 for a lab that could not be set up or run.
func labFailed(err error) error {
	return &exitError{code: exitBadInput, kind: "lab failed", err: err}
}

// outputFailed is exit 2 for outputs that could not be written.
func outputFailed(err error) error {
	return &exitError{code: exitBadInput, kind: "cannot write the outputs", err: err}
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
	memoryLimitFlag(root)
	root.AddCommand(serveCmd(), runCmd(), compareCmd(), reportCmd(), cleanCmd(), benchCmd(), conformCmd(), serversCmd(), sweepCmd(), adviseCmd())
	os.Exit(execute(root))
}

func execute(root *cobra.Command) int {
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "d6lab: %s: %v\n", ee.what(), err)
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) are bad input.
	fmt.Fprintln(os.Stderr, "d6lab: bad input:", err)
	return exitBadInput
}
