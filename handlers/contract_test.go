package handlers

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Contract checks found by the acceptance review: answers that fasthttp gives before any
// middleware runs (body limit, oversized headers, an unparsable request) are still
// answers of ours, with a request id, the security headers and no echo of the request.

// rawExchange writes raw to a loopback connection (the body, if any, from a goroutine, as
// a slow sender would) and reads one HTTP answer.
func rawExchange(t *testing.T, base, raw string, body io.Reader) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go func() { _, _ = io.Copy(conn, body) }()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestContractRefusedBeforeRouting(t *testing.T) {
	env := newTestEnv(t)
	base := env.serve()
	over := int64(env.srv.Config.BodyLimit + 1)
	pad := strings.Repeat("p", 9000) // over fasthttp's 4 KiB header buffer

	tests := []struct {
		name   string
		raw    string
		body   io.Reader
		status int
		json   bool   // answered as {"error", "request_id"}
		secret string // part of the request that must not come back
	}{
		{name: "unparsable request line", raw: "GARBAGE-secret-cookie\r\n\r\n", status: 400, secret: "secret-cookie"},
		{name: "unparsable Content-Length", raw: "GET /login HTTP/1.1\r\nHost: x\r\nCookie: kycdesk_session=secret-cookie\r\nContent-Length: abc\r\n\r\n",
			status: 400, secret: "secret-cookie"},
		{name: "headers too large", raw: "GET /login HTTP/1.1\r\nHost: x\r\nX-Pad: " + pad + "\r\n\r\n", status: 431, secret: pad[:100]},
		{name: "webhook body over the limit", raw: "POST /webhooks/generic/abcdefghijkl HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.FormatInt(over, 10) + "\r\n\r\n", body: io.LimitReader(zeros{}, over), status: 413, json: true},
		{name: "form body over the limit", raw: "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			"Content-Length: " + strconv.FormatInt(over, 10) + "\r\n\r\n", body: io.LimitReader(zeros{}, over), status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawExchange(t, base, tt.raw, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.status, body)
			}
			rid := resp.Header.Get("X-Request-Id")
			if rid == "" {
				t.Errorf("no X-Request-Id")
			}
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if tt.secret != "" && strings.Contains(body, tt.secret) {
				t.Errorf("the answer quotes the request: %.300s", body)
			}
			if tt.json {
				var e struct {
					Error     string `json:"error"`
					RequestID string `json:"request_id"`
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || e.RequestID != rid {
					t.Errorf("JSON error %q, want error and request_id %q", body, rid)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if !strings.Contains(body, "<code>"+rid+"</code>") {
				t.Errorf("the page does not show request id %q", rid)
			}
			if strings.Contains(body, "<title> ·") {
				t.Errorf("the page has no title: %.300s", body)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
