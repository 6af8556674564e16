package api

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/checks/iamgraph"
	"github.com/vigilsec/vigil/checks/iampolicy"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// iamGraph builds the IAM graph of one account from its stored documents, and indexes
// the documents by native id (to answer with Vigil's resource ids).
func (s *Server) iamGraph(c echo.Context, tx pgx.Tx, account uuid.UUID) (*iamgraph.Graph, map[string]store.StoredResource, error) {
	// Only the documents the graph is built from (and whose ids answers name) are
	// read, not the whole account.
	stored, err := store.ResourcesWhere(c.Request().Context(), tx, account, nil, []string{"aws.iam.", "aws.account"})
	if err != nil {
		return nil, nil, err
	}
	docs := make([]providers.Resource, 0, len(stored))
	byNative := make(map[string]store.StoredResource, len(stored))
	for _, r := range stored {
		byNative[r.Doc.NativeID] = r
		if strings.HasPrefix(r.Doc.Type, "aws.iam.") || r.Doc.Type == "aws.account" {
			docs = append(docs, r.Doc)
		}
	}
	g, err := iamgraph.Build(docs, iamgraph.BuildConfig{})
	return g, byNative, err
}

type principalRef struct {
	ResourceID *uuid.UUID `json:"resource_id"`
	NativeID   string     `json:"native_id"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
}

func refOf(byNative map[string]store.StoredResource, arn, kind string) principalRef {
	ref := principalRef{NativeID: arn, Type: kind}
	if r, ok := byNative[arn]; ok {
		id := r.ID
		ref.ResourceID, ref.Type, ref.Name = &id, r.Doc.Type, r.Doc.Name
	}
	return ref
}

type effectiveResponse struct {
	Principal       principalRef                             `json:"principal"`
	AdminEquivalent bool                                     `json:"admin_equivalent"`
	AdminKind       string                                   `json:"admin_kind,omitempty"`
	Services        map[string]map[iampolicy.AccessLevel]int `json:"services"`
	Actions         []iamgraph.ActionGrant                   `json:"actions"`
	Truncated       bool                                     `json:"truncated"`
}

// maxEffectiveActions caps the action list of one answer; the per-service summary is
// always complete.
const maxEffectiveActions = 5000

func (s *Server) GetIAMEffectivePermissions(c echo.Context, id uuid.UUID) error {
	var out effectiveResponse
	err := s.tx(c, func(tx pgx.Tx) error {
		r, account, err := store.ResourceLocate(c.Request().Context(), tx, &id, "")
		if err != nil {
			return err
		}
		if r.Doc.Type != "aws.iam.user" && r.Doc.Type != "aws.iam.role" {
			return invalidField("path", "resource_id", "effective permissions exist for aws.iam.user and aws.iam.role resources; this is "+r.Doc.Type)
		}
		g, byNative, err := s.iamGraph(c, tx, account)
		if err != nil {
			return err
		}
		p := g.Principal(r.Doc.NativeID)
		if p == nil {
			return NewProblem(http.StatusNotFound, CodeNotFound, "the principal is not in the account's IAM data")
		}
		out.Principal = refOf(byNative, p.ARN, string(p.Kind))
		admin := g.AdminEquivalent(p)
		out.AdminEquivalent, out.AdminKind = admin.Admin, admin.Kind
		actions := g.EffectiveActions(p)
		out.Services = map[string]map[iampolicy.AccessLevel]int{}
		for _, a := range actions {
			svc, _, _ := strings.Cut(a.Action, ":")
			if out.Services[svc] == nil {
				out.Services[svc] = map[iampolicy.AccessLevel]int{}
			}
			out.Services[svc][a.Level]++
		}
		if len(actions) > maxEffectiveActions {
			actions, out.Truncated = actions[:maxEffectiveActions], true
		}
		out.Actions = orEmpty(actions)
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// defaultAccessActions are the data-read actions asked about a resource when the
// caller names none, by service.
var defaultAccessActions = map[string][]string{
	"s3":             {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
	"secretsmanager": {"secretsmanager:GetSecretValue"},
	"kms":            {"kms:Decrypt", "kms:Encrypt"},
	"sqs":            {"sqs:ReceiveMessage", "sqs:SendMessage"},
	"sns":            {"sns:Publish", "sns:Subscribe"},
	"dynamodb":       {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:PutItem"},
	"lambda":         {"lambda:InvokeFunction", "lambda:UpdateFunctionCode"},
}

type accessResponse struct {
	Resource       string        `json:"resource"`
	EvaluatedAs    string        `json:"evaluated_as"`
	Actions        []string      `json:"actions"`
	ResourcePolicy bool          `json:"resource_policy"`
	Access         []accessEntry `json:"access"`
}

type accessEntry struct {
	Principal  principalRef `json:"principal"`
	Actions    []string     `json:"actions"`
	Via        string       `json:"via"`
	Unresolved bool         `json:"unresolved"`
}

func (s *Server) GetIAMAccess(c echo.Context, params apigen.GetIAMAccessParams) error {
	var v validator
	arn := params.Resource
	if !strings.HasPrefix(arn, "arn:") {
		v.add("query", "resource", "must be the ARN of the resource, e.g. arn:aws:s3:::my-bucket")
	}
	var actions []string
	if a := val(params.Actions, ""); a != "" {
		for _, x := range strings.Split(a, ",") {
			x = strings.TrimSpace(x)
			if !strings.Contains(x, ":") {
				v.add("query", "actions", x+" is not service:Action")
			}
			actions = append(actions, x)
		}
	} else if parts := strings.SplitN(arn, ":", 4); len(parts) == 4 {
		actions = defaultAccessActions[parts[2]]
		if actions == nil {
			v.add("query", "actions", "is required for "+parts[2]+" resources")
		}
	}
	accountID := params.AccountID
	if err := v.problem(); err != nil {
		return err
	}
	out := accessResponse{Resource: arn, EvaluatedAs: arn, Actions: actions, Access: []accessEntry{}}
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		r, account, err := store.ResourceLocate(ctx, tx, nil, arn)
		var policy *iampolicy.Policy
		switch {
		case err == nil:
			if doc, ok := r.Doc.Properties["Policy"]; ok && doc != nil {
				if p, perr := iampolicy.Parse(doc); perr == nil {
					policy, out.ResourcePolicy = p, true
				}
			}
		case store.IsNotFound(err) && accountID != nil:
			account = *accountID
			if _, err := store.AccountGet(ctx, tx, account); err != nil {
				return err
			}
		case store.IsNotFound(err):
			return NewProblem(http.StatusNotFound, CodeNotFound, "no resource with that ARN in your inventory; pass account_id to evaluate it anyway")
		default:
			return err
		}
		// Object actions on a bucket are asked of its objects.
		if strings.HasPrefix(arn, "arn:aws:s3:::") && !strings.Contains(strings.TrimPrefix(arn, "arn:aws:s3:::"), "/") {
			out.EvaluatedAs = arn + "/*"
		}
		g, byNative, err := s.iamGraph(c, tx, account)
		if err != nil {
			return err
		}
		for _, a := range iamgraph.WhoCan(g, actions, out.EvaluatedAs, policy) {
			out.Access = append(out.Access, accessEntry{Principal: refOf(byNative, a.Principal, a.Kind), Actions: a.Actions, Via: a.Via, Unresolved: a.Unresolved})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type simulateResponse struct {
	Principal principalRef       `json:"principal"`
	Decision  iampolicy.Decision `json:"decision"`
}

func (s *Server) SimulateIAMRequest(c echo.Context) error {
	var req apigen.IAMSimulateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var v validator
	if !strings.HasPrefix(req.Principal, "arn:aws:iam::") {
		v.add("body", "principal", "must be the ARN of an IAM user or role in your inventory")
	}
	if !strings.Contains(req.Action, ":") || len(req.Action) > 200 {
		v.add("body", "action", "must be service:Action, e.g. s3:GetObject")
	}
	v.text("resource", req.Resource, true, 2048)
	if len(val(req.Context, nil)) > 50 {
		v.add("body", "context", "at most 50 keys")
	}
	if err := v.problem(); err != nil {
		return err
	}
	var out simulateResponse
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		r, account, err := store.ResourceLocate(ctx, tx, nil, req.Principal)
		if err != nil {
			return err
		}
		g, byNative, err := s.iamGraph(c, tx, account)
		if err != nil {
			return err
		}
		p := g.Principal(r.Doc.NativeID)
		if p == nil {
			return NewProblem(http.StatusNotFound, CodeNotFound, "the principal is not an IAM user or role of the account")
		}
		var rp *iampolicy.NamedPolicy
		if target, _, err := store.ResourceLocate(ctx, tx, nil, req.Resource); err == nil {
			if doc, ok := target.Doc.Properties["Policy"]; ok && doc != nil {
				if pol, perr := iampolicy.Parse(doc); perr == nil {
					rp = &iampolicy.NamedPolicy{Name: "resource policy of " + req.Resource, Policy: pol}
				}
			}
		}
		out.Principal = refOf(byNative, p.ARN, string(p.Kind))
		out.Decision = g.Simulate(p, req.Action, req.Resource, val(req.Context, nil), rp)
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
