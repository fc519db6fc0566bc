// Command kycdesk is the one binary: the server, the demo, the provider simulator and the
// administration commands. main only parses the command line; Main.Run wires everything.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError is a bad command line: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main is the program with its standard streams, so tests can run it in-process.
type Main struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	m := &Main{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	err := m.Run(ctx)
	stop()
	os.Exit(exitCode(m.Stderr, err))
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "kycdesk: "+ue.msg)
		return 2
	case errors.As(err, &ee):
		return ee.code // the command already said why
	}
	fmt.Fprintln(stderr, "kycdesk: "+err.Error())
	return 1
}

// exitError ends the program with a code after the command printed its own result.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

const usage = `kycdesk — identity-verification case management

Usage:
  kycdesk serve        [--addr ADDR] [--data DIR] [--public-url URL] [--insecure-cookies] [--metrics-addr ADDR] [--trusted-proxy CIDR]...
  kycdesk demo         [--addr ADDR] [--keep] [--trickle DURATION]
  kycdesk user create  --email E --role analyst|lead|admin|auditor [--name N] [--data DIR]   (password on stdin)
  kycdesk integration add --provider frankieone|fptai|generic --auth hmac|token|jwt|ip [flags] [--data DIR]
  kycdesk apitoken create --name N [--data DIR]
  kycdesk audit verify [--checkpoint SEQ:HASH] [--data DIR]
  kycdesk audit checkpoint [--data DIR]
  kycdesk simulate     --target URL --provider frankieone|fptai|generic [--rate N] [--count N] [--data DIR] [...]
  kycdesk bench ingest [--seconds N] [--no-worker] [--rate N] [--sustain N] [--url URL --secret S [--data DIR]]
  kycdesk bench export [--cases N] [--seconds N]
  kycdesk bench queues [--cases N] [--rate R] [--deliveries D] [--seconds S] [--data DIR]
  kycdesk migrate      [--data DIR]
  kycdesk backup       --to FILE [--data DIR]

  kycdesk version

Environment: KYCDESK_ADDR, KYCDESK_DATA, KYCDESK_MASTER_KEY; every serve flag has a twin
(KYCDESK_PUBLIC_URL, KYCDESK_INSECURE_COOKIES, KYCDESK_METRICS_ADDR, KYCDESK_TRUSTED_PROXY, ...: serve -h).
`

// Run dispatches to a subcommand.
func (m *Main) Run(ctx context.Context) error {
	if len(m.Args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usagef("a command is required")
	}
	cmd, args := m.Args[0], m.Args[1:]
	two := func() (string, []string) {
		if len(args) == 0 {
			return "", nil
		}
		return args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return m.serve(ctx, args)
	case "demo":
		return m.demo(ctx, args)
	case "migrate":
		return m.migrate(ctx, args)
	case "backup":
		return m.backup(ctx, args)
	case "user":
		if sub, rest := two(); sub == "create" {
			return m.userCreate(ctx, rest)
		}
		return usagef("usage: kycdesk user create --email E --role R [--name N]")
	case "integration":
		if sub, rest := two(); sub == "add" {
			return m.integrationAdd(ctx, rest)
		}
		return usagef("usage: kycdesk integration add --provider P --auth A [...]")
	case "apitoken":
		if sub, rest := two(); sub == "create" {
			return m.apitokenCreate(ctx, rest)
		}
		return usagef("usage: kycdesk apitoken create --name N")
	case "audit":
		switch sub, rest := two(); sub {
		case "verify":
			return m.auditVerify(ctx, rest)
		case "checkpoint":
			return m.auditCheckpoint(ctx, rest)
		}
		return usagef("usage: kycdesk audit verify [--checkpoint SEQ:HASH] [--data DIR] | kycdesk audit checkpoint [--data DIR]")
	case "simulate":
		return m.simulate(ctx, args)
	case "bench":
		return m.bench(ctx, args)
	case "version", "--version":
		return m.printVersion(args)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return usagef("unknown command %q", cmd)
}
