package main

import (
	"context"
	"errors"

	"github.com/kycdesk/kycdesk/internal/apitoken"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// apitokenCreate makes a read-only token for /api/v1: `kycdesk apitoken create --name N`
// prints exactly one line, `token: <token>`. The token is shown only here; the database
// keeps its hash, and the audit trail its name, with the actor "cli".
func (m *Main) apitokenCreate(ctx context.Context, args []string) error {
	f := newFlags("apitoken create")
	data := m.dataFlag(f)
	name := f.String("name", "", "what the token is for, e.g. the system that will use it")
	if err := f.parse(args); err != nil {
		return err
	}
	if *name == "" {
		return usagef("apitoken create: --name is required")
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	tokens := &apitoken.Store{DB: st.db}
	_, token, err := tokens.Create(ctx, *name, auth.CLIActor)
	if errs.Code(err) == errs.Invalid {
		return usagef("apitoken create: %s", errs.Message(err))
	}
	if msg := errs.Message(err); msg != "" {
		return errors.New("apitoken create: " + msg)
	}
	if err != nil {
		return err
	}
	m.printf("token: %s\n", token)
	return nil
}
