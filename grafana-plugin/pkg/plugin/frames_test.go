package plugin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Frames as the API writes them (collector/src/query/es/frames.ts and api/prometheus.ts).
const (
	timeseriesGrouped = `[{"name":"bytes","meta":{"intervalMs":60000},"fields":[
		{"name":"time","type":"time","values":[1714557600000,1714557660000,1714557720000]},
		{"name":"bytes","type":"number","unit":"decbytes","labels":{"network.transport":"tcp","destination.port":"443"},"values":[100,200,0]},
		{"name":"bytes","type":"number","unit":"decbytes","labels":{"network.transport":"udp","destination.port":"53"},"values":[5,0,7]},
		{"name":"bytes","type":"number","unit":"decbytes","labels":{"network.transport":"(other)","destination.port":"(other)"},"values":[1,1,1]}]}]`
	timeseriesPlain = `[{"name":"packets","meta":{"intervalMs":30000},"fields":[
		{"name":"time","type":"time","values":[1714557600000,1714557630000]},
		{"name":"packets","type":"number","unit":"pps","values":[1.5,2.25]}]}]`
	topnFrame = `[{"name":"topn","meta":{"total":1000},"fields":[
		{"name":"source.ip","type":"string","values":["10.0.0.1","10.0.0.2"]},
		{"name":"destination.port","type":"number","values":[443,53]},
		{"name":"bytes","type":"number","unit":"decbytes","values":[600,300]},
		{"name":"share","type":"number","unit":"percentunit","values":[0.6,0.3]}]}]`
	recordsFrame = `[{"name":"records","meta":{"nextCursor":"abc","total":2500},"fields":[
		{"name":"@timestamp","type":"time","values":[1714557600123,null]},
		{"name":"source.ip","type":"string","values":["10.0.0.1",null]},
		{"name":"network.bytes","type":"number","values":[1500,null]},
		{"name":"tcp.flags.syn","type":"boolean","values":[true,null]},
		{"name":"observer.ip","type":"boolean","values":[true,false]}]}]`
	valuesFrame = `[{"name":"network.transport","fields":[
		{"name":"network.transport","type":"string","values":["tcp","udp"]},
		{"name":"count","type":"number","values":[300,60]}]}]`
	metricsFrames = `[
		{"name":"sluice_udp_drops_total{port=\"2055\"}","meta":{"intervalMs":15000},"fields":[
			{"name":"time","type":"time","values":[1714557600000,1714557615000]},
			{"name":"value","type":"number","labels":{"__name__":"sluice_udp_drops_total","port":"2055"},"values":[3,null]}]},
		{"name":"sluice_udp_drops_total{port=\"4739\"}","meta":{"intervalMs":15000},"fields":[
			{"name":"time","type":"time","values":[1714557600000,1714557615000]},
			{"name":"value","type":"number","labels":{"__name__":"sluice_udp_drops_total","port":"4739"},"values":[0,1]}]}]`
)

func parseFrames(t *testing.T, js string) []APIFrame {
	t.Helper()
	var frames []APIFrame
	if err := json.Unmarshal([]byte(js), &frames); err != nil {
		t.Fatalf("test frames: %v", err)
	}
	return frames
}

func convert(t *testing.T, js, kind string, groupBy ...string) data.Frames {
	t.Helper()
	out, err := ToDataFrames(parseFrames(t, js), FrameOptions{Kind: kind, RefID: "A", GroupBy: groupBy, Executed: `{"kind":"` + kind + `"}`})
	if err != nil {
		t.Fatalf("ToDataFrames: %v", err)
	}
	return out
}

func floatAt(t *testing.T, f *data.Field, i int) *float64 {
	t.Helper()
	v, ok := f.At(i).(*float64)
	if !ok {
		t.Fatalf("field %s value %d is %T, want *float64", f.Name, i, f.At(i))
	}
	return v
}

