package provider

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is a failed call to a provider's API (or an image URL it handed over), classified
// the way the design asks the worker to react: 400/404/422 fix the request and do not retry,
// 401/403 check credentials (mark the integration unhealthy, do not hammer), 429, 5xx and
// network faults retry with backoff. Msg never holds the response body, the URL's query or a key.
type APIError struct {
	Status     int  // HTTP status; 0 when no answer came back
	Retryable  bool // worth trying again later
	Auth       bool // credentials refused: the integration needs attention
	Msg        string
	RetryAfter time.Duration // the provider's Retry-After on 429/503, when it sent one

	cause error // for errors.Is (context.Canceled, ...); its text is not in Error()
}

func (e *APIError) Error() string {
	if e.Status == 0 {
		return "provider API: " + e.Msg
	}
	return fmt.Sprintf("provider API: status %d: %s", e.Status, e.Msg)
}

func (e *APIError) Unwrap() error { return e.cause }

// ClassifyStatus returns the APIError for a non-2xx answer, or nil for 2xx.
func ClassifyStatus(status int, what string) *APIError {
	if status >= 200 && status < 300 {
		return nil
	}
	e := &APIError{Status: status, Msg: what + ": " + strings.ToLower(http.StatusText(status))}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Auth = true
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		e.Retryable = true
	}
	if http.StatusText(status) == "" {
		e.Msg = what + ": unexpected status"
	}
	return e
}

// NetworkError wraps a transport failure (no HTTP answer). It is retryable; the message keeps
// the cause ("connection refused", "timeout") but not the URL, which may carry a signed token.
func NetworkError(what string, err error) *APIError {
	var ue *url.Error
	cause := err
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	msg := what + ": network error"
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &APIError{Retryable: true, Msg: msg, cause: err}
}

// ReadBody reads a response body up to max bytes. A longer body is an APIError that is not
// retryable: asking again brings the same oversized answer.
func ReadBody(resp *http.Response, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, NetworkError(what, err)
	}
	if int64(len(b)) > max {
		return nil, &APIError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s: answer larger than %d bytes", what, max)}
	}
	return b, nil
}

// ErrorFromResponse classifies a non-2xx answer and drains a little of its body so the
// connection can be reused. The body itself is never read into the error.
func ErrorFromResponse(resp *http.Response, what string) *APIError {
	e := ClassifyStatus(resp.StatusCode, what)
	if e == nil {
		return nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if e.Retryable {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return e
}

func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// CheckHTTPURL reports whether s is an absolute http or https URL with a host: the only kind
// of document URL kycdesk will fetch.
func CheckHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("not an http or https URL")
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}

// FetchURL downloads a document image from a URL a provider (or a customer's proxy) handed
// over, up to maxBytes. It sends no credentials: such URLs are pre-signed or open to the
// worker's network. client nil means a client with a one-minute timeout.
func FetchURL(ctx context.Context, client *http.Client, rawURL string, maxBytes int64) (data []byte, contentType string, err error) {
	const what = "fetching document"
	if err := CheckHTTPURL(rawURL); err != nil {
		return nil, "", &APIError{Msg: what + ": " + err.Error()}
	}
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", &APIError{Msg: what + ": bad URL"}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", NetworkError(what, err)
	}
	defer resp.Body.Close()
	if e := ErrorFromResponse(resp, what); e != nil {
		return nil, "", e
	}
	if resp.ContentLength > maxBytes {
		return nil, "", &APIError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s: answer larger than %d bytes", what, maxBytes)}
	}
	data, err = ReadBody(resp, maxBytes, what)
	if err != nil {
		return nil, "", err
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// DecodeBase64 reads base64 as providers write it: standard or URL alphabet, padded or not,
// with line breaks or not.
func DecodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, errors.New("empty base64")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// DecodeDataURI reads a base64 data URI ("data:image/png;base64,...") into its bytes and
// declared content type.
func DecodeDataURI(s string) (data []byte, contentType string, err error) {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return nil, "", errors.New("not a data URI")
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, "", errors.New("data URI has no comma")
	}
	params := strings.Split(meta, ";")
	if params[len(params)-1] != "base64" {
		return nil, "", errors.New("data URI is not base64")
	}
	contentType = params[0]
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(strings.Join(params[:len(params)-1], ";")); err == nil {
			contentType = mt
		}
	}
	data, err = DecodeBase64(payload)
	if err != nil {
		return nil, "", err
	}
	return data, contentType, nil
}
