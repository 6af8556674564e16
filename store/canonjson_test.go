package store

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x1f\x7f",
		"line\u2028sep\u2029", "é中文🙂", "bad \xff utf8 \xc3", 0.0, math.Copysign(0, -1), 1.0, -1.5, 443.0, 1e20, 1e21, 123456789012345678901234.0,
		1e-6, 1e-7, 0.000001234, 5e-324, math.MaxFloat64, 3.141592653589793,
		map[string]any{}, []any{}, map[string]any(nil), []any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", nil, map[string]any{"z": true, "y": "<"}}, "é": "", "A": 2.0},
		map[string]string{"team": "core", "Env": "prod&test"},
		map[string]any{"n": json.Number("12"), "i": 7, "s": []string{"a"}}, // not plain: falls back
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendJSON([]byte("prefix"), v)
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got), "value %#v", v)
	}
	_, err := appendJSON(nil, math.Inf(1))
	require.Error(t, err)
	_, err = appendJSON(nil, map[string]any{"x": math.NaN()})
	require.Error(t, err)
}

func FuzzAppendJSON(f *testing.F) {
	f.Add(`{"a":[1,2.5,"x<y",null,true],"b":{"c":"\u2028"}}`)
	f.Add(`[1e21,1e-7,-0,123456789]`)
	f.Add(`"\ud800"`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			// Not JSON: still a string value to encode.
			v = map[string]any{doc: doc}
		}
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendJSON(nil, v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}

// The drift hash is composed piece by piece; it must equal the hash of the canonical
// JSON object encoding/json gives, the form earlier versions stored.
func TestPreparedHashMatchesCanonicalObject(t *testing.T) {
	docs := []providers.Resource{
		{Type: "aws.ec2.security_group", Region: "us-east-1", Name: "web <prod>", NativeID: "sg-1",
			Tags: map[string]string{"b": "2", "a": "&"}, Properties: map[string]any{"GroupId": "sg-1", "Ports": []any{22.0, 443.0}},
			Relations: []providers.Relation{{Kind: "vpc", TargetID: "vpc-1"}, {Kind: "kms_key", TargetID: "k", TargetType: "aws.kms.key"}}},
		{Type: "aws.iam.user", Region: "global", Name: "alice", NativeID: "u",
			Properties: map[string]any{"UserName": "alice", "PasswordLastUsed": "2026-01-01", "AccessKeys": []any{map[string]any{"LastUsedDate": "x", "Status": "Active"}}}},
		{Type: "aws.s3.bucket", NativeID: "b"},
	}
	for _, d := range docs {
		p, err := PrepareResource(d)
		require.NoError(t, err)
		tags := d.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		props := d.Properties
		if props == nil {
			props = map[string]any{}
		}
		want, err := json.Marshal(struct {
			Type       string               `json:"type"`
			Region     string               `json:"region"`
			Name       string               `json:"name"`
			Tags       map[string]string    `json:"tags"`
			Properties map[string]any       `json:"properties"`
			Relations  []providers.Relation `json:"relations"`
		}{d.Type, d.Region, d.Name, tags, providers.StableProperties(d.Type, props), d.Relations})
		require.NoError(t, err)
		sum := sha256.Sum256(want)
		require.Equal(t, sum[:], p.hash, "%s: hash of %s", d.NativeID, want)
		raw, err := json.Marshal(props)
		require.NoError(t, err)
		require.Equal(t, string(raw), string(p.propsJSON))
	}
	// Volatile fields move the raw hash only.
	a, _ := PrepareResource(docs[1])
	docs[1].Properties["PasswordLastUsed"] = "2026-02-02"
	b, _ := PrepareResource(docs[1])
	require.Equal(t, a.hash, b.hash)
	require.NotEqual(t, a.rawHash, b.rawHash)
}
