// Package errs gives domain errors a code that the HTTP layer maps to a status and a
// plain-language message; anything without a code is an internal error, logged, never shown.
package errs

import (
	"errors"
	"fmt"
)

// Codes, after benbjohnson/wtf.
const (
	Invalid      = "invalid"      // 400: fix the request
	Unauthorized = "unauthorized" // 401: who are you?
	Forbidden    = "forbidden"    // 403: not for your role
	NotFound     = "not_found"    // 404
	Conflict     = "conflict"     // 409: the state changed under you
	TooLarge     = "too_large"    // 413
	TooMany      = "too_many"     // 429
	Unavailable  = "unavailable"  // 503: try again later
	Internal     = "internal"     // 500
)

// Error is a domain error safe to show: Message is written for the person who sees it.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for the log only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E makes an error with a code and a message formatted for the user.
func E(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and a user-facing message to a cause.
func Wrap(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Code returns err's code, or Internal when err carries none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Message returns err's user-facing message, or "" for internal errors.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
