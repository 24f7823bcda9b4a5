package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// maxResponseBytes bounds one API answer (a records page of 10,000 wide rows fits).
const maxResponseBytes = 512 << 20

// Client calls the Sluice collector's HTTP API.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// NewClient builds a client for the settings.
func NewClient(s *Settings) (*Client, error) {
	hc, err := s.HTTPClient()
	if err != nil {
		return nil, err
	}
	return &Client{base: s.URL, token: s.apiToken, http: hc}, nil
}

// UnreachableError: no HTTP answer (DNS, refused, TLS, timeout).
type UnreachableError struct {
	URL    string
	Reason string
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Sluice API at %s: %s", e.URL, e.Reason)
}

// APIError is an HTTP answer other than 2xx, with the API's `{ error, ... }` body.
type APIError struct {
	Path    string
	Status  int
	Message string
	// Column of a filter error (1-based), when the API gives one.
	Column int
	// Detail is the rest of the error body (limit, max, expected, found...).
	Detail map[string]any
	// Sluice says whether the body had the API's error shape.
	Sluice bool
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Column > 0 && !strings.Contains(msg, "column") {
		msg = fmt.Sprintf("%s (column %d)", msg, e.Column)
	}
	return fmt.Sprintf("Sluice API %s answered %d: %s", e.Path, e.Status, msg)
}

// NotSluiceError: a 2xx answer that is not what the Sluice API sends.
type NotSluiceError struct {
	Path   string
	Reason string
}

func (e *NotSluiceError) Error() string {
	return fmt.Sprintf("%s did not answer like the Sluice API (%s): is the URL the collector's HTTP API (port 9850 by default)?", e.Path, e.Reason)
}

// redact removes the token from a text, whatever produced it.
func (c *Client) redact(s string) string {
	if c.token != "" && len(c.token) >= 4 {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	return s
}

func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// Do sends a request; auth adds the bearer token. It returns the body of a 2xx
// answer; any other answer is an *APIError, no answer an *UnreachableError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body []byte, auth bool, header http.Header) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), rd)
	if err != nil {
		return nil, errors.New(c.redact(err.Error()))
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sluice-flows-datasource")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, &UnreachableError{URL: c.base.Redacted(), Reason: c.redact(transportReason(ctx, err))}
	}
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &UnreachableError{URL: c.base.Redacted(), Reason: c.redact("reading the answer: " + transportReason(ctx, err))}
	}
	if len(data) > maxResponseBytes {
		return nil, &APIError{Path: path, Status: res.StatusCode, Message: fmt.Sprintf("answer larger than %d MiB: narrow the query", maxResponseBytes>>20)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, c.apiError(path, res.StatusCode, data)
	}
	return data, nil
}

func (c *Client) apiError(path string, status int, data []byte) *APIError {
	e := &APIError{Path: path, Status: status}
	var body map[string]any
	if json.Unmarshal(data, &body) == nil {
		if msg, ok := body["error"].(string); ok {
			e.Sluice = true
			e.Message = c.redact(msg)
			delete(body, "error")
			if col, ok := body["column"].(float64); ok {
				e.Column = int(col)
			}
			e.Detail = body
			return e
		}
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	e.Message = c.redact(text)
	return e
}

// transportReason says in a few words why no answer came.
func transportReason(ctx context.Context, err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "the request was cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer before the timeout"
	case errors.As(err, &dns):
		return fmt.Sprintf("host %q not found", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the collector running, and its API listening on that address and port?)"
	case strings.Contains(err.Error(), "certificate"):
		return "TLS: " + innermost(err) + " (set a CA certificate or skip verification)"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the server speaks HTTP, not HTTPS: use http:// in the URL"
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return "the server speaks HTTP, not HTTPS: use http:// in the URL"
	default:
		return innermost(err)
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// innermost is the message of the error without the URL the http client prefixes.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// Field is one entry of GET /api/v1/fields.
type Field struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Searchable   bool   `json:"searchable"`
	Aggregatable bool   `json:"aggregatable"`
}

// FieldsResponse is the body of GET /api/v1/fields.
type FieldsResponse struct {
	Fields []Field `json:"fields"`
}

// Fields lists the queryable fields.
func (c *Client) Fields(ctx context.Context, header http.Header) (*FieldsResponse, []byte, error) {
	const path = "/api/v1/fields"
	data, err := c.Do(ctx, http.MethodGet, path, nil, nil, true, header)
	if err != nil {
		return nil, nil, err
	}
	var out struct {
		Fields *[]Field `json:"fields"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, nil, &NotSluiceError{Path: path, Reason: "the answer is not JSON"}
	}
	if out.Fields == nil {
		return nil, nil, &NotSluiceError{Path: path, Reason: "no `fields` list in the answer"}
	}
	return &FieldsResponse{Fields: *out.Fields}, data, nil
}

// Query runs one request body against POST /api/v1/query.
func (c *Client) Query(ctx context.Context, body []byte, header http.Header) (*APIResponse, error) {
	const path = "/api/v1/query"
	data, err := c.Do(ctx, http.MethodPost, path, nil, body, true, header)
	if err != nil {
		return nil, err
	}
	var out APIResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &NotSluiceError{Path: path, Reason: "the answer is not frames JSON: " + err.Error()}
	}
	if out.Frames == nil {
		return nil, &NotSluiceError{Path: path, Reason: "no `frames` in the answer"}
	}
	return &out, nil
}
