package celfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

func TestParseARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    celfn.ARN
		wantErr bool
	}{
		{in: "arn:aws:iam::123456789012:role/a/b", want: celfn.ARN{Partition: "aws", Service: "iam", Account: "123456789012", Resource: "role/a/b"}},
		{in: "arn:aws:s3:::bucket", want: celfn.ARN{Partition: "aws", Service: "s3", Resource: "bucket"}},
		{in: "arn:aws-cn:lambda:cn-north-1:1:function:f:1", want: celfn.ARN{Partition: "aws-cn", Service: "lambda", Region: "cn-north-1", Account: "1", Resource: "function:f:1"}},
		{in: "arn:aws:s3", wantErr: true},
		{in: "urn:aws:s3:::b", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := celfn.ParseARN(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestMiscFunctions(t *testing.T) {
	t.Parallel()
	runCases(t, []evalCase{
		{name: "arn.account", expr: `arn.account("arn:aws:iam::123456789012:root")`, want: "123456789012"},
		{name: "arn.service", expr: `arn.service("arn:aws:kms:us-east-1:1:key/x")`, want: "kms"},
		{name: "arn.region", expr: `arn.region("arn:aws:kms:us-east-1:1:key/x")`, want: "us-east-1"},
		{name: "arn.resource", expr: `arn.resource("arn:aws:kms:us-east-1:1:key/x")`, want: "key/x"},
		{name: "arn invalid", expr: `arn.account("nope")`, wantErr: "arn.account"},
		{name: "json.decode", expr: `json.decode(doc.p).Statement[0].Effect`, doc: map[string]any{"p": `{"Statement":[{"Effect":"Allow"}]}`}, want: "Allow"},
		{name: "json.decode invalid", expr: `json.decode("{")`, wantErr: "json.decode"},
	})
}
