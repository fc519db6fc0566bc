package main

import (
	"context"
	"errors"
)

// Commands still being built; each moves to its own file when it lands.

func (m *Main) demo(ctx context.Context, args []string) error {
	return errors.New("demo: not built yet")
}
func (m *Main) userCreate(ctx context.Context, args []string) error {
	return errors.New("user create: not built yet")
}
func (m *Main) integrationAdd(ctx context.Context, args []string) error {
	return errors.New("integration add: not built yet")
}
func (m *Main) apitokenCreate(ctx context.Context, args []string) error {
	return errors.New("apitoken create: not built yet")
}
func (m *Main) simulate(ctx context.Context, args []string) error {
	return errors.New("simulate: not built yet")
}
func (m *Main) bench(ctx context.Context, args []string) error {
	return errors.New("bench: not built yet")
}
