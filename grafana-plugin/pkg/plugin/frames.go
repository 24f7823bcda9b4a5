package plugin

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// APIResponse is the body of POST /api/v1/query: columnar frames.
type APIResponse struct {
	Frames []APIFrame `json:"frames"`
}

// APIFrame is one frame of the API (collector/src/query/es/types.ts `Frame`).
type APIFrame struct {
	Name   string     `json:"name,omitempty"`
	Meta   *APIMeta   `json:"meta,omitempty"`
	Fields []APIField `json:"fields"`
}

// APIMeta is the API's frame meta.
type APIMeta struct {
	IntervalMs *float64 `json:"intervalMs,omitempty"`
	NextCursor *string  `json:"nextCursor,omitempty"`
	Total      *float64 `json:"total,omitempty"`
}

// APIField is one column: type time (epoch ms), number, string or boolean.
type APIField struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Unit   string            `json:"unit,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Values []any             `json:"values"`
}

// FrameOptions say how the frames of one query are presented.
type FrameOptions struct {
	Kind  string
	RefID string
	// GroupBy orders the label values of a series' display name (timeseries).
	GroupBy []string
	// Executed is the request body sent, shown in Grafana's query inspector.
	Executed string
}

// ToDataFrames converts the API's frames 1:1: same names, columns, values, labels and
// units. Time series kinds become wide time series (timeseries) or one frame per series
// (metrics); topn a numeric-long table (so alert rules can use it); records and values
// plain tables.
func ToDataFrames(in []APIFrame, opt FrameOptions) (data.Frames, error) {
	out := make(data.Frames, 0, len(in))
	for i := range in {
		f, err := toDataFrame(&in[i], opt)
		if err != nil {
			name := in[i].Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			return nil, fmt.Errorf("frame %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func toDataFrame(in *APIFrame, opt FrameOptions) (*data.Frame, error) {
	frame := data.NewFrame(in.Name)
	frame.RefID = opt.RefID
	var interval float64
	if in.Meta != nil && in.Meta.IntervalMs != nil {
		interval = *in.Meta.IntervalMs
	}
	length := -1
	for i := range in.Fields {
		af := &in.Fields[i]
		if length >= 0 && len(af.Values) != length {
			return nil, fmt.Errorf("field %s has %d values, the frame's other fields %d", af.Name, len(af.Values), length)
		}
		length = len(af.Values)
		f, err := toField(af)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", af.Name, err)
		}
		if len(af.Labels) > 0 {
			f.Labels = data.Labels{}
			for k, v := range af.Labels {
				f.Labels[k] = v
			}
		}
		cfg := &data.FieldConfig{Unit: af.Unit}
		if af.Type == "time" && interval > 0 {
			cfg.Interval = interval
		}
		if af.Type == "number" {
			cfg.DisplayNameFromDS = displayName(in, af, opt)
		}
		if cfg.Unit != "" || cfg.Interval != 0 || cfg.DisplayNameFromDS != "" {
			f.Config = cfg
		}
		frame.Fields = append(frame.Fields, f)
	}
	frame.Meta = frameMeta(in, opt)
	return frame, nil
}

func frameMeta(in *APIFrame, opt FrameOptions) *data.FrameMeta {
	meta := &data.FrameMeta{ExecutedQueryString: opt.Executed}
	hasTime := false
	for _, f := range in.Fields {
		if f.Type == "time" {
			hasTime = true
			break
		}
	}
	switch opt.Kind {
	case KindTimeseries:
		meta.Type, meta.TypeVersion = data.FrameTypeTimeSeriesWide, data.FrameTypeVersion{0, 1}
		meta.PreferredVisualization = data.VisTypeGraph
	case KindMetrics:
		if hasTime {
			meta.Type, meta.TypeVersion = data.FrameTypeTimeSeriesMulti, data.FrameTypeVersion{0, 1}
		}
		meta.PreferredVisualization = data.VisTypeGraph
	case KindTopN:
		meta.Type, meta.TypeVersion = data.FrameTypeNumericLong, data.FrameTypeVersion{0, 1}
		meta.PreferredVisualization = data.VisTypeTable
	default:
		meta.Type = data.FrameTypeTable
		meta.PreferredVisualization = data.VisTypeTable
	}
	if in.Meta != nil {
		custom := map[string]any{}
		if in.Meta.IntervalMs != nil {
			custom["intervalMs"] = *in.Meta.IntervalMs
		}
		if in.Meta.NextCursor != nil {
			custom["nextCursor"] = *in.Meta.NextCursor
		}
		if in.Meta.Total != nil {
			custom["total"] = *in.Meta.Total
			meta.Stats = append(meta.Stats, data.QueryStat{
				FieldConfig: data.FieldConfig{DisplayName: "Total"},
				Value:       *in.Meta.Total,
			})
		}
		if len(custom) > 0 {
			meta.Custom = custom
		}
	}
	return meta
}

// displayName is the legend of a number column: the group's values for grouped time
// series ("10.0.0.1 / 443"), the series name for metrics, nothing for tables (the
// column name says it).
func displayName(in *APIFrame, af *APIField, opt FrameOptions) string {
	switch opt.Kind {
	case KindTimeseries:
		if len(af.Labels) == 0 {
			return af.Name
		}
		keys := make([]string, 0, len(af.Labels))
		seen := map[string]bool{}
		for _, k := range opt.GroupBy {
			if _, ok := af.Labels[k]; ok && !seen[k] {
				keys = append(keys, k)
				seen[k] = true
			}
		}
		rest := make([]string, 0)
		for k := range af.Labels {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		keys = append(keys, rest...)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = af.Labels[k]
		}
		return strings.Join(parts, " / ")
	case KindMetrics:
		if in.Name != "" {
			return in.Name
		}
	}
	return ""
}

func toField(af *APIField) (*data.Field, error) {
	nulls := false
	for _, v := range af.Values {
		if v == nil {
			nulls = true
			break
		}
	}
	n := len(af.Values)
	switch af.Type {
	case "time":
		if !nulls {
			vals := make([]time.Time, n)
			for i, v := range af.Values {
				t, err := epochMs(v)
				if err != nil {
					return nil, fmt.Errorf("value %d: %w", i, err)
				}
				vals[i] = t
			}
			return data.NewField(af.Name, nil, vals), nil
		}
		vals := make([]*time.Time, n)
		for i, v := range af.Values {
			if v == nil {
				continue
			}
			t, err := epochMs(v)
			if err != nil {
				return nil, fmt.Errorf("value %d: %w", i, err)
			}
			vals[i] = &t
		}
		return data.NewField(af.Name, nil, vals), nil
	case "number":
		// Always nullable: a gap (Prometheus NaN) keeps the column's type stable.
		vals := make([]*float64, n)
		for i, v := range af.Values {
			if v == nil {
				continue
			}
			x, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("value %d (%v) is not a number", i, v)
			}
			vals[i] = &x
		}
		return data.NewField(af.Name, nil, vals), nil
	case "string":
		if !nulls {
			vals := make([]string, n)
			for i, v := range af.Values {
				s, err := text(v)
				if err != nil {
					return nil, fmt.Errorf("value %d: %w", i, err)
				}
				vals[i] = s
			}
			return data.NewField(af.Name, nil, vals), nil
		}
		vals := make([]*string, n)
		for i, v := range af.Values {
			if v == nil {
				continue
			}
			s, err := text(v)
			if err != nil {
				return nil, fmt.Errorf("value %d: %w", i, err)
			}
			vals[i] = &s
		}
		return data.NewField(af.Name, nil, vals), nil
	case "boolean":
		vals := make([]*bool, n)
		for i, v := range af.Values {
			if v == nil {
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("value %d (%v) is not a boolean", i, v)
			}
			vals[i] = &b
		}
		if !nulls {
			plain := make([]bool, n)
			for i, p := range vals {
				plain[i] = *p
			}
			return data.NewField(af.Name, nil, plain), nil
		}
		return data.NewField(af.Name, nil, vals), nil
	default:
		return nil, fmt.Errorf("unknown field type %q (expected time, number, string or boolean)", af.Type)
	}
}

func epochMs(v any) (time.Time, error) {
	x, ok := v.(float64)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return time.Time{}, fmt.Errorf("%v is not a time in epoch milliseconds", v)
	}
	return time.UnixMilli(int64(x)).UTC(), nil
}

// text is a string cell; numbers and booleans in a string column become their text.
func text(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	default:
		return "", fmt.Errorf("%v is not a string", v)
	}
}
