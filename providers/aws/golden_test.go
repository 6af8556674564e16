package aws_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden collects the seeded estate and compares every type's documents with
// testdata/golden/<type>.json, after replacing moto's random ids and the times.
func TestGolden(t *testing.T) {
	srv := seededServer(t)
	p, _ := newProvider(t, srv, nil)
	docs, results := collect(t, p)
	for _, r := range results {
		require.NoError(t, r.Err, "unit %s", r.Unit)
	}
	groups := byType(docs)
	dir := filepath.Join("testdata", "golden")
	if *update {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	for typ, list := range groups {
		t.Run(typ, func(t *testing.T) {
			got := scrubDocs(t, list)
			path := filepath.Join(dir, typ+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file for %s: run go test -run TestGolden -update", typ)
			require.JSONEq(t, string(want), string(got))
		})
	}
	if !*update {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		require.NoError(t, err)
		for _, f := range files {
			typ := strings.TrimSuffix(filepath.Base(f), ".json")
			require.Contains(t, groups, typ, "golden file %s has no documents any more", f)
		}
	}
}

var (
	timeRe = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?`)
	uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	// ec2IDRe matches EC2-style ids ("sg-0123abcd", "i-0123456789abcdef0").
	ec2IDRe       = regexp.MustCompile(`\b(acl|aclassoc|fs|iip-assoc|pl|ami|attach|dopt|eipalloc|eipassoc|eni|fl|i|igw|key|lt|nat|pcx|r|rtb|rtbassoc|sg|snap|subnet|subnet-cidr-assoc|vol|vpc|vpc-cidr-assoc|vpce)-[0-9a-f]{8,17}\b`)
	ipRe          = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b(/\d+)?`)
	hostRe        = regexp.MustCompile(`\b(ip|ec2)-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}\b`)
	orgRe         = regexp.MustCompile(`\b(o|r|ou)-[0-9a-z]{4,32}\b`)
	rdsAutoSnapRe = regexp.MustCompile(`(rds:[a-z0-9-]+-)\d{4}-\d{2}-\d{2}-\d{2}-\d{2}`)
	// suffixRes keep the prefix ($1) of ids whose tail is random.
	suffixRes = []*regexp.Regexp{
		regexp.MustCompile(`(secret:[A-Za-z0-9/_+=.@-]+-)[A-Za-z0-9]{6}\b`),
		regexp.MustCompile(`(distribution/)[A-Z0-9]+`),
		regexp.MustCompile(`\b()[a-z0-9]+\.cloudfront\.net`),
		regexp.MustCompile(`(restapis/)[a-z0-9]{10}`),
		regexp.MustCompile(`\b()[0-9a-f]{32}\b`),
		regexp.MustCompile(`\b()[0-9a-f]{16}\b`),
		regexp.MustCompile(`\b()[A-Za-z0-9]{48}\b`),
	}
	motoURLRe = regexp.MustCompile(`https?://127\.0\.0\.1:\d+`)
	akiaRe    = regexp.MustCompile(`\bAKIA[A-Z0-9]{16}\b`)
)

// randomKeys are properties whose values moto makes up at random.
var randomKeys = map[string]bool{
	"UserId": true, "RoleId": true, "GroupId": true, "PolicyId": true, "InstanceProfileId": true,
	"MacAddress": true, "DbiResourceId": true, "DbClusterResourceId": true, "ClientToken": true,
	"ReservationId": true, "RequestId": true, "CodeSha256": true, "RevisionId": true, "TableId": true,
	"UniqueId": true, "NetworkInterfaceId": true,
	"AttachmentId": true, "AssociationId": true, "AllocationId": true, "CertificateAuthority": true,
	"CreationTime": true, "CreatedTimestamp": true, "LastModifiedTimestamp": true, "Data": true,
	"Endpoint": true, "ReaderEndpoint": true, "HostedZoneId": true, "Issuer": true, "KeyFingerprint": true,
	"AvailabilityZone": true, "AvailabilityZoneId": true, "Address": true, "LatestRestorableTime": true,
	"Id": true, "DeploymentId": true, "RootResourceId": true, "DetectorId": true,
	"PrivateIpAddress": true, "PublicIpAddress": true, "PublicIp": true, "PrivateDnsName": true, "PublicDnsName": true,
}

// scrubDocs returns the documents as indented JSON with random values replaced by
// placeholders ("<sg>", "<time>"), sorted by their scrubbed text. Placeholders are not
// numbered: documents that differ only by ids (two default security groups) would
// otherwise be numbered in moto's random order. Relations are checked by the
// invariant tests instead.
func scrubDocs(t *testing.T, docs []providers.Resource) []byte {
	t.Helper()
	var generic []any
	for _, d := range docs {
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		generic = append(generic, v)
	}
	// Order by the document with ids blanked, so that the placeholder numbering does
	// not depend on moto's random ids.
	keys := make([]string, len(generic))
	for i, v := range generic {
		b, _ := json.Marshal(scrub(v, &placeholders{blank: true}, ""))
		keys[i] = string(b)
	}
	idx := make([]int, len(generic))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]any, len(generic))
	for i, j := range idx {
		out[i] = scrub(generic[j], &placeholders{blank: true}, "")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<time>" readable
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(out))
	return buf.Bytes()
}

type placeholders struct {
	blank bool
	seen  map[string]string
	n     map[string]int
}

func (p *placeholders) get(kind, v string) string {
	if p.blank {
		return "<" + kind + ">"
	}
	if s, ok := p.seen[v]; ok {
		return s
	}
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[kind]++
	s := fmt.Sprintf("<%s#%d>", kind, p.n[kind])
	p.seen[v] = s
	return s
}

func scrub(v any, ph *placeholders, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[uuidRe.ReplaceAllString(k, "<uuid>")] = scrub(e, ph, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = scrub(e, ph, key)
		}
		return out
	case string:
		if randomKeys[key] && v != "" {
			return ph.get(key, v)
		}
		s := timeRe.ReplaceAllString(v, "<time>")
		s = rdsAutoSnapRe.ReplaceAllString(s, "$1<time>")
		s = motoURLRe.ReplaceAllString(s, "<moto>")
		for _, r := range suffixRes {
			s = r.ReplaceAllString(s, "$1<id>")
		}
		s = uuidRe.ReplaceAllStringFunc(s, func(m string) string { return ph.get("uuid", m) })
		s = akiaRe.ReplaceAllStringFunc(s, func(m string) string { return ph.get("access-key", m) })
		s = orgRe.ReplaceAllStringFunc(s, func(m string) string { return ph.get(m[:strings.Index(m, "-")], m) })
		s = hostRe.ReplaceAllStringFunc(s, func(m string) string { return ph.get("host", m) })
		s = ec2IDRe.ReplaceAllStringFunc(s, func(m string) string { return ph.get(m[:strings.LastIndex(m, "-")], m) })
		s = ipRe.ReplaceAllStringFunc(s, func(m string) string {
			if strings.Contains(m, "/") { // CIDR blocks are configuration, not random
				return m
			}
			return ph.get("ip", m)
		})
		return s
	case float64:
		if randomKeys[key] {
			return ph.get(key, fmt.Sprint(v))
		}
		return v
	default:
		return v
	}
}
