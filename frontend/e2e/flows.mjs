// The browser flows of the end-to-end run (see run.mjs): each step drives the UI as a
// person would, checks what the page shows against the API, takes a screenshot, and
// runs axe-core on the page (serious and critical violations fail the run).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium as pw } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const EMAIL = "demo@vigil.local";
const PASSWORD = "vigil-demo-password";

// awsCall sends an unsigned-but-well-formed AWS query request to moto_server: moto
// routes by the credential scope's service and does not verify signatures.
async function awsCall(motoURL, service, params) {
  const body = new URLSearchParams(params).toString();
  const r = await fetch(`${motoURL}/`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`moto ${service} ${params.Action}: ${r.status} ${text.slice(0, 300)}`);
  return text;
}

async function seedMoto(motoURL) {
  const s3 = await fetch(`${motoURL}/e2e-public-logs`, { method: "PUT" });
  if (!s3.ok) throw new Error(`moto create bucket: ${s3.status}`);
  const sg = await awsCall(motoURL, "ec2", {
    Action: "CreateSecurityGroup",
    Version: "2016-11-15",
    GroupName: "e2e-web",
    GroupDescription: "e2e web tier",
  });
  const groupId = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(sg)?.[1];
  if (!groupId) throw new Error(`no group id in ${sg.slice(0, 200)}`);
  await awsCall(motoURL, "iam", { Action: "CreateUser", Version: "2010-05-08", UserName: "e2e-deployer" });
  return { groupId };
}

