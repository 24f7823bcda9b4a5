// Package plugin is the backend of the Sluice flows data source: Grafana queries,
// health checks and editor look-ups become calls to the collector's query API.
package plugin

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// PluginID is plugin.json's id.
const PluginID = "sluice-flows-datasource"

// parallelQueries bounds the API calls of one QueryData request.
const parallelQueries = 4

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured Sluice data source.
type Datasource struct {
	settings *Settings
	client   *Client
	// configErr is what is wrong with the settings; every call reports it.
	configErr error
	logger    log.Logger
}

// NewDatasource is the instance factory. Bad settings do not fail the instance: they
// are reported by the health check and by every query, with the setting to fix.
func NewDatasource(_ context.Context, in backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return NewDatasourceWithLogger(in, log.DefaultLogger), nil
}

// NewDatasourceWithLogger is NewDatasource with a chosen logger (tests capture it).
func NewDatasourceWithLogger(in backend.DataSourceInstanceSettings, logger log.Logger) *Datasource {
	ds := &Datasource{logger: logger}
	s, err := ParseSettings(in)
	if err == nil {
		ds.settings = s
		ds.client, err = NewClient(s)
	}
	if err != nil {
		ds.configErr = err
		logger.Warn("sluice data source: settings need fixing", "datasource", in.UID, "problem", err.Error())
	}
	return ds
}

// Dispose releases the idle connections of an instance whose settings changed.
func (d *Datasource) Dispose() {
	if d.client != nil {
		d.client.http.CloseIdleConnections()
	}
}

func (d *Datasource) log(ctx context.Context) log.Logger { return d.logger.FromContext(ctx) }

// QueryData runs each query against POST /api/v1/query and converts its frames.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	res := backend.NewQueryDataResponse()
	alert := fromAlert(req.Headers)
	var header http.Header
	if alert {
		header = http.Header{backend.FromAlertHeaderName: []string{"true"}}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallelQueries)
	for _, q := range req.Queries {
		wg.Add(1)
		go func(q backend.DataQuery) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			r := d.query(ctx, q, header, alert)
			mu.Lock()
			res.Responses[q.RefID] = r
			mu.Unlock()
		}(q)
	}
	wg.Wait()
	return res, nil
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery, header http.Header, alert bool) backend.DataResponse {
	if d.configErr != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream,
			"Sluice data source settings: "+d.configErr.Error())
	}
	r, err := BuildRequest(q)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	start := time.Now()
	ans, err := d.client.Query(ctx, r.Body, header)
	logger := d.log(ctx)
	if err != nil {
		status, source := errorStatus(err)
		logger.Debug("sluice query failed", "refId", q.RefID, "kind", r.Kind, "fromAlert", alert,
			"status", int(status), "took", elapsed(start), "error", err.Error())
		return backend.ErrDataResponseWithSource(status, source, err.Error())
	}
	frames, err := ToDataFrames(ans.Frames, FrameOptions{Kind: r.Kind, RefID: q.RefID, GroupBy: r.GroupBy, Executed: string(r.Body)})
	if err != nil {
		logger.Warn("sluice query answer not convertible", "refId", q.RefID, "kind", r.Kind, "error", err.Error())
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream,
			"the Sluice API answered frames that cannot be read: "+err.Error())
	}
	logger.Debug("sluice query", "refId", q.RefID, "kind", r.Kind, "fromAlert", alert,
		"frames", len(frames), "took", elapsed(start))
	return backend.DataResponse{Frames: frames}
}

// errorStatus maps an API failure to Grafana's status and error source.
func errorStatus(err error) (backend.Status, backend.ErrorSource) {
	var api *APIError
	var unreachable *UnreachableError
	switch {
	case errors.As(err, &api):
		switch {
		case api.Status == http.StatusUnauthorized:
			return backend.StatusUnauthorized, backend.ErrorSourceDownstream
		case api.Status == http.StatusForbidden:
			return backend.StatusForbidden, backend.ErrorSourceDownstream
		case api.Status == http.StatusNotFound:
			return backend.StatusNotFound, backend.ErrorSourceDownstream
		case api.Status == http.StatusTooManyRequests:
			return backend.StatusTooManyRequests, backend.ErrorSourceDownstream
		case api.Status == http.StatusGatewayTimeout:
			return backend.StatusTimeout, backend.ErrorSourceDownstream
		case api.Status >= 400 && api.Status < 500:
			return backend.StatusBadRequest, backend.ErrorSourceDownstream
		default:
			return backend.StatusBadGateway, backend.ErrorSourceDownstream
		}
	case errors.As(err, &unreachable):
		if unreachable.Reason == "no answer before the timeout" {
			return backend.StatusTimeout, backend.ErrorSourceDownstream
		}
		return backend.StatusBadGateway, backend.ErrorSourceDownstream
	default:
		return backend.StatusBadGateway, backend.ErrorSourceDownstream
	}
}
