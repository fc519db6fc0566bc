package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"99.41", 99.41, true},
		{" 97,5 ", 97.5, true},
		{"42%", 42, true},
		{"0", 0, true},
		{"-1", -1, true},
		{"N/A", 0, false},
		{"n/a", 0, false},
		{"", 0, false},
		{"null", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1,000.5", 0, false},
		{"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseNumber(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in       string
		want, ok bool
	}{
		{"true", true, true}, {"True", true, true}, {"1", true, true},
		{"false", false, true}, {"FALSE", false, true}, {"0", false, true},
		{"N/A", false, false}, {"", false, false}, {"maybe", false, false},
	}
	for _, tt := range tests {
		got, ok := ParseBool(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseBool(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTextAndNumber(t *testing.T) {
	var v struct {
		A, B, C, D, E, F Text
		N, M, O          Number
	}
	body := `{"A":"TRẦN VĂN ĐỨC","B":99.5,"C":true,"D":null,"E":{"x": [1, 2]},"F":[ "a" ],"N":"0.93","M":"N/A","O":7}`
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "TRẦN VĂN ĐỨC" || v.B != "99.5" || v.C != "true" || v.D != "" || v.E != `{"x":[1,2]}` || v.F != `["a"]` {
		t.Errorf("Text values = %q", []Text{v.A, v.B, v.C, v.D, v.E, v.F})
	}
	if !v.N.Valid || v.N.Value != 0.93 || v.M.Valid || v.M.Ptr() != nil || *v.O.Ptr() != 7 {
		t.Errorf("Number values = %+v %+v %+v", v.N, v.M, v.O)
	}
	b, _ := json.Marshal(struct{ M, O Number }{v.M, v.O})
	if string(b) != `{"M":null,"O":7}` {
		t.Errorf("Number marshal = %s", b)
	}
}

func TestJSONShapeError(t *testing.T) {
	var target struct {
		Verification struct {
			Reference string   `json:"reference"`
			Score     *float64 `json:"score"`
		} `json:"verification"`
	}
	tests := []struct{ body, want string }{
		{`{"verification":{"reference":1}}`, "verification.reference must be a string"},
		{`{"verification":{"score":"high"}}`, "verification.score must be a number"},
		{`{"verification":[]}`, "verification must be an object"},
		{`{"verification":`, "body is not valid JSON (at byte 16)"},
		{`{"verification":{}} x`, "body is not valid JSON (at byte 21)"},
	}
	for _, tt := range tests {
		err := json.Unmarshal([]byte(tt.body), &target)
		if got := JSONShapeError(err).Reason; got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status          int
		retryable, auth bool
	}{
		{400, false, false}, {401, false, true}, {403, false, true}, {404, false, false}, {409, false, false},
		{408, true, false}, {422, false, false}, {429, true, false}, {500, true, false}, {503, true, false}, {599, true, false},
	}
	for _, tt := range tests {
		e := ClassifyStatus(tt.status, "get thing")
		if e == nil || e.Status != tt.status || e.Retryable != tt.retryable || e.Auth != tt.auth {
			t.Errorf("ClassifyStatus(%d) = %+v", tt.status, e)
		}
	}
	if e := ClassifyStatus(204, "x"); e != nil {
		t.Errorf("2xx gives %v", e)
	}
}

func TestFetchURL(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nrest")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img/selfie":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(png)
		case "/img/big":
			_, _ = w.Write(bytes.Repeat([]byte("x"), 2048))
		case "/img/slow-down":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	data, ct, err := FetchURL(ctx, srv.Client(), srv.URL+"/img/selfie?sig=SECRET", 1024)
	if err != nil || !bytes.Equal(data, png) || ct != "image/png" {
		t.Fatalf("FetchURL = %q %q %v", data, ct, err)
	}

	tests := []struct {
		name, url       string
		status          int
		retryable, auth bool
	}{
		{"too large", srv.URL + "/img/big?sig=SECRET", 200, false, false},
		{"not found", srv.URL + "/img/none?sig=SECRET", 404, false, false},
		{"rate limited", srv.URL + "/img/slow-down?sig=SECRET", 429, true, false},
		{"file scheme", "file:///etc/passwd", 0, false, false},
		{"no host", "http:///x?sig=SECRET", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FetchURL(ctx, srv.Client(), tt.url, 1024)
			var e *APIError
			if !errors.As(err, &e) || e.Status != tt.status || e.Retryable != tt.retryable || e.Auth != tt.auth {
				t.Fatalf("err = %#v", err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "passwd") {
				t.Errorf("error text %q holds the URL", err)
			}
		})
	}

	t.Run("network error", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, _, err := FetchURL(ctx, nil, "http://"+addr+"/x?sig=SECRET", 1024)
		var e *APIError
		if !errors.As(err, &e) || !e.Retryable || e.Status != 0 || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDecodeImages(t *testing.T) {
	for _, in := range []string{"aGVsbG8=", "aGVsbG8", "aGVs\nbG8=", "aGVsbG8-"[:7]} {
		if b, err := DecodeBase64(in); err != nil || string(b) != "hello" {
			t.Errorf("DecodeBase64(%q) = %q %v", in, b, err)
		}
	}
	if b, err := DecodeBase64("_-8"); err != nil || !bytes.Equal(b, []byte{0xff, 0xef}) {
		t.Errorf("URL alphabet: %x %v", b, err)
	}
	for _, in := range []string{"", "!!!", "a"} {
		if _, err := DecodeBase64(in); err == nil {
			t.Errorf("DecodeBase64(%q) accepted", in)
		}
	}

	b, ct, err := DecodeDataURI("data:image/png;charset=binary;base64,aGVsbG8=")
	if err != nil || string(b) != "hello" || ct != "image/png" {
		t.Errorf("DecodeDataURI = %q %q %v", b, ct, err)
	}
	for _, in := range []string{"data:image/png,hello", "data:image/png;base64", "http://x/y", "data:;base64,!!"} {
		if _, _, err := DecodeDataURI(in); err == nil {
			t.Errorf("DecodeDataURI(%q) accepted", in)
		}
	}
}
