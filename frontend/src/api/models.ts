// Response shapes the pages use: aliases of the schemas openapi-typescript generates
// from api/openapi.yaml (`npm run generate`), plus a few UI constants.
import type { components } from "./schema";

type S = components["schemas"];

export type Role = S["Role"];
export const ROLES: Role[] = ["owner", "admin", "analyst", "viewer"];
export type Severity = "critical" | "high" | "medium" | "low" | "info";
export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low", "info"];

export interface List<T> {
  items: T[];
  next_cursor?: string;
}

export type Tenant = S["Tenant"];
export type Membership = S["Membership"];
export type Me = S["Me"];
export type Account = S["Account"];
export type Onboarding = S["AWSOnboarding"];
export type PermissionProbe = S["PermissionProbe"];
export type ConnectionTest = S["ConnectionTest"];
export type Scan = S["Scan"];
export type ScanUnit = S["ScanUnit"];
export type ScanDetail = S["ScanDetail"];
export type User = S["User"];
export type InvitedUser = S["InvitedUser"];
export type APIKey = S["APIKey"];
export type APIKeyCreated = S["APIKeyCreated"];
export type MuteRule = S["MuteRule"];
export type MuteRuleCreated = S["MuteRuleCreated"];
export type AuditEntry = S["AuditEntry"];
export type Summary = S["Summary"];
export type Finding = S["Finding"];
export type FindingDetail = S["FindingDetail"];
export type FindingEvent = S["FindingEvent"];
export type Facets = S["Facets"];
export type MuteFindingsResult = S["MuteFindingsResult"];
export type Resource = S["Resource"];
export type ResourceDetail = S["ResourceDetail"];
export type ResourceVersion = S["ResourceVersion"];
export type VersionDiff = S["VersionDiff"];
export type JSONPatch = S["JSONPatch"];
export type DriftItem = S["DriftItem"];
export type Check = S["Check"];
export type CheckDetail = S["CheckDetail"];
export type CustomCheck = S["CustomCheck"];
export type DryRunResult = S["DryRunResult"];
export type Framework = S["Framework"];
export type FrameworkDetail = S["FrameworkDetail"];
export type ControlPosture = S["ControlPosture"];
export type ControlDetail = S["ControlDetail"];
