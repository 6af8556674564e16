package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/store"
)

// AccountTester checks an account's credentials (sts:GetCallerIdentity and read
// probes). cmd wires jobs.TestConnection; the API itself calls no cloud SDK.
type AccountTester func(ctx context.Context, acct store.Account, secret []byte) (jobs.ConnectionTest, error)

var (
	roleARNRE   = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	awsRegionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
)

// externalID is the tenant's AssumeRole external id: derived from the master key and
// the tenant id, so it is stable, unguessable, and no tenant can present another's.
func (s *Server) externalID(tenant uuid.UUID) string {
	m := hmac.New(sha256.New, s.cfg.ExternalIDKey)
	m.Write([]byte("aws-external-id/" + tenant.String()))
	return "vigil-" + hex.EncodeToString(m.Sum(nil))[:32]
}

type accountRequest struct {
	Provider        string    `json:"provider"`
	Name            *string   `json:"name"`
	CredentialKind  *string   `json:"credential_kind"`
	RoleARN         *string   `json:"role_arn"`
	AccessKeyID     *string   `json:"access_key_id"`
	SecretAccessKey *string   `json:"secret_access_key"`
	SessionToken    *string   `json:"session_token"`
	EndpointURL     *string   `json:"endpoint_url"`
	Regions         *[]string `json:"regions"`
	Types           *[]string `json:"types"`
	Schedule        *string   `json:"schedule"`
	Timezone        *string   `json:"timezone"`
	Enabled         *bool     `json:"enabled"`
}

// applyAccount validates req and merges it into a (a new account when a.ID is fresh).
func (s *Server) applyAccount(c echo.Context, a *store.Account, req accountRequest, creating bool) error {
	var v validator
	p := principalOf(c)
	if creating {
		if req.Provider != "aws" {
			v.add("body", "provider", "must be aws (azure and gcp are coming)")
		}
		if req.Name == nil {
			v.add("body", "name", "is required")
		}
		if req.CredentialKind == nil {
			v.add("body", "credential_kind", "is required: assume_role, static or default_chain")
		}
	} else if req.Provider != "" && req.Provider != a.Provider {
		v.add("body", "provider", "cannot change")
	}
	cfg, _ := jobs.ParseAccountConfig(a.Config)
	if req.Name != nil {
		v.text("name", *req.Name, true, 200)
		a.Name = strings.TrimSpace(*req.Name)
	}
	if req.CredentialKind != nil {
		switch *req.CredentialKind {
		case jobs.CredAssumeRole, jobs.CredStatic, jobs.CredDefaultChain:
			if *req.CredentialKind != a.CredentialKind {
				a.Secret = nil // credentials of another kind do not carry over
			}
			a.CredentialKind = *req.CredentialKind
		default:
			v.add("body", "credential_kind", "must be assume_role, static or default_chain")
		}
	}
	if req.RoleARN != nil {
		if !roleARNRE.MatchString(*req.RoleARN) {
			v.add("body", "role_arn", "must be an IAM role ARN such as arn:aws:iam::123456789012:role/VigilAudit")
		}
		cfg.RoleARN = *req.RoleARN
	}
	if a.CredentialKind == jobs.CredAssumeRole {
		if cfg.RoleARN == "" {
			v.add("body", "role_arn", "is required with credential_kind assume_role")
		}
		cfg.ExternalID = s.externalID(p.TenantID)
	} else {
		cfg.ExternalID = ""
	}
	if req.AccessKeyID != nil || req.SecretAccessKey != nil {
		if req.AccessKeyID == nil || req.SecretAccessKey == nil || *req.AccessKeyID == "" || *req.SecretAccessKey == "" {
			v.add("body", "secret_access_key", "access_key_id and secret_access_key go together")
		} else if len(*req.AccessKeyID) > 128 || len(*req.SecretAccessKey) > 256 {
			v.add("body", "access_key_id", "is too long")
		} else {
			secret, _ := json.Marshal(jobs.StaticSecret{AccessKeyID: *req.AccessKeyID, SecretAccessKey: *req.SecretAccessKey, SessionToken: deref(req.SessionToken)})
			sealed, err := s.cfg.Sealer.Seal(secret, store.OwnerOfAccountSecret(p.TenantID, a.ID))
			if err != nil {
				return err
			}
			a.Secret = sealed
		}
	}
	if a.CredentialKind == jobs.CredStatic && len(a.Secret) == 0 {
		v.add("body", "access_key_id", "is required with credential_kind static")
	}
	if req.EndpointURL != nil {
		if *req.EndpointURL != "" {
			u, err := url.Parse(*req.EndpointURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add("body", "endpoint_url", "must be an http(s) URL")
			}
		}
		cfg.EndpointURL = *req.EndpointURL
	}
	if req.Regions != nil {
		if len(*req.Regions) > 64 {
			v.add("body", "regions", "at most 64 regions")
		}
		for _, r := range *req.Regions {
			if !awsRegionRE.MatchString(r) {
				v.add("body", "regions", fmt.Sprintf("%q is not an AWS region name", r))
			}
		}
		a.Regions = *req.Regions
	}
	if req.Types != nil {
		for _, t := range *req.Types {
			if !strings.HasPrefix(t, "aws.") || len(t) > 100 {
				v.add("body", "types", fmt.Sprintf("%q is not an aws resource type", t))
			}
		}
		cfg.Types = *req.Types
	}
	if req.Schedule != nil {
		a.Schedule = strings.TrimSpace(*req.Schedule)
	}
	if req.Timezone != nil {
		a.Timezone = *req.Timezone
	}
	if a.Schedule == "" {
		a.Schedule = "0 3 * * *"
	}
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	if req.Enabled != nil {
		a.Enabled = *req.Enabled
	}
	next, err := jobs.NextRun(a.Schedule, a.Timezone, time.Now())
	if err != nil {
		v.add("body", "schedule", "must be a 5-field cron expression in a valid IANA time zone: "+err.Error())
	}
	if err := v.problem(); err != nil {
		return err
	}
	if a.Enabled {
		a.NextScanAt = &next
	} else {
		a.NextScanAt = nil
	}
	b, _ := json.Marshal(cfg)
	a.Config = map[string]any{}
	_ = json.Unmarshal(b, &a.Config)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) ListAccounts(c echo.Context) error {
	var out []store.Account
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.AccountList(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.Account]{Items: orEmpty(out)})
}

