//go:build integration

package plugin

// Integration test against a running Sluice collector's query API (backed by a real
// Elasticsearch), built only with -tags integration: the repository's test suite runs
// it from collector/test/grafana-backend.test.ts after starting Elasticsearch and a
// collector with known records. It needs:
//
//	SLUICE_API_URL    the collector's HTTP API, e.g. http://127.0.0.1:9850
//	SLUICE_API_TOKEN  one of its query tokens
//
// Optional: SLUICE_TEST_FROM / SLUICE_TEST_TO (epoch ms or RFC 3339) bound the range
// that holds flow records (default: the last 24 hours); SLUICE_TEST_FLOWS=1 requires
// records in it (otherwise empty results are accepted).

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

func envTime(t *testing.T, name string, def time.Time) time.Time {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ts
}

func TestIntegrationRealCollector(t *testing.T) {
	url, token := os.Getenv("SLUICE_API_URL"), os.Getenv("SLUICE_API_TOKEN")
	if url == "" || token == "" {
		t.Fatal("SLUICE_API_URL and SLUICE_API_TOKEN not set: run it through collector/test/grafana-backend.test.ts")
	}
	now := time.Now().UTC()
	to := envTime(t, "SLUICE_TEST_TO", now)
	from := envTime(t, "SLUICE_TEST_FROM", to.Add(-24*time.Hour))
	needFlows := os.Getenv("SLUICE_TEST_FLOWS") == "1"
	logs := newCaptureLogger()
	settings := instanceSettings(url, token, nil)
	ds := newTestDatasource(t, settings, logs)
	ctx := context.Background()

	t.Run("health", func(t *testing.T) {
		res, err := ds.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pluginContext(settings)})
		if err != nil || res.Status != backend.HealthStatusOk {
			t.Fatalf("health: %v %v", err, res.Message)
		}
		t.Log(res.Message)
		bad := newTestDatasource(t, instanceSettings(url, "wrong-"+token, nil), logs)
		res, _ = bad.CheckHealth(ctx, &backend.CheckHealthRequest{})
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "401") {
			t.Errorf("wrong token: %s", res.Message)
		}
		t.Log(res.Message)
		down := newTestDatasource(t, instanceSettings(closedURL(t), token, nil), logs)
		res, _ = down.CheckHealth(ctx, &backend.CheckHealthRequest{})
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "Cannot reach") {
			t.Errorf("unreachable: %s", res.Message)
		}
	})

	t.Run("fields resource", func(t *testing.T) {
		r := resourceCall(t, ds, "GET", "fields", "fields", nil)
		var fields FieldsResponse
		if r.Status != 200 || json.Unmarshal(r.Body, &fields) != nil {
			t.Fatalf("fields: %d %s", r.Status, r.Body)
		}
		names := map[string]bool{}
		for _, f := range fields.Fields {
			names[f.Name] = true
		}
		if needFlows && (!names["@timestamp"] || !names["network.transport"]) {
			t.Errorf("fields lack @timestamp or network.transport: %d fields", len(fields.Fields))
		}
		t.Logf("%d fields", len(fields.Fields))
	})

	query := func(t *testing.T, model string, headers map[string]string) backend.DataResponse {
		t.Helper()
		q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(model), MaxDataPoints: 500, Interval: time.Minute,
			TimeRange: backend.TimeRange{From: from, To: to}}
		res, err := ds.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pluginContext(settings), Queries: []backend.DataQuery{q}, Headers: headers})
		if err != nil {
			t.Fatal(err)
		}
		return res.Responses["A"]
	}

	t.Run("timeseries grouped, and the same from an alert", func(t *testing.T) {
		model := `{"kind":"timeseries","metric":"bytes","groupBy":["network.transport"],"top":5}`
		panel := query(t, model, nil)
		alert := query(t, model, map[string]string{backend.FromAlertHeaderName: "true"})
		for name, r := range map[string]backend.DataResponse{"panel": panel, "alert": alert} {
			if r.Error != nil || len(r.Frames) != 1 {
				t.Fatalf("%s: %v (%d frames)", name, r.Error, len(r.Frames))
			}
			f := r.Frames[0]
			if f.Meta.Type != data.FrameTypeTimeSeriesWide || f.Fields[0].Type() != data.FieldTypeTime || f.Fields[0].Len() == 0 {
				t.Errorf("%s: not a wide time series: %v", name, f.Meta.Type)
			}
			if needFlows && len(f.Fields) < 2 {
				t.Errorf("%s: no series", name)
			}
			for _, s := range f.Fields[1:] {
				if s.Name != "bytes" || s.Config.Unit != "decbytes" || s.Labels["network.transport"] == "" {
					t.Errorf("%s: series %s %v %v", name, s.Name, s.Labels, s.Config)
				}
			}
		}
		pb, _ := panel.Frames[0].MarshalJSON()
		ab, _ := alert.Frames[0].MarshalJSON()
		if string(pb) != string(ab) {
			t.Error("the alert's frames differ from the panel's")
		}
	})

	t.Run("topn table", func(t *testing.T) {
		r := query(t, `{"kind":"topn","metric":"flows","fields":["source.ip"],"top":3}`, nil)
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		f := r.Frames[0]
		if f.Meta.Type != data.FrameTypeNumericLong || f.Fields[0].Name != "source.ip" || f.Fields[2].Config.Unit != "percentunit" || f.Rows() > 3 {
			t.Errorf("topn frame: %v rows, fields %v", f.Rows(), f.Fields)
		}
		if needFlows && f.Rows() == 0 {
			t.Error("no rows")
		}
	})

	t.Run("records table", func(t *testing.T) {
		r := query(t, `{"kind":"records","size":5}`, nil)
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		f := r.Frames[0]
		if f.Fields[0].Name != "@timestamp" || !f.Fields[0].Type().Time() || f.Rows() > 5 {
			t.Errorf("records: %v", f.Fields)
		}
		if needFlows && f.Rows() == 0 {
			t.Error("no records")
		}
	})

	t.Run("values resource", func(t *testing.T) {
		p := "values?field=network.transport&from=" + strconv.FormatInt(from.UnixMilli(), 10) + "&to=" + strconv.FormatInt(to.UnixMilli(), 10)
		r := resourceCall(t, ds, "GET", "values", p, nil)
		var vals struct{ Values []Value }
		if r.Status != 200 || json.Unmarshal(r.Body, &vals) != nil {
			t.Fatalf("values: %d %s", r.Status, r.Body)
		}
		if needFlows && len(vals.Values) == 0 {
			t.Error("no values")
		}
	})

	t.Run("filter error with column", func(t *testing.T) {
		r := query(t, `{"kind":"timeseries","metric":"bytes","filter":"proto tcp and and"}`, nil)
		if r.Error == nil || r.Status != backend.StatusBadRequest || !strings.Contains(r.Error.Error(), "filter") {
			t.Errorf("filter error: %v %v", r.Status, r.Error)
		}
		t.Log(r.Error)
	})

	if strings.Contains(logs.all(), token) {
		t.Error("the token appears in the logs")
	}
}
