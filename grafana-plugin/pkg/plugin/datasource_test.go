package plugin

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

func apiWithFrames(t *testing.T) *fakeAPI {
	api := newFakeAPI(t, testToken)
	api.frames["timeseries"] = timeseriesGrouped
	api.frames["topn"] = topnFrame
	api.frames["records"] = recordsFrame
	api.frames["values"] = valuesFrame
	api.frames["metrics"] = metricsFrames
	return api
}

func TestQueryDataEveryKind(t *testing.T) {
	api := apiWithFrames(t)
	settings := instanceSettings(api.srv.URL, testToken, nil)
	ds := newTestDatasource(t, settings, newCaptureLogger())
	req := &backend.QueryDataRequest{PluginContext: pluginContext(settings), Queries: []backend.DataQuery{
		dataQuery("TS", `{"kind":"timeseries","metric":"bytes","groupBy":["network.transport","destination.port"]}`),
		dataQuery("TOP", `{"kind":"topn","metric":"bytes","fields":["source.ip","destination.port"]}`),
		dataQuery("REC", `{"kind":"records","size":2}`),
		dataQuery("VAL", `{"kind":"values","field":"network.transport"}`),
		dataQuery("PROM", `{"kind":"metrics","expr":"sluice_udp_drops_total"}`),
	}}
	res, err := ds.QueryData(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]data.FrameType{"TS": data.FrameTypeTimeSeriesWide, "TOP": data.FrameTypeNumericLong,
		"REC": data.FrameTypeTable, "VAL": data.FrameTypeTable, "PROM": data.FrameTypeTimeSeriesMulti}
	for ref, ft := range want {
		r := res.Responses[ref]
		if r.Error != nil {
			t.Errorf("%s: %v", ref, r.Error)
			continue
		}
		if len(r.Frames) == 0 || r.Frames[0].Meta.Type != ft || r.Frames[0].RefID != ref {
			t.Errorf("%s: frames %v", ref, r.Frames)
		}
	}
	if len(api.bodies) != 5 {
		t.Errorf("API calls %d", len(api.bodies))
	}
	ts := res.Responses["TS"].Frames[0]
	if ts.Fields[1].Labels["network.transport"] != "tcp" || ts.Fields[1].Config.DisplayNameFromDS != "tcp / 443" {
		t.Errorf("timeseries series %v %v", ts.Fields[1].Labels, ts.Fields[1].Config)
	}
}

// An alert rule's query: the FromAlert header is forwarded, the body is what a panel
// sends, and the frames are typed so server-side expressions can read them.
func TestQueryDataFromAlert(t *testing.T) {
	api := apiWithFrames(t)
	api.frames["timeseries"] = timeseriesPlain
	settings := instanceSettings(api.srv.URL, testToken, nil)
	ds := newTestDatasource(t, settings, newCaptureLogger())
	model := `{"refId":"A","kind":"timeseries","metric":"packets","rate":true,"filter":"proto tcp","intervalMs":1000,"maxDataPoints":43200}`
	q := dataQuery("A", model)
	q.MaxDataPoints, q.Interval = 43200, 1000*1e6

	panel, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{PluginContext: pluginContext(settings), Queries: []backend.DataQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	panelBody := api.lastBody()
	alertReq := &backend.QueryDataRequest{PluginContext: pluginContext(settings), Queries: []backend.DataQuery{q},
		Headers: map[string]string{backend.FromAlertHeaderName: "true"}}
	alert, err := ds.QueryData(context.Background(), alertReq)
	if err != nil {
		t.Fatal(err)
	}
	if api.alerts[0] != "" || api.alerts[1] != "true" {
		t.Errorf("FromAlert forwarded as %q (panel) and %q (alert)", api.alerts[0], api.alerts[1])
	}
	if mustJSON(panelBody) != mustJSON(api.lastBody()) {
		t.Errorf("alert body %v differs from panel body %v", api.lastBody(), panelBody)
	}
	if api.lastBody()["maxDataPoints"] != 9999.0 {
		t.Errorf("alert maxDataPoints %v", api.lastBody()["maxDataPoints"])
	}
	r := alert.Responses["A"]
	if r.Error != nil || len(r.Frames) != 1 {
		t.Fatalf("alert response %v %v", r.Error, r.Frames)
	}
	f := r.Frames[0]
	if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide || f.Meta.Type != data.FrameTypeTimeSeriesWide {
		t.Errorf("alert frame not a wide time series: %v", f.Meta.Type)
	}
	pb, _ := panel.Responses["A"].Frames[0].MarshalJSON()
	ab, _ := f.MarshalJSON()
	if string(pb) != string(ab) {
		t.Error("alert frames differ from panel frames")
	}
	if v := f.Fields[1].At(1).(*float64); *v != 2.25 {
		t.Errorf("value %v", *v)
	}
}

func TestQueryDataErrors(t *testing.T) {
	api := apiWithFrames(t)
	settings := instanceSettings(api.srv.URL, testToken, nil)
	ds := newTestDatasource(t, settings, newCaptureLogger())
	res, _ := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dataQuery("FILTER", `{"kind":"timeseries","metric":"bytes","filter":"proto tcp bogus"}`),
		dataQuery("KIND", `{"kind":"nope"}`),
	}})
	f := res.Responses["FILTER"]
	if f.Status != backend.StatusBadRequest || f.ErrorSource != backend.ErrorSourceDownstream ||
		!strings.Contains(f.Error.Error(), "filter: Expected") || !strings.Contains(f.Error.Error(), "column 9") {
		t.Errorf("filter error: %v %v %v", f.Status, f.ErrorSource, f.Error)
	}
	if k := res.Responses["KIND"]; k.Error == nil || !strings.Contains(k.Error.Error(), "unknown query kind") {
		t.Errorf("kind error %v", k.Error)
	}

	bad := newTestDatasource(t, instanceSettings(api.srv.URL, "wrong-token-123", nil), newCaptureLogger())
	res, _ = bad.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery("A", `{"kind":"values","field":"x"}`)}})
	if r := res.Responses["A"]; r.Status != backend.StatusUnauthorized || !strings.Contains(r.Error.Error(), "invalid bearer token") {
		t.Errorf("401: %v %v", r.Status, r.Error)
	}

	unset := newTestDatasource(t, backend.DataSourceInstanceSettings{JSONData: []byte(`{}`)}, newCaptureLogger())
	res, _ = unset.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery("A", `{"kind":"values","field":"x"}`)}})
	if r := res.Responses["A"]; r.Error == nil || !strings.Contains(r.Error.Error(), "no URL is set") {
		t.Errorf("no URL: %v", r.Error)
	}
}

