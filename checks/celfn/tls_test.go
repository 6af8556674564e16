package celfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

func TestMinTLSVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy  string
		want    string
		wantErr bool
	}{
		{policy: "ELBSecurityPolicy-2016-08", want: "TLSv1"},
		{policy: "ELBSecurityPolicy-TLS-1-0-2015-04", want: "TLSv1"},
		{policy: "ELBSecurityPolicy-TLS-1-1-2017-01", want: "TLSv1.1"},
		{policy: "ELBSecurityPolicy-TLS-1-2-2017-01", want: "TLSv1.2"},
		{policy: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", want: "TLSv1.2"},
		{policy: "ELBSecurityPolicy-FS-2018-06", want: "TLSv1"},
		{policy: "ELBSecurityPolicy-FS-1-1-2019-08", want: "TLSv1.1"},
		{policy: "ELBSecurityPolicy-FS-1-2-Res-2020-10", want: "TLSv1.2"},
		{policy: "ELBSecurityPolicy-TLS13-1-0-2021-06", want: "TLSv1"},
		{policy: "ELBSecurityPolicy-TLS13-1-2-2021-06", want: "TLSv1.2"},
		{policy: "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", want: "TLSv1.2"},
		{policy: "ELBSecurityPolicy-TLS13-1-3-2021-06", want: "TLSv1.3"},
		{policy: "TLSv1", want: "TLSv1"},
		{policy: "TLSv1_2016", want: "TLSv1"},
		{policy: "TLSv1.1_2016", want: "TLSv1.1"},
		{policy: "TLSv1.2_2021", want: "TLSv1.2"},
		{policy: "SSLv3", want: "SSLv3"},
		{policy: "Policy-Min-TLS-1-0-2019-07", want: "TLSv1"},
		{policy: "Policy-Min-TLS-1-2-PFS-2023-10", want: "TLSv1.2"},
		{policy: "TLSv1.2", want: "TLSv1.2"},
		{policy: "1.3", want: "TLSv1.3"},
		{policy: "MyCustomPolicy", wantErr: true},
		{policy: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			t.Parallel()
			got, err := celfn.MinTLSVersion(tc.policy)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTLSFunctions(t *testing.T) {
	t.Parallel()
	runCases(t, []evalCase{
		{name: "min version", expr: `tls.policy_min_version("ELBSecurityPolicy-2016-08")`, want: "TLSv1"},
		{name: "at least ok", expr: `tls.at_least("ELBSecurityPolicy-TLS13-1-2-2021-06", "TLSv1.2")`, want: true},
		{name: "at least too old", expr: `tls.at_least("TLSv1.1_2016", "TLSv1.2")`, want: false},
		{name: "ssl below tls", expr: `tls.at_least("SSLv3", "TLSv1")`, want: false},
		{name: "unknown policy", expr: `tls.at_least("Custom", "TLSv1.2")`, wantErr: "unknown TLS security policy"},
	})
}
