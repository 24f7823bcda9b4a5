package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

const testToken = "s3cr3t-T0ken-never-shown-9f8e7d"

// captureLogger records every log line with its arguments.
type captureLogger struct {
	mu    *sync.Mutex
	lines *[]string
	args  []any
}

func newCaptureLogger() *captureLogger {
	return &captureLogger{mu: &sync.Mutex{}, lines: &[]string{}}
}

func (l *captureLogger) add(level, msg string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.lines = append(*l.lines, fmt.Sprintf("%s %s %v %v", level, msg, l.args, args))
}
func (l *captureLogger) Debug(msg string, args ...any) { l.add("debug", msg, args) }
func (l *captureLogger) Info(msg string, args ...any)  { l.add("info", msg, args) }
func (l *captureLogger) Warn(msg string, args ...any)  { l.add("warn", msg, args) }
func (l *captureLogger) Error(msg string, args ...any) { l.add("error", msg, args) }
func (l *captureLogger) With(args ...any) log.Logger {
	return &captureLogger{mu: l.mu, lines: l.lines, args: append(append([]any{}, l.args...), args...)}
}
func (l *captureLogger) Level() log.Level                         { return log.Debug }
func (l *captureLogger) FromContext(_ context.Context) log.Logger { return l }
func (l *captureLogger) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(*l.lines, "\n")
}

// fakeAPI answers like the Sluice collector's HTTP API: /healthz, /docs/json, and the
// token-guarded /api/v1/fields and /api/v1/query, whose bodies it checks as the real
// schema does (known kind, only that kind's keys, from/to present).
type fakeAPI struct {
	t      *testing.T
	token  string
	frames map[string]string // kind -> frames JSON
	mu     sync.Mutex
	bodies []map[string]any
	alerts []string
	srv    *httptest.Server
}

var schemaKeys = map[string][]string{
	"timeseries": {"kind", "from", "to", "filter", "metric", "rate", "raw", "interval", "maxDataPoints", "minIntervalMs", "groupBy", "top"},
	"topn":       {"kind", "from", "to", "filter", "metric", "rate", "raw", "fields", "top"},
	"records":    {"kind", "from", "to", "filter", "fields", "sort", "size", "cursor"},
	"values":     {"kind", "from", "to", "filter", "field", "prefix", "size"},
	"metrics":    {"kind", "from", "to", "expr", "instant", "step", "maxDataPoints"},
}

func newFakeAPI(t *testing.T, token string) *fakeAPI {
	f := &fakeAPI{t: t, token: token, frames: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /docs/json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"openapi":"3.0.3","info":{"title":"Sluice query API","version":"0.1.0"}}`)
	})
	mux.HandleFunc("GET /api/v1/fields", f.guard(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"fields":[{"name":"@timestamp","type":"date","searchable":true,"aggregatable":true},{"name":"network.transport","type":"keyword","searchable":true,"aggregatable":true},{"name":"source.ip","type":"ip","searchable":true,"aggregatable":true}]}`)
	}))
	mux.HandleFunc("POST /api/v1/query", f.guard(f.query))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.token != "" {
			got := r.Header.Get("Authorization")
			if got == "" {
				writeJSON(w, 401, `{"error":"bearer token required"}`)
				return
			}
			if got != "Bearer "+f.token {
				writeJSON(w, 401, `{"error":"invalid bearer token"}`)
				return
			}
		}
		h(w, r)
	}
}

func (f *fakeAPI) query(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		writeJSON(w, 400, `{"error":"body is not JSON"}`)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.alerts = append(f.alerts, r.Header.Get("FromAlert"))
	f.mu.Unlock()
	kind, _ := body["kind"].(string)
	keys, ok := schemaKeys[kind]
	if !ok {
		writeJSON(w, 400, `{"error":"kind: expected one of timeseries, topn, records, values, metrics"}`)
		return
	}
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	for k := range body {
		if !allowed[k] {
			writeJSON(w, 400, fmt.Sprintf(`{"error":"%s: Unexpected property"}`, k))
			return
		}
	}
	for _, k := range []string{"from", "to"} {
		if _, ok := body[k].(float64); !ok {
			writeJSON(w, 400, fmt.Sprintf(`{"error":"%s: required"}`, k))
			return
		}
	}
	if filter, _ := body["filter"].(string); strings.Contains(filter, "bogus") {
		writeJSON(w, 400, `{"error":"filter: Expected \"and\", \"or\" or end of input but \"b\" found.","column":9,"expected":["and","or"],"found":"b"}`)
		return
	}
	frames, ok := f.frames[kind]
	if !ok {
		frames = `[]`
	}
	writeJSON(w, 200, `{"frames":`+frames+`}`)
}

func (f *fakeAPI) lastBody() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		return nil
	}
	return f.bodies[len(f.bodies)-1]
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// instanceSettings is what Grafana sends for a configured data source.
func instanceSettings(url, token string, jsonExtra map[string]any) backend.DataSourceInstanceSettings {
	js := map[string]any{"url": url}
	for k, v := range jsonExtra {
		js[k] = v
	}
	raw, _ := json.Marshal(js)
	secure := map[string]string{}
	if token != "" {
		secure["apiToken"] = token
	}
	return backend.DataSourceInstanceSettings{UID: "sluice", Name: "Sluice", JSONData: raw, DecryptedSecureJSONData: secure}
}

// newTestDatasource goes through the SDK's instance manager, as Grafana does.
func newTestDatasource(t *testing.T, settings backend.DataSourceInstanceSettings, logger log.Logger) *Datasource {
	t.Helper()
	// NewDatasource logs through the SDK's default logger, as in Grafana.
	prev, prevBackend := log.DefaultLogger, backend.Logger
	log.DefaultLogger, backend.Logger = logger, logger
	defer func() { log.DefaultLogger, backend.Logger = prev, prevBackend }()
	im := datasource.NewInstanceManager(NewDatasource)
	inst, err := im.Get(context.Background(), pluginContext(settings))
	if err != nil {
		t.Fatalf("instance manager: %v", err)
	}
	ds := inst.(*Datasource)
	ds.logger = logger
	t.Cleanup(ds.Dispose)
	return ds
}

func pluginContext(settings backend.DataSourceInstanceSettings) backend.PluginContext {
	s := settings
	return backend.PluginContext{PluginID: PluginID, OrgID: 1, DataSourceInstanceSettings: &s}
}

// dataQuery is a Grafana query over one hour at 2024-05-01T10:00Z.
func dataQuery(refID, model string) backend.DataQuery {
	from := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return backend.DataQuery{
		RefID:         refID,
		JSON:          json.RawMessage(model),
		MaxDataPoints: 1200,
		Interval:      5 * time.Second,
		TimeRange:     backend.TimeRange{From: from, To: from.Add(time.Hour)},
	}
}

// resourceCall runs CallResource and returns the single response.
func resourceCall(t *testing.T, ds *Datasource, method, path, rawURL string, body []byte) *backend.CallResourceResponse {
	t.Helper()
	var got *backend.CallResourceResponse
	sender := backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
		got = r
		return nil
	})
	err := ds.CallResource(context.Background(), &backend.CallResourceRequest{Method: method, Path: path, URL: rawURL, Body: body}, sender)
	if err != nil {
		t.Fatalf("CallResource %s: %v", path, err)
	}
	if got == nil {
		t.Fatalf("CallResource %s sent nothing", path)
	}
	return got
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestMain(m *testing.M) {
	// The SDK's own debug lines would drown the test output.
	log.DefaultLogger = log.NewWithLevel(log.Info)
	backend.Logger = log.DefaultLogger
	os.Exit(m.Run())
}
