package iamgraph

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigilsec/vigil/providers"
)

// parseTime reads a document time ("2026-11-22T10:00:00Z", "...+00:00"); values such
// as null, "N/A", "no_information" or "not_supported" are no time.
func parseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func hasGap(r *providers.Resource, property string) bool {
	for _, g := range r.Gaps {
		if g.Property == property {
			return true
		}
	}
	return false
}

// credentialRow returns the credential-report row of a user, nil when absent.
func (g *Graph) credentialRow(userARN string) map[string]any {
	if g.AccountDoc == nil {
		return nil
	}
	rows, _ := g.AccountDoc.Properties["CredentialReport"].([]any)
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok && m["arn"] == userARN {
			return m
		}
	}
	return nil
}

// UserActivity is what the scan knows of a user's last use.
type UserActivity struct {
	Created time.Time `json:"created"`
	// LastUsed is the latest of the password's and the access keys' last use; zero
	// when never used.
	LastUsed time.Time `json:"last_used"`
	// Known is false when the access keys could not be read (collection gap).
	Known bool `json:"known"`
}

// UserActivity reads a user's creation and last use from its document (CreateDate,
// PasswordLastUsed, AccessKeys[].LastUsed.LastUsedDate) and its credential-report row.
func (g *Graph) UserActivity(u *Principal) UserActivity {
	props := u.Doc.Properties
	a := UserActivity{Known: !hasGap(u.Doc, "AccessKeys")}
	a.Created, _ = parseTime(props["CreateDate"])
	pw, _ := parseTime(props["PasswordLastUsed"])
	a.LastUsed = pw
	keys, _ := props["AccessKeys"].([]any)
	for _, k := range keys {
		km, _ := k.(map[string]any)
		lu, _ := km["LastUsed"].(map[string]any)
		t, _ := parseTime(lu["LastUsedDate"])
		a.LastUsed = latest(a.LastUsed, t)
	}
	if row := g.credentialRow(u.ARN); row != nil {
		for _, f := range []string{"password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date"} {
			t, _ := parseTime(row[f])
			a.LastUsed = latest(a.LastUsed, t)
		}
		if a.Created.IsZero() {
			a.Created, _ = parseTime(row["user_creation_time"])
		}
	}
	return a
}

// StaleKey is an active access key unused for too long.
type StaleKey struct {
	AccessKeyID string    `json:"access_key_id"`
	Created     time.Time `json:"created"`
	// LastUsed is zero when the key was never used.
	LastUsed time.Time `json:"last_used"`
}

func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

func unusedFindings(g *Graph, now time.Time, days int) []Finding {
	userA, roleA, keyA := analyzer(IDUserUnused), analyzer(IDRoleUnused), analyzer(IDAccessKeyUnused)
	cutoff := now.AddDate(0, 0, -days)
	var out []Finding
	for _, p := range g.Principals {
		props := p.Doc.Properties
		if p.Kind == KindRole {
			created, _ := parseTime(props["CreateDate"])
			lu, _ := props["RoleLastUsed"].(map[string]any)
			last, used := parseTime(lu["LastUsedDate"])
			ev := map[string]any{"created": fmtTime(created), "last_used": fmtTime(last), "threshold_days": days}
			switch {
			case strings.HasPrefix(p.Path, "/aws-service-role/"):
				out = append(out, newFinding(roleA, p, StatusPass, fmt.Sprintf("role %s is service-linked: AWS manages it", p.Name), ev))
			case created.After(cutoff) || (used && last.After(cutoff)):
				out = append(out, newFinding(roleA, p, StatusPass, fmt.Sprintf("role %s was created or used in the last %d days", p.Name, days), ev))
			case !used:
				out = append(out, newFinding(roleA, p, StatusFail, fmt.Sprintf("role %s has never been used (created %d days ago)", p.Name, daysBetween(created, now)), ev))
			default:
				out = append(out, newFinding(roleA, p, StatusFail, fmt.Sprintf("role %s was last used %d days ago", p.Name, daysBetween(last, now)), ev))
			}
			continue
		}
		act := g.UserActivity(p)
		ev := map[string]any{"created": fmtTime(act.Created), "last_used": fmtTime(act.LastUsed), "threshold_days": days}
		switch {
		case act.Created.After(cutoff) || act.LastUsed.After(cutoff):
			out = append(out, newFinding(userA, p, StatusPass, fmt.Sprintf("user %s was created or used in the last %d days", p.Name, days), ev))
		case !act.Known:
			out = append(out, newFinding(userA, p, StatusUnknown, fmt.Sprintf("user %s: its access keys could not be read", p.Name), ev))
		case act.LastUsed.IsZero():
			out = append(out, newFinding(userA, p, StatusFail, fmt.Sprintf("user %s has never signed in or used an access key (created %d days ago)", p.Name, daysBetween(act.Created, now)), ev))
		default:
			out = append(out, newFinding(userA, p, StatusFail, fmt.Sprintf("user %s was last active %d days ago", p.Name, daysBetween(act.LastUsed, now)), ev))
		}

		if hasGap(p.Doc, "AccessKeys") {
			out = append(out, newFinding(keyA, p, StatusUnknown, fmt.Sprintf("user %s: its access keys could not be read", p.Name), nil))
			continue
		}
		var stale []StaleKey
		active := 0
		keys, _ := props["AccessKeys"].([]any)
		for _, k := range keys {
			km, _ := k.(map[string]any)
			if km["Status"] != "Active" {
				continue
			}
			active++
			created, _ := parseTime(km["CreateDate"])
			lu, _ := km["LastUsed"].(map[string]any)
			last, _ := parseTime(lu["LastUsedDate"])
			if created.Before(cutoff) && !last.After(cutoff) {
				id, _ := km["AccessKeyId"].(string)
				stale = append(stale, StaleKey{AccessKeyID: id, Created: created, LastUsed: last})
			}
		}
		if len(stale) > 0 {
			ids := make([]string, len(stale))
			for i, s := range stale {
				ids[i] = s.AccessKeyID
			}
			out = append(out, newFinding(keyA, p, StatusFail, fmt.Sprintf("user %s has active access keys unused for %d days: %s", p.Name, days, strings.Join(ids, ", ")), map[string]any{"keys": toJSON(stale), "threshold_days": days}))
		} else {
			out = append(out, newFinding(keyA, p, StatusPass, fmt.Sprintf("user %s has no active access key unused for %d days (%d active)", p.Name, days, active), map[string]any{"active_keys": active}))
		}
	}
	return out
}

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}
