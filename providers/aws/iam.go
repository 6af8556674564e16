package aws

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/vigilsec/vigil/providers"
)

// IAM resource types.
const (
	TypeIAMUser              = "aws.iam.user"
	TypeIAMGroup             = "aws.iam.group"
	TypeIAMRole              = "aws.iam.role"
	TypeIAMPolicy            = "aws.iam.policy"
	TypeIAMInstanceProfile   = "aws.iam.instance_profile"
	TypeIAMSAMLProvider      = "aws.iam.saml_provider"
	TypeIAMOIDCProvider      = "aws.iam.oidc_provider"
	TypeIAMServerCertificate = "aws.iam.server_certificate"
	TypeIAMVirtualMFADevice  = "aws.iam.virtual_mfa_device"
)

// iamAuthorizationCollector emits users, groups, roles and customer-managed policies
// from iam:GetAccountAuthorizationDetails, which returns inline policies, attachments,
// trust policies and RoleLastUsed in a few pages instead of several calls per entity.
func iamAuthorizationCollector() collector {
	return collector{
		name: "iam", service: "iam", global: true, collect: collectIAM,
		types: []string{TypeIAMUser, TypeIAMGroup, TypeIAMRole, TypeIAMPolicy},
	}
}

func collectIAM(ctx context.Context, s *scope) error {
	c := iam.NewFromConfig(s.cfg)
	const op = "iam:GetAccountAuthorizationDetails"

	// Pass 1: groups, so that users' group names can be turned into group ARNs.
	groupARN := map[string]string{}
	pg := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeGroup},
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return s.fail(err, op)
		}
		for _, g := range out.GroupDetailList {
			groupARN[aws.ToString(g.GroupName)] = aws.ToString(g.Arn)
			r, err := s.newResource(TypeIAMGroup, aws.ToString(g.Arn), aws.ToString(g.GroupName), providers.RegionGlobal, g)
			if err != nil {
				return err
			}
			parseDocs(r.Properties, "GroupPolicyList", "PolicyDocument")
			relateAttached(r, g.AttachedManagedPolicies)
			if err := s.emit(ctx, r); err != nil {
				return err
			}
		}
	}

	// ListUsers carries PasswordLastUsed, which the authorization details lack.
	passwordLastUsed := map[string]*time.Time{}
	if wantsAny(s, TypeIAMUser) {
		up := iam.NewListUsersPaginator(c, &iam.ListUsersInput{})
		for up.HasMorePages() {
			out, err := up.NextPage(ctx)
			if err != nil {
				return s.fail(err, "iam:ListUsers")
			}
			for _, u := range out.Users {
				passwordLastUsed[aws.ToString(u.Arn)] = u.PasswordLastUsed
			}
		}
	}

	// Pass 2: users, roles and customer-managed policies, streamed page by page.
	var filter []iamtypes.EntityType
	// A fixed order keeps the request identical from run to run (recordings replay it).
	for _, tf := range []struct {
		typ    string
		entity iamtypes.EntityType
	}{{TypeIAMUser, iamtypes.EntityTypeUser}, {TypeIAMRole, iamtypes.EntityTypeRole}, {TypeIAMPolicy, iamtypes.EntityTypeLocalManagedPolicy}} {
		if wantsAny(s, tf.typ) {
			filter = append(filter, tf.entity)
		}
	}
	if len(filter) == 0 {
		return nil
	}
	pg = iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{Filter: filter})
	w := s.workers(ctx)
	defer func() { _ = w.Wait() }() // no goroutine outlives the unit
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			_ = w.Wait()
			return s.fail(err, op)
		}
		for _, u := range out.UserDetailList {
			w.Go(func(ctx context.Context) error {
				r, err := iamUser(ctx, s, c, u, groupARN, passwordLastUsed)
				if err != nil {
					return err
				}
				return s.emit(ctx, r)
			})
		}
		for _, role := range out.RoleDetailList {
			r, err := s.newResource(TypeIAMRole, aws.ToString(role.Arn), aws.ToString(role.RoleName), providers.RegionGlobal, role)
			if err != nil {
				return err
			}
			r.Properties["AssumeRolePolicyDocument"] = parsePolicyPtr(role.AssumeRolePolicyDocument)
			parseDocs(r.Properties, "RolePolicyList", "PolicyDocument")
			r.Tags = tagMap(role.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
			relateAttached(r, role.AttachedManagedPolicies)
			if role.PermissionsBoundary != nil {
				relate(r, "permissions_boundary", aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn), TypeIAMPolicy)
			}
			for _, ip := range role.InstanceProfileList {
				relate(r, "instance_profile", aws.ToString(ip.Arn), TypeIAMInstanceProfile)
			}
			if err := s.emit(ctx, r); err != nil {
				return err
			}
		}
		for _, p := range out.Policies {
			name := aws.ToString(p.PolicyName)
			if name == "" { // some emulators omit it; the ARN ends with the name
				name = aws.ToString(p.Arn)[strings.LastIndex(aws.ToString(p.Arn), "/")+1:]
			}
			r, err := s.newResource(TypeIAMPolicy, aws.ToString(p.Arn), name, providers.RegionGlobal, p)
			if err != nil {
				return err
			}
			parseDocs(r.Properties, "PolicyVersionList", "Document")
			r.Properties["Document"] = nil
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion {
					r.Properties["Document"] = parsePolicyPtr(v.Document)
				}
			}
			if err := s.emit(ctx, r); err != nil {
				return err
			}
		}
	}
	return w.Wait()
}

