package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// DefaultTimeout bounds one call to the Sluice API; the API's own query deadline is 30 s.
const DefaultTimeout = 60 * time.Second

// Settings are the data source's configuration. jsonData holds the URL and the TLS
// switches; secureJsonData holds the API token (and the CA certificate, by Grafana's
// convention). Nothing here is ever logged.
type Settings struct {
	// URL of the collector's HTTP API, e.g. http://collector:9850 (jsonData.url; the data
	// source's own URL field is used when jsonData.url is empty).
	URL *url.URL
	// TLSSkipVerify accepts any server certificate (jsonData.tlsSkipVerify).
	TLSSkipVerify bool
	// CACert is a PEM bundle trusted for the server certificate
	// (jsonData.tlsAuthWithCACert + secureJsonData.tlsCACert).
	CACert string
	// Timeout of one API call (jsonData.timeout, seconds).
	Timeout time.Duration

	apiToken string
}

type jsonSettings struct {
	URL               string          `json:"url"`
	TLSSkipVerify     bool            `json:"tlsSkipVerify"`
	TLSAuthWithCACert bool            `json:"tlsAuthWithCACert"`
	Timeout           json.RawMessage `json:"timeout"`
}

// HasToken says whether an API token is configured (never what it is).
func (s *Settings) HasToken() bool { return s.apiToken != "" }

// String never shows the token.
func (s *Settings) String() string {
	if s == nil {
		return "Settings{}"
	}
	u := ""
	if s.URL != nil {
		u = s.URL.Redacted()
	}
	return fmt.Sprintf("Settings{URL: %s, TLSSkipVerify: %t, CACert: %t, token: %t}",
		u, s.TLSSkipVerify, s.CACert != "", s.HasToken())
}

// ParseSettings reads the instance settings. The error names the setting that is wrong.
func ParseSettings(in backend.DataSourceInstanceSettings) (*Settings, error) {
	var js jsonSettings
	if len(in.JSONData) > 0 {
		if err := json.Unmarshal(in.JSONData, &js); err != nil {
			return nil, fmt.Errorf("the data source settings (jsonData) are not valid JSON: %v", err)
		}
	}
	s := &Settings{TLSSkipVerify: js.TLSSkipVerify, Timeout: DefaultTimeout}
	s.apiToken = strings.TrimSpace(in.DecryptedSecureJSONData["apiToken"])
	if js.TLSAuthWithCACert {
		s.CACert = in.DecryptedSecureJSONData["tlsCACert"]
		if strings.TrimSpace(s.CACert) == "" {
			return nil, errors.New("TLS: \"with CA certificate\" is on but no CA certificate is set")
		}
	}
	if len(js.Timeout) > 0 && string(js.Timeout) != "null" && string(js.Timeout) != `""` {
		var secs float64
		text := strings.Trim(string(js.Timeout), `"`)
		if _, err := fmt.Sscanf(text, "%g", &secs); err != nil || secs <= 0 {
			return nil, fmt.Errorf("timeout: expected a number of seconds, got %s", js.Timeout)
		}
		s.Timeout = time.Duration(secs * float64(time.Second))
	}
	raw := strings.TrimSpace(js.URL)
	if raw == "" {
		raw = strings.TrimSpace(in.URL)
	}
	if raw == "" {
		return nil, errors.New("no URL is set: enter the Sluice collector's API URL, e.g. http://collector:9850")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the URL %q is not an http:// or https:// URL with a host, e.g. http://collector:9850", redactURL(raw))
	}
	if u.User != nil {
		return nil, errors.New("the URL must not carry credentials: put the API token in the token field")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	s.URL = u
	return s, nil
}

// redactURL hides a password in a URL that failed to parse as one.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			return raw[:scheme+3] + "xxxxx" + raw[at:]
		}
	}
	return raw
}

// HTTPClient builds the client for the API with the TLS options.
func (s *Settings) HTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSSkipVerify {
		tr.TLSClientConfig.InsecureSkipVerify = true // the user's explicit choice
	}
	if s.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.CACert)) {
			return nil, errors.New("TLS: the CA certificate is not a PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.ResponseHeaderTimeout = s.Timeout
	return &http.Client{
		Transport: tr,
		Timeout:   s.Timeout,
		// The token must not follow a redirect to another host.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 0 && req.URL.Host != via[0].URL.Host {
				return fmt.Errorf("refusing to follow a redirect to another host (%s)", req.URL.Host)
			}
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}, nil
}
