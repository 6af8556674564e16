package celfn

import (
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// PortsInclude reports whether the range from..to contains port. EC2 writes -1 (or
// leaves the bounds out) for "all ports"; either bound at -1 means every port.
func PortsInclude(from, to, port int64) bool {
	if from == -1 || to == -1 {
		return true
	}
	return from <= port && port <= to
}

// protocolMatches reports whether a rule's IpProtocol admits proto ("tcp", "udp",
// "icmp", or a protocol number). "-1" (and "all") admit every protocol; AWS returns
// names for tcp/udp/icmp/icmpv6 and numbers for everything else, but accepts either.
func protocolMatches(ruleProto, proto string) bool {
	r := normalizeProtocol(ruleProto)
	return r == "-1" || r == normalizeProtocol(proto)
}

func normalizeProtocol(p string) string {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "-1", "all":
		return "-1"
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	case "58", "icmpv6":
		return "icmpv6"
	default:
		return strings.ToLower(strings.TrimSpace(p))
	}
}

// permission is the part of an EC2 IpPermission this package reads.
type permission struct {
	proto    string
	from, to int64
	// rule is the permission itself: its IpRanges[].CidrIp and Ipv6Ranges[].CidrIpv6
	// are read when needed, without copying them.
	rule map[string]any
}

// permissionList checks that v is a JSON list of IpPermissions (nil: none).
func permissionList(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("IpPermissions: want a list, got %T", v)
	}
	return list, nil
}

// permissionAt reads the i-th EC2 IpPermission (as DescribeSecurityGroups returns
// it, JSON-shaped). A rule without FromPort/ToPort covers all ports.
func permissionAt(i int, e any) (permission, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return permission{}, fmt.Errorf("IpPermissions[%d]: want an object, got %T", i, e)
	}
	p := permission{from: -1, to: -1, rule: m}
	switch proto := m["IpProtocol"].(type) {
	case string:
		p.proto = proto
	case float64:
		p.proto = strconv.FormatInt(int64(proto), 10)
	case nil:
		return permission{}, fmt.Errorf("IpPermissions[%d]: no IpProtocol", i)
	default:
		return permission{}, fmt.Errorf("IpPermissions[%d].IpProtocol: unexpected %T", i, proto)
	}
	if f, ok := m["FromPort"]; ok && f != nil {
		n, ok := toInt(f)
		if !ok {
			return permission{}, fmt.Errorf("IpPermissions[%d].FromPort: not an integer: %v", i, f)
		}
		p.from = n
	}
	if t, ok := m["ToPort"]; ok && t != nil {
		n, ok := toInt(t)
		if !ok {
			return permission{}, fmt.Errorf("IpPermissions[%d].ToPort: not an integer: %v", i, t)
		}
		p.to = n
	}
	return p, nil
}

