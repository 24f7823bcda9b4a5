package plugin

import (
	"encoding/json"
	"strings"
	"testing"
)

func body(t *testing.T, model string) map[string]any {
	t.Helper()
	r, err := BuildRequest(dataQuery("A", model))
	if err != nil {
		t.Fatalf("BuildRequest: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("body: %v", err)
	}
	return out
}

func TestRequestKeepsTheStoredModelAndAddsTheRange(t *testing.T) {
	// What Grafana sends: the stored query plus its own keys.
	got := body(t, `{"refId":"A","datasource":{"type":"sluice-flows-datasource","uid":"x"},"hide":false,
		"intervalMs":5000,"maxDataPoints":1200,"kind":"timeseries","metric":"bytes","rate":true,"raw":false,
		"groupBy":["source.ip"],"top":5,"filter":"proto tcp","expr":"left over from metrics","fields":["x"]}`)
	want := map[string]any{"kind": "timeseries", "metric": "bytes", "rate": true, "raw": false,
		"groupBy": []any{"source.ip"}, "top": 5.0, "filter": "proto tcp",
		"from": 1714557600000.0, "to": 1714561200000.0, "maxDataPoints": 1200.0, "minIntervalMs": 5000.0}
	if len(got) != len(want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	for k, v := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, g, mustJSON(v))
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestRequestKeysPerKind(t *testing.T) {
	cases := map[string]struct {
		model string
		keys  []string
	}{
		"topn":    {`{"kind":"topn","metric":"flows","fields":["source.ip","destination.ip"],"top":20,"groupBy":["a"],"interval":"1m"}`, []string{"kind", "metric", "fields", "top", "from", "to"}},
		"records": {`{"kind":"records","fields":["source.ip"],"sort":[{"field":"@timestamp"}],"size":50,"cursor":"","metric":"bytes"}`, []string{"kind", "fields", "sort", "size", "from", "to"}},
		"values":  {`{"kind":"values","field":"network.transport","prefix":"t","size":10,"filter":""}`, []string{"kind", "field", "prefix", "size", "filter", "from", "to"}},
		"metrics": {`{"kind":"metrics","expr":"sum(rate(sluice_flow_bytes_total[5m]))","step":"$__interval","instant":false,"metric":"x"}`, []string{"kind", "expr", "step", "instant", "maxDataPoints", "from", "to"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := body(t, c.model)
			if len(got) != len(c.keys) {
				t.Errorf("body %v, want keys %v", got, c.keys)
			}
			for _, k := range c.keys {
				if _, ok := got[k]; !ok {
					t.Errorf("missing %s in %v", k, got)
				}
			}
		})
	}
	if got := body(t, cases["metrics"].model); got["step"] != 5000.0 {
		t.Errorf("$__interval step = %v, want Grafana's 5000 ms", got["step"])
	}
}

func TestRequestDropsNullsAndEmptyIntervals(t *testing.T) {
	got := body(t, `{"kind":"timeseries","metric":"packets","top":null,"interval":"","groupBy":null}`)
	for _, k := range []string{"top", "interval", "groupBy"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s sent: %v", k, got)
		}
	}
	if got := body(t, `{"kind":"timeseries","metric":"packets","interval":"5m"}`); got["interval"] != "5m" {
		t.Errorf("interval %v", got["interval"])
	}
}

// Alert rules ask for 43,200 points; the API refuses more than 10,000 buckets.
func TestMaxDataPointsStayUnderTheBucketLimit(t *testing.T) {
	q := dataQuery("A", `{"kind":"timeseries","metric":"bytes","groupBy":["source.ip"],"maxDataPoints":43200}`)
	q.MaxDataPoints = 43200
	r, err := BuildRequest(q)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(r.Body, &got)
	if got["maxDataPoints"] != 908.0 { // 10,000 / (10 + other) - 1
		t.Errorf("grouped maxDataPoints %v", got["maxDataPoints"])
	}
	q.JSON = json.RawMessage(`{"kind":"timeseries","metric":"bytes","maxDataPoints":300}`)
	r, _ = BuildRequest(q)
	_ = json.Unmarshal(r.Body, &got)
	if got["maxDataPoints"] != 300.0 {
		t.Errorf("stored smaller maxDataPoints %v", got["maxDataPoints"])
	}
	q.JSON = json.RawMessage(`{"kind":"metrics","expr":"up"}`)
	r, _ = BuildRequest(q)
	_ = json.Unmarshal(r.Body, &got)
	if got["maxDataPoints"] != 9999.0 {
		t.Errorf("metrics maxDataPoints %v", got["maxDataPoints"])
	}
}

func TestRequestRefusals(t *testing.T) {
	for model, want := range map[string]string{
		`{"metric":"bytes"}`:        "no kind",
		`{"kind":"histogram"}`:      `unknown query kind "histogram"`,
		`[1,2]`:                     "not a JSON object",
		`{"kind":"topn","top":"x"}`: "malformed",
	} {
		_, err := BuildRequest(dataQuery("A", model))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", model, err, want)
		}
	}
}

func TestFromAlertHeader(t *testing.T) {
	for _, h := range []map[string]string{{"FromAlert": "true"}, {"http_FromAlert": "true"}, {"fromalert": "1"}} {
		if !fromAlert(h) {
			t.Errorf("%v not seen as from alert", h)
		}
	}
	for _, h := range []map[string]string{nil, {"FromAlert": "false"}, {"Other": "true"}} {
		if fromAlert(h) {
			t.Errorf("%v seen as from alert", h)
		}
	}
}
