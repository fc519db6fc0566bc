package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// userCreate adds an account: `kycdesk user create --email E --role R [--name N]`, the
// password from standard input (one line), or from a prompt without echo on a terminal.
func (m *Main) userCreate(ctx context.Context, args []string) error {
	f := newFlags("user create")
	data := m.dataFlag(f)
	email := f.String("email", "", "email address (the sign-in name)")
	role := f.String("role", "", "analyst, lead, admin or auditor")
	name := f.String("name", "", "display name")
	if err := f.parse(args); err != nil {
		return err
	}
	switch {
	case *email == "":
		return usagef("user create: --email is required")
	case *role == "":
		return usagef("user create: --role is required (analyst, lead, admin or auditor)")
	case !auth.Role(*role).Valid():
		return usagef("user create: bad --role %q: choose analyst, lead, admin or auditor", *role)
	}
	password, err := m.readPassword()
	if err != nil {
		return err
	}
	// The policy is checked before the data dir is opened, so a weak password costs nothing.
	if err := auth.CheckPassword(password, *email); err != nil {
		return fmt.Errorf("user create: %s", err)
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	users := auth.NewUsers(st.db, auth.NewHasher(0), st.sealer, nil)
	u, err := users.Create(ctx, auth.CLIActor, auth.NewUser{Email: *email, Name: *name, Role: auth.Role(*role), Password: password})
	if msg := errs.Message(err); msg != "" {
		return errors.New("user create: " + msg)
	}
	if err != nil {
		return err
	}
	m.printf("ok: created %s %s (id %d)\n", u.Role, u.Email, u.ID)
	return nil
}

// readPassword prompts without echo when stdin is a terminal, else reads one line.
func (m *Main) readPassword() (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.Stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", fmt.Errorf("user create: read password: %w", err)
		}
		return string(b), nil
	}
	if m.Stdin == nil {
		return "", usagef("user create: the password is read from standard input")
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("user create: read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("user create: no password on standard input (one line expected)")
	}
	return line, nil
}
