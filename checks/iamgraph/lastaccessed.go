package iamgraph

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// ServiceLastAccessedDetails is the output of iam:GetServiceLastAccessedDetails for one
// principal, in the JSON form of the AWS CLI and of the AWS SDK output struct
// marshalled with encoding/json (same field names). moto_server does not implement
// the call, so the collector does not gather it yet; callers pass it in.
type ServiceLastAccessedDetails struct {
	JobStatus         string     `json:"JobStatus"`
	JobType           string     `json:"JobType,omitempty"`
	JobCreationDate   *time.Time `json:"JobCreationDate,omitempty"`
	JobCompletionDate *time.Time `json:"JobCompletionDate,omitempty"`
	// ServicesLastAccessed lists every service the principal's policies grant, with
	// the last authenticated access (nil when never within the tracking period).
	ServicesLastAccessed []ServiceLastAccessed `json:"ServicesLastAccessed"`
	IsTruncated          bool                  `json:"IsTruncated,omitempty"`
}

// ServiceLastAccessed is one service's entry.
type ServiceLastAccessed struct {
	ServiceName                string     `json:"ServiceName"`
	ServiceNamespace           string     `json:"ServiceNamespace"`
	LastAuthenticated          *time.Time `json:"LastAuthenticated,omitempty"`
	LastAuthenticatedEntity    *string    `json:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    *string    `json:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities *int32     `json:"TotalAuthenticatedEntities,omitempty"`
}

// ParseServiceLastAccessed decodes a GetServiceLastAccessedDetails JSON response.
func ParseServiceLastAccessed(data []byte) (*ServiceLastAccessedDetails, error) {
	var d ServiceLastAccessedDetails
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode service last accessed details: %w", err)
	}
	if d.JobStatus == "" {
		return nil, fmt.Errorf("decode service last accessed details: no JobStatus")
	}
	return &d, nil
}

// UsedServices splits the granted services into those used since cutoff and the
// others, both sorted by namespace.
func (d *ServiceLastAccessedDetails) UsedServices(cutoff time.Time) (used, unused []string) {
	for _, s := range d.ServicesLastAccessed {
		if s.LastAuthenticated != nil && s.LastAuthenticated.After(cutoff) {
			used = append(used, strings.ToLower(s.ServiceNamespace))
		} else {
			unused = append(unused, strings.ToLower(s.ServiceNamespace))
		}
	}
	sort.Strings(used)
	sort.Strings(unused)
	return used, unused
}

// Suggestion is a least-privilege policy proposal for one principal.
type Suggestion struct {
	// Policy is the suggested identity policy document (JSON-shaped).
	Policy map[string]any `json:"policy"`
	// RemovedServices are the granted namespaces the policy no longer allows.
	RemovedServices []string `json:"removed_services"`
	// Notes record approximations (a NotAction grant turned into a list of services).
	Notes []string `json:"notes,omitempty"`
}

// SuggestPolicy merges p's identity policies into one document that keeps only the
// grants on the used service namespaces: every Allow statement's actions are filtered
// to those namespaces (a "*" action becomes "<namespace>:*" for each used one), Deny
// statements are kept as written, and statements left without actions are dropped.
// removed lists the namespaces dropped (from the service-last-accessed data).
func SuggestPolicy(p *Principal, used, removed []string) Suggestion {
	usedSet := map[string]bool{}
	for _, s := range used {
		usedSet[strings.ToLower(s)] = true
	}
	s := Suggestion{RemovedServices: append([]string{}, removed...)}
	var stmts []any
	for _, np := range p.Policies {
		for i := range np.Policy.Statements {
			st := &np.Policy.Statements[i]
			out := statementDoc(st)
			if st.Effect == iampolicy.Deny {
				stmts = append(stmts, out)
				continue
			}
			var actions []string
			if len(st.NotAction) > 0 {
				for _, svc := range used {
					if !fullyExcluded(st.NotAction, svc) {
						actions = append(actions, svc+":*")
					}
				}
				delete(out, "NotAction")
				s.Notes = append(s.Notes, fmt.Sprintf("%s statement %d: NotAction grant replaced by the used services it covered", np.Name, st.Index))
			} else {
				for _, a := range st.Action {
					actions = append(actions, filterAction(a, used)...)
				}
			}
			if len(actions) == 0 {
				continue
			}
			out["Action"] = stringsAny(dedupe(actions))
			stmts = append(stmts, out)
		}
	}
	if stmts == nil {
		stmts = []any{}
	}
	s.Policy = map[string]any{"Version": iampolicy.VersionCurrent, "Statement": stmts}
	return s
}

