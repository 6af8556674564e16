package aws_test

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	vaws "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/providers/aws/awstest"
)

// seeded is the shared server with the estate of seedEstate, created once per test
// binary; tests must not change it (fault injection happens in the client).
var seeded struct {
	once sync.Once
	srv  *awstest.Server
}

func seededServer(t *testing.T) *awstest.Server {
	t.Helper()
	srv := awstest.Start(t)
	seeded.once.Do(func() {
		srv.Reset(t)
		seedEstate(t, srv)
		seeded.srv = srv
	})
	require.NotNil(t, seeded.srv, "estate seeding failed in another test")
	return seeded.srv
}

// newProvider builds a Provider against srv for the estate's two regions. mutate may
// change the SDK config (HTTP client wrappers, API options) and the provider config.
func newProvider(t testing.TB, srv *awstest.Server, mutate func(*vaws.Config)) (*vaws.Provider, *transport) {
	t.Helper()
	tr := newTransport()
	cfg := srv.Config(t, regionA)
	cfg.HTTPClient = &http.Client{Transport: tr}
	cfg.APIOptions = append(cfg.APIOptions, tagOperations)
	c := vaws.Config{
		AWS:         cfg,
		Regions:     []string{regionA, regionB},
		EndpointURL: srv.URL,
		Concurrency: 4,
	}
	if mutate != nil {
		mutate(&c)
	}
	p, err := vaws.New(context.Background(), c)
	require.NoError(t, err)
	return p, tr
}

// collect runs every unit of p and returns the documents sorted by type and id.
func collect(t testing.TB, p *vaws.Provider) ([]providers.Resource, []vaws.UnitResult) {
	t.Helper()
	var docs []providers.Resource
	results, err := vaws.CollectAll(context.Background(), p, func(_ context.Context, r providers.Resource) error {
		docs = append(docs, r)
		return nil
	})
	require.NoError(t, err)
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].Type != docs[j].Type {
			return docs[i].Type < docs[j].Type
		}
		return docs[i].NativeID < docs[j].NativeID
	})
	return docs, results
}

// byType groups documents by type.
func byType(docs []providers.Resource) map[string][]providers.Resource {
	m := map[string][]providers.Resource{}
	for _, d := range docs {
		m[d.Type] = append(m[d.Type], d)
	}
	return m
}

var _ = aws.String
