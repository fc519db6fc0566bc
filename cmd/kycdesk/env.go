package main

import (
	"strconv"
	"strings"
	"time"
)

// Every serve flag has an environment twin (KYCDESK_ + the flag in upper case, dashes as
// underscores), for containers and systemd units; a flag given on the command line wins.
// A twin that does not parse is a usage error, like a bad flag.

// envName is the environment twin of a flag.
func envName(flag string) string {
	return "KYCDESK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// withEnv is a flag's help text with its twin named, so `serve -h` lists them.
func withEnv(help, flag string) string { return help + " (env " + envName(flag) + ")" }

func (m *Main) envString(flag, def string) string { return m.env(envName(flag), def) }

func (m *Main) envBool(flag string, def bool) (bool, error) {
	v := m.env(envName(flag), "")
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, usagef("%s: want true or false, got %q", envName(flag), v)
	}
	return b, nil
}

func (m *Main) envDuration(flag string, def time.Duration) (time.Duration, error) {
	v := m.env(envName(flag), "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return def, usagef("%s: want a duration such as 30m, got %q", envName(flag), v)
	}
	return d, nil
}

// envList splits a list twin (commas or spaces) of a repeatable flag.
func (m *Main) envList(flag string) []string {
	return strings.FieldsFunc(m.env(envName(flag), ""), func(r rune) bool { return r == ',' || r == ' ' })
}
