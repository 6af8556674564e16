package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of the read endpoints")

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// scrub replaces ids (consistently: the same id gets the same name), times and cursors
// so a golden file is stable across runs.
func scrub(t *testing.T, body []byte) []byte {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	names := map[string]string{}
	var walk func(any, string) any
	walk = func(v any, key string) any {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := map[string]any{}
			for _, k := range keys {
				// Map keys can be ids too (counts by account).
				nk := uuidRE.ReplaceAllStringFunc(k, func(id string) string { return name(names, id) })
				out[nk] = walk(x[k], k)
			}
			return out
		case []any:
			for i := range x {
				x[i] = walk(x[i], key)
			}
			return x
		case string:
			switch {
			case key == "next_cursor":
				return "<cursor>"
			case timeRE.MatchString(x):
				return "<time>"
			}
			return uuidRE.ReplaceAllStringFunc(x, func(id string) string { return name(names, id) })
		}
		return v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(walk(v, "")))
	return b.Bytes()
}

func name(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	n := "<id-" + string(rune('a'+len(names)%26)) + strings.Repeat("'", len(names)/26) + ">"
	names[id] = n
	return n
}

func golden(t *testing.T, file string, body []byte) {
	t.Helper()
	got := scrub(t, body)
	path := filepath.Join("testdata", "read", file)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./api/ -run %s -update to create it", t.Name())
	require.Equal(t, string(want), string(got))
}

func (e *env) get(t *testing.T, path string, role auth.Role) response {
	t.Helper()
	r := e.do("GET", path, nil, bearer(e.A.Keys[role])...)
	require.Equal(t, http.StatusOK, r.Code, "%s: %s", path, r.Body)
	return r
}

