package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// seedIAM adds two users to tenant A's account: an administrator and a reader of one
// bucket whose access needs MFA.
func seedIAM(t *testing.T, e *env) map[string]string {
	t.Helper()
	user := func(name string, doc map[string]any) providers.Resource {
		arn := "arn:aws:iam::123456789012:user/" + name
		return providers.Resource{Provider: "aws", AccountID: "123456789012", NativeID: arn, Type: "aws.iam.user", Region: "global", Name: name,
			Properties: map[string]any{"UserName": name, "Arn": arn, "Path": "/", "UserId": "AID" + name,
				"UserPolicyList": []any{map[string]any{"PolicyName": name + "-inline", "PolicyDocument": doc}}}}
	}
	admin := user("alpha-admin", map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}})
	reader := user("alpha-reader", map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow",
		"Action": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-public/*",
		"Condition": map[string]any{"Bool": map[string]any{"aws:MultiFactorAuthPresent": "true"}}}}})
	ctx := context.Background()
	ids := map[string]string{}
	require.NoError(t, e.db.App.TenantTx(ctx, e.A.ID, func(tx pgx.Tx) error {
		if _, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: e.A.AccountID, ObservedAt: time.Now(),
			Unit: providers.Unit{Collector: "iam", Service: "iam", Region: "global", Types: []string{"aws.iam.user"}},
			Docs: []providers.Resource{admin, reader}, Complete: true}); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT name, id::text FROM resources WHERE type = 'aws.iam.user'")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n, id string
			if err := rows.Scan(&n, &id); err != nil {
				return err
			}
			ids[n] = id
		}
		return rows.Err()
	}))
	return ids
}

func TestIAMEndpoints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ids := seedIAM(t, e)
	viewer := bearer(e.A.Keys[auth.RoleViewer])

	r := e.do("GET", "/api/v1/iam/principals/"+ids["alpha-admin"]+"/effective", nil, viewer...)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	eff := r.json(t)
	require.Equal(t, true, eff["admin_equivalent"])
	require.Contains(t, eff["services"], "iam")

	r = e.do("GET", "/api/v1/iam/principals/"+ids["alpha-reader"]+"/effective", nil, viewer...)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, false, r.json(t)["admin_equivalent"])

	// An S3 bucket is not a principal.
	r = e.do("GET", "/api/v1/iam/principals/"+e.A.Estate.Resources["alpha-public"].String()+"/effective", nil, viewer...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)

	// Who can read the bucket: the admin, and the reader (its MFA condition is not a
	// restriction we can rule out without a request context).
	r = e.do("GET", "/api/v1/iam/access?resource="+url.QueryEscape("arn:aws:s3:::alpha-public"), nil, viewer...)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	body := string(r.Body)
	require.Contains(t, body, "alpha-admin")
	require.Contains(t, body, `"evaluated_as":"arn:aws:s3:::alpha-public/*"`)

	// Simulation honours the request context.
	sim := func(ctxKeys map[string][]string) bool {
		r := e.do("POST", "/api/v1/iam/simulate", map[string]any{"principal": "arn:aws:iam::123456789012:user/alpha-reader",
			"action": "s3:GetObject", "resource": "arn:aws:s3:::alpha-public/report.csv", "context": ctxKeys}, viewer...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		return r.json(t)["decision"].(map[string]any)["allowed"].(bool)
	}
	require.False(t, sim(nil))
	require.True(t, sim(map[string][]string{"aws:MultiFactorAuthPresent": {"true"}}))

	// Bad input.
	r = e.do("GET", "/api/v1/iam/access", nil, viewer...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	r = e.do("GET", "/api/v1/iam/access?resource=arn:aws:ec2:us-east-1:123456789012:instance/i-1", nil, viewer...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, "actions are required for services without defaults")
	r = e.do("POST", "/api/v1/iam/simulate", map[string]any{"principal": "ana", "action": "x", "resource": ""}, viewer...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Len(t, r.json(t)["errors"], 3)

	// Tenant B cannot ask about A's principals.
	r = e.do("POST", "/api/v1/iam/simulate", map[string]any{"principal": "arn:aws:iam::123456789012:user/alpha-reader",
		"action": "s3:GetObject", "resource": "*"}, bearer(e.B.Keys[auth.RoleOwner])...)
	require.Equal(t, http.StatusNotFound, r.Code)
}