func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func TestCheckHealth(t *testing.T) {
	api := apiWithFrames(t)
	open := newFakeAPI(t, "")
	notSluice := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		_, _ = w.Write([]byte("<html>Not Found</html>"))
	}))
	defer notSluice.Close()
	healthOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			writeJSON(w, 200, `{"status":"ok"}`)
			return
		}
		writeJSON(w, 404, `{"message":"Route GET:/api/v1/fields not found","error":"Not Found","statusCode":404}`)
	}))
	defer healthOnly.Close()
	tlsAPI := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"status":"ok","fields":[]}`)
	}))
	defer tlsAPI.Close()

	cases := []struct {
		name   string
		url    string
		token  string
		extra  map[string]any
		ok     bool
		expect []string
	}{
		{"ok", api.srv.URL, testToken, nil, true, []string{"Sluice query API v1", "collector 0.1.0", "3 fields"}},
		{"open API", open.srv.URL, "", nil, true, []string{"3 fields", "asks for no token"}},
		{"unreachable", closedURL(t), testToken, nil, false, []string{"Cannot reach", "connection refused"}},
		{"unknown host", "http://sluice-collector.invalid:9850", testToken, nil, false, []string{"Cannot reach", "not found"}},
		{"wrong token", api.srv.URL, "wrong-token-123", nil, false, []string{"API token was refused (401 invalid bearer token)"}},
		{"no token", api.srv.URL, "", nil, false, []string{"requires a token (401)"}},
		{"not sluice", notSluice.URL, testToken, nil, false, []string{"is not a Sluice collector", "/healthz answered 404"}},
		{"query API off", healthOnly.URL, testToken, nil, false, []string{"query API is not enabled"}},
		{"no URL", "", testToken, nil, false, []string{"no URL is set"}},
		{"bad URL", "collector:9850", testToken, nil, false, []string{"not an http:// or https:// URL"}},
		{"self-signed", tlsAPI.URL, testToken, nil, false, []string{"Cannot reach", "TLS", "certificate"}},
		{"self-signed skip verify", tlsAPI.URL, testToken, map[string]any{"tlsSkipVerify": true}, true, []string{"0 fields", "no flow data"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs := newCaptureLogger()
			settings := instanceSettings(c.url, c.token, c.extra)
			ds := newTestDatasource(t, settings, logs)
			res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{PluginContext: pluginContext(settings)})
			if err != nil {
				t.Fatal(err)
			}
			if (res.Status == backend.HealthStatusOk) != c.ok {
				t.Errorf("status %v: %s", res.Status, res.Message)
			}
			for _, e := range c.expect {
				if !strings.Contains(res.Message, e) {
					t.Errorf("message %q lacks %q", res.Message, e)
				}
			}
			if strings.Contains(res.Message+string(res.JSONDetails)+logs.all(), testToken) {
				t.Error("token leaked")
			}
			t.Logf("%v: %s", res.Status, res.Message)
		})
	}
}

func TestCheckHealthWithCACertificate(t *testing.T) {
	tlsAPI := newFakeAPI(t, testToken)
	tlsAPI.srv.Close()
	tlsAPI.srv = httptest.NewTLSServer(tlsAPI.srv.Config.Handler)
	defer tlsAPI.srv.Close()
	cert := tlsAPI.srv.Certificate()
	pem := "-----BEGIN CERTIFICATE-----\n" + b64(cert.Raw) + "\n-----END CERTIFICATE-----\n"
	settings := instanceSettings(tlsAPI.srv.URL, testToken, map[string]any{"tlsAuthWithCACert": true})
	settings.DecryptedSecureJSONData["tlsCACert"] = pem
	ds := newTestDatasource(t, settings, newCaptureLogger())
	res, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusOk {
		t.Errorf("with CA: %s", res.Message)
	}
	settings.DecryptedSecureJSONData["tlsCACert"] = "not a certificate"
	ds = newTestDatasource(t, settings, newCaptureLogger())
	res, _ = ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status == backend.HealthStatusOk || !strings.Contains(res.Message, "CA certificate is not a PEM") {
		t.Errorf("bad CA: %s", res.Message)
	}
}

func TestCallResource(t *testing.T) {
	api := apiWithFrames(t)
	settings := instanceSettings(api.srv.URL, testToken, nil)
	ds := newTestDatasource(t, settings, newCaptureLogger())

	r := resourceCall(t, ds, "GET", "fields", "fields", nil)
	var fields FieldsResponse
	if r.Status != 200 || json.Unmarshal(r.Body, &fields) != nil || len(fields.Fields) != 3 || fields.Fields[2].Name != "source.ip" {
		t.Errorf("fields: %d %s", r.Status, r.Body)
	}

	r = resourceCall(t, ds, "GET", "values", "values?field=network.transport&prefix=t&size=5&from=1714557600000&to=1714561200000&filter=proto+tcp", nil)
	var vals struct {
		Field  string  `json:"field"`
		Values []Value `json:"values"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &vals) != nil || len(vals.Values) != 2 || vals.Values[0].Text != "tcp" || vals.Values[1].Count != 60 {
		t.Errorf("values: %d %s", r.Status, r.Body)
	}
	sent := api.lastBody()
	if sent["kind"] != "values" || sent["field"] != "network.transport" || sent["prefix"] != "t" || sent["size"] != 5.0 ||
		sent["from"] != 1714557600000.0 || sent["filter"] != "proto tcp" {
		t.Errorf("values request %v", sent)
	}

	r = resourceCall(t, ds, "GET", "values", "values", nil)
	if r.Status != 400 || !strings.Contains(string(r.Body), "field parameter is required") {
		t.Errorf("values without field: %d %s", r.Status, r.Body)
	}

	// The editor validates a filter through the API: its error, column included.
	r = resourceCall(t, ds, "POST", "query", "query", []byte(`{"kind":"values","field":"x","from":0,"to":1,"filter":"proto bogus"}`))
	if r.Status != 400 || !strings.Contains(string(r.Body), `"column":9`) {
		t.Errorf("query validation: %d %s", r.Status, r.Body)
	}
	r = resourceCall(t, ds, "GET", "nothing", "nothing", nil)
	if r.Status != 404 {
		t.Errorf("unknown resource: %d", r.Status)
	}

	bad := newTestDatasource(t, instanceSettings(api.srv.URL, "wrong-token-123", nil), newCaptureLogger())
	r = resourceCall(t, bad, "GET", "fields", "fields", nil)
	if r.Status != 401 || !strings.Contains(string(r.Body), "invalid bearer token") {
		t.Errorf("fields with a wrong token: %d %s", r.Status, r.Body)
	}
}

