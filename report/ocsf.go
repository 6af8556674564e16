package report

import (
	"io"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/checks"
)

// OCSFVersion is the OCSF schema version of the findings written.
const OCSFVersion = "1.1.0"

// OCSF Compliance Finding (class 2003 in the Findings category) constants.
const (
	ocsfClassUID    = 2003
	ocsfCategoryUID = 2
	ocsfActivityID  = 1 // Create
	ocsfTypeUID     = ocsfClassUID*100 + ocsfActivityID
)

// ocsfFinding is one OCSF 1.1.0 Compliance Finding.
type ocsfFinding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	// StatusID is the finding's workflow status: always 1 (New), as a scan has no
	// triage state; the outcome is in Compliance.
	StatusID     int              `json:"status_id"`
	Status       string           `json:"status"`
	StatusCode   string           `json:"status_code"`
	StatusDetail string           `json:"status_detail,omitempty"`
	Message      string           `json:"message"`
	Time         int64            `json:"time"`
	Compliance   ocsfCompliance   `json:"compliance"`
	FindingInfo  ocsfFindingInfo  `json:"finding_info"`
	Resources    []ocsfResource   `json:"resources"`
	Cloud        ocsfCloud        `json:"cloud"`
	Remediation  *ocsfRemediation `json:"remediation,omitempty"`
	Metadata     ocsfMetadata     `json:"metadata"`
	Unmapped     map[string]any   `json:"unmapped,omitempty"`
}

type ocsfCompliance struct {
	Control      string   `json:"control"`
	Requirements []string `json:"requirements,omitempty"`
	Standards    []string `json:"standards"`
	Status       string   `json:"status"`
	StatusID     int      `json:"status_id"`
	StatusDetail string   `json:"status_detail,omitempty"`
}

type ocsfFindingInfo struct {
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Desc  string   `json:"desc,omitempty"`
	Types []string `json:"types,omitempty"`
}

type ocsfResource struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	Region string `json:"region,omitempty"`
	Name   string `json:"name,omitempty"`
}

type ocsfCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *ocsfAccount `json:"account,omitempty"`
}

type ocsfAccount struct {
	UID string `json:"uid"`
}

type ocsfRemediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references,omitempty"`
}

type ocsfMetadata struct {
	Product ocsfProduct `json:"product"`
	Version string      `json:"version"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// OCSFSeverity returns the OCSF severity_id and its caption for a check severity.
func OCSFSeverity(s checks.Severity) (int, string) {
	switch s {
	case checks.SeverityCritical:
		return 5, "Critical"
	case checks.SeverityHigh:
		return 4, "High"
	case checks.SeverityMedium:
		return 3, "Medium"
	case checks.SeverityLow:
		return 2, "Low"
	case checks.SeverityInfo:
		return 1, "Informational"
	}
	return 0, "Unknown"
}

// ocsfComplianceStatus maps a result status to the OCSF compliance status enum
// (0 Unknown, 1 Pass, 3 Fail).
func ocsfComplianceStatus(s checks.Status) (int, string) {
	switch s {
	case checks.StatusPass:
		return 1, "Pass"
	case checks.StatusFail:
		return 3, "Fail"
	}
	return 0, "Unknown"
}

// writeOCSF writes every result (pass, fail and unknown) as a JSON array of OCSF
// Compliance Findings. compliance.control is the check id; standards are the
// frameworks the check maps to, requirements their control ids as "<framework>:<id>".
func writeOCSF(w io.Writer, r *Run) error {
	idx := checkIndex(r.Checks)
	ms := r.Time.UnixMilli()
	out := make([]ocsfFinding, 0, len(r.Findings))
	for _, f := range r.Findings {
		sevID, sev := OCSFSeverity(f.Severity)
		cID, cStatus := ocsfComplianceStatus(f.Status)
		detail := f.Message
		if f.Status == checks.StatusUnknown {
			detail = nonEmpty(f.Reason, f.Message)
		}
		of := ocsfFinding{
			ActivityID: ocsfActivityID, ActivityName: "Create",
			CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
			ClassUID: ocsfClassUID, ClassName: "Compliance Finding",
			TypeUID: ocsfTypeUID, TypeName: "Compliance Finding: Create",
			SeverityID: sevID, Severity: sev,
			StatusID: 1, Status: "New", StatusCode: strings.ToUpper(string(f.Status)), StatusDetail: detail,
			Message: nonEmpty(f.Message, f.Title),
			Time:    ms,
			Compliance: ocsfCompliance{
				Control: f.CheckID, Standards: []string{}, Status: cStatus, StatusID: cID, StatusDetail: detail,
			},
			FindingInfo: ocsfFindingInfo{UID: FindingUID(f.CheckID, f.NativeID), Title: f.Title, Types: []string{f.CheckID}},
			Resources:   []ocsfResource{{UID: f.NativeID, Type: f.ResourceType, Region: f.Region, Name: f.ResourceName}},
			Cloud:       ocsfCloud{Provider: cloudName(f.Provider), Region: f.Region},
			Metadata: ocsfMetadata{
				Product: ocsfProduct{Name: "Vigil", VendorName: "Vigil", Version: r.Tool.Version},
				Version: OCSFVersion,
			},
		}
		if f.AccountID != "" {
			of.Cloud.Account = &ocsfAccount{UID: f.AccountID}
		}
		if c, ok := idx[f.CheckID]; ok {
			of.FindingInfo.Desc = strings.TrimSpace(c.Description)
			if c.Remediation.Text != "" {
				of.Remediation = &ocsfRemediation{Desc: c.Remediation.Text, References: c.References}
			}
			for _, fw := range sortedKeys(c.Compliance) {
				of.Compliance.Standards = append(of.Compliance.Standards, fw)
				for _, ctl := range c.Compliance[fw] {
					of.Compliance.Requirements = append(of.Compliance.Requirements, fw+":"+ctl)
				}
			}
		}
		if len(f.Evidence) > 0 {
			of.Unmapped = map[string]any{"evidence": f.Evidence}
		}
		out = append(out, of)
	}
	return encodeJSON(w, out)
}

// cloudName is the OCSF cloud.provider caption.
func cloudName(p string) string {
	switch p {
	case "aws":
		return "AWS"
	case "azure":
		return "Azure"
	case "gcp":
		return "GCP"
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