func items(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func field(list []map[string]any, key string) []string {
	out := []string{}
	for _, m := range list {
		out = append(out, m[key].(string))
	}
	return out
}

func TestFindingsExplorer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := auth.RoleViewer

	t.Run("default page: open findings, most severe first", func(t *testing.T) {
		list := items(t, e.get(t, "/api/v1/findings", v))
		ids := field(list, "check_id")
		require.Equal(t, []string{"aws.s3.bucket_no_public_read", "custom.aws.s3.alpha_owner_tag"}, ids[:2])
		// The two low findings tie on severity; the id orders them.
		require.ElementsMatch(t, []string{"aws.s3.bucket_access_logging_enabled", "aws.s3.bucket_mfa_delete_enabled"}, ids[2:])
		require.Greater(t, list[2]["id"], list[3]["id"])
		require.Equal(t, "S3 bucket does not allow public read access", list[0]["title"])
		require.Equal(t, "S3 bucket names its owner (alpha)", list[1]["title"])
		golden(t, "findings_by_check.json", e.get(t, "/api/v1/findings?sort=check_id", v).Body)
	})
	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string // check ids, in order
		}{
			{"state=resolved&sort=check_id", []string{"aws.ec2.security_group_all_ports_restricted", "aws.s3.bucket_no_public_read",
				"aws.s3.bucket_public_access_blocked", "aws.s3.bucket_public_access_blocked"}},
			{"state=all&status=fail&sort=-check_id", []string{"custom.aws.s3.alpha_owner_tag", "aws.s3.bucket_no_public_read",
				"aws.s3.bucket_mfa_delete_enabled", "aws.ec2.security_group_all_ports_restricted"}},
			{"severity=critical,low&sort=check_id", []string{"aws.s3.bucket_access_logging_enabled", "aws.s3.bucket_mfa_delete_enabled", "aws.s3.bucket_no_public_read"}},
			{"status=unknown", []string{"aws.s3.bucket_access_logging_enabled"}},
			{"state=all&resource_type=aws.ec2.security_group", []string{"aws.ec2.security_group_all_ports_restricted"}},
			{"state=all&region=us-east-1", []string{"aws.ec2.security_group_all_ports_restricted"}},
			{"check_id=aws.s3.bucket_mfa_delete_enabled", []string{"aws.s3.bucket_mfa_delete_enabled"}},
			{"framework=cis-aws-5.0&control=2.1.2", []string{"aws.s3.bucket_mfa_delete_enabled"}},
			{"framework=aws-fsbp&state=all&sort=check_id", []string{"aws.ec2.security_group_all_ports_restricted", "aws.s3.bucket_access_logging_enabled", "aws.s3.bucket_no_public_read",
				"aws.s3.bucket_no_public_read", "aws.s3.bucket_public_access_blocked", "aws.s3.bucket_public_access_blocked"}},
			{"q=owner", []string{"custom.aws.s3.alpha_owner_tag"}},
			{"q=ALPHA-LOGS", []string{"aws.s3.bucket_access_logging_enabled"}},
			{"q=100%25", []string{}},
			{"provider=azure", []string{}},
			{"state=all&region=" + url.QueryEscape("x' OR '1'='1"), []string{}},
			{"q=" + url.QueryEscape("%' OR 1=1 --"), []string{}},
			{"account_id=" + e.A.AccountID.String() + "&severity=critical", []string{"aws.s3.bucket_no_public_read"}},
			{"account_id=" + e.B.AccountID.String(), []string{}},
			{"first_seen_since=2099-01-01T00:00:00Z", []string{}},
			{"state=resolved&resolved_since=" + url.QueryEscape(e.A.Estate.Day2.Format("2006-01-02T15:04:05Z07:00")) + "&sort=check_id",
				[]string{"aws.ec2.security_group_all_ports_restricted", "aws.s3.bucket_public_access_blocked"}},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				r := e.get(t, "/api/v1/findings?"+tt.query, v)
				require.Equal(t, tt.want, field(items(t, r), "check_id"))
			})
		}
	})
	t.Run("keyset pagination walks every finding once", func(t *testing.T) {
		for _, sort := range []string{"severity", "-severity", "first_seen", "-last_seen", "check_id", "-check_id"} {
			var seen []string
			cursor := ""
			for page := 0; page < 20; page++ {
				r := e.get(t, "/api/v1/findings?state=all&limit=3&sort="+sort+"&cursor="+cursor, v)
				for _, it := range items(t, r) {
					seen = append(seen, it["id"].(string))
				}
				next, _ := r.json(t)["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			all := items(t, e.get(t, "/api/v1/findings?state=all&limit=500&sort="+sort, v))
			require.Equal(t, field(all, "id"), seen, sort)
			require.Len(t, seen, 8)
		}
	})
	t.Run("a cursor of another sort is refused", func(t *testing.T) {
		r := e.get(t, "/api/v1/findings?state=all&limit=1", v)
		cur := r.json(t)["next_cursor"].(string)
		bad := e.do("GET", "/api/v1/findings?state=all&limit=1&sort=check_id&cursor="+cur, nil, bearer(e.A.Keys[v])...)
		require.Equal(t, http.StatusUnprocessableEntity, bad.Code)
		require.Contains(t, string(bad.Body), "cursor")
	})
	t.Run("facets", func(t *testing.T) {
		r := e.get(t, "/api/v1/findings/facets?state=all", v)
		golden(t, "findings_facets.json", r.Body)
		f := r.json(t)
		require.Len(t, f["state"], 2)
	})
	t.Run("detail with rendered remediation and history", func(t *testing.T) {
		id := e.A.Estate.Findings["custom.aws.s3.alpha_owner_tag alpha-public"]
		r := e.get(t, "/api/v1/findings/"+id.String(), v)
		golden(t, "finding_detail.json", r.Body)
		d := r.json(t)
		check := d["check"].(map[string]any)
		require.Equal(t, "aws s3api put-bucket-tagging --bucket alpha-public --tagging 'TagSet=[{Key=owner,Value=me}]'",
			check["remediation"].(map[string]any)["cli"])
		require.Equal(t, "custom", check["kind"])
		sg := e.A.Estate.Findings["aws.ec2.security_group_all_ports_restricted alpha-web-sg"]
		events := e.get(t, "/api/v1/findings/"+sg.String(), v).json(t)["events"].([]any)
		require.Len(t, events, 2)
		require.Equal(t, "resolved", events[1].(map[string]any)["kind"])
		require.Equal(t, map[string]any{"reason": "resource_deleted"}, events[1].(map[string]any)["details"])
	})
}

func TestBulkMute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	analyst := bearer(e.A.Keys[auth.RoleAnalyst])
	crit := e.A.Estate.Findings["aws.s3.bucket_no_public_read alpha-public"]
	low := e.A.Estate.Findings["aws.s3.bucket_mfa_delete_enabled alpha-public"]

	r := e.do("POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{crit.String(), low.String()},
		"justification": "public website bucket", "expires_at": "2099-01-01T00:00:00Z"}, analyst...)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.EqualValues(t, 2, r.json(t)["muted"])
	require.Len(t, r.json(t)["mute_rule_ids"], 2)

	// Both are muted now, each by its own rule naming exactly its check and resource.
	muted := items(t, e.get(t, "/api/v1/findings?state=muted&sort=check_id", auth.RoleViewer))
	require.Equal(t, []string{low.String(), crit.String()}, field(muted, "id"))
	rules := items(t, e.get(t, "/api/v1/mute-rules", auth.RoleViewer))
	var patterns []string
	for _, m := range rules {
		patterns = append(patterns, m["check_pattern"].(string)+" "+m["resource_pattern"].(string))
	}
	require.Contains(t, patterns, "aws.s3.bucket_no_public_read arn:aws:s3:::alpha-public")
	ev := e.get(t, "/api/v1/findings/"+crit.String(), auth.RoleViewer).json(t)["events"].([]any)
	require.Equal(t, "muted", ev[len(ev)-1].(map[string]any)["kind"])
	audit := e.do("GET", "/api/v1/audit-log?action=findings.muted", nil, bearer(e.A.Keys[auth.RoleAdmin])...)
	require.Len(t, items(t, audit), 1)

	// Another tenant's finding (or any unknown id) mutes nothing at all.
	r = e.do("POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{low.String(),
		e.B.Estate.Findings["aws.s3.bucket_no_public_read beta-public"].String()}, "justification": "x"}, analyst...)
	require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
	// A viewer may not mute.
	r = e.do("POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{low.String()}, "justification": "x"}, bearer(e.A.Keys[auth.RoleViewer])...)
	require.Equal(t, http.StatusForbidden, r.Code)
}

