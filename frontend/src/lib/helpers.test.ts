// Pure helpers of the pages: URL filter state, onboarding body, roles, times.
import { relativeTime } from "../components/common";
import { duration } from "../pages/AccountDetail";
import { problemLines } from "../pages/Checks";
import { passRate } from "../pages/Compliance";
import { filtersFromParams, toggleValue } from "../pages/Findings";
import { accountBody } from "../pages/Onboarding";
import { grantable } from "../pages/Settings";
import { ApiError } from "../api/client";

describe("findings URL state", () => {
  it("defaults to open findings and keeps only known filters", () => {
    expect(filtersFromParams(new URLSearchParams("severity=high,critical&bogus=1&finding=x"))).toEqual({ severity: "high,critical", state: "open" });
    expect(filtersFromParams(new URLSearchParams("state=all&sort=-last_seen&region=eu-west-1"))).toEqual({ state: "all", sort: "-last_seen", region: "eu-west-1" });
  });
  it.each([
    [undefined, "high", "high"],
    ["high", "critical", "high,critical"],
    ["high,critical", "high", "critical"],
    ["high", "high", ""],
  ])("toggleValue(%s, %s) = %s", (list, v, want) => expect(toggleValue(list, v)).toBe(want));
});

describe("accountBody", () => {
  const base = { name: " prod ", roleArn: "", accessKeyId: "", secret: "", endpointUrl: "", regions: [], types: [], schedule: "0 3 * * *" };
  it("sends a role ARN for assume_role and no keys", () => {
    expect(accountBody({ ...base, kind: "assume_role", roleArn: " arn:aws:iam::123456789012:role/VigilAudit " })).toEqual({
      provider: "aws", name: "prod", credential_kind: "assume_role", regions: [], schedule: "0 3 * * *", role_arn: "arn:aws:iam::123456789012:role/VigilAudit",
    });
  });
  it("sends keys, endpoint and types for static credentials", () => {
    const b = accountBody({ ...base, kind: "static", accessKeyId: "AKIA", secret: "s", endpointUrl: "http://127.0.0.1:5000", types: ["aws.s3.bucket"], regions: ["us-east-1"] });
    expect(b).toMatchObject({ access_key_id: "AKIA", secret_access_key: "s", endpoint_url: "http://127.0.0.1:5000", types: ["aws.s3.bucket"], regions: ["us-east-1"] });
    expect(b).not.toHaveProperty("role_arn");
  });
});

describe("grantable", () => {
  it.each([
    ["owner", ["owner", "admin", "analyst", "viewer"]],
    ["admin", ["admin", "analyst", "viewer"]],
    ["viewer", ["viewer"]],
  ] as const)("%s may grant %j", (role, want) => expect(grantable(role)).toEqual(want));
});

describe("problemLines", () => {
  it("reads the line of each custom-check error", () => {
    const err = new ApiError(
      {
        title: "Unprocessable Entity", status: 422, code: "validation_failed",
        errors: [
          { location: "yaml", field: "assert", message: "undeclared reference", line: 10 } as never,
          { location: "yaml", field: "id", message: "is required" },
        ],
      },
      null,
    );
    expect(problemLines(err)).toEqual([
      { line: 10, field: "assert", message: "undeclared reference" },
      { line: null, field: "id", message: "is required" },
    ]);
    expect(problemLines(new Error("x"))).toEqual([]);
  });
});

describe("numbers and times", () => {
  it("passRate ignores manual controls", () => {
    expect(passRate({ pass: 3, fail: 1, unknown: 0 })).toBe(75);
    expect(passRate({ pass: 0, fail: 0, unknown: 0 })).toBe(0);
  });
  it("duration", () => {
    expect(duration(null, null)).toBe("—");
    expect(duration("2026-01-01T00:00:00Z", "2026-01-01T00:00:42Z")).toBe("42s");
    expect(duration("2026-01-01T00:00:00Z", "2026-01-01T00:01:05Z")).toBe("1m 05s");
    expect(duration("2026-01-01T00:00:00Z", "2026-01-01T02:03:00Z")).toBe("2h 03m");
  });
  it("relativeTime", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(relativeTime("2026-01-01T11:57:00Z", now)).toBe("3 minutes ago");
    expect(relativeTime("2025-12-30T12:00:00Z", now)).toBe("2 days ago");
    expect(relativeTime("2026-01-01T12:00:30Z", now)).toBe("in 30 seconds");
  });
});