// The token goes to the API in the Authorization header and nowhere else: not in logs
// (debug included), errors, health messages, resource answers or frames.
func TestTokenNeverShown(t *testing.T) {
	var seen []string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		// A hostile or broken server that echoes the header back in its error.
		writeJSON(w, 500, `{"error":"boom: `+r.Header.Get("Authorization")+`"}`)
	}))
	defer echo.Close()
	api := apiWithFrames(t)
	for _, url := range []string{api.srv.URL, echo.URL, closedURL(t), "http://user:" + testToken + "@example.invalid"} {
		logs := newCaptureLogger()
		settings := instanceSettings(url, testToken, nil)
		ds := newTestDatasource(t, settings, logs)
		var shown strings.Builder
		h, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
		shown.WriteString(h.Message + string(h.JSONDetails))
		res, _ := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
			dataQuery("A", `{"kind":"timeseries","metric":"bytes"}`), dataQuery("B", `{"kind":"topn","metric":"bytes","fields":["source.ip"]}`),
		}})
		for _, r := range res.Responses {
			if r.Error != nil {
				shown.WriteString(r.Error.Error())
			}
			for _, f := range r.Frames {
				b, _ := f.MarshalJSON()
				shown.Write(b)
			}
		}
		for _, p := range []string{"fields", "values?field=x", "query"} {
			method := "GET"
			if p == "query" {
				method = "POST"
			}
			r := resourceCall(t, ds, method, strings.Split(p, "?")[0], p, []byte(`{"kind":"values","field":"x","from":0,"to":1}`))
			shown.Write(r.Body)
		}
		shown.WriteString(ds.settings.String())
		shown.WriteString(logs.all())
		if strings.Contains(shown.String(), testToken) {
			t.Errorf("%s: token shown in %s", url, shown.String())
		}
	}
	// /healthz goes without the token; the API calls carry it.
	if len(seen) < 2 || seen[0] != "" || seen[1] != "Bearer "+testToken {
		t.Errorf("the echo server got %d requests", len(seen))
	}
}