func TestFindingsExport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := auth.RoleViewer
	t.Run("csv", func(t *testing.T) {
		r := e.get(t, "/api/v1/findings/export?format=csv&state=all&sort=check_id", v)
		require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
		require.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
		rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 9)
		require.Equal(t, "check_id", rows[0][1])
		require.Equal(t, "aws.ec2.security_group_all_ports_restricted", rows[1][1])
		require.Equal(t, "Security group does not allow all traffic from the internet", rows[1][2])
	})
	t.Run("json equals the explorer", func(t *testing.T) {
		r := e.get(t, "/api/v1/findings/export?format=json&severity=critical,high&state=all", v)
		var got []map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &got))
		list := items(t, e.get(t, "/api/v1/findings?severity=critical,high&state=all", v))
		require.Equal(t, field(list, "id"), field(got, "id"))
		require.Contains(t, got[0], "evidence")
	})
	t.Run("ocsf", func(t *testing.T) {
		r := e.get(t, "/api/v1/findings/export?format=ocsf&check_id=aws.s3.bucket_no_public_read", v)
		golden(t, "findings_export.ocsf.json", r.Body)
	})
}

func TestInventoryAndDrift(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := auth.RoleViewer
	public := e.A.Estate.Resources["alpha-public"].String()

	t.Run("list and search", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string
		}{
			{"", []string{"alpha-logs", "alpha-public"}},
			{"include_deleted=true", []string{"alpha-web-sg", "alpha-logs", "alpha-public"}},
			{"tag=env%3Dprod", []string{"alpha-public"}},
			{"tag=owner%3Dsec", []string{"alpha-logs"}},
			{"q=PUBLIC", []string{"alpha-public"}},
			{"q=arn:aws:s3:::alpha-l", []string{"alpha-logs"}},
			{"type=aws.ec2.security_group&include_deleted=true", []string{"alpha-web-sg"}},
			{"region=us-east-1", []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				got := field(items(t, e.get(t, "/api/v1/resources?"+tt.query, v)), "name")
				if tt.query == "" || tt.query == "include_deleted=true" {
					sort.Strings(got)
					sort.Strings(tt.want)
				}
				require.Equal(t, tt.want, got)
			})
		}
		p1 := e.get(t, "/api/v1/resources?include_deleted=true&limit=2", v)
		cur := p1.json(t)["next_cursor"].(string)
		p2 := e.get(t, "/api/v1/resources?include_deleted=true&limit=2&cursor="+cur, v)
		require.Len(t, items(t, p2), 1)
		require.Empty(t, p2.json(t)["next_cursor"])
		f := e.get(t, "/api/v1/resources/facets?include_deleted=true", v).json(t)
		require.Len(t, f["type"], 2)
	})
	t.Run("detail", func(t *testing.T) {
		r := e.get(t, "/api/v1/resources/"+public, v)
		golden(t, "resource_detail.json", r.Body)
		d := r.json(t)
		rel := d["relations"].([]any)[0].(map[string]any)
		require.Equal(t, e.A.Estate.Resources["alpha-logs"].String(), rel["resource_id"])
		require.Len(t, d["findings"], 4)
	})
	t.Run("versions, diff and time travel", func(t *testing.T) {
		vs := items(t, e.get(t, "/api/v1/resources/"+public+"/versions", v))
		require.Len(t, vs, 2)
		require.Equal(t, "modified", vs[0]["change"])
		require.EqualValues(t, 1, vs[0]["patch_ops"])
		one := e.get(t, "/api/v1/resources/"+public+"/versions/1", v).json(t)
		require.Equal(t, "created", one["change"])
		require.Equal(t, "alpha-public", one["document"].(map[string]any)["name"])

		diff := e.get(t, "/api/v1/resources/"+public+"/diff?from=1&to=2", v)
		golden(t, "resource_diff.json", diff.Body)
		require.Equal(t, []any{map[string]any{"op": "replace", "path": "/properties/PublicAccessBlock/BlockPublicAcls", "value": true}},
			diff.json(t)["patch"])
		back := e.get(t, "/api/v1/resources/"+public+"/diff?from=2&to=1", v).json(t)["patch"].([]any)
		require.Equal(t, false, back[0].(map[string]any)["value"])

		between := e.A.Estate.Day1.Add(time.Hour).Format(time.RFC3339)
		at := e.get(t, "/api/v1/resources/"+public+"/at?time="+between, v).json(t)
		require.EqualValues(t, 1, at["version"])
		at = e.get(t, "/api/v1/resources/"+public+"/at?time="+time.Now().UTC().Format(time.RFC3339), v).json(t)
		require.EqualValues(t, 2, at["version"])
		before := e.do("GET", "/api/v1/resources/"+public+"/at?time=2001-01-01T00:00:00Z", nil, bearer(e.A.Keys[v])...)
		require.Equal(t, http.StatusNotFound, before.Code)
	})
	t.Run("drift feed", func(t *testing.T) {
		require.Len(t, items(t, e.get(t, "/api/v1/drift", v)), 5)
		// One resource's changes have distinct times: a stable order for the golden file.
		golden(t, "drift.json", e.get(t, "/api/v1/drift?resource_type=aws.ec2.security_group", v).Body)
		tests := []struct {
			query string
			want  []string
		}{
			{"change=deleted", []string{"deleted"}},
			{"change=modified,deleted", []string{"modified", "deleted"}},
			{"resource_type=aws.ec2.security_group", []string{"deleted", "created"}},
			{"since=" + url.QueryEscape(e.A.Estate.Day2.Format(time.RFC3339)), []string{"modified", "deleted"}},
			{"until=" + url.QueryEscape(e.A.Estate.Day2.Format(time.RFC3339)), []string{"created", "created", "created"}},
		}
		for _, tt := range tests {
			got := field(items(t, e.get(t, "/api/v1/drift?"+tt.query, v)), "change")
			sort.Strings(got)
			sort.Strings(tt.want)
			require.Equal(t, tt.want, got, tt.query)
		}
		var seen int
		cursor := ""
		for {
			r := e.get(t, "/api/v1/drift?limit=2&cursor="+cursor, v)
			seen += len(items(t, r))
			next, _ := r.json(t)["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, 5, seen)
	})
}

// TestFindingsExportStreams exports more rows than one flush holds: every row arrives,
// in order, and the response was flushed while being written.
func TestFindingsExportStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	const n = 1234
	require.NoError(t, e.db.App.TenantTx(ctx, e.A.ID, func(tx pgx.Tx) error {
		docs := make([]providers.Resource, n)
		for i := range docs {
			docs[i] = providers.Resource{Provider: "aws", AccountID: "123456789012", NativeID: fmt.Sprintf("arn:aws:sqs:eu-west-1:123456789012:q-%04d", i),
				Type: "aws.sqs.queue", Region: "eu-west-1", Name: fmt.Sprintf("=q-%04d", i)}
		}
		unit := providers.Unit{Collector: "sqs", Service: "sqs", Region: "eu-west-1", Types: []string{"aws.sqs.queue"}}
		if _, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: e.A.AccountID, ObservedAt: time.Now(), Unit: unit, Docs: docs, Complete: true}); err != nil {
			return err
		}
		stored, err := store.ResourceCurrent(ctx, tx, e.A.AccountID)
		if err != nil {
			return err
		}
		var results []store.CheckResult
		for _, s := range stored {
			if s.Doc.Type == "aws.sqs.queue" {
				results = append(results, store.CheckResult{ResourceID: s.ID, NativeID: s.Doc.NativeID, ResourceType: s.Doc.Type, Region: s.Doc.Region,
					Provider: "aws", CheckID: "aws.sqs.queue_encrypted", Status: "fail", Severity: "medium", Message: "not encrypted"})
			}
		}
		_, err = store.FindingsApply(ctx, tx, store.ApplyFindingsParams{AccountID: e.A.AccountID, ScanID: uuid.New(), At: time.Now(), Results: results})
		return err
	}))
	req := httptest.NewRequest("GET", "/api/v1/findings/export?format=csv&resource_type=aws.sqs.queue&sort=check_id", nil)
	req.Header.Set("Authorization", "Bearer "+e.A.Keys[auth.RoleViewer])
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.True(t, rec.Flushed)
	rows, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1)
	names := map[string]bool{}
	for i, row := range rows[1:] {
		names[row[12]] = true
		require.True(t, strings.HasPrefix(row[12], "'=q-"), "formula defused: %s", row[12])
		if i > 0 {
			require.Less(t, rows[i][10], row[10], "ties on check_id break on the resource id")
		}
	}
	require.Len(t, names, n)
}
