package celfn_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

func TestParseTimeAndAgeDays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "2026-06-01T11:00:00Z", want: 0},
		{in: "2026-05-31T12:00:00Z", want: 1},
		{in: "2026-05-31T12:00:01Z", want: 0},
		{in: "2026-03-03T11:59:59.123Z", want: 90},
		{in: "2026-03-03T14:00:00+02:00", want: 90},
		{in: "2026-03-03", want: 90},
		{in: "2026-06-02T12:00:00Z", want: -1},
		{in: "N/A", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			ts, err := celfn.ParseTime(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, celfn.AgeDays(ts, now))
		})
	}
}

func TestAgeFunctions(t *testing.T) {
	t.Parallel()
	runCases(t, []evalCase{
		{name: "string", expr: `age_days(doc.CreateDate)`, doc: map[string]any{"CreateDate": "2026-05-02T12:00:00Z"}, want: int64(30)},
		{name: "timestamp", expr: `age_days(timestamp("2025-06-01T12:00:00Z"))`, want: int64(365)},
		{name: "threshold", expr: `age_days(doc.d) > 90`, doc: map[string]any{"d": "2020-01-01T00:00:00Z"}, want: true},
		{name: "not a time", expr: `age_days(doc.d)`, doc: map[string]any{"d": "no_information"}, wantErr: "age_days"},
		{name: "wrong type", expr: `age_days(3)`, wantErr: "age_days"},
		{name: "time.parse", expr: `time.parse("2026-01-01") < timestamp("2026-01-02T00:00:00Z")`, want: true},
	})
}