func TestTimeseriesGroupedIsWideWithLabels(t *testing.T) {
	frames := convert(t, timeseriesGrouped, KindTimeseries, "network.transport", "destination.port")
	if len(frames) != 1 {
		t.Fatalf("frames: %d", len(frames))
	}
	f := frames[0]
	if f.Name != "bytes" || f.RefID != "A" {
		t.Errorf("name %q refId %q", f.Name, f.RefID)
	}
	if f.Meta.Type != data.FrameTypeTimeSeriesWide || f.Meta.PreferredVisualization != data.VisTypeGraph {
		t.Errorf("meta type %q vis %q", f.Meta.Type, f.Meta.PreferredVisualization)
	}
	if got := f.TimeSeriesSchema().Type; got != data.TimeSeriesTypeWide {
		t.Errorf("time series schema %v, want wide", got)
	}
	if len(f.Fields) != 4 {
		t.Fatalf("fields: %d", len(f.Fields))
	}
	tf := f.Fields[0]
	if tf.Type() != data.FieldTypeTime || tf.Config.Interval != 60000 {
		t.Errorf("time field %v interval %v", tf.Type(), tf.Config)
	}
	if got := tf.At(1).(time.Time); !got.Equal(time.UnixMilli(1714557660000)) {
		t.Errorf("time[1] = %v", got)
	}
	s := f.Fields[1]
	if s.Type() != data.FieldTypeNullableFloat64 || s.Name != "bytes" {
		t.Errorf("series type %v name %q", s.Type(), s.Name)
	}
	if s.Labels["network.transport"] != "tcp" || s.Labels["destination.port"] != "443" || len(s.Labels) != 2 {
		t.Errorf("labels %v", s.Labels)
	}
	if s.Config.Unit != "decbytes" || s.Config.DisplayNameFromDS != "tcp / 443" {
		t.Errorf("config unit %q display %q", s.Config.Unit, s.Config.DisplayNameFromDS)
	}
	if v := floatAt(t, s, 1); v == nil || *v != 200 {
		t.Errorf("bytes[1] = %v", v)
	}
	if other := f.Fields[3]; other.Config.DisplayNameFromDS != "(other) / (other)" {
		t.Errorf("other display %q", other.Config.DisplayNameFromDS)
	}
	if c := f.Meta.Custom.(map[string]any); c["intervalMs"] != 60000.0 {
		t.Errorf("custom meta %v", c)
	}
	if f.Meta.ExecutedQueryString == "" {
		t.Error("no executed query string")
	}
}

func TestTimeseriesUngrouped(t *testing.T) {
	f := convert(t, timeseriesPlain, KindTimeseries)[0]
	if f.Fields[1].Labels != nil || f.Fields[1].Config.Unit != "pps" || f.Fields[1].Config.DisplayNameFromDS != "packets" {
		t.Errorf("field %+v config %+v", f.Fields[1].Labels, f.Fields[1].Config)
	}
	if v := floatAt(t, f.Fields[1], 1); *v != 2.25 {
		t.Errorf("value %v", *v)
	}
}

func TestMetricsIsOneFramePerSeriesWithNulls(t *testing.T) {
	frames := convert(t, metricsFrames, KindMetrics)
	if len(frames) != 2 {
		t.Fatalf("frames %d", len(frames))
	}
	f := frames[0]
	if f.Meta.Type != data.FrameTypeTimeSeriesMulti {
		t.Errorf("type %q", f.Meta.Type)
	}
	v := f.Fields[1]
	if v.Labels["port"] != "2055" || v.Config.DisplayNameFromDS != `sluice_udp_drops_total{port="2055"}` {
		t.Errorf("labels %v display %q", v.Labels, v.Config.DisplayNameFromDS)
	}
	if floatAt(t, v, 1) != nil {
		t.Errorf("NaN sample should be null")
	}
	if f.Fields[0].Config.Interval != 15000 {
		t.Errorf("interval %v", f.Fields[0].Config.Interval)
	}
}

func TestTopnIsNumericLongTable(t *testing.T) {
	f := convert(t, topnFrame, KindTopN)[0]
	if f.Meta.Type != data.FrameTypeNumericLong || f.Meta.PreferredVisualization != data.VisTypeTable {
		t.Errorf("meta %q %q", f.Meta.Type, f.Meta.PreferredVisualization)
	}
	wantTypes := []data.FieldType{data.FieldTypeString, data.FieldTypeNullableFloat64, data.FieldTypeNullableFloat64, data.FieldTypeNullableFloat64}
	for i, ft := range wantTypes {
		if f.Fields[i].Type() != ft {
			t.Errorf("field %s type %v, want %v", f.Fields[i].Name, f.Fields[i].Type(), ft)
		}
	}
	if f.Fields[3].Config.Unit != "percentunit" || f.Fields[2].Config.Unit != "decbytes" {
		t.Errorf("units %q %q", f.Fields[2].Config.Unit, f.Fields[3].Config.Unit)
	}
	if f.Fields[2].Config.DisplayNameFromDS != "" {
		t.Errorf("table columns keep their names, got display %q", f.Fields[2].Config.DisplayNameFromDS)
	}
	if f.Fields[0].At(1) != "10.0.0.2" {
		t.Errorf("row 1 %v", f.Fields[0].At(1))
	}
	if f.Meta.Custom.(map[string]any)["total"] != 1000.0 || len(f.Meta.Stats) != 1 {
		t.Errorf("total meta %v stats %v", f.Meta.Custom, f.Meta.Stats)
	}
}