func (s *Server) CreateAccount(c echo.Context) error {
	var req accountRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	a := store.Account{ID: uuid.New(), Provider: req.Provider, Enabled: true, Regions: []string{}, Config: map[string]any{}}
	if err := s.applyAccount(c, &a, req, true); err != nil {
		return err
	}
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		if a, err = store.AccountCreate(c.Request().Context(), tx, a); err != nil {
			return err
		}
		return s.audit(c, tx, "account.created", "cloud_account", a.ID.String(), map[string]any{"name": a.Name, "credential_kind": a.CredentialKind})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (s *Server) GetAccount(c echo.Context, id uuid.UUID) error {
	var a store.Account
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		a, err = store.AccountGet(c.Request().Context(), tx, id)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) UpdateAccount(c echo.Context, id uuid.UUID) error {
	var err error
	var req accountRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var out store.Account
	err = s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		a, err := store.AccountGet(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.applyAccount(c, &a, req, false); err != nil {
			return err
		}
		if out, err = store.AccountUpdate(ctx, tx, a); err != nil {
			return err
		}
		return s.audit(c, tx, "account.updated", "cloud_account", id.String(), nil)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) DeleteAccount(c echo.Context, id uuid.UUID) error {
	err := s.tx(c, func(tx pgx.Tx) error {
		if err := store.AccountDelete(c.Request().Context(), tx, id); err != nil {
			return err
		}
		return s.audit(c, tx, "account.deleted", "cloud_account", id.String(), nil)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// onboarding is what a customer needs to create Vigil's read-only role.
type onboarding struct {
	ExternalID             string   `json:"external_id"`
	VigilPrincipal         string   `json:"vigil_principal"`
	ManagedPolicies        []string `json:"managed_policies"`
	CloudFormationTemplate string   `json:"cloudformation_template"`
	Terraform              string   `json:"terraform"`
}

func (s *Server) GetAWSOnboarding(c echo.Context) error {
	ext := s.externalID(principalOf(c).TenantID)
	principal := s.cfg.VigilAWSPrincipal
	if principal == "" {
		principal = "arn:aws:iam::000000000000:root"
	}
	cfn := fmt.Sprintf(`AWSTemplateFormatVersion: "2010-09-09"
Description: Read-only role for Vigil (cloud security posture management)
Resources:
  VigilAuditRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: VigilAudit
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: %q
            Action: sts:AssumeRole
            Condition:
              StringEquals:
                sts:ExternalId: %q
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/SecurityAudit
        - arn:aws:iam::aws:policy/job-function/ViewOnlyAccess
Outputs:
  RoleArn:
    Value: !GetAtt VigilAuditRole.Arn
`, principal, ext)
	tf := fmt.Sprintf(`resource "aws_iam_role" "vigil_audit" {
  name                 = "VigilAudit"
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = %q }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = %q } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "vigil_security_audit" {
  role       = aws_iam_role.vigil_audit.name
  policy_arn = "arn:aws:iam::aws:policy/SecurityAudit"
}

resource "aws_iam_role_policy_attachment" "vigil_view_only" {
  role       = aws_iam_role.vigil_audit.name
  policy_arn = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
}

output "vigil_role_arn" {
  value = aws_iam_role.vigil_audit.arn
}
`, principal, ext)
	return c.JSON(http.StatusOK, onboarding{ExternalID: ext, VigilPrincipal: principal,
		ManagedPolicies:        []string{"arn:aws:iam::aws:policy/SecurityAudit", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"},
		CloudFormationTemplate: cfn, Terraform: tf})
}

func (s *Server) TestAccount(c echo.Context, id uuid.UUID) error {
	var err error
	var a store.Account
	if err := s.tx(c, func(tx pgx.Tx) error {
		a, err = store.AccountGet(c.Request().Context(), tx, id)
		return err
	}); err != nil {
		return err
	}
	if s.cfg.TestAccount == nil {
		return NewProblem(http.StatusServiceUnavailable, CodeUnavailable, "connection tests are not configured on this server")
	}
	var secret []byte
	if len(a.Secret) > 0 {
		if secret, err = s.cfg.Sealer.Open(a.Secret, store.OwnerOfAccountSecret(a.TenantID, a.ID)); err != nil {
			return err
		}
	}
	res, err := s.cfg.TestAccount(c.Request().Context(), a, secret)
	if err != nil {
		return invalidField("path", "account_id", "cannot test this account: "+err.Error())
	}
	err = s.tx(c, func(tx pgx.Tx) error {
		if res.OK && res.AccountID != "" {
			if a.NativeID != "" && a.NativeID != res.AccountID {
				res.OK = false
				res.Error = fmt.Sprintf("the credentials reach account %s, not %s", res.AccountID, a.NativeID)
			} else if err := store.AccountSetNativeID(c.Request().Context(), tx, a.ID, res.AccountID); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return NewProblem(http.StatusConflict, CodeConflict, "account "+res.AccountID+" is already connected")
				}
				return err
			}
		}
		return s.audit(c, tx, "account.tested", "cloud_account", a.ID.String(), map[string]any{"ok": res.OK})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) StartScan(c echo.Context, id uuid.UUID) error {
	var err error
	if s.cfg.Jobs == nil {
		return NewProblem(http.StatusServiceUnavailable, CodeUnavailable, "this server cannot queue work")
	}
	p := principalOf(c)
	var scan store.Scan
	err = s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		a, err := store.AccountGet(ctx, tx, id)
		if err != nil {
			return err
		}
		scan, err = jobs.EnqueueScan(ctx, s.cfg.Jobs, tx, p.TenantID, a.ID, "manual", p.Kind+":"+p.ActorID())
		if errors.Is(err, store.ErrScanActive) {
			return NewProblem(http.StatusConflict, CodeConflict, "a scan of this account is already queued or running")
		}
		if err != nil {
			return err
		}
		return s.audit(c, tx, "scan.requested", "scan", scan.ID.String(), map[string]any{"account_id": a.ID})
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/scans/"+scan.ID.String())
	return c.JSON(http.StatusAccepted, scan)
}

func (s *Server) ListScans(c echo.Context, id uuid.UUID, params apigen.ListScansParams) error {
	var out []store.Scan
	err := s.tx(c, func(tx pgx.Tx) error {
		if _, err := store.AccountGet(c.Request().Context(), tx, id); err != nil {
			return err
		}
		var err error
		out, err = store.ScanList(c.Request().Context(), tx, id, val(params.Limit, 20))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.Scan]{Items: orEmpty(out)})
}

type scanDetail struct {
	store.Scan
	Units []store.ScanUnit `json:"units"`
}

func (s *Server) GetScan(c echo.Context, id uuid.UUID) error {
	var out scanDetail
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		if out.Scan, err = store.ScanGet(c.Request().Context(), tx, id); err != nil {
			return err
		}
		out.Units, err = store.ScanUnits(c.Request().Context(), tx, id)
		out.Units = orEmpty(out.Units)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) CancelScan(c echo.Context, id uuid.UUID) error {
	var out store.Scan
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		scan, err := store.ScanGetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if scan.Status != store.ScanQueued && scan.Status != store.ScanRunning {
			return NewProblem(http.StatusConflict, CodeConflict, "the scan already ended ("+scan.Status+")")
		}
		if err := store.ScanCancel(ctx, tx, id); err != nil {
			return err
		}
		if out, err = store.ScanGet(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(c, tx, "scan.cancelled", "scan", id.String(), nil)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