// filterAction keeps an action pattern when its service is used; a wildcard service
// part is narrowed to each used service it matches.
func filterAction(pattern string, used []string) []string {
	if pattern == "*" {
		out := make([]string, len(used))
		for i, svc := range used {
			out[i] = svc + ":*"
		}
		return out
	}
	svcPat, act, ok := strings.Cut(pattern, ":")
	if !ok {
		return nil
	}
	var out []string
	for _, svc := range used {
		if matchAction(svcPat, svc) {
			if strings.ContainsAny(svcPat, "*?") {
				out = append(out, svc+":"+act)
			} else {
				out = append(out, pattern)
			}
		}
	}
	return out
}

// fullyExcluded reports whether NotAction patterns exclude every action of svc.
func fullyExcluded(notActions []string, svc string) bool {
	for _, a := range notActions {
		if a == "*" || strings.EqualFold(a, svc+":*") {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// statementDoc renders a parsed statement back to its JSON form.
func statementDoc(st *iampolicy.Statement) map[string]any {
	m := map[string]any{"Effect": string(st.Effect)}
	if st.Sid != "" {
		m["Sid"] = st.Sid
	}
	if len(st.Action) > 0 {
		m["Action"] = stringsAny(st.Action)
	}
	if len(st.NotAction) > 0 {
		m["NotAction"] = stringsAny(st.NotAction)
	}
	switch {
	case len(st.Resource) > 0:
		m["Resource"] = stringsAny(st.Resource)
	case len(st.NotResource) > 0:
		m["NotResource"] = stringsAny(st.NotResource)
	default:
		m["Resource"] = "*"
	}
	if len(st.Conditions) > 0 {
		cond := map[string]any{}
		for _, c := range st.Conditions {
			op, _ := cond[c.Operator].(map[string]any)
			if op == nil {
				op = map[string]any{}
				cond[c.Operator] = op
			}
			op[c.Key] = stringsAny(c.Values)
		}
		m["Condition"] = cond
	}
	return m
}

func servicesFindings(g *Graph, data map[string]*ServiceLastAccessedDetails, now time.Time, days int) []Finding {
	a := analyzer(IDServicesUnused)
	cutoff := now.AddDate(0, 0, -days)
	var out []Finding
	for _, p := range g.Principals {
		d := data[p.ARN]
		switch {
		case d == nil:
			out = append(out, newFinding(a, p, StatusUnknown, fmt.Sprintf("%s %s: no service last-accessed data", p.Kind, p.Name), nil))
			continue
		case d.JobStatus != "COMPLETED" || d.IsTruncated:
			out = append(out, newFinding(a, p, StatusUnknown, fmt.Sprintf("%s %s: service last-accessed report is %s", p.Kind, p.Name, strings.ToLower(d.JobStatus)), map[string]any{"job_status": d.JobStatus, "truncated": d.IsTruncated}))
			continue
		}
		used, unused := d.UsedServices(cutoff)
		if len(unused) == 0 {
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s used every granted service in the last %d days", p.Kind, p.Name, days), map[string]any{"used_services": stringsAny(used)}))
			continue
		}
		sug := SuggestPolicy(p, used, unused)
		ev := map[string]any{"used_services": stringsAny(used), "unused_services": stringsAny(unused), "threshold_days": days,
			"suggested_policy": toJSON(sug.Policy), "removed_services": stringsAny(sug.RemovedServices)}
		if len(sug.Notes) > 0 {
			ev["notes"] = stringsAny(sug.Notes)
		}
		out = append(out, newFinding(a, p, StatusFail, fmt.Sprintf("%s %s has not used %d granted service(s) in %d days: %s", p.Kind, p.Name, len(unused), days, strings.Join(unused, ", ")), ev))
	}
	return out
}
