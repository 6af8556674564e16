import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { respondWith } from "../test/setup";
import { json, problem, renderPage } from "../test/render";
import { contextOf, IdentityPage } from "./Identity";

const ANA = "00000000-0000-0000-0000-000000000001";
const anaArn = "arn:aws:iam::123456789012:user/ana.admin";
const resource = (id: string, type: string, name: string, arn: string) => ({
  id,
  account_id: "a1",
  provider: "aws",
  native_id: arn,
  type,
  region: "",
  name,
  tags: {},
  version: 1,
  first_seen: "2026-01-01T00:00:00Z",
  last_seen: "2026-01-02T00:00:00Z",
  deleted_at: null,
});
const ref = { resource_id: ANA, native_id: anaArn, type: "aws.iam.user", name: "ana.admin" };

function page(path: string) {
  renderPage(
    <Routes>
      <Route path="/identity" element={<IdentityPage />} />
    </Routes>,
    path,
  );
}

describe("identity page", () => {
  it("shows a principal's effective permissions and simulates a request with context", async () => {
    const bodies: unknown[] = [];
    respondWith(async (req) => {
      const u = new URL(req.url);
      if (u.pathname === "/api/v1/resources") {
        const t = u.searchParams.get("type");
        return json({ items: t === "aws.iam.user" ? [resource(ANA, t, "ana.admin", anaArn)] : [] });
      }
      if (u.pathname === `/api/v1/iam/principals/${ANA}/effective`)
        return json({
          principal: ref,
          admin_equivalent: true,
          admin_kind: "full",
          services: { s3: { Read: 3, Write: 2 }, iam: { "Permissions management": 4 } },
          actions: [
            { action: "s3:GetObject", level: "Read", resource: "*" },
            { action: "iam:PutUserPolicy", level: "Permissions management", resource: "*" },
          ],
          truncated: false,
        });
      if (u.pathname === "/api/v1/iam/simulate") {
        bodies.push(await req.json());
        return json({
          principal: ref,
          decision: {
            allowed: false,
            reason: "explicit_deny",
            detail: "denied by the SCP",
            statements: [{ kind: "scp", policy: "deny-regions", index: 0, effect: "Deny", sid: "DenyOutside" }],
          },
        });
      }
      return problem(404, "not_found", "no such path");
    });
    page(`/identity?principal=${ANA}`);
    expect(await screen.findByTestId("admin-badge")).toHaveTextContent("Admin-equivalent (full)");
    expect(screen.getByTestId("effective-total")).toHaveTextContent("9");
    const rows = screen.getAllByTestId("service-row");
    expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual(["s3", "iam"]);
    expect(screen.getAllByTestId("action-row")).toHaveLength(2);
    await userEvent.type(screen.getByLabelText("Filter actions"), "iam:");
    expect(screen.getAllByTestId("action-row")).toHaveLength(1);
    expect(screen.getByText("iam:PutUserPolicy")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("tab", { name: "Simulate" }));
    expect(screen.getByLabelText(/Principal ARN/)).toHaveValue(anaArn);
    await userEvent.type(screen.getByLabelText(/^Action/), "s3:GetObject");
    await userEvent.click(screen.getByRole("button", { name: "Add context key" }));
    await userEvent.type(screen.getByLabelText("Context key 1"), "aws:SourceIp");
    await userEvent.type(screen.getByLabelText("Values 1"), "203.0.113.7, 10.0.0.1");
    await userEvent.click(screen.getByRole("button", { name: "Simulate" }));
    const decision = await screen.findByTestId("decision");
    expect(within(decision).getByText("Denied")).toBeInTheDocument();
    expect(within(decision).getByText("denied by the SCP")).toBeInTheDocument();
    expect(within(decision).getByText("deny-regions")).toBeInTheDocument();
    expect(bodies).toEqual([
      { principal: anaArn, action: "s3:GetObject", resource: "*", context: { "aws:SourceIp": ["203.0.113.7", "10.0.0.1"] } },
    ]);
  });

  it("lists who can access a resource and shows the API's errors", async () => {
    const asked: string[] = [];
    respondWith((req) => {
      const u = new URL(req.url);
      if (u.pathname === "/api/v1/resources") return json({ items: [] });
      if (u.pathname === "/api/v1/iam/access") {
        asked.push(u.searchParams.toString());
        if (u.searchParams.get("resource") === "arn:aws:s3:::missing") return problem(404, "not_found", "no resource with that ARN in your inventory");
        return json({
          resource: "arn:aws:s3:::logs",
          evaluated_as: "arn:aws:s3:::logs/*",
          actions: ["s3:GetObject"],
          resource_policy: true,
          access: [{ principal: ref, actions: ["s3:GetObject"], via: "identity+resource_policy", unresolved: false }],
        });
      }
      return problem(404, "not_found", "no such path");
    });
    page("/identity?tab=access&resource=arn:aws:s3:::logs&actions=s3:GetObject");
    const row = await screen.findByTestId("access-row");
    expect(within(row).getByRole("link", { name: "ana.admin" })).toHaveAttribute("href", `/inventory/${ANA}`);
    expect(within(row).getByText("identity + resource policy")).toBeInTheDocument();
    expect(asked[0]).toContain("actions=s3%3AGetObject");

    const arn = screen.getByLabelText(/Resource ARN/);
    await userEvent.clear(arn);
    await userEvent.type(arn, "arn:aws:s3:::missing");
    await userEvent.click(screen.getByRole("button", { name: "Find principals" }));
    expect(await screen.findByText("no resource with that ARN in your inventory")).toBeInTheDocument();
  });

  it("asks for a principal before showing effective permissions", async () => {
    respondWith(() => json({ items: [] }));
    page("/identity");
    expect(await screen.findByText("Pick a principal")).toBeInTheDocument();
  });

  it("builds the request context from the rows", () => {
    expect(contextOf([{ key: " ", values: "x" }])).toBeNull();
    expect(contextOf([{ key: "k", values: "a, b" }, { key: "k", values: "c" }, { key: "m", values: "" }])).toEqual({ k: ["a", "b", "c"], m: [] });
  });
});
