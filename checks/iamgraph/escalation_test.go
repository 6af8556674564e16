package iamgraph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/iampolicy"
	"github.com/vigilsec/vigil/providers"
)

func method(t *testing.T, id string) *Method {
	for _, m := range Methods() {
		if m.ID == id {
			return &m
		}
	}
	t.Fatalf("no method %s", id)
	return nil
}

// TestMethodTargets covers the resource constraints: a method needs a concrete target
// of its kind that the grant reaches.
func TestMethodTargets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		method  string
		res     func(t *testing.T) []providers.Resource
		want    bool
		targets []string
	}{
		{
			name: "passrole_needs_a_role_trusting_the_service", method: "ec2-run-instances",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", allow("iam:PassRole", "ec2:RunInstances"))),
					role(t, "lambda-only", trustService("lambda.amazonaws.com")),
				}
			},
		},
		{
			name: "passrole_scoped_to_a_role_of_another_service", method: "ec2-run-instances",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[
						{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"},
						{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+roleARN("lambda-only")+`"}]}`)),
					role(t, "lambda-only", trustService("lambda.amazonaws.com")),
					role(t, "ec2", trustService("ec2.amazonaws.com")),
				}
			},
		},
		{
			name: "passrole_scoped_to_the_ec2_role", method: "ec2-run-instances", want: true, targets: []string{roleARN("ec2")},
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[
						{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"},
						{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::`+acct+`:role/ec2*"}]}`)),
					role(t, "lambda-only", trustService("lambda.amazonaws.com")),
					role(t, "ec2", trustService("ec2.amazonaws.com")),
				}
			},
		},
		{
			name: "create_access_key_on_oneself_only", method: "iam-create-access-key",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`)),
					user(t, "victim"),
				}
			},
		},
		{
			name: "create_access_key_on_others", method: "iam-create-access-key", want: true, targets: []string{userARN("victim")},
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/*"}]}`)),
					user(t, "victim"),
				}
			},
		},
		{
			name: "create_policy_version_without_own_customer_policy", method: "iam-create-policy-version",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", allow("iam:CreatePolicyVersion"))),
					managed(t, "someone-elses", allow("s3:GetObject"), 1),
				}
			},
		},
		{
			name: "set_default_version_needs_two_versions", method: "iam-set-default-policy-version",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					managed(t, "mine", allow("iam:SetDefaultPolicyVersion"), 1),
					user(t, "attacker", attached(policyARN("mine"))),
				}
			},
		},
		{
			name: "privileged_role_of_another_account_trust", method: "sts-assume-privileged-role",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", allow("sts:AssumeRole"))),
					role(t, "admin", trustAWS("444455556666"), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
				}
			},
		},
		{
			name: "privileged_role_trusting_the_user_directly", method: "sts-assume-privileged-role", want: true, targets: []string{roleARN("admin")},
			res: func(t *testing.T) []providers.Resource {
				// A trust policy naming the user suffices in the same account.
				return []providers.Resource{
					user(t, "attacker"),
					role(t, "admin", trustAWS(userARN("attacker")), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
				}
			},
		},
		{
			name: "attach_role_policy_on_an_assumable_role", method: "iam-attach-role-policy", want: true, targets: []string{roleARN("mine")},
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "attacker", inline(t, "UserPolicyList", allow("iam:AttachRolePolicy", "sts:AssumeRole"))),
					role(t, "mine", trustAWS(acct)),
					role(t, "not-mine", trustService("ec2.amazonaws.com")),
				}
			},
		},
		{
			name: "existing_function_needs_a_lambda_role", method: "lambda-update-function-code",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{user(t, "attacker", inline(t, "UserPolicyList", allow("lambda:UpdateFunctionCode")))}
			},
		},
		{
			name: "conditional_grant_does_not_count", method: "iam-put-user-policy",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{user(t, "attacker", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`))}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := build(t, tc.res(t)...)
			p := g.Principal(userARN("attacker"))
			mm, ok := g.EvaluateMethod(p, method(t, tc.method))
			require.Equal(t, tc.want, ok, "%+v", mm)
			if tc.want {
				require.Equal(t, tc.targets, mm.Targets)
			}
		})
	}
}

func TestAdminEquivalent(t *testing.T) {
	t.Parallel()
	denyAllSCP := [][]iampolicy.NamedPolicy{{{Name: "FullAWSAccess", Policy: iampolicy.MustParse(allow("*"))}, {Name: "no-iam", Policy: iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)}}}
	cases := []struct {
		name  string
		res   func(t *testing.T) []providers.Resource
		scps  [][]iampolicy.NamedPolicy
		kind  string // "" = not admin
		unres bool
	}{
		{name: "star_on_star", kind: AdminFull, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", allow("*")))}
		}},
		{name: "aws_managed_administrator_access_via_group", kind: AdminFull, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{group(t, "admins", attached("arn:aws:iam::aws:policy/AdministratorAccess")), user(t, "u", memberOf("admins"))}
		}},
		{name: "star_under_a_boundary", res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{managed(t, "b", allow("s3:*"), 1), user(t, "u", inline(t, "UserPolicyList", allow("*")), boundary(policyARN("b")))}
		}},
		{name: "star_under_an_scp_denying_iam", scps: denyAllSCP, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", allow("*")))}
		}},
		{name: "star_with_mfa_condition", res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`))}
		}},
		{name: "iam_full_access_and_assume_role", kind: AdminIAMWrite, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", attached("arn:aws:iam::aws:policy/IAMFullAccess"), inline(t, "UserPolicyList", allow("sts:AssumeRole")))}
		}},
		{name: "iam_full_access_alone", res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{role(t, "r", trustService("ec2.amazonaws.com"), attached("arn:aws:iam::aws:policy/IAMFullAccess"))}
		}},
		{name: "iam_write_scoped_to_account_arns", kind: AdminIAMWrite, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:AssumeRole"],"Resource":"arn:aws:iam::`+acct+`:*"}]}`))}
		}},
		{name: "power_user", res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", attached("arn:aws:iam::aws:policy/PowerUserAccess"))}
		}},
		// Every service of the catalog but not "*": not full, but iam:* and sts:* make
		// it an IAM-write administrator.
		{name: "every_catalog_service_but_not_star", kind: AdminIAMWrite, res: func(t *testing.T) []providers.Resource {
			var svcs []string
			for _, s := range iampolicy.DefaultCatalog().Services() {
				svcs = append(svcs, s+":*")
			}
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", allow(svcs...)))}
		}},
		{name: "every_catalog_service_but_iam", res: func(t *testing.T) []providers.Resource {
			var svcs []string
			for _, s := range iampolicy.DefaultCatalog().Services() {
				if s != "iam" {
					svcs = append(svcs, s+":*")
				}
			}
			return []providers.Resource{user(t, "u", inline(t, "UserPolicyList", allow(svcs...)))}
		}},
		{name: "unresolved_aws_managed_policy", unres: true, res: func(t *testing.T) []providers.Resource {
			return []providers.Resource{user(t, "u", attached("arn:aws:iam::aws:policy/ReadOnlyAccess"))}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, err := Build(tc.res(t), BuildConfig{SCPs: tc.scps})
			require.NoError(t, err)
			p := g.Principals[0]
			r := g.AdminEquivalent(p)
			require.Equal(t, tc.kind != "", r.Admin, "%+v", r)
			require.Equal(t, tc.kind, r.Kind)
			require.Equal(t, tc.unres, len(p.Unresolved) > 0, p.Unresolved)
			if !r.Admin {
				require.NotEmpty(t, r.Denied)
			}
		})
	}
}
