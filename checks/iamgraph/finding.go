package iamgraph

import "encoding/json"

// Finding statuses. Unknown means the answer depends on data the scan could not read
// (an AWS managed policy without a document, a collection gap): it never passes or
// fails.
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// Finding is one analyzer result for one resource, in the neutral shape the pipeline
// stores for YAML checks too (one row per check x resource).
type Finding struct {
	// CheckID is the analyzer id, e.g. "aws.iam.privilege_escalation".
	CheckID string `json:"check_id"`
	// ResourceNativeID is the ARN of the user or role the finding is about.
	ResourceNativeID string `json:"resource_native_id"`
	// ResourceType is "aws.iam.user" or "aws.iam.role".
	ResourceType string `json:"resource_type"`
	// Status is StatusPass, StatusFail or StatusUnknown.
	Status string `json:"status"`
	// Severity is the analyzer's severity.
	Severity string `json:"severity"`
	// Message is the human detail.
	Message string `json:"message"`
	// Evidence is JSON-shaped detail (maps, lists, strings, numbers, booleans).
	Evidence map[string]any `json:"evidence,omitempty"`
}

// Analyzer is the metadata of one analysis, with the fields a YAML check carries.
type Analyzer struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
	Risk        string `json:"risk"`
	Remediation string `json:"remediation"`
	// ResourceTypes are the types the analyzer writes findings for.
	ResourceTypes []string `json:"resource_types"`
	// Compliance maps a framework id to control ids.
	Compliance map[string][]string `json:"compliance,omitempty"`
	// References are documentation links.
	References []string `json:"references,omitempty"`
}

// Analyzer ids (permanent).
const (
	IDAdminEquivalent      = "aws.iam.principal_admin_equivalent"
	IDPrivilegeEscalation  = "aws.iam.privilege_escalation"
	IDEscalationChain      = "aws.iam.privilege_escalation_chain"
	IDTrustExternalNoExtID = "aws.iam.role_trust_external_without_external_id"
	IDTrustAnyPrincipal    = "aws.iam.role_trust_any_principal"
	IDTrustOIDCUnrestrict  = "aws.iam.role_trust_oidc_unrestricted"
	IDUserUnused           = "aws.iam.user_unused"
	IDRoleUnused           = "aws.iam.role_unused"
	IDAccessKeyUnused      = "aws.iam.access_key_unused"
	IDServicesUnused       = "aws.iam.principal_services_unused"
)

