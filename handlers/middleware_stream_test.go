package handlers

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestAccessLogLeavesStreamsStreaming: a streamed response (the CSV reports) reaches the
// client as it is written. The access log once asked for the body's size, which read the
// whole stream into memory first: a million-row export went out only when it was complete.
func TestAccessLogLeavesStreamsStreaming(t *testing.T) {
	s := &Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	app := fiber.New()
	app.Use(s.accessLog)
	release := make(chan struct{})
	app.Get("/stream", func(c *fiber.Ctx) error {
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			w.WriteString("first\n")
			w.Flush()
			<-release
			w.WriteString("second\n")
			w.Flush()
		})
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/stream")
	if err != nil {
		t.Fatalf("the first line did not come before the stream ended: %v", err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); line != "first\n" || err != nil {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	released = true
	if rest, err := io.ReadAll(r); string(rest) != "second\n" || err != nil {
		t.Fatalf("rest %q, %v", rest, err)
	}
}
