package aws

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactEnvValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"s3cr3t", envRedacted},
		{"info", envRedacted},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCd", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCd"},
		{"arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/db", "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/db"},
		{"{{resolve:secretsmanager:db:SecretString:password}}", "{{resolve:secretsmanager:db:SecretString:password}}"},
		{"prefix arn:aws:secretsmanager:us-east-1:1:secret:x", envRedacted},
		{"arn:aws:s3:::bucket", envRedacted},
	} {
		require.Equal(t, tc.want, redactEnvValue(tc.in), tc.in)
	}
}
