package celfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

func perm(proto string, from, to any, v4, v6 []string) map[string]any {
	p := map[string]any{"IpProtocol": proto, "IpRanges": []any{}, "Ipv6Ranges": []any{}, "UserIdGroupPairs": []any{}}
	if from != nil {
		p["FromPort"] = from
	}
	if to != nil {
		p["ToPort"] = to
	}
	for _, c := range v4 {
		p["IpRanges"] = append(p["IpRanges"].([]any), map[string]any{"CidrIp": c})
	}
	for _, c := range v6 {
		p["Ipv6Ranges"] = append(p["Ipv6Ranges"].([]any), map[string]any{"CidrIpv6": c})
	}
	return p
}

func TestPortsInclude(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to, port int64
		want           bool
	}{
		{22, 22, 22, true},
		{0, 65535, 3389, true},
		{1024, 2048, 22, false},
		{-1, -1, 22, true},
		{80, 443, 443, true},
		{80, 443, 444, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, celfn.PortsInclude(tc.from, tc.to, tc.port), "%+v", tc)
	}
}

func TestPortOpenToInternet(t *testing.T) {
	t.Parallel()
	world := []string{"0.0.0.0/0"}
	tests := []struct {
		name    string
		perms   any
		port    int64
		proto   string
		want    bool
		wantErr bool
	}{
		{name: "ssh open v4", perms: []any{perm("tcp", 22.0, 22.0, world, nil)}, port: 22, proto: "tcp", want: true},
		{name: "ssh open v6", perms: []any{perm("tcp", 22.0, 22.0, nil, []string{"::/0"})}, port: 22, proto: "tcp", want: true},
		{name: "protocol number 6", perms: []any{perm("6", 0.0, 1024.0, world, nil)}, port: 22, proto: "tcp", want: true},
		{name: "all traffic", perms: []any{perm("-1", nil, nil, world, nil)}, port: 3389, proto: "tcp", want: true},
		{name: "all traffic with -1 ports", perms: []any{perm("-1", -1.0, -1.0, world, nil)}, port: 3389, proto: "udp", want: true},
		{name: "udp rule does not open tcp", perms: []any{perm("udp", 22.0, 22.0, world, nil)}, port: 22, proto: "tcp", want: false},
		{name: "other port", perms: []any{perm("tcp", 443.0, 443.0, world, nil)}, port: 22, proto: "tcp", want: false},
		{name: "private source", perms: []any{perm("tcp", 22.0, 22.0, []string{"10.0.0.0/8"}, nil)}, port: 22, proto: "tcp", want: false},
		{name: "single public host", perms: []any{perm("tcp", 22.0, 22.0, []string{"8.8.8.8/32"}, nil)}, port: 22, proto: "tcp", want: false},
		{name: "second rule opens", perms: []any{perm("tcp", 80.0, 80.0, world, nil), perm("tcp", 20.0, 25.0, []string{"10.0.0.0/8", "0.0.0.0/0"}, nil)}, port: 22, proto: "tcp", want: true},
		{name: "no rules", perms: []any{}, port: 22, proto: "tcp", want: false},
		{name: "nil", perms: nil, port: 22, proto: "tcp", want: false},
		{name: "not a list", perms: "x", port: 22, proto: "tcp", wantErr: true},
		{name: "no protocol", perms: []any{map[string]any{"FromPort": 22.0}}, port: 22, proto: "tcp", wantErr: true},
		{name: "bad cidr", perms: []any{perm("tcp", 22.0, 22.0, []string{"x"}, nil)}, port: 22, proto: "tcp", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := celfn.PortOpenToInternet(tc.perms, tc.port, tc.proto)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestExposedPorts(t *testing.T) {
	t.Parallel()
	got, err := celfn.ExposedPorts([]any{
		perm("-1", nil, nil, []string{"0.0.0.0/0"}, nil),
		perm("tcp", 22.0, 22.0, nil, []string{"::/0"}),
		perm("tcp", 1000.0, 2000.0, []string{"0.0.0.0/0"}, nil),
		perm("udp", 0.0, 65535.0, []string{"0.0.0.0/0"}, nil),
		perm("tcp", 443.0, 443.0, []string{"10.0.0.0/8"}, nil),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"all traffic from 0.0.0.0/0", "tcp/22 from ::/0", "tcp/1000-2000 from 0.0.0.0/0", "udp/all from 0.0.0.0/0"}, got)
}

func TestPortFunctions(t *testing.T) {
	t.Parallel()
	doc := map[string]any{"IpPermissions": []any{perm("tcp", 22.0, 22.0, []string{"0.0.0.0/0"}, nil), perm("udp", 53.0, 53.0, []string{"0.0.0.0/0"}, nil)}}
	runCases(t, []evalCase{
		{name: "includes doubles", expr: `ports.includes(doc.IpPermissions[0].FromPort, doc.IpPermissions[0].ToPort, 22)`, doc: doc, want: true},
		{name: "includes ints", expr: `ports.includes(1, 10, 11)`, want: false},
		{name: "includes all", expr: `ports.includes(-1, -1, 11)`, want: true},
		{name: "includes non integer", expr: `ports.includes(1.5, 10, 2)`, wantErr: "not an integer"},
		{name: "open ssh", expr: `ports.open_to_internet(doc.IpPermissions, 22)`, doc: doc, want: true},
		{name: "closed rdp", expr: `ports.open_to_internet(doc.IpPermissions, 3389)`, doc: doc, want: false},
		{name: "udp dns", expr: `ports.open_to_internet(doc.IpPermissions, 53, "udp")`, doc: doc, want: true},
		{name: "udp by number", expr: `ports.open_to_internet(doc.IpPermissions, 53, "17")`, doc: doc, want: true},
		{name: "exposed", expr: `ports.exposed(doc.IpPermissions)`, doc: doc, want: []string{"tcp/22 from 0.0.0.0/0", "udp/53 from 0.0.0.0/0"}},
		{name: "exposed size", expr: `size(ports.exposed(doc.IpPermissions)) > 0`, doc: doc, want: true},
		{name: "bad shape", expr: `ports.open_to_internet(doc.x, 22)`, doc: map[string]any{"x": "y"}, wantErr: "want a list"},
	})
}
