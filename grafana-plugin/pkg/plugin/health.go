package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// HealthDetails are the JSON details of a health check.
type HealthDetails struct {
	URL     string `json:"url,omitempty"`
	Version string `json:"version,omitempty"`
	Fields  int    `json:"fields"`
	Token   bool   `json:"token"`
}

// CheckHealth checks, in order, the settings, that the URL answers like a Sluice
// collector (/healthz), that the query API accepts the token (/api/v1/fields) and the
// API's version (/docs/json), and says which step failed and what to change.
func (d *Datasource) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		d.log(ctx).Info("sluice health check failed", "problem", msg)
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	if d.configErr != nil {
		return fail("Settings: " + d.configErr.Error())
	}
	base := d.settings.URL.Redacted()
	var header http.Header
	if v := req.GetHTTPHeader(backend.FromAlertHeaderName); v != "" {
		header = http.Header{backend.FromAlertHeaderName: []string{v}}
	}

	body, err := d.client.Do(ctx, http.MethodGet, "/healthz", nil, nil, false, header)
	if err != nil {
		var unreachable *UnreachableError
		var api *APIError
		switch {
		case errors.As(err, &unreachable):
			return fail(fmt.Sprintf("Cannot reach %s: %s.", base, unreachable.Reason))
		case errors.As(err, &api):
			return fail(fmt.Sprintf("%s is not a Sluice collector: GET /healthz answered %d. Use the collector's HTTP API address (http://HOST:9850 by default).", base, api.Status))
		default:
			return fail(err.Error())
		}
	}
	var hz struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &hz) != nil || hz.Status != "ok" {
		return fail(fmt.Sprintf("%s is not a Sluice collector: GET /healthz did not answer {\"status\":\"ok\"}. Use the collector's HTTP API address (http://HOST:9850 by default).", base))
	}

	fields, _, err := d.client.Fields(ctx, header)
	if err != nil {
		var api *APIError
		var unreachable *UnreachableError
		var notSluice *NotSluiceError
		switch {
		case errors.As(err, &api) && api.Status == http.StatusUnauthorized:
			if !d.settings.HasToken() {
				return fail("The Sluice query API requires a token (401): set the API token to one of the collector's query tokens.")
			}
			return fail(fmt.Sprintf("The API token was refused (401 %s): check it against the collector's query tokens.", api.Message))
		case errors.As(err, &api) && api.Status == http.StatusForbidden:
			return fail("The API token is not allowed to read flows (403).")
		case errors.As(err, &api) && api.Status == http.StatusNotFound:
			return fail(fmt.Sprintf("%s is a Sluice collector but its query API is not enabled (GET /api/v1/fields answered 404): enable the query API in the collector's configuration.", base))
		case errors.As(err, &api):
			return fail(fmt.Sprintf("The Sluice query API answered %d on /api/v1/fields: %s", api.Status, api.Message))
		case errors.As(err, &unreachable):
			return fail(fmt.Sprintf("Cannot reach %s: %s.", base, unreachable.Reason))
		case errors.As(err, &notSluice):
			return fail(fmt.Sprintf("%s answers /healthz but is not the Sluice query API: %s.", base, notSluice.Reason))
		default:
			return fail(err.Error())
		}
	}

	details := HealthDetails{URL: base, Fields: len(fields.Fields), Token: d.settings.HasToken()}
	if doc, err := d.client.Do(ctx, http.MethodGet, "/docs/json", nil, nil, false, header); err == nil {
		var openapi struct {
			Info struct {
				Title   string `json:"title"`
				Version string `json:"version"`
			} `json:"info"`
		}
		if json.Unmarshal(doc, &openapi) == nil {
			details.Version = openapi.Info.Version
		}
	}
	msg := "Sluice query API v1"
	if details.Version != "" {
		msg += " (collector " + details.Version + ")"
	}
	msg += fmt.Sprintf(" at %s: %d fields", base, details.Fields)
	if details.Fields == 0 {
		msg += " (no flow data indexed yet)"
	}
	msg += "."
	if !d.settings.HasToken() {
		msg += " The API asks for no token: keep it on loopback or configure query tokens."
	}
	js, _ := json.Marshal(details)
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: js}, nil
}