// Analyzers returns the metadata of every analysis this package runs, in a fixed order.
func Analyzers() []Analyzer {
	principals := []string{TypeUser, TypeRole}
	roles := []string{TypeRole}
	return []Analyzer{
		{
			ID: IDAdminEquivalent, Title: "IAM principal is not effectively an administrator", Severity: "high", ResourceTypes: principals,
			Description: "Evaluates each user's and role's effective permissions (identity policies of the principal and its groups, permissions boundary, SCPs) and fails when it may perform every action on every resource, or holds unrestricted IAM write access plus sts:AssumeRole, with which it can grant itself everything.",
			Risk:        "A compromised administrator-equivalent identity controls the whole account: data, logging, and every other identity.",
			Remediation: "Grant administrative access only to a few break-glass roles protected by MFA; replace broad grants with task-scoped policies, or cap them with a permissions boundary.",
			Compliance:  map[string][]string{"cis-aws-5.0": {"1.15"}, "aws-fsbp": {"IAM.1"}, "nist-800-53-r5": {"AC-6", "AC-6(5)"}},
			References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"},
		},
		{
			ID: IDPrivilegeEscalation, Title: "IAM principal cannot escalate its own privileges", Severity: "high", ResourceTypes: principals,
			Description: "Checks each non-administrator principal against a table of known single-principal privilege-escalation methods (policy editing, credential creation, passing a role to a compute service, ...), evaluated with the IAM policy engine against the concrete targets of the account (its own policies, other users, roles that trust the service).",
			Risk:        "A principal that can escalate is an administrator in waiting: whoever compromises it gains far more than its policies appear to grant.",
			Remediation: "Remove the listed permissions, scope them to resources that cannot lead to escalation (e.g. iam:PassRole to specific low-privilege roles), or deny them in a permissions boundary.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-6", "AC-6(1)"}},
			References:  []string{"https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/", "https://bishopfox.com/blog/privilege-escalation-in-aws"},
		},
		{
			ID: IDEscalationChain, Title: "IAM principal cannot reach an administrator through other identities", Severity: "high", ResourceTypes: principals,
			Description: "Builds a graph of identity hops (sts:AssumeRole allowed by both sides, passing a role to a compute service, rewriting a trust policy, creating another user's credentials) and searches, up to five hops, for a path from each principal to an administrator-equivalent or escalation-capable principal.",
			Risk:        "Multi-step paths are invisible when each policy is reviewed alone, yet an attacker follows them in minutes.",
			Remediation: "Break the first hop of the reported path: narrow the trust policy, the iam:PassRole resources or the credential-management permissions.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-6"}},
		},
		{
			ID: IDTrustExternalNoExtID, Title: "Role assumable from another account requires an external ID or organization condition", Severity: "high", ResourceTypes: roles,
			Description: "Fails when a role's trust policy lets a principal of another AWS account (not listed as trusted) call sts:AssumeRole without a positive condition on sts:ExternalId, aws:PrincipalOrgID, aws:PrincipalOrgPaths or aws:SourceAccount.",
			Risk:        "Without an external ID a third party's service can be tricked into using its access on your behalf (confused deputy), and any identity of the trusted account may assume the role.",
			Remediation: "Add a Condition StringEquals sts:ExternalId to the statement trusting a vendor, or aws:PrincipalOrgID for accounts of your organization.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-3", "AC-17"}},
			References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html"},
		},
		{
			ID: IDTrustAnyPrincipal, Title: "Role trust policy does not allow any principal", Severity: "critical", ResourceTypes: roles,
			Description: "Fails when a role's trust policy allows Principal \"*\" (or AWS \"*\", or NotPrincipal) to assume it without a condition restricting the caller to known accounts, organizations or ARNs.",
			Risk:        "Anyone with an AWS account can assume the role and use its permissions.",
			Remediation: "Name the trusted accounts or roles in Principal, or restrict with aws:PrincipalOrgID / aws:PrincipalArn conditions.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-3", "AC-6"}},
		},
		{
			ID: IDTrustOIDCUnrestrict, Title: "Role trusting an OIDC or SAML provider restricts audience and subject", Severity: "critical", ResourceTypes: roles,
			Description: "Fails when a role trusts a web-identity provider (sts:AssumeRoleWithWebIdentity) without positive conditions on both <provider>:aud and <provider>:sub (for Cognito, :amr stands for the subject), where the subject condition is not a bare wildcard; or a SAML provider (sts:AssumeRoleWithSAML) without a SAML:aud condition.",
			Risk:        "For shared providers such as GitHub Actions (token.actions.githubusercontent.com), a trust without a subject condition lets any repository on GitHub assume the role.",
			Remediation: "Add StringEquals <provider>:aud (sts.amazonaws.com for GitHub) and StringEquals/StringLike <provider>:sub naming your repository and branch or environment.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-3", "IA-2"}},
			References:  []string{"https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services"},
		},
		{
			ID: IDUserUnused, Title: "IAM user has been used recently", Severity: "medium", ResourceTypes: []string{TypeUser},
			Description: "Fails for a user created more than N days ago (default 90) whose password and access keys have not been used in the last N days, reading the user document and the credential report.",
			Risk:        "Dormant users keep credentials and permissions nobody watches; they are a favourite foothold.",
			Remediation: "Delete the user, or disable its password and access keys.",
			Compliance:  map[string][]string{"cis-aws-5.0": {"1.11"}, "aws-fsbp": {"IAM.8"}, "nist-800-53-r5": {"AC-2(3)"}},
		},
		{
			ID: IDRoleUnused, Title: "IAM role has been used recently", Severity: "low", ResourceTypes: roles,
			Description: "Fails for a role created more than N days ago (default 90) whose RoleLastUsed date is older than N days or absent. Service-linked roles pass: AWS manages them.",
			Risk:        "Unused roles keep trust relationships and permissions that widen the attack surface for nothing.",
			Remediation: "Delete the role after confirming no workload needs it.",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-2(3)", "AC-6"}},
		},
		{
			ID: IDAccessKeyUnused, Title: "IAM user's active access keys have been used recently", Severity: "medium", ResourceTypes: []string{TypeUser},
			Description: "Fails for a user holding an active access key created more than N days ago (default 90) and not used in the last N days.",
			Risk:        "Forgotten long-lived keys leak in repositories and laptops and are used by attackers without anyone noticing.",
			Remediation: "Deactivate then delete the key; prefer roles and short-lived credentials.",
			Compliance:  map[string][]string{"cis-aws-5.0": {"1.11"}, "aws-fsbp": {"IAM.8"}, "nist-800-53-r5": {"AC-2(3)", "IA-5(1)"}},
		},
		{
			ID: IDServicesUnused, Title: "IAM principal uses the services it is granted", Severity: "low", ResourceTypes: principals,
			Description: "From IAM service-last-accessed data (GetServiceLastAccessedDetails), fails when the principal is granted services it has not used in N days or never; the evidence carries a suggested policy limited to the services used and the list of removed services.",
			Risk:        "Unused grants are pure risk: they add nothing to the workload and everything to the blast radius.",
			Remediation: "Replace the principal's policies with the suggested one after review (IAM Access Analyzer policy generation refines it to actions).",
			Compliance:  map[string][]string{"nist-800-53-r5": {"AC-6", "AC-6(7)"}},
			References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html"},
		},
	}
}

// analyzer returns the metadata of id; it panics on an unknown id (programmer error).
func analyzer(id string) Analyzer {
	for _, a := range Analyzers() {
		if a.ID == id {
			return a
		}
	}
	panic("iamgraph: unknown analyzer " + id)
}

func newFinding(a Analyzer, p *Principal, status, msg string, ev map[string]any) Finding {
	typ := TypeUser
	if p.Kind == KindRole {
		typ = TypeRole
	}
	return Finding{CheckID: a.ID, ResourceNativeID: p.ARN, ResourceType: typ, Status: status, Severity: a.Severity, Message: msg, Evidence: ev}
}

// toJSON turns a value into the JSON-shaped form (maps, lists, strings, float64,
// bools) that Evidence holds, so that stored and in-memory findings compare equal.
func toJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		// Evidence values are plain structs of strings and slices: marshalling
		// cannot fail.
		panic("iamgraph: marshal evidence: " + err.Error())
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic("iamgraph: unmarshal evidence: " + err.Error())
	}
	return out
}
