// End-to-end run of the web UI against the real Vigil binary, a real Postgres and
// moto_server, driven by Playwright in Debian's Chromium. `npm run test:e2e`.
//
// It builds the UI and the binary, creates a throwaway database on the test Postgres
// (VIGIL_TEST_DATABASE_URL), migrates it, seeds the demo tenant, starts moto_server
// and `vigil serve --with-worker`, runs e2e/flows.mjs, and tears everything down.
// Screenshots go to ../ci-artifacts/screenshots/. Nothing is mocked.
//
// Env: VIGIL_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// E2E_SKIP_BUILD=1 reuses dist/ and ../bin/vigil, E2E_KEEP=1 leaves the database.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runFlows } from "./flows.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, "..");
const root = resolve(frontend, "..");
const bin = join(root, "bin", "vigil");
const shots = join(root, "ci-artifacts", "screenshots");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const t0 = Date.now();
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`, ...a);

function fail(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitFor(url, what, ms = 60_000, proc) {
  const end = Date.now() + ms;
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}:\n${proc.output()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`${what} did not answer ${url} within ${ms / 1000}s${proc ? `:\n${proc.output()}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start(name, cmd, args, env) {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  p.stdout.on("data", keep);
  p.stderr.on("data", keep);
  p.output = () => out.slice(-6000);
  p.label = name;
  return p;
}

const mime = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

// uiProxy serves dist/ and forwards /api to the binary. It is used only when the
// binary does not serve the UI itself (api.uiRoutes not wired into routes.go yet).
function uiProxy(port, apiBase) {
  const dist = join(frontend, "dist");
  const srv = createServer(async (req, res) => {
    if (req.url.startsWith("/api/")) {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const headers = { ...req.headers };
      delete headers.host;
      const r = await fetch(apiBase + req.url, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
        redirect: "manual",
      });
      const out = {};
      r.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "content-length" && k !== "set-cookie") out[k] = v;
      });
      const cookies = r.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      res.writeHead(r.status, out);
      res.end(Buffer.from(await r.arrayBuffer()));
      return;
    }
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = join(dist, path);
    if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = join(dist, "index.html");
    res.writeHead(200, { "Content-Type": mime[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((r) => srv.listen(port, "127.0.0.1", () => r(srv)));
}

async function main() {
  if (!existsSync(chromium)) {
    fail(`${chromium} is missing: install Debian's Chromium with  apt-get install -y chromium  (never \`npx playwright install\`)`);
  }
  for (const tool of ["go", "psql", "moto_server"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) fail(`${tool} is not on PATH`);
  }
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });

  if (process.env.E2E_SKIP_BUILD !== "1") {
    log("building the UI (npm run build)");
    run("npm", ["run", "build"], { cwd: frontend });
    log("building the binary (go build)");
    run("go", ["build", "-o", bin, "../cmd/vigil"], { cwd: frontend });
  }

  const admin = process.env.VIGIL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
  const dbName = `vigil_e2e_${randomBytes(4).toString("hex")}`;
  const dbURL = new URL(admin);
  dbURL.pathname = `/${dbName}`;
  const procs = [];
  let proxy;
  const cleanup = () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
    proxy?.close();
    if (process.env.E2E_KEEP !== "1") {
      spawnSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`], { stdio: "ignore" });
    }
  };
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });

  try {
    log(`database ${dbName}`);
    run("psql", [admin, "-qc", `CREATE DATABASE ${dbName}`]);
    const env = {
      VIGIL_DATABASE_URL: dbURL.toString(),
      VIGIL_MASTER_KEY: randomBytes(32).toString("base64"),
      VIGIL_LOG_FORMAT: "text",
      VIGIL_LOG_LEVEL: "warn",
    };
    run(bin, ["migrate", "up"], { env: { ...process.env, ...env } });
    run(bin, ["demo", "seed"], { env: { ...process.env, ...env } });

    const motoPort = await freePort();
    const moto = start("moto", "moto_server", ["-H", "127.0.0.1", "-p", String(motoPort)], { MOTO_EC2_LOAD_DEFAULT_AMIS: "false" });
    procs.push(moto);
    const apiPort = await freePort();
    const metricsPort = await freePort();
    const vigil = start("vigil", bin, ["serve", "--with-worker"], {
      ...env,
      VIGIL_HTTP_ADDR: `127.0.0.1:${apiPort}`,
      VIGIL_WORKER_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    });
    procs.push(vigil);
    const motoURL = `http://127.0.0.1:${motoPort}`;
    const apiBase = `http://127.0.0.1:${apiPort}`;
    await Promise.all([waitFor(`${motoURL}/moto-api/`, "moto_server", 30_000, moto), waitFor(`${apiBase}/readyz`, "vigil serve", 60_000, vigil)]);

    let base = apiBase;
    const shell = await fetch(`${apiBase}/`).then((r) => (r.ok ? r.text() : ""));
    if (!shell.includes('<div id="root">')) {
      const uiPort = await freePort();
      proxy = await uiProxy(uiPort, apiBase);
      base = `http://127.0.0.1:${uiPort}`;
      log("the binary does not serve the UI yet (uiRoutes not wired): serving dist/ beside it, /api proxied to the binary");
    } else {
      log("the binary serves the embedded UI");
    }
    log(`vigil ${apiBase}, moto ${motoURL}, browser at ${base}`);

    await runFlows({ base, apiBase, motoURL, chromium, shots, log });
    log(`all flows passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (err) {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    for (const p of procs) console.error(`--- last output of ${p.label} ---\n${p.output()}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}

await main();
