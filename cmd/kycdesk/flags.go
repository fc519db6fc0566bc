package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

// flags is a subcommand's flag set: errors become one-line usage errors (exit 2).
type flags struct {
	*flag.FlagSet
	name string
}

func newFlags(name string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, name: name}
}

func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// -h lists this command's flags: `kycdesk help` only sketches them.
			var b strings.Builder
			f.SetOutput(&b)
			f.PrintDefaults()
			f.SetOutput(io.Discard)
			return usagef("%s flags:\n%s", f.name, strings.TrimRight(b.String(), "\n"))
		}
		return usagef("%s: %v", f.name, err)
	}
	if f.NArg() > 0 {
		return usagef("%s: unexpected argument %q", f.name, f.Arg(0))
	}
	return nil
}

// env returns the environment value of key, or def.
func (m *Main) env(key, def string) string {
	if m.Getenv != nil {
		if v := m.Getenv(key); v != "" {
			return v
		}
	}
	return def
}

// dataFlag registers --data with KYCDESK_DATA as its default.
func (m *Main) dataFlag(f *flags) *string {
	return f.String("data", m.env("KYCDESK_DATA", config.Default().DataDir), "data directory (env KYCDESK_DATA)")
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func parsePrefixes(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		if !strings.Contains(v, "/") {
			a, err := netip.ParseAddr(v)
			if err != nil {
				return nil, usagef("bad address %q", v)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, usagef("bad CIDR %q", v)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// store is an opened data directory: the database, the inbox file beside it (webhook
// deliveries, with their own writer) and the master key's sealer.
type store struct {
	db     *db.DB
	inbox  *db.DB
	sealer *crypto.Sealer
}

func (s *store) Close() error { return errors.Join(s.inbox.Close(), s.db.Close()) }

// openStore opens the data dir; failing to is a usage error (exit 2), as DESIGN.md says.
func openStore(ctx context.Context, dir string) (*store, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, usagef("data dir %s is not a directory", dir)
	}
	d, err := db.Open(ctx, dir)
	if err != nil {
		return nil, usagef("cannot open data dir %s: %v", dir, err)
	}
	ib, err := db.OpenInbox(ctx, dir, d)
	if err != nil {
		d.Close()
		return nil, usagef("cannot open data dir %s: %v", dir, err)
	}
	st := &store{db: d, inbox: ib}
	key, err := crypto.LoadMasterKey(dir)
	if err != nil {
		st.Close()
		return nil, usagef("master key: %v", err)
	}
	if st.sealer, err = crypto.NewSealer(key); err != nil {
		st.Close()
		return nil, usagef("master key: %v", err)
	}
	return st, nil
}

// newLogger writes JSON lines, or readable text when w is a terminal (someone running
// kycdesk by hand); quiet keeps only warnings and errors (the demo's terminal is for its
// banner, not for an access log). Callers log ids and outcomes, never personal data,
// passwords, tokens or documents.
func newLogger(w io.Writer, quiet bool) *slog.Logger {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func (m *Main) printf(format string, args ...any) { fmt.Fprintf(m.Stdout, format, args...) }
