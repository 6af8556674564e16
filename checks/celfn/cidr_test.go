package celfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

func TestIsPublicCIDR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cidr    string
		public  bool
		world   bool
		private bool
		wantErr bool
	}{
		{cidr: "0.0.0.0/0", public: true, world: true},
		{cidr: "::/0", public: true, world: true},
		{cidr: "0.0.0.0/1", public: true},
		{cidr: "128.0.0.0/1", public: true},
		{cidr: "52.0.0.0/8", public: true},
		{cidr: "52.0.0.0/9"},
		{cidr: "203.0.113.7/32", private: true}, // documentation range
		{cidr: "8.8.8.8/32"},
		{cidr: "8.8.8.8"},
		{cidr: "10.0.0.0/8", private: true},
		{cidr: "10.1.2.0/24", private: true},
		{cidr: "172.16.0.0/12", private: true},
		{cidr: "192.168.1.1/32", private: true},
		{cidr: "100.64.0.0/10", private: true},
		{cidr: "2600::/16", public: true},
		{cidr: "2600:1f18::/32", public: true},
		{cidr: "2600:1f18::/33"},
		{cidr: "fd00::/8", private: true},
		{cidr: "fc00::/7", private: true},
		{cidr: "::ffff:0.0.0.0/96", public: true, world: true}, // IPv4-mapped
		{cidr: "0.0.0.0/33", wantErr: true},
		{cidr: "not-a-cidr", wantErr: true},
		{cidr: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.cidr, func(t *testing.T) {
			t.Parallel()
			pub, err := celfn.IsPublicCIDR(tc.cidr)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.public, pub, "public")
			world, err := celfn.IsWorldCIDR(tc.cidr)
			require.NoError(t, err)
			require.Equal(t, tc.world, world, "world")
			priv, err := celfn.IsPrivateCIDR(tc.cidr)
			require.NoError(t, err)
			require.Equal(t, tc.private, priv, "private")
		})
	}
}

func TestCIDRFunctions(t *testing.T) {
	t.Parallel()
	runCases(t, []evalCase{
		{name: "is_public world", expr: `cidr.is_public("0.0.0.0/0")`, want: true},
		{name: "is_public v6 world", expr: `cidr.is_public("::/0")`, want: true},
		{name: "is_public private", expr: `cidr.is_public("10.0.0.0/8")`, want: false},
		{name: "is_public from doc", expr: `doc.ranges.exists(r, cidr.is_public(r.CidrIp))`,
			doc: map[string]any{"ranges": []any{map[string]any{"CidrIp": "10.0.0.0/16"}, map[string]any{"CidrIp": "0.0.0.0/0"}}}, want: true},
		{name: "is_world", expr: `cidr.is_world("0.0.0.0/1")`, want: false},
		{name: "is_private", expr: `cidr.is_private("192.168.0.0/24")`, want: true},
		{name: "contains address", expr: `cidr.contains("10.0.0.0/8", "10.1.2.3")`, want: true},
		{name: "contains range", expr: `cidr.contains("10.0.0.0/16", "10.0.0.0/8")`, want: false},
		{name: "invalid is an error", expr: `cidr.is_public("300.1.1.1/8")`, wantErr: "cidr.is_public"},
	})
}