// iamUser builds a user document with its MFA devices, access keys (with last use)
// and login profile.
func iamUser(ctx context.Context, s *scope, c *iam.Client, u iamtypes.UserDetail, groupARN map[string]string, passwordLastUsed map[string]*time.Time) (*providers.Resource, error) {
	r, err := s.newResource(TypeIAMUser, aws.ToString(u.Arn), aws.ToString(u.UserName), providers.RegionGlobal, u)
	if err != nil {
		return nil, err
	}
	parseDocs(r.Properties, "UserPolicyList", "PolicyDocument")
	r.Tags = tagMap(u.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
	plu, err := jsonValue(passwordLastUsed[aws.ToString(u.Arn)])
	if err != nil {
		return nil, err
	}
	r.Properties["PasswordLastUsed"] = plu
	relateAttached(r, u.AttachedManagedPolicies)
	for _, g := range u.GroupList {
		if arn := groupARN[g]; arn != "" {
			relate(r, "member_of", arn, TypeIAMGroup)
		}
	}
	if u.PermissionsBoundary != nil {
		relate(r, "permissions_boundary", aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn), TypeIAMPolicy)
	}
	name := u.UserName
	s.enrich(ctx, r, "MFADevices", "iam:ListMFADevices", nil, func(ctx context.Context) (any, error) {
		var devices []iamtypes.MFADevice
		p := iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{UserName: name})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			devices = append(devices, out.MFADevices...)
		}
		return nonNil(devices), nil
	})
	s.enrich(ctx, r, "AccessKeys", "iam:ListAccessKeys", nil, func(ctx context.Context) (any, error) {
		var keys []iamtypes.AccessKeyMetadata
		p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: name})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			keys = append(keys, out.AccessKeyMetadata...)
		}
		return jsonValue(nonNil(keys))
	})
	// Each key's last use is its own call; a failure there is a gap on AccessKeys
	// rather than a key without LastUsed, which a check would read as "never used".
	if keys, ok := r.Properties["AccessKeys"].([]any); ok {
		for _, k := range keys {
			km := k.(map[string]any)
			id, _ := km["AccessKeyId"].(string)
			out, err := c.GetAccessKeyLastUsed(context.WithValue(ctx, enrichKey{}, true), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
			if err != nil {
				s.gap(r, "AccessKeys", "iam:GetAccessKeyLastUsed", err)
				break
			}
			v, err := jsonValue(out.AccessKeyLastUsed)
			if err != nil {
				return nil, err
			}
			km["LastUsed"] = v
		}
	}
	s.enrich(ctx, r, "LoginProfile", "iam:GetLoginProfile", []string{"NoSuchEntity"}, func(ctx context.Context) (any, error) {
		out, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: name})
		if err != nil {
			return nil, err
		}
		return out.LoginProfile, nil
	})
	return r, nil
}

