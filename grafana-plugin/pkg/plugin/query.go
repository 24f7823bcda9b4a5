package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Query kinds: the same as the API's `kind`.
const (
	KindTimeseries = "timeseries"
	KindTopN       = "topn"
	KindRecords    = "records"
	KindValues     = "values"
	KindMetrics    = "metrics"
)

// The API's default bucket limit (series × points, QueryLimits.maxBuckets): the
// maxDataPoints sent are kept under it so a wide panel or an alert rule (Grafana asks
// alert queries for 43,200 points) does not hit the limit.
const (
	defaultMaxBuckets = 10_000
	defaultTop        = 10
)

// requestKeys are the keys of each kind's request body (collector/src/query/api/
// schema.ts) that a stored query carries; `from` and `to` always come from Grafana's
// time range. Any other key (Grafana's refId, datasource, hide..., or a key left over
// from another kind) is not sent: the API refuses unknown keys.
var requestKeys = map[string][]string{
	KindTimeseries: {"kind", "filter", "metric", "rate", "raw", "interval", "maxDataPoints", "minIntervalMs", "groupBy", "top"},
	KindTopN:       {"kind", "filter", "metric", "rate", "raw", "fields", "top"},
	KindRecords:    {"kind", "filter", "fields", "sort", "size", "cursor"},
	KindValues:     {"kind", "filter", "field", "prefix", "size"},
	KindMetrics:    {"kind", "expr", "instant", "step", "maxDataPoints"},
}

// Kinds lists the query kinds in a stable order (for messages).
func Kinds() []string {
	return []string{KindTimeseries, KindTopN, KindRecords, KindValues, KindMetrics}
}

// QueryModel is the stored query, the API's request body without from/to. Only the
// fields the backend reads itself are typed; the body is built from the raw JSON.
type QueryModel struct {
	Kind    string   `json:"kind"`
	GroupBy []string `json:"groupBy,omitempty"`
	Top     *int     `json:"top,omitempty"`
}

// Request is one Grafana query translated for the API.
type Request struct {
	Kind    string
	GroupBy []string
	// Body is the JSON sent to POST /api/v1/query.
	Body []byte
}

// QueryError is a query the plugin cannot send (bad JSON, unknown kind).
type QueryError struct{ Message string }

func (e *QueryError) Error() string { return e.Message }

// BuildRequest turns a Grafana query into the API's request body.
func BuildRequest(q backend.DataQuery) (*Request, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(q.JSON, &raw); err != nil {
		return nil, &QueryError{fmt.Sprintf("the query is not a JSON object: %v", err)}
	}
	var model QueryModel
	if err := json.Unmarshal(q.JSON, &model); err != nil {
		return nil, &QueryError{fmt.Sprintf("the query is malformed: %v", err)}
	}
	if model.Kind == "" {
		return nil, &QueryError{fmt.Sprintf("the query has no kind: pick one of %s", strings.Join(Kinds(), ", "))}
	}
	keys, ok := requestKeys[model.Kind]
	if !ok {
		return nil, &QueryError{fmt.Sprintf("unknown query kind %q: expected one of %s", model.Kind, strings.Join(Kinds(), ", "))}
	}
	intervalMs := q.Interval.Milliseconds()
	body := map[string]any{}
	for _, k := range keys {
		v, ok := raw[k]
		if !ok || isNull(v) {
			continue
		}
		if (k == "interval" || k == "step" || k == "cursor" || k == "prefix") && isEmptyString(v) {
			continue
		}
		if k == "interval" || k == "step" {
			var s string
			if json.Unmarshal(v, &s) == nil && isIntervalMacro(s) {
				if intervalMs > 0 {
					body[k] = intervalMs
				}
				continue
			}
		}
		if k == "maxDataPoints" {
			continue // below, bounded
		}
		body[k] = v
	}
	body["from"] = q.TimeRange.From.UnixMilli()
	body["to"] = q.TimeRange.To.UnixMilli()
	switch model.Kind {
	case KindTimeseries:
		series := 1
		if len(model.GroupBy) > 0 {
			top := defaultTop
			if model.Top != nil && *model.Top > 0 {
				top = *model.Top
			}
			series = top + 1
		}
		// autoInterval can give one bucket more than maxDataPoints (alignment).
		body["maxDataPoints"] = clampPoints(maxDataPoints(raw, q), defaultMaxBuckets/series-1)
		if _, set := body["minIntervalMs"]; !set && intervalMs > 0 {
			body["minIntervalMs"] = intervalMs
		}
	case KindMetrics:
		body["maxDataPoints"] = clampPoints(maxDataPoints(raw, q), defaultMaxBuckets-1)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(orderedBody(body)); err != nil {
		return nil, &QueryError{fmt.Sprintf("the query cannot be encoded: %v", err)}
	}
	return &Request{Kind: model.Kind, GroupBy: model.GroupBy, Body: bytes.TrimSpace(buf.Bytes())}, nil
}

// orderedBody is the body with `kind` first and the rest sorted, so the request text
// (shown in the query inspector) is stable.
type orderedBody map[string]any

func (b orderedBody) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(b))
	for k := range b {
		if k != "kind" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := b["kind"]; ok {
		keys = append([]string{"kind"}, keys...)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(b[k])
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// maxDataPoints is Grafana's value, or the query's own when smaller. Grafana writes its
// panel width (and 43,200 for alert rules) into the stored query too, so a stored value
// is only a bound, never a reason to exceed the API's limit.
func maxDataPoints(raw map[string]json.RawMessage, q backend.DataQuery) int64 {
	n := q.MaxDataPoints
	var stored int64
	if v, ok := raw["maxDataPoints"]; ok && json.Unmarshal(v, &stored) == nil && stored > 0 {
		if n <= 0 || stored < n {
			n = stored
		}
	}
	return n
}

func clampPoints(grafana int64, limit int) int64 {
	if limit < 1 {
		limit = 1
	}
	if grafana <= 0 || grafana > int64(limit) {
		return int64(limit)
	}
	return grafana
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func isEmptyString(v json.RawMessage) bool {
	var s string
	return json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) == ""
}

// isIntervalMacro: Grafana's interval variables, which only Grafana's frontend
// interpolates; alert rules send them as written.
func isIntervalMacro(s string) bool {
	switch strings.TrimSpace(s) {
	case "$__interval", "${__interval}", "$__interval_ms", "${__interval_ms}", "$__rate_interval", "${__rate_interval}", "$__auto", "auto":
		return true
	}
	return false
}

// fromAlert says whether Grafana's alerting engine sent the request.
func fromAlert(headers map[string]string) bool {
	for k, v := range headers {
		name := strings.TrimPrefix(k, "http_")
		if strings.EqualFold(name, backend.FromAlertHeaderName) && v != "" && !strings.EqualFold(v, "false") {
			return true
		}
	}
	return false
}

// elapsed rounds a duration for logs.
func elapsed(start time.Time) string { return time.Since(start).Round(time.Millisecond).String() }
