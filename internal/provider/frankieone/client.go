package frankieone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// MaxResponseBytes caps what one API answer may hold. A document at level=base64 carries
// every attachment's image, so the cap is generous; past it the answer is refused, not cut.
const MaxResponseBytes = 32 << 20

// Client calls FrankieOne's v2 API for one integration. BaseURL is the v2 base including
// "/v2" (https://api.uat.frankie.one/v2). HTTP nil means a client with a one-minute timeout.
// Errors are *provider.APIError (the call failed) or *provider.ShapeError (the answer came
// but cannot be read); neither ever holds the API key or the answer's body.
type Client struct {
	BaseURL    string
	APIKey     string
	CustomerID string
	HTTP       *http.Client
}

// GetExecution fetches one workflow execution: the truth behind a notification.
func (c *Client) GetExecution(ctx context.Context, entityID, serviceName, workflowName, executionID string) (*Execution, error) {
	path, err := c.path("individuals", entityID, "serviceprofiles", serviceName, "workflows", workflowName, "executions", executionID)
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodGet, path, nil, "get execution")
	if err != nil {
		return nil, err
	}
	return ParseExecution(body)
}

// GetIndividual fetches the individual and its service profiles; after an entity
// notification, Profile.LatestExecution tells which execution to fetch.
func (c *Client) GetIndividual(ctx context.Context, entityID string) (*Profile, error) {
	path, err := c.path("individuals", entityID)
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodGet, path, nil, "get individual")
	if err != nil {
		return nil, err
	}
	return ParseProfile(body)
}

// GetDocument fetches one document with its attachments' images inline (level=base64).
func (c *Client) GetDocument(ctx context.Context, entityID, documentID string) (*Document, error) {
	path, err := c.path("individuals", entityID, "documents", documentID)
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodGet, path+"?level=base64", nil, "get document")
	if err != nil {
		return nil, err
	}
	return ParseDocument(body)
}

// OverrideStatus writes kycdesk's decision as the execution's status override and returns
// the requestId of FrankieOne's answer: the execution's statusOverrideRequestId will equal
// it, which is how kycdesk recognises the notification that follows as its own echo.
// requestID is empty when FrankieOne named none (in the body or the X-Frankie-RequestID header).
func (c *Client) OverrideStatus(ctx context.Context, entityID, serviceName, workflowName, executionID, status, comment string) (requestID string, err error) {
	path, err := c.path("individuals", entityID, "serviceprofiles", serviceName, "workflows", workflowName, "executions", executionID)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(status) == "" {
		return "", &provider.APIError{Msg: "override status: status is empty"}
	}
	type commentText struct {
		Text string `json:"text"`
	}
	payload, err := json.Marshal(struct {
		Status  string      `json:"status"`
		Comment commentText `json:"comment"`
	}{status, commentText{comment}})
	if err != nil {
		return "", err
	}
	var header http.Header
	body, err := c.doHeader(ctx, http.MethodPatch, path, payload, "override status", &header)
	if err != nil {
		return "", err
	}
	var answer struct {
		RequestID string `json:"requestId"`
	}
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &answer) != nil {
		answer.RequestID = ""
	}
	if answer.RequestID == "" && header != nil {
		answer.RequestID = header.Get("X-Frankie-RequestID")
	}
	return answer.RequestID, nil
}

// FetchDocuments fills Data for refs made by Execution.Result (ProviderID "documentId/
// attachmentId", neither Data nor URL), one GetDocument per document. It returns a new
// slice; refs that already hold Data or a URL are copied unchanged. An attachment FrankieOne
// serves as a link comes back with URL set, to fetch with provider.FetchURL. One that is gone
// (the document answers 404, or lacks the attachment) comes back with neither, and the
// caller records it as unavailable. Any other failure is returned, so the worker retries.
func (c *Client) FetchDocuments(ctx context.Context, entityID string, refs []cases.DocumentRef) ([]cases.DocumentRef, error) {
	out := make([]cases.DocumentRef, len(refs))
	copy(out, refs)
	docs := map[string]*Document{}
	for i := range out {
		ref := &out[i]
		if ref.Data != nil || ref.URL != "" {
			continue
		}
		documentID, attachmentID, _ := strings.Cut(ref.ProviderID, "/")
		if documentID == "" {
			continue
		}
		doc, seen := docs[documentID]
		if !seen {
			var err error
			doc, err = c.GetDocument(ctx, entityID, documentID)
			var apiErr *provider.APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
				doc, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			docs[documentID] = doc
		}
		if doc == nil {
			continue
		}
		for j := range doc.Attachments {
			a := &doc.Attachments[j]
			if attachmentID != "" && a.AttachmentID != attachmentID {
				continue
			}
			data, contentType, link, err := a.Image()
			if err != nil {
				break // unreadable image data: leave the ref empty, like a missing one
			}
			ref.Data, ref.URL = data, link
			if contentType != "" {
				ref.ContentType = contentType
			}
			break
		}
	}
	return out, nil
}

// path joins escaped segments under BaseURL. An empty segment is a caller's bug that would
// address another resource, so it is refused before any call.
func (c *Client) path(segments ...string) (string, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if err := provider.CheckHTTPURL(base); err != nil {
		return "", &provider.APIError{Msg: "FrankieOne API URL is not an absolute http or https URL"}
	}
	var b strings.Builder
	b.WriteString(base)
	for _, s := range segments {
		if strings.TrimSpace(s) == "" {
			return "", &provider.APIError{Msg: "empty path segment in a FrankieOne API call"}
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
}

func (c *Client) do(ctx context.Context, method, rawURL string, payload []byte, what string) ([]byte, error) {
	return c.doHeader(ctx, method, rawURL, payload, what, nil)
}

// doHeader makes one call and returns the answer's body when it is 2xx JSON.
func (c *Client) doHeader(ctx context.Context, method, rawURL string, payload []byte, what string, header *http.Header) ([]byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, &provider.APIError{Msg: what + ": bad request URL"}
	}
	req.Header.Set("api_key", c.APIKey)
	req.Header.Set("X-Frankie-CustomerID", c.CustomerID)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.httpClient().Do(req)
	if errors.Is(err, errForeignRedirect) {
		// Asking again is redirected again: the API URL needs fixing.
		return nil, &provider.APIError{Msg: what + ": " + errForeignRedirect.Error()}
	}
	if err != nil {
		return nil, provider.NetworkError(what, err)
	}
	defer resp.Body.Close()
	if e := provider.ErrorFromResponse(resp, what); e != nil {
		return nil, e
	}
	b, err := provider.ReadBody(resp, MaxResponseBytes, what)
	if err != nil {
		return nil, err
	}
	if header != nil {
		*header = resp.Header
	}
	if method != http.MethodPatch && !json.Valid(b) {
		// A 200 that is not JSON is a proxy or gateway page, not FrankieOne: worth another try.
		return nil, &provider.APIError{Status: resp.StatusCode, Retryable: true, Msg: what + ": answer is not JSON"}
	}
	return b, nil
}

var errForeignRedirect = errors.New("redirected to another host: refused")

// httpClient returns the configured client with redirects kept on the API's host: the
// api_key header is not one Go strips on redirect, so following a redirect elsewhere
// would hand the key to another server.
func (c *Client) httpClient() *http.Client {
	hc := &http.Client{Timeout: time.Minute}
	if c.HTTP != nil {
		copied := *c.HTTP
		hc = &copied
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && req.URL.Host != via[0].URL.Host {
			return errForeignRedirect
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return hc
}
