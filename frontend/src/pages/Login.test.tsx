import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "../App";
import { respondWith } from "../test/setup";
import { json, problem, renderPage } from "../test/render";
import { safeNext } from "./Login";

const me = {
  kind: "user",
  id: "u1",
  name: "ana@example.com",
  tenant: { id: "t1", name: "Acme", slug: "acme", retention_days: 90, unused_after_days: 90, created_at: "2026-01-01T00:00:00Z" },
  role: "owner",
  permissions: ["read"],
  memberships: [
    { tenant_id: "t1", tenant_name: "Acme", tenant_slug: "acme", role: "owner" },
    { tenant_id: "t2", tenant_name: "Globex", tenant_slug: "globex", role: "viewer" },
  ],
  csrf_token: "csrf",
};

async function signIn(password = "correct horse battery") {
  await userEvent.type(await screen.findByLabelText(/E-mail/), "ana@example.com");
  await userEvent.type(screen.getByLabelText(/Password/), password);
  await userEvent.click(screen.getByRole("button", { name: /sign in/i }));
}

describe("sign-in", () => {
  it("shows the wrong-password problem", async () => {
    respondWith((req) =>
      req.url.endsWith("/api/v1/me") ? problem(401, "unauthenticated", "sign in") : problem(401, "unauthenticated", "wrong e-mail or password"),
    );
    renderPage(<App />, "/findings");
    await signIn("nope");
    expect(await screen.findByText(/Wrong e-mail or password/)).toBeInTheDocument();
  });

  it("shows the lockout with its time", async () => {
    respondWith((req) =>
      req.url.endsWith("/api/v1/me")
        ? problem(401, "unauthenticated", "sign in")
        : problem(429, "account_locked", "too many failed sign-ins; try again after 2026-11-22T12:00:00Z"),
    );
    renderPage(<App />);
    await signIn();
    expect(await screen.findByText("Account locked")).toBeInTheDocument();
    expect(screen.getByText(/try again after 2026-11-22T12:00:00Z/)).toBeInTheDocument();
  });

  it("shows validation errors at their fields", async () => {
    respondWith((req) =>
      req.url.endsWith("/api/v1/me")
        ? problem(401, "unauthenticated", "sign in")
        : problem(422, "validation_failed", "invalid", [{ location: "body", field: "email", message: "must be a plain e-mail address" }]),
    );
    renderPage(<App />);
    await signIn();
    expect(await screen.findByText("must be a plain e-mail address")).toBeInTheDocument();
  });

  it("asks a member of several tenants which one, then switches", async () => {
    const calls: string[] = [];
    let signedIn = false;
    respondWith(async (req) => {
      const path = new URL(req.url).pathname;
      calls.push(`${req.method} ${path}`);
      if (path === "/api/v1/me") return signedIn ? json(me) : problem(401, "unauthenticated", "sign in");
      if (path === "/api/v1/auth/login") {
        signedIn = true;
        return json(me);
      }
      if (path === "/api/v1/auth/switch-tenant") {
        expect(await req.json()).toEqual({ tenant_id: "t2" });
        expect(req.headers.get("X-CSRF-Token")).toBe("csrf");
        return json({ ...me, tenant: { ...me.tenant, id: "t2", name: "Globex" }, role: "viewer" });
      }
      return json({ items: [] });
    });
    renderPage(<App />);
    await signIn();
    await userEvent.click(await screen.findByLabelText("Globex (viewer)"));
    await userEvent.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(calls).toContain("POST /api/v1/auth/switch-tenant"));
  });
});

describe("safeNext", () => {
  it.each([
    [null, "/"],
    ["/findings?severity=high", "/findings?severity=high"],
    ["//evil.example", "/"],
    ["https://evil.example", "/"],
    ["/\\evil", "/"],
  ])("%s -> %s", (input, want) => expect(safeNext(input)).toBe(want));
});