// iamInstanceProfileCollector emits instance profiles with their roles.
func iamInstanceProfileCollector() collector {
	return collector{
		name: "iam_instance_profiles", service: "iam", global: true, types: []string{TypeIAMInstanceProfile},
		collect: func(ctx context.Context, s *scope) error {
			p := iam.NewListInstanceProfilesPaginator(iam.NewFromConfig(s.cfg), &iam.ListInstanceProfilesInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "iam:ListInstanceProfiles")
				}
				for _, ip := range out.InstanceProfiles {
					r, err := s.newResource(TypeIAMInstanceProfile, aws.ToString(ip.Arn), aws.ToString(ip.InstanceProfileName), providers.RegionGlobal, ip)
					if err != nil {
						return err
					}
					if roles, ok := r.Properties["Roles"].([]any); ok {
						for _, role := range roles {
							rm := role.(map[string]any)
							if doc, ok := rm["AssumeRolePolicyDocument"].(string); ok {
								rm["AssumeRolePolicyDocument"] = parsePolicy(doc)
							}
						}
					}
					r.Tags = tagMap(ip.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
					for _, role := range ip.Roles {
						relate(r, "role", aws.ToString(role.Arn), TypeIAMRole)
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// iamProviderCollector emits SAML and OpenID Connect identity providers.
func iamProviderCollector() collector {
	return collector{
		name: "iam_identity_providers", service: "iam", global: true, types: []string{TypeIAMSAMLProvider, TypeIAMOIDCProvider},
		collect: func(ctx context.Context, s *scope) error {
			c := iam.NewFromConfig(s.cfg)
			saml, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
			if err != nil {
				return s.fail(err, "iam:ListSAMLProviders")
			}
			for _, p := range saml.SAMLProviderList {
				arn := aws.ToString(p.Arn)
				r, err := s.newResource(TypeIAMSAMLProvider, arn, arn[strings.LastIndex(arn, "/")+1:], providers.RegionGlobal, p)
				if err != nil {
					return err
				}
				if err := s.emit(ctx, r); err != nil {
					return err
				}
			}
			oidc, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
			if err != nil {
				return s.fail(err, "iam:ListOpenIDConnectProviders")
			}
			for _, p := range oidc.OpenIDConnectProviderList {
				arn := aws.ToString(p.Arn)
				r, err := s.newResource(TypeIAMOIDCProvider, arn, arn[strings.Index(arn, "/")+1:], providers.RegionGlobal, p)
				if err != nil {
					return err
				}
				s.enrich(ctx, r, "OpenIDConnectProvider", "iam:GetOpenIDConnectProvider", nil, func(ctx context.Context) (any, error) {
					out, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: p.Arn})
					if err != nil {
						return nil, err
					}
					r.Tags = tagMap(out.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
					return map[string]any{"Url": out.Url, "ClientIDList": nonNil(out.ClientIDList), "ThumbprintList": nonNil(out.ThumbprintList), "CreateDate": out.CreateDate}, nil
				})
				if err := s.emit(ctx, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// iamServerCertificateCollector emits IAM server certificates (metadata only).
func iamServerCertificateCollector() collector {
	return collector{
		name: "iam_server_certificates", service: "iam", global: true, types: []string{TypeIAMServerCertificate},
		collect: func(ctx context.Context, s *scope) error {
			p := iam.NewListServerCertificatesPaginator(iam.NewFromConfig(s.cfg), &iam.ListServerCertificatesInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "iam:ListServerCertificates")
				}
				for _, m := range out.ServerCertificateMetadataList {
					r, err := s.newResource(TypeIAMServerCertificate, aws.ToString(m.Arn), aws.ToString(m.ServerCertificateName), providers.RegionGlobal, m)
					if err != nil {
						return err
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// iamVirtualMFACollector emits virtual MFA devices, assigned or not.
func iamVirtualMFACollector() collector {
	return collector{
		name: "iam_virtual_mfa_devices", service: "iam", global: true, types: []string{TypeIAMVirtualMFADevice},
		collect: func(ctx context.Context, s *scope) error {
			p := iam.NewListVirtualMFADevicesPaginator(iam.NewFromConfig(s.cfg), &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAny})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "iam:ListVirtualMFADevices")
				}
				for _, d := range out.VirtualMFADevices {
					// The seed and QR code are secrets; AWS omits them from lists, and
					// they must never reach a document.
					d.Base32StringSeed, d.QRCodePNG = nil, nil
					serial := aws.ToString(d.SerialNumber)
					r, err := s.newResource(TypeIAMVirtualMFADevice, serial, serial[strings.LastIndex(serial, "/")+1:], providers.RegionGlobal, d)
					if err != nil {
						return err
					}
					delete(r.Properties, "Base32StringSeed")
					delete(r.Properties, "QRCodePNG")
					r.Tags = tagMap(d.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
					if d.User != nil {
						relate(r, "user", aws.ToString(d.User.Arn), TypeIAMUser)
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// relateAttached adds attached_policy edges.
func relateAttached(r *providers.Resource, policies []iamtypes.AttachedPolicy) {
	for _, p := range policies {
		relate(r, "attached_policy", aws.ToString(p.PolicyArn), TypeIAMPolicy)
	}
}

// parseDocs parses the policy document docKey of every element of the list props[listKey].
func parseDocs(props map[string]any, listKey, docKey string) {
	list, _ := props[listKey].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if doc, ok := m[docKey].(string); ok {
				m[docKey] = parsePolicy(doc)
			}
		}
	}
}

// wantsAny reports whether the unit emits any of types.
func wantsAny(s *scope, types ...string) bool {
	for _, t := range types {
		for _, u := range s.types {
			if u == t {
				return true
			}
		}
	}
	return false
}

// nonNil turns a nil slice into an empty one, so that "none" is [] and not null
// (null means "not configured" in documents).
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
