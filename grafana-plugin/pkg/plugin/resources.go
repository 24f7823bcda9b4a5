package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Resources for the query editor:
//
//	GET  fields                          the API's field list: {"fields":[{name,type,searchable,aggregatable}]}
//	GET  values?field=F&prefix=P&size=N  values of F (the `values` kind) over from/to (epoch
//	                                     ms; default the last 24 hours), optionally &filter=
//	                                     {"field":F,"values":[{"value":v,"text":"v","count":n}]}
//	POST query                           a request body sent as it is to /api/v1/query, the
//	                                     API's answer returned as it is (filter validation)
//
// Errors answer {"error": "..."} with the API's status.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	if d.configErr != nil {
		return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "Sluice data source settings: " + d.configErr.Error()})
	}
	var header http.Header
	if vs := req.GetHTTPHeaders().Values(backend.FromAlertHeaderName); len(vs) > 0 {
		header = http.Header{backend.FromAlertHeaderName: vs}
	}
	path := strings.Trim(req.Path, "/")
	switch {
	case path == "fields" && req.Method == http.MethodGet:
		_, raw, err := d.client.Fields(ctx, header)
		if err != nil {
			return d.sendError(ctx, sender, err)
		}
		return sender.Send(&backend.CallResourceResponse{Status: http.StatusOK, Headers: jsonHeaders(), Body: raw})
	case path == "values" && req.Method == http.MethodGet:
		return d.values(ctx, req, header, sender)
	case path == "query" && req.Method == http.MethodPost:
		data, err := d.client.Do(ctx, http.MethodPost, "/api/v1/query", nil, req.Body, true, header)
		if err != nil {
			return d.sendError(ctx, sender, err)
		}
		return sender.Send(&backend.CallResourceResponse{Status: http.StatusOK, Headers: jsonHeaders(), Body: data})
	case path == "fields" || path == "values" || path == "query":
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("%s does not take %s", path, req.Method)})
	default:
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no resource %q: fields, values and query exist", path)})
	}
}

// Value is one entry of the values resource.
type Value struct {
	Value any    `json:"value"`
	Text  string `json:"text"`
	Count int64  `json:"count"`
}

func (d *Datasource) values(ctx context.Context, req *backend.CallResourceRequest, header http.Header, sender backend.CallResourceResponseSender) error {
	u, err := url.Parse(req.URL)
	if err != nil {
		return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "bad resource URL"})
	}
	p := u.Query()
	field := strings.TrimSpace(p.Get("field"))
	if field == "" {
		return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "values: the field parameter is required"})
	}
	now := time.Now()
	body := map[string]any{"kind": KindValues, "field": field, "from": now.Add(-24 * time.Hour).UnixMilli(), "to": now.UnixMilli()}
	for _, k := range []string{"from", "to"} {
		if v := p.Get(k); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				body[k] = ms
			} else {
				body[k] = v // ISO 8601: the API checks it
			}
		}
	}
	if v := p.Get("prefix"); v != "" {
		body["prefix"] = v
	}
	if v := p.Get("filter"); strings.TrimSpace(v) != "" {
		body["filter"] = v
	}
	if v := p.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "values: size must be a positive integer"})
		}
		body["size"] = n
	}
	js, _ := json.Marshal(body)
	ans, err := d.client.Query(ctx, js, header)
	if err != nil {
		return d.sendError(ctx, sender, err)
	}
	out := struct {
		Field  string  `json:"field"`
		Values []Value `json:"values"`
	}{Field: field, Values: []Value{}}
	if len(ans.Frames) > 0 {
		var vals, counts []any
		for _, f := range ans.Frames[0].Fields {
			switch f.Name {
			case "count":
				counts = f.Values
			default:
				if vals == nil {
					vals = f.Values
				}
			}
		}
		for i, v := range vals {
			if v == nil {
				continue
			}
			t, _ := text(v)
			var n int64
			if i < len(counts) {
				if c, ok := counts[i].(float64); ok {
					n = int64(c)
				}
			}
			out.Values = append(out.Values, Value{Value: v, Text: t, Count: n})
		}
	}
	return sendJSON(sender, http.StatusOK, out)
}

func (d *Datasource) sendError(ctx context.Context, sender backend.CallResourceResponseSender, err error) error {
	status := http.StatusBadGateway
	body := map[string]any{}
	var api *APIError
	if errors.As(err, &api) {
		status = api.Status
		for k, v := range api.Detail {
			body[k] = v
		}
		body["error"] = api.Message
		if !api.Sluice {
			body["error"] = err.Error()
		}
	} else {
		body["error"] = err.Error()
	}
	d.log(ctx).Debug("sluice resource call failed", "status", status, "error", err.Error())
	return sendJSON(sender, status, body)
}

func jsonHeaders() map[string][]string {
	return map[string][]string{"Content-Type": {"application/json"}}
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{Status: status, Headers: jsonHeaders(), Body: body})
}