// parsePermissions reads EC2 IpPermissions into permissions; the first malformed one
// is the error.
func parsePermissions(v any) ([]permission, error) {
	list, err := permissionList(v)
	if err != nil {
		return nil, err
	}
	out := make([]permission, 0, len(list))
	for i, e := range list {
		p, err := permissionAt(i, e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// publicCIDR returns the first public range of a permission (IPv4 ranges first), or
// "".
func (p permission) publicCIDR() (string, error) {
	for _, rk := range [...][2]string{{"IpRanges", "CidrIp"}, {"Ipv6Ranges", "CidrIpv6"}} {
		ranges, _ := p.rule[rk[0]].([]any)
		for _, r := range ranges {
			rm, _ := r.(map[string]any)
			c, ok := rm[rk[1]].(string)
			if !ok {
				continue
			}
			pub, err := IsPublicCIDR(c)
			if err != nil {
				return "", err
			}
			if pub {
				return c, nil
			}
		}
	}
	return "", nil
}

// PortOpenToInternet reports whether EC2 IpPermissions let the internet (see
// IsPublicCIDR) reach port over protocol ("tcp", "udp", or a number). Rules on "-1"
// (all traffic) count for every protocol and port. Security-group and prefix-list
// sources are not the internet and are ignored.
func PortOpenToInternet(perms any, port int64, protocol string) (bool, error) {
	list, err := permissionList(perms)
	if err != nil {
		return false, err
	}
	// Every permission is read before any is judged, so that a malformed one is an
	// error wherever it is; the second pass reads them again rather than keeping them.
	for i, e := range list {
		if _, err := permissionAt(i, e); err != nil {
			return false, err
		}
	}
	for i, e := range list {
		p, _ := permissionAt(i, e)
		if !protocolMatches(p.proto, protocol) {
			continue
		}
		if normalizeProtocol(p.proto) != "-1" && !PortsInclude(p.from, p.to, port) {
			continue
		}
		c, err := p.publicCIDR()
		if err != nil {
			return false, err
		}
		if c != "" {
			return true, nil
		}
	}
	return false, nil
}

// ExposedPorts lists, for messages and evidence, what IpPermissions open to the
// internet: "all traffic", "tcp/22", "tcp/1024-2048 from 0.0.0.0/0" style entries.
func ExposedPorts(perms any) ([]string, error) {
	ps, err := parsePermissions(perms)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range ps {
		c, err := p.publicCIDR()
		if err != nil {
			return nil, err
		}
		if c == "" {
			continue
		}
		proto := normalizeProtocol(p.proto)
		switch {
		case proto == "-1":
			out = append(out, "all traffic from "+c)
		case p.from == -1 || p.to == -1 || (p.from == 0 && p.to == 65535):
			out = append(out, proto+"/all from "+c)
		case p.from == p.to:
			out = append(out, fmt.Sprintf("%s/%d from %s", proto, p.from, c))
		default:
			out = append(out, fmt.Sprintf("%s/%d-%d from %s", proto, p.from, p.to, c))
		}
	}
	return out, nil
}

func portFunctions() []cel.EnvOption {
	openTo := func(perms, port ref.Val, proto string) ref.Val {
		pv, errv := nativeArg("ports.open_to_internet", perms)
		if errv != nil {
			return errv
		}
		n, ok := valInt(port)
		if !ok {
			return types.NewErr("ports.open_to_internet: port %v is not an integer", port)
		}
		b, err := PortOpenToInternet(pv, n, proto)
		return boolOrErr("ports.open_to_internet", b, err)
	}
	return []cel.EnvOption{
		cel.Function("ports.includes",
			cel.Overload("ports_includes_dyn_dyn_dyn", []*cel.Type{cel.DynType, cel.DynType, cel.DynType}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					var n [3]int64
					for i, a := range args {
						v, ok := valInt(a)
						if !ok {
							return types.NewErr("ports.includes: argument %d (%v) is not an integer", i+1, a)
						}
						n[i] = v
					}
					return types.Bool(PortsInclude(n[0], n[1], n[2]))
				}))),
		cel.Function("ports.open_to_internet",
			cel.Overload("ports_open_to_internet_dyn_int", []*cel.Type{cel.DynType, cel.IntType}, cel.BoolType,
				cel.BinaryBinding(func(perms, port ref.Val) ref.Val { return openTo(perms, port, "tcp") })),
			cel.Overload("ports_open_to_internet_dyn_int_string", []*cel.Type{cel.DynType, cel.IntType, cel.StringType}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					proto, ok := args[2].(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(args[2])
					}
					return openTo(args[0], args[1], string(proto))
				}))),
		cel.Function("ports.exposed",
			cel.Overload("ports_exposed_dyn", []*cel.Type{cel.DynType}, cel.ListType(cel.StringType),
				cel.UnaryBinding(func(perms ref.Val) ref.Val {
					pv, errv := nativeArg("ports.exposed", perms)
					if errv != nil {
						return errv
					}
					out, err := ExposedPorts(pv)
					if err != nil {
						return types.NewErr("ports.exposed: %v", err)
					}
					return types.DefaultTypeAdapter.NativeToValue(out)
				}))),
	}
}
