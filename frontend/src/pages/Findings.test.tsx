import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { respondWith } from "../test/setup";
import { json, renderPage } from "../test/render";
import { FindingsPage } from "./Findings";

const me = { kind: "user", id: "u1", name: "a@b.co", tenant: { id: "t", name: "T", slug: "t", retention_days: 90, unused_after_days: 90, created_at: "" }, role: "analyst", permissions: ["read", "mutes:manage"], csrf_token: "c" };
const finding = (i: number) => ({
  id: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`,
  check_id: "aws.ec2.sg_open",
  title: `Open security group ${i}`,
  message: "port 22 open to the world",
  severity: "high",
  state: "open",
  status: "fail",
  provider: "aws",
  first_seen: "2026-01-01T00:00:00Z",
  last_seen: "2026-01-02T00:00:00Z",
  resolved_at: null,
  resource: { id: "r1", account_id: "a1", name: `sg-${i}`, native_id: `arn:sg-${i}`, region: "us-east-1", type: "aws.ec2.security_group" },
});

describe("findings explorer", () => {
  // jsdom lays nothing out: give the virtualised table's scroll box a size.
  beforeEach(() => {
    vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(800);
    vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(1000);
  });
  afterEach(() => vi.restoreAllMocks());
  it("passes URL filters to the API and enables muting of the selection", async () => {
    const seen: string[] = [];
    respondWith((req) => {
      const u = new URL(req.url);
      seen.push(`${req.method} ${u.pathname}?${u.searchParams.toString()}`);
      if (u.pathname === "/api/v1/me") return json(me);
      if (u.pathname === "/api/v1/findings/facets") return json({ severity: [{ value: "high", count: 2 }], state: [{ value: "open", count: 2 }] });
      if (u.pathname === "/api/v1/findings") return json({ items: [finding(1), finding(2)] });
      return json({ items: [] });
    });
    renderPage(
      <Routes>
        <Route path="/findings" element={<FindingsPage />} />
      </Routes>,
      "/findings?severity=high&region=us-east-1",
    );
    expect(await screen.findByText("Open security group 1")).toBeInTheDocument();
    const list = seen.find((s) => s.startsWith("GET /api/v1/findings?"))!;
    expect(list).toContain("severity=high");
    expect(list).toContain("region=us-east-1");
    expect(list).toContain("state=open");
    await userEvent.click(screen.getByLabelText("Select Open security group 2 on sg-2"));
    // Muting itself is driven end to end (e2e/flows.mjs) against the real API.
    expect(screen.getByRole("button", { name: /Mute 1 selected/ })).toBeEnabled();
  });
});
