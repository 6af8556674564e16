package celfn

import (
	"fmt"
	"regexp"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// TLS protocol versions in the spelling AWS uses in policy descriptions.
const (
	TLS10 = "TLSv1"
	TLS11 = "TLSv1.1"
	TLS12 = "TLSv1.2"
	TLS13 = "TLSv1.3"
	SSLv3 = "SSLv3"
)

var tlsRank = map[string]int{SSLv3: 0, TLS10: 1, TLS11: 2, TLS12: 3, TLS13: 4}

// tlsPolicies maps security policy names whose minimum version cannot be read from the
// name. Sources: the ELB (classic, ALB, NLB) predefined policy tables and CloudFront's
// MinimumProtocolVersion values.
var tlsPolicies = map[string]string{
	// ELB (classic and v2) policies that still allow TLS 1.0.
	"ELBSecurityPolicy-2016-08":             TLS10,
	"ELBSecurityPolicy-2015-05":             TLS10,
	"ELBSecurityPolicy-2015-03":             TLS10,
	"ELBSecurityPolicy-2015-02":             TLS10,
	"ELBSecurityPolicy-2014-10":             TLS10,
	"ELBSecurityPolicy-2014-01":             TLS10,
	"ELBSecurityPolicy-2011-08":             TLS10,
	"ELBSecurityPolicy-FS-2018-06":          TLS10,
	"ELBSample-ELBDefaultCipherPolicy":      TLS10,
	"ELBSample-OpenSSLDefaultCipherPolicy":  TLS10,
	"ELBSecurityPolicy-TLS-1-0-2015-04":     TLS10,
	"ELBSecurityPolicy-TLS-1-1-2017-01":     TLS11,
	"ELBSecurityPolicy-TLS-1-2-2017-01":     TLS12,
	"ELBSecurityPolicy-TLS-1-2-Ext-2018-06": TLS12,
	// CloudFront viewer certificate MinimumProtocolVersion.
	"SSLv3":        SSLv3,
	"TLSv1":        TLS10,
	"TLSv1_2016":   TLS10,
	"TLSv1.1_2016": TLS11,
	"TLSv1.2_2018": TLS12,
	"TLSv1.2_2019": TLS12,
	"TLSv1.2_2021": TLS12,
	"TLSv1.2_2025": TLS12,
	"TLSv1.3_2025": TLS13,
}

// policyVersionRe finds the minimum version encoded in modern policy names:
// ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-FS-1-1-2019-08,
// ELBSecurityPolicy-TLS-1-2-Ext-2018-06, OpenSearch Policy-Min-TLS-1-2-2019-07.
var policyVersionRe = regexp.MustCompile(`(?:TLS13|TLS|FS|Min-TLS)-1-([0-3])(?:-|$)`)

// MinTLSVersion returns the lowest protocol version a security policy accepts ("TLSv1",
// "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3"). It knows ELB, ALB/NLB, CloudFront and
// OpenSearch policy names and plain versions ("TLSv1.2", "TLS1.2", "1.2"). An unknown
// name is an error, so a check over it is unknown rather than wrongly passing.
func MinTLSVersion(policy string) (string, error) {
	name := strings.TrimSpace(policy)
	if v, ok := tlsPolicies[name]; ok {
		return v, nil
	}
	if m := policyVersionRe.FindStringSubmatch(name); m != nil {
		return []string{TLS10, TLS11, TLS12, TLS13}[m[1][0]-'0'], nil
	}
	switch strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(name), "TLSV"), "TLS") {
	case "1", "1.0", "1_0":
		return TLS10, nil
	case "1.1", "1_1":
		return TLS11, nil
	case "1.2", "1_2":
		return TLS12, nil
	case "1.3", "1_3":
		return TLS13, nil
	}
	return "", fmt.Errorf("unknown TLS security policy %q", policy)
}

// TLSAtLeast reports whether a policy's (or version's) minimum version is at least min.
func TLSAtLeast(policy, minVersion string) (bool, error) {
	got, err := MinTLSVersion(policy)
	if err != nil {
		return false, err
	}
	want, err := MinTLSVersion(minVersion)
	if err != nil {
		return false, err
	}
	return tlsRank[got] >= tlsRank[want], nil
}

func tlsFunctions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Function("tls.policy_min_version",
			cel.Overload("tls_policy_min_version_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					out, err := MinTLSVersion(string(s))
					if err != nil {
						return types.NewErr("tls.policy_min_version: %v", err)
					}
					return types.String(out)
				}))),
		cel.Function("tls.at_least",
			cel.Overload("tls_at_least_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(a, b ref.Val) ref.Val {
					as, ok1 := a.(types.String)
					bs, ok2 := b.(types.String)
					if !ok1 || !ok2 {
						return types.NewErr("tls.at_least: want strings")
					}
					r, err := TLSAtLeast(string(as), string(bs))
					return boolOrErr("tls.at_least", r, err)
				}))),
	}
}
