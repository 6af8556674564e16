package iamgraph

// BuiltinManagedPolicies returns the documents of a few AWS managed policies that decide
// admin and escalation analyses, keyed by ARN. The collector does not emit AWS managed
// policies (arn:aws:iam::aws:policy/...); without these, a principal holding one would
// be "unresolved". Other AWS managed policies can be supplied through
// BuildConfig.ManagedPolicies. The documents are AWS's published default versions,
// reduced to their effect on these analyses where AWS lists many read-only actions.
func BuiltinManagedPolicies() map[string]any {
	return map[string]any{
		"arn:aws:iam::aws:policy/AdministratorAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"arn:aws:iam::aws:policy/IAMFullAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*",
			"organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit",
			"organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents",
			"organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies",
			"organizations:ListTargetsForPolicy"],"Resource":"*"}]}`,
		"arn:aws:iam::aws:policy/PowerUserAccess": `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
			{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetPrimaryEmail","account:ListRegions",
			"iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}`,
	}
}