/** runFlows drives every page; it throws on the first failure. */
export async function runFlows({ base, apiBase, motoURL, chromium, shots, log }) {
  const browser = await pw.launch({
    executablePath: chromium,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light", reducedMotion: "reduce" });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => {
    consoleErrors.push(String(e));
    log(`  page error: ${e.stack ?? e}`);
  });
  page.on("console", (m) => m.type() === "error" && log(`  console error: ${m.text()}`));
  let shot = 0;
  const nav = (name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
  const a11y = [];

  async function check(name) {
    shot += 1;
    const file = join(shots, `${String(shot).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    await page.evaluate(axeSource);
    const res = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} [${(n.failureSummary ?? "").replace(/\s+/g, " ").slice(0, 160)}]`) }));
    });
    const bad = res.filter((v) => v.impact === "serious" || v.impact === "critical");
    if (bad.length) a11y.push({ page: name, violations: bad });
    log(`  screenshot ${file.split("/").pop()}${bad.length ? ` (${bad.length} serious a11y violations)` : ""}`);
    for (const v of bad) log(`    a11y ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(" | ")}`);
  }

  async function step(name, fn) {
    const t = Date.now();
    log(`step: ${name}`);
    try {
      await fn();
    } catch (err) {
      await page.screenshot({ path: join(shots, `FAILED-${name.replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
      throw new Error(`step "${name}" failed: ${err instanceof Error ? err.message : err}`);
    }
    log(`  ok (${((Date.now() - t) / 1000).toFixed(1)}s)`);
  }

  // api calls the API with the browser's session (cookie + CSRF token), to compare
  // what the pages show with what the API says.
  const api = (path, init = {}) =>
    page.evaluate(
      async ({ path, init }) => {
        const me = await fetch("/api/v1/me").then((r) => r.json());
        const r = await fetch(path, { ...init, headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token, ...(init.headers ?? {}) } });
        return { status: r.status, body: r.status === 204 ? null : await r.json() };
      },
      { path, init },
    );

  // dashboardMatches opens the dashboard and compares every number with GET /summary.
  async function dashboardMatches(name) {
    await nav("Dashboard").click();
    await page.getByTestId("open-critical").waitFor();
    const sum = (await api("/api/v1/summary")).body;
    for (const sev of ["critical", "high", "medium", "low", "info"]) {
      const shown = await page.getByTestId(`open-${sev}`).textContent();
      const want = String(sum.counts.by_severity[sev]?.open ?? 0);
      if (shown !== want) throw new Error(`dashboard shows ${shown} open ${sev}, the API says ${want}`);
    }
    const score = await page.getByTestId("score").textContent();
    const wantScore = sum.score.value === null ? "—" : `${sum.score.value}%`;
    if (score !== wantScore) throw new Error(`score ${score}, API ${wantScore}`);
    const total = Object.values(sum.counts.by_state).reduce((a, b) => a + b, 0);
    if (total === 0) throw new Error("no finding at all");
    await check(name);
  }

  try {
    const { groupId } = await seedMoto(motoURL);

    await step("sign-in errors", async () => {
      await page.goto(`${base}/findings`);
      await page.getByLabel("E-mail").fill(EMAIL);
      await page.getByLabel(/^Password/).fill("not-the-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("Wrong e-mail or password").waitFor();
      await check("login-error");
    });

    await step("sign in", async () => {
      await page.getByLabel(/^Password/).fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/findings/);
      await nav("Dashboard").click();
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    });

    await step("dashboard of the demo tenant matches GET /summary", () => dashboardMatches("dashboard-demo"));

    await step("settings: API key created once, then revoked", async () => {
      await nav("Settings").click();
      await page.getByRole("tab", { name: "API keys" }).click();
      await page.getByText("No API keys").waitFor();
      await page.getByRole("button", { name: "Create API key" }).click();
      await page.getByLabel("Name").fill("e2e-ci");
      await page.getByRole("button", { name: "Create key" }).click();
      const key = await page.getByTestId("new-api-key").textContent();
      if (!/^vgl_[A-Za-z0-9_-]{43}$/.test(key ?? "")) throw new Error(`unexpected key ${key}`);
      const me = await fetch(`${apiBase}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
      if (me.status !== 200) throw new Error(`the new key does not authenticate: ${me.status}`);
      await check("settings-api-key-created");
      await page.getByRole("button", { name: "Done" }).click();
      await page.getByRole("button", { name: "Revoke e2e-ci" }).click();
      await page.getByTestId("api-key-row").getByText("revoked").waitFor();
      const after = await fetch(`${apiBase}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
      if (after.status !== 401) throw new Error(`a revoked key still authenticates: ${after.status}`);
      await check("settings-api-keys");
    });

    await step("settings: invite shows a temporary password once", async () => {
      await page.getByRole("tab", { name: "Users" }).click();
      await page.getByRole("button", { name: "Invite a member" }).click();
      await page.getByLabel("E-mail").fill("analyst@example.com");
      await page.getByRole("button", { name: "Invite", exact: true }).click();
      const pw = await page.getByTestId("temporary-password").textContent();
      if (!pw || pw.length < 12) throw new Error(`temporary password ${pw}`);
      await page.getByRole("button", { name: "Done" }).click();
      await page.getByText("analyst@example.com").first().waitFor();
      await check("settings-users");
    });

    await step("settings: audit log and retention", async () => {
      await page.getByRole("tab", { name: "Audit log" }).click();
      await page.getByText("api_key.revoked").waitFor();
      await check("settings-audit-log");
      await page.getByRole("tab", { name: "Retention" }).click();
      const input = page.getByLabel("History retention (days)");
      await input.fill("3");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/must be an? [a-z]* ?from 7 to 3650/).waitFor();
      await input.fill("120");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Settings saved").waitFor();
      const s = await api("/api/v1/settings");
      if (s.body.retention_days !== 120) throw new Error(`retention is ${s.body.retention_days}`);
      await check("settings-retention");
    });

    let accountId = "";
    await step("identity: effective permissions, who can access, simulate", async () => {
      await nav("Identity").click();
      await page.getByText("Pick a principal").waitFor();
      await page.getByRole("combobox", { name: "Principal" }).fill("ana.admin");
      await page.getByRole("option", { name: "ana.admin", exact: true }).click();
      await page.waitForURL(/[?&]principal=[0-9a-f-]{36}/);
      const id = new URL(page.url()).searchParams.get("principal");
      const eff = await api(`/api/v1/iam/principals/${id}/effective`);
      if (eff.status !== 200) throw new Error(`effective permissions answer ${eff.status}`);
      if (!eff.body.admin_equivalent) throw new Error("ana.admin is not admin-equivalent for the API");
      await page.getByTestId("admin-badge").filter({ hasText: "Admin-equivalent" }).waitFor();
      const total = Object.values(eff.body.services).reduce((a, lv) => a + Object.values(lv).reduce((x, y) => x + y, 0), 0);
      const shownTotal = await page.getByTestId("effective-total").textContent();
      if (shownTotal !== String(total)) throw new Error(`page shows ${shownTotal} allowed actions, the API ${total}`);
      const rows = await page.getByTestId("service-row").count();
      if (rows !== Object.keys(eff.body.services).length) throw new Error(`${rows} service rows, the API has ${Object.keys(eff.body.services).length} services`);
      await page.getByTestId("action-row").first().waitFor();
      await check("identity-effective");

      const ana = eff.body.principal.native_id;
      const buckets = (await api("/api/v1/resources?type=aws.s3.bucket&limit=500")).body.items;
      const anaRes = (await api(`/api/v1/resources/${id}`)).body;
      const bucket = buckets.find((b) => b.account_id === anaRes.account_id);
      if (bucket) {
        await page.getByRole("tab", { name: "Who can access" }).click();
        await page.getByLabel(/Resource ARN/).fill(bucket.native_id);
        await page.getByRole("button", { name: "Find principals" }).click();
        await page.getByTestId("access-row").filter({ hasText: "ana.admin" }).first().waitFor();
        await check("identity-access");
      } else {
        log("  no demo bucket in ana.admin's account: who-can-access not driven");
      }

      await page.getByRole("tab", { name: "Simulate" }).click();
      const arn = await page.getByLabel(/Principal ARN/).inputValue();
      if (arn !== ana) throw new Error(`simulate principal prefilled with ${arn}, want ${ana}`);
      await page.getByLabel(/^Action/).fill("iam:CreateUser");
      await page.getByRole("button", { name: "Add context key" }).click();
      await page.getByLabel("Context key 1", { exact: true }).fill("aws:MultiFactorAuthPresent");
      await page.getByLabel("Values 1", { exact: true }).fill("true");
      await page.getByRole("button", { name: "Simulate", exact: true }).click();
      const want = await api("/api/v1/iam/simulate", {
        method: "POST",
        body: JSON.stringify({ principal: ana, action: "iam:CreateUser", resource: "*", context: { "aws:MultiFactorAuthPresent": ["true"] } }),
      });
      if (want.status !== 200) throw new Error(`simulate answers ${want.status}`);
      await page.getByTestId("decision").getByText(want.body.decision.allowed ? "Allowed" : "Denied", { exact: true }).waitFor();
      await check("identity-simulate");
      await page.getByRole("button", { name: /Switch to dark theme/ }).click();
      await check("identity-simulate-dark");
      await page.getByRole("button", { name: /Switch to light theme/ }).click();
    });

    await step("onboard an AWS account (moto)", async () => {
      await nav("Cloud accounts").click();
      // The demo seed connects a recorded estate in moto's account 123456789012; remove it
      // so the account onboarded from moto (same id) does not conflict.
      const demo = page.getByRole("link", { name: /Demo AWS/ });
      // Wait for the list to load before deciding: either the demo account or the empty
      // state shows up (counting links right away raced the request).
      await demo.or(page.getByText("No cloud account connected yet")).first().waitFor();
      if (await demo.count()) {
        await check("accounts-demo");
        await demo.click();
        await page.getByTestId("scan-row").first().waitFor();
        await check("account-demo");
        await page.getByRole("button", { name: "Remove" }).click();
        await page.getByRole("button", { name: "Remove account" }).click();
      }
      await page.getByText("No cloud account connected yet").waitFor();
      await check("accounts-empty");
      await page.getByRole("link", { name: "Connect AWS account" }).first().click();
      await page.getByTestId("external-id").waitFor();
      const ext = await page.getByTestId("external-id").textContent();
      if (!ext?.startsWith("vigil-")) throw new Error(`external id ${ext}`);
      await check("onboarding-role");
      await page.getByRole("button", { name: /I have a role/ }).click();
      await page.getByLabel("Name").fill("e2e-moto");
      await page.getByText("Access keys").click();
      await page.getByLabel("Access key ID").fill("testing");
      await page.getByLabel("Secret access key").fill("testing");
      const regions = page.getByRole("combobox", { name: "Regions" });
      await regions.fill("us-east-1");
      await regions.press("Enter");
      const types = page.getByRole("combobox", { name: "Resource types (optional)" });
      for (const t of ["aws.s3.bucket", "aws.ec2.security_group", "aws.iam.user"]) {
        await types.fill(t);
        await types.press("Enter");
      }
      await page.getByLabel("Endpoint URL (optional)").fill(motoURL);
      await check("onboarding-connect");
      await page.getByRole("button", { name: "Connect and test" }).click();
      await page.getByTestId("identity").waitFor({ timeout: 30_000 });
      const identity = await page.getByTestId("identity").textContent();
      if (!identity?.includes("123456789012")) throw new Error(`identity ${identity}`);
      await check("onboarding-test");
      await page.getByRole("button", { name: "Next" }).click();
      await page.getByRole("button", { name: "Scan now" }).click();
      await page.waitForURL(/\/accounts\/[0-9a-f-]{36}$/);
      accountId = page.url().split("/").pop();
    });

    const waitScan = async (n) => {
      // The scan history refreshes itself while a scan runs.
      await page.getByTestId("scan-row").nth(0).getByText(/completed|partial|failed/).waitFor({ timeout: 90_000 });
      const scans = await api(`/api/v1/accounts/${accountId}/scans`);
      if (scans.body.items.length !== n) throw new Error(`expected ${n} scans, got ${scans.body.items.length}`);
      const status = scans.body.items[0].status;
      if (status !== "completed") throw new Error(`scan ended ${status}`);
    };

    await step("first scan completes", async () => {
      await waitScan(1);
      await page.getByTestId("scan-row").first().getByRole("button").click();
      await page.getByRole("dialog").getByText("s3").first().waitFor();
      await check("scan-detail");
      await page.keyboard.press("Escape");
      await check("account-detail");
    });

    // A change in the cloud between two scans: the security group opens SSH to the world.
    await awsCall(motoURL, "ec2", {
      Action: "AuthorizeSecurityGroupIngress",
      Version: "2016-11-15",
      GroupId: groupId,
      "IpPermissions.1.IpProtocol": "tcp",
      "IpPermissions.1.FromPort": "22",
      "IpPermissions.1.ToPort": "22",
      "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0",
    });

    await step("second scan sees the change", async () => {
      await page.getByRole("button", { name: "Scan now" }).click();
      await page.getByTestId("scan-row").nth(1).waitFor();
      await waitScan(2);
      const scans = await api(`/api/v1/accounts/${accountId}/scans`);
      if (scans.body.items[0].modified < 1) throw new Error(`second scan modified ${scans.body.items[0].modified} resources`);
      await nav("Cloud accounts").click();
      await page.getByRole("link", { name: "e2e-moto" }).waitFor();
      await check("accounts");
    });

    await step("dashboard numbers match GET /summary", () => dashboardMatches("dashboard"));

    await step("findings: filter, open the detail, mute one", async () => {
      await nav("Findings").click();
      await page.getByTestId("finding-row").first().waitFor();
      await check("findings");
      await page.getByRole("combobox", { name: "resource type" }).click();
      await page.getByRole("option", { name: /^aws\.ec2\.security_group/ }).click();
      await page.waitForURL(/resource_type=aws\.ec2\.security_group/);
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="finding-row"]')].every((r) => r.textContent.includes("aws.ec2.security_group")));
      const want = await api("/api/v1/findings?resource_type=aws.ec2.security_group&limit=500");
      const rows = await page.getByTestId("finding-row").count();
      if (rows !== want.body.items.length) throw new Error(`${rows} rows shown, API has ${want.body.items.length}`);
      if (rows === 0) throw new Error("no open finding on security groups (SSH open to the world should fail a check)");
      await check("findings-filtered");
      await page.getByTestId("finding-row").first().getByRole("button").click();
      await page.getByRole("dialog").getByText("History").waitFor();
      await check("finding-detail");
      await page.keyboard.press("Escape");
      await page.getByTestId("finding-row").first().getByRole("checkbox").check();
      await page.getByRole("button", { name: /Mute 1 selected/ }).click();
      await page.getByLabel(/^Justification/).fill("accepted for the e2e run");
      await page.getByRole("button", { name: "Mute", exact: true }).click();
      await page.getByText("1 finding muted").waitFor();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="finding-row"]').length === n, rows - 1);
      const after = await api("/api/v1/findings?resource_type=aws.ec2.security_group&limit=500");
      if (after.body.items.length !== rows - 1) throw new Error(`after muting the API lists ${after.body.items.length} open, want ${rows - 1}`);
      const muted = await api("/api/v1/findings?resource_type=aws.ec2.security_group&state=muted");
      if (muted.body.items.length !== 1) throw new Error(`${muted.body.items.length} muted findings`);
    });

    await step("inventory and the security group's diff", async () => {
      await nav("Inventory").click();
      await page.getByTestId("resource-row").first().waitFor();
      await check("inventory");
      await page.getByLabel("Search").fill("e2e-web");
      await page.getByRole("link", { name: "e2e-web" }).click();
      await page.getByRole("tab", { name: /Findings/ }).waitFor();
      await check("resource");
      await page.getByRole("tab", { name: "Properties" }).click();
      await page.getByText("IpPermissions").first().waitFor();
      await page.getByRole("tab", { name: "Drift history" }).click();
      await page.getByTestId("patch").getByText(/IpPermissions/).first().waitFor();
      await page.getByTestId("side-by-side").locator(".diff-add").first().waitFor();
      await check("resource-diff");
    });

    await step("drift feed", async () => {
      await nav("Drift").click();
      await page.getByTestId("drift-row").first().waitFor();
      const modified = page.getByTestId("drift-row").filter({ hasText: "modified" });
      if ((await modified.count()) < 1) throw new Error("no modified resource in the drift feed");
      await check("drift");
    });

    await step("compliance: framework, control, failing resources", async () => {
      await nav("Compliance").click();
      await page.getByRole("link", { name: /CIS/ }).first().click();
      await page.getByTestId("control-row").first().waitFor();
      await check("compliance-framework");
      const failing = page.getByTestId("control-row").filter({ hasText: "fail" }).first();
      await failing.getByRole("button").click();
      await page.getByTestId("control-failing").first().waitFor();
      await check("compliance-control");
      await page.keyboard.press("Escape");
      await nav("Compliance").click();
      await page.getByText(/controls$/).first().waitFor();
      await check("compliance");
    });

    await step("checks catalog and a custom check", async () => {
      await nav("Checks").click();
      await page.getByLabel("Search").fill("bucket");
      await page.getByRole("table").getByRole("button").first().click();
      await page.getByRole("dialog").getByText("Remediation.").waitFor();
      await check("check-detail");
      await page.keyboard.press("Escape");
      await check("checks");
      await page.getByRole("link", { name: "New custom check" }).click();
      await page.getByRole("button", { name: "Dry run" }).click();
      await page.getByText(/Dry run over \d+ aws\.s3\.bucket resources/).waitFor();
      const ta = page.getByLabel("Check YAML");
      const yaml = await ta.inputValue();
      await ta.fill(yaml.replace("assert: \"'owner' in resource.tags\"", "assert: \"resource.tags.owner ==\""));
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("The check is not valid").waitFor();
      await page.getByRole("button", { name: /^line \d+/ }).first().waitFor();
      await check("custom-check-error");
      await ta.fill(yaml);
      await page.getByRole("button", { name: "Save" }).click();
      await page.waitForURL(/\/checks\/custom\/[0-9a-f-]{36}$/);
    });

    await step("dark theme", async () => {
      await page.getByRole("button", { name: /Switch to dark theme/ }).click();
      await nav("Dashboard").click();
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
      await check("dashboard-dark");
      await page.getByRole("button", { name: /Switch to light theme/ }).click();
    });

    await step("sign out", async () => {
      await page.getByRole("button", { name: /Account menu/ }).click();
      await page.getByRole("menuitem", { name: "Sign out" }).click();
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      const me = await page.evaluate(() => fetch("/api/v1/me").then((r) => r.status));
      if (me !== 401) throw new Error(`after sign-out /me answers ${me}`);
    });

    if (consoleErrors.length) throw new Error(`uncaught page errors:\n${consoleErrors.join("\n")}`);
    if (a11y.length) throw new Error(`serious accessibility violations:\n${JSON.stringify(a11y, null, 2)}`);
  } finally {
    await browser.close();
  }
}