func TestRecordsTableWithNulls(t *testing.T) {
	f := convert(t, recordsFrame, KindRecords)[0]
	if f.Meta.Type != data.FrameTypeTable {
		t.Errorf("type %q", f.Meta.Type)
	}
	want := []data.FieldType{data.FieldTypeNullableTime, data.FieldTypeNullableString, data.FieldTypeNullableFloat64, data.FieldTypeNullableBool, data.FieldTypeBool}
	for i, ft := range want {
		if f.Fields[i].Type() != ft {
			t.Errorf("field %s type %v, want %v", f.Fields[i].Name, f.Fields[i].Type(), ft)
		}
	}
	if ts := f.Fields[0].At(0).(*time.Time); ts.UnixMilli() != 1714557600123 {
		t.Errorf("timestamp %v", ts)
	}
	if f.Fields[1].At(1).(*string) != nil {
		t.Error("null string not null")
	}
	c := f.Meta.Custom.(map[string]any)
	if c["nextCursor"] != "abc" || c["total"] != 2500.0 {
		t.Errorf("meta %v", c)
	}
}

func TestValuesTable(t *testing.T) {
	f := convert(t, valuesFrame, KindValues)[0]
	if f.Name != "network.transport" || f.Fields[0].At(0) != "tcp" || *floatAt(t, f.Fields[1], 1) != 60 {
		t.Errorf("frame %v", f)
	}
}

func TestConversionRefusesMalformedFrames(t *testing.T) {
	cases := map[string]string{
		"different lengths": `[{"fields":[{"name":"a","type":"number","values":[1,2]},{"name":"b","type":"number","values":[1]}]}]`,
		"unknown type":      `[{"fields":[{"name":"a","type":"geo","values":[1]}]}]`,
		"text in number":    `[{"fields":[{"name":"a","type":"number","values":["x"]}]}]`,
		"text in time":      `[{"fields":[{"name":"a","type":"time","values":["2024"]}]}]`,
		"number in boolean": `[{"fields":[{"name":"a","type":"boolean","values":[1]}]}]`,
	}
	for name, js := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ToDataFrames(parseFrames(t, js), FrameOptions{Kind: KindRecords})
			if err == nil || !strings.Contains(err.Error(), "field a") && !strings.Contains(err.Error(), "field b") {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestNumbersInStringColumnsBecomeText(t *testing.T) {
	f := convert(t, `[{"fields":[{"name":"a","type":"string","values":["x",1000000,true]}]}]`, KindRecords)[0]
	if f.Fields[0].At(1) != "1000000" || f.Fields[0].At(2) != "true" {
		t.Errorf("values %v %v", f.Fields[0].At(1), f.Fields[0].At(2))
	}
}

// The converted frames survive Grafana's wire format (Arrow), as they travel to Grafana.
func TestFramesMarshalToArrow(t *testing.T) {
	for _, c := range []struct{ js, kind string }{
		{timeseriesGrouped, KindTimeseries}, {topnFrame, KindTopN}, {recordsFrame, KindRecords},
		{valuesFrame, KindValues}, {metricsFrames, KindMetrics},
	} {
		for _, f := range convert(t, c.js, c.kind) {
			b, err := f.MarshalArrow()
			if err != nil {
				t.Fatalf("%s: %v", c.kind, err)
			}
			back, err := data.UnmarshalArrowFrame(b)
			if err != nil {
				t.Fatalf("%s: %v", c.kind, err)
			}
			if back.Rows() != f.Rows() || len(back.Fields) != len(f.Fields) {
				t.Errorf("%s: round trip changed the frame", c.kind)
			}
		}
	}
}
