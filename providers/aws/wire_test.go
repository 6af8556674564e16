package aws_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	vaws "github.com/vigilsec/vigil/providers/aws"
)

// TestAccessAnalyzerWireFormat covers a service moto cannot emulate with an
// httptest server that answers in the REST-JSON wire format of IAM Access Analyzer,
// two pages long, so that the collector's pagination and the SDK deserialiser are
// exercised end to end through the endpoint override.
func TestAccessAnalyzerWireFormat(t *testing.T) {
	pages := map[string]string{
		"":   `{"analyzers":[{"arn":"arn:aws:access-analyzer:eu-west-1:111122223333:analyzer/acct","name":"acct","type":"ACCOUNT","status":"ACTIVE","createdAt":"2026-01-01T00:00:00Z","tags":{"team":"sec"}}],"nextToken":"p2"}`,
		"p2": `{"analyzers":[{"arn":"arn:aws:access-analyzer:eu-west-1:111122223333:analyzer/org","name":"org","type":"ORGANIZATION","status":"DISABLED","statusReason":{"code":"AWS_SERVICE_ACCESS_DISABLED"},"createdAt":"2026-01-02T00:00:00Z"}]}`,
	}
	var denied atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		require.Equal(t, "/analyzer", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if denied.Load() {
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"User is not authorized to perform: access-analyzer:ListAnalyzers"}`))
			return
		}
		_, _ = w.Write([]byte(pages[r.URL.Query().Get("nextToken")]))
	}))
	defer srv.Close()

	ctx := context.Background()
	p, err := vaws.New(ctx, vaws.Config{
		AWS:         aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: srv.Client()},
		AccountID:   "111122223333",
		Regions:     []string{"eu-west-1"},
		Types:       []string{vaws.TypeAccessAnalyzer},
		EndpointURL: srv.URL,
	})
	require.NoError(t, err)
	units, err := p.Plan(ctx)
	require.NoError(t, err)
	require.Len(t, units, 1)

	var docs []providers.Resource
	emit := func(_ context.Context, r providers.Resource) error {
		docs = append(docs, r)
		return nil
	}
	require.NoError(t, p.Collect(ctx, units[0], emit))
	require.Len(t, docs, 2)
	require.Equal(t, "arn:aws:access-analyzer:eu-west-1:111122223333:analyzer/acct", docs[0].NativeID)
	require.Equal(t, "111122223333", docs[0].AccountID)
	require.Equal(t, map[string]string{"team": "sec"}, docs[0].Tags)
	require.Equal(t, "ACTIVE", docs[0].Properties["Status"])
	require.Equal(t, "DISABLED", docs[1].Properties["Status"])
	require.True(t, strings.HasSuffix(docs[1].Name, "org"))

	denied.Store(true)
	err = p.Collect(ctx, units[0], emit)
	require.Equal(t, providers.KindAccessDenied, providers.KindOf(err), "%v", err)
}
