package celfn

import (
	"fmt"
	"net/netip"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Thresholds above which a public range counts as "the internet": a rule that admits a
// /8 of public IPv4 space (16 million addresses) or a /32 of IPv6 (a whole ISP
// allocation) is as open as 0.0.0.0/0 for any practical attacker.
const (
	publicMaxPrefixV4 = 8
	publicMaxPrefixV6 = 32
)

// nonPublic lists address space that is not reachable from the internet: RFC 1918,
// loopback, link-local, CGNAT (RFC 6598), "this network", IPv6 ULA, link-local and
// loopback, and documentation/benchmark ranges.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// ParseCIDR parses a CIDR block or a bare address (a /32 or /128), masking host bits.
// AWS writes "0.0.0.0/0" and "::/0"; an IPv4-mapped IPv6 prefix is unmapped.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("parse cidr %q: %w", s, err)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse cidr %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			bits = 0
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	return p.Masked(), nil
}

// IsPrivateCIDR reports whether the whole range lies in non-public address space.
func IsPrivateCIDR(s string) (bool, error) {
	p, err := ParseCIDR(s)
	if err != nil {
		return false, err
	}
	return isPrivate(p), nil
}

func isPrivate(p netip.Prefix) bool {
	for _, np := range nonPublic {
		if np.Bits() <= p.Bits() && np.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// IsPublicCIDR reports whether a range opens a resource to the internet: 0.0.0.0/0,
// ::/0, or any range at least as large as a /8 (IPv4) or /32 (IPv6) that is not wholly
// private. A single public host is a deliberate allow-list entry,
// not "the internet", and is not public in this sense.
func IsPublicCIDR(s string) (bool, error) {
	p, err := ParseCIDR(s)
	if err != nil {
		return false, err
	}
	limit := publicMaxPrefixV6
	if p.Addr().Is4() {
		limit = publicMaxPrefixV4
	}
	return p.Bits() <= limit && !isPrivate(p), nil
}

// IsWorldCIDR reports whether the range is exactly the whole address space of its family
// (0.0.0.0/0 or ::/0), the literal test CIS benchmarks describe.
func IsWorldCIDR(s string) (bool, error) {
	p, err := ParseCIDR(s)
	if err != nil {
		return false, err
	}
	return p.Bits() == 0, nil
}

// CIDRContains reports whether the range contains an address or a whole sub-range.
func CIDRContains(outer, inner string) (bool, error) {
	o, err := ParseCIDR(outer)
	if err != nil {
		return false, err
	}
	i, err := ParseCIDR(inner)
	if err != nil {
		return false, err
	}
	return o.Bits() <= i.Bits() && o.Contains(i.Addr()), nil
}

func cidrFunctions() []cel.EnvOption {
	unary := func(name string, fn func(string) (bool, error)) cel.EnvOption {
		return cel.Function(name,
			cel.Overload(strings.ReplaceAll(name, ".", "_")+"_string", []*cel.Type{cel.StringType}, cel.BoolType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					b, err := fn(string(s))
					return boolOrErr(name, b, err)
				})))
	}
	return []cel.EnvOption{
		unary("cidr.is_public", IsPublicCIDR),
		unary("cidr.is_world", IsWorldCIDR),
		unary("cidr.is_private", IsPrivateCIDR),
		cel.Function("cidr.contains",
			cel.Overload("cidr_contains_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(a, b ref.Val) ref.Val {
					as, ok1 := a.(types.String)
					bs, ok2 := b.(types.String)
					if !ok1 || !ok2 {
						return types.NewErr("cidr.contains: want strings")
					}
					r, err := CIDRContains(string(as), string(bs))
					return boolOrErr("cidr.contains", r, err)
				}))),
	}
}
