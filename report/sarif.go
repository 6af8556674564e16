package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/vigilsec/vigil/checks"
)

// SARIFSchema is the schema URI written in SARIF logs.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// The SARIF 2.1.0 subset Vigil writes. Field names follow the OASIS specification.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	Help                 sarifHelp          `json:"help"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	// SecuritySeverity is GitHub code scanning's 0.0-10.0 score, as a string.
	SecuritySeverity string   `json:"security-severity"`
	Tags             []string `json:"tags"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SecuritySeverity is the SARIF security-severity score of a check severity (GitHub
// code scanning ranks critical above 9.0, high 7.0-8.9, medium 4.0-6.9, low below).
func SecuritySeverity(s checks.Severity) float64 {
	switch s {
	case checks.SeverityCritical:
		return 9.5
	case checks.SeverityHigh:
		return 8
	case checks.SeverityMedium:
		return 5.5
	case checks.SeverityLow:
		return 3
	}
	return 0
}

// SARIFLevel is the SARIF level of a failure of severity s.
func SARIFLevel(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical, checks.SeverityHigh:
		return "error"
	case checks.SeverityMedium:
		return "warning"
	}
	return "note"
}

// writeSARIF writes one run whose rules are the run's checks and whose results are
// the failures (kind "fail", level by severity) and the unknowns (kind "review",
// level "note"); passes are not results. Failed units become tool execution
// notifications, and the invocation is then not successful.
//
// Each result carries the resource twice: as a logical location (the native id,
// kind "resource"), which is what it is, and as a physical location whose artifact
// URI is a stable pseudo path "<provider>/<account>/<region>/<type>/<name>", because
// GitHub code scanning rejects a whole file when a result has no physical location.
func writeSARIF(w io.Writer, r *Run) error {
	driver := sarifDriver{Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: r.Tool.InformationURI, Rules: []sarifRule{}}
	index := map[string]int{}
	addRule := func(c *checks.Check) {
		index[c.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, ruleOf(c))
	}
	for _, c := range r.Checks {
		if _, dup := index[c.ID]; !dup {
			addRule(c)
		}
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		if f.Status != checks.StatusFail && f.Status != checks.StatusUnknown {
			continue
		}
		if _, ok := index[f.CheckID]; !ok {
			addRule(&checks.Check{ID: f.CheckID, Title: f.Title, Severity: f.Severity})
		}
		res := sarifResult{
			RuleID:    f.CheckID,
			RuleIndex: index[f.CheckID],
			Kind:      "fail",
			Level:     SARIFLevel(f.Severity),
			Message:   sarifText{Text: nonEmpty(f.Message, f.Title)},
			Locations: []sarifLocation{{
				PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f)}},
				LogicalLocations: []sarifLogical{{Name: f.ResourceName, FullyQualifiedName: f.NativeID, Kind: "resource"}},
			}},
			PartialFingerprints: map[string]string{"vigilFinding/v1": FindingUID(f.CheckID, f.NativeID)},
			Properties: map[string]any{
				"resource_type": f.ResourceType, "region": f.Region, "account_id": f.AccountID, "severity": string(f.Severity),
			},
		}
		if f.Status == checks.StatusUnknown {
			res.Kind = "review"
			res.Level = "note"
			res.Message.Text = "unknown: " + nonEmpty(f.Reason, f.Message, f.Title)
		}
		results = append(results, res)
	}
	inv := sarifInvocation{ExecutionSuccessful: len(r.Failed) == 0}
	for _, u := range r.Failed {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:   "error",
			Message: sarifText{Text: fmt.Sprintf("collection unit %s failed (%s): %s; resources of %s there were not evaluated", u.Unit, nonEmpty(u.Kind, "error"), u.Error, strings.Join(u.Types, ", "))},
		})
	}
	return encodeJSON(w, sarifLog{
		Schema:  SARIFSchema,
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{inv}, Results: results}},
	})
}

// ruleOf is the SARIF rule of a check: the title as short description, the
// description as full description, the remediation as help.
func ruleOf(c *checks.Check) sarifRule {
	help := c.Remediation.Text
	md := c.Remediation.Text
	if c.Remediation.CLI != "" {
		help += "\n\nCLI: " + c.Remediation.CLI
		md += "\n\n```sh\n" + c.Remediation.CLI + "\n```"
	}
	if c.Risk != "" {
		md = "**Risk:** " + c.Risk + "\n\n**Remediation:** " + md
	}
	rule := sarifRule{
		ID:                   c.ID,
		Name:                 ruleName(c.ID),
		ShortDescription:     sarifText{Text: nonEmpty(c.Title, c.ID)},
		FullDescription:      sarifText{Text: nonEmpty(strings.TrimSpace(c.Description), c.Title, c.ID)},
		Help:                 sarifHelp{Text: nonEmpty(help, c.Title, c.ID), Markdown: md},
		DefaultConfiguration: sarifConfiguration{Level: SARIFLevel(c.Severity)},
		Properties: sarifRuleProps{
			SecuritySeverity: fmt.Sprintf("%.1f", SecuritySeverity(c.Severity)),
			Tags:             []string{"security", string(c.Severity)},
		},
	}
	if rule.Help.Markdown == "" {
		rule.Help.Markdown = rule.Help.Text
	}
	if len(c.References) > 0 {
		rule.HelpURI = c.References[0]
	}
	if c.Resource != "" {
		rule.Properties.Tags = append(rule.Properties.Tags, c.Resource)
	}
	return rule
}

// ruleName turns "aws.s3.bucket_no_public_read" into "AwsS3BucketNoPublicRead", the
// identifier-like form SARIF viewers expect in rule names.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// artifactURI is the pseudo path of a resource, each segment escaped.
func artifactURI(f Finding) string {
	segs := []string{f.Provider, f.AccountID, f.Region, f.ResourceType, nonEmpty(f.ResourceName, f.NativeID)}
	for i, s := range segs {
		segs[i] = url.PathEscape(nonEmpty(s, "_"))
	}
	return strings.Join(segs, "/")
}

// FindingUID is the stable identity of a finding: a hash of the check id and the
// resource's native id, the same across scans.
func FindingUID(checkID, nativeID string) string {
	h := sha256.Sum256([]byte(checkID + "\x00" + nativeID))
	return hex.EncodeToString(h[:16])
}

func nonEmpty(list ...string) string {
	for _, s := range list {
		if s != "" {
			return s
		}
	}
	return ""
}
