import { respondWith } from "../test/setup";
import { problem, json } from "../test/render";
import { ApiError, client, setCsrfToken, unwrap } from "./client";

describe("api client", () => {
  it("returns data of a 2xx answer", async () => {
    respondWith(() => json({ items: [], next_cursor: "abc" }));
    const out = await unwrap(client.GET("/api/v1/accounts"));
    expect(out).toEqual({ items: [], next_cursor: "abc" });
  });

  it("turns problem+json into ApiError with field errors and the request id", async () => {
    respondWith(() =>
      problem(422, "validation_failed", "the request has invalid fields", [
        { location: "body", field: "name", message: "is required" },
        { location: "body", field: "name", message: "too short" },
      ]),
    );
    const err = await unwrap(client.POST("/api/v1/api-keys", { body: { name: "", role: "viewer" } })).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.problem.code).toBe("validation_failed");
    expect(err.requestId).toBe("req-1");
    expect(err.fieldErrors()).toEqual({ name: "is required; too short" });
  });

  it("sends the CSRF token on state changes only", async () => {
    const seen: Record<string, string | null> = {};
    respondWith((req) => {
      seen[req.method] = req.headers.get("X-CSRF-Token");
      return req.method === "GET" ? json({ items: [] }) : new Response(null, { status: 204 });
    });
    setCsrfToken("tok-123");
    await unwrap(client.GET("/api/v1/mute-rules"));
    await unwrap(client.DELETE("/api/v1/mute-rules/{mute_id}", { params: { path: { mute_id: "00000000-0000-0000-0000-000000000001" } } }));
    expect(seen).toEqual({ GET: null, DELETE: "tok-123" });
    setCsrfToken("");
  });

  it("reports a non-problem failure and a network failure", async () => {
    respondWith(() => new Response("bad gateway", { status: 502, statusText: "Bad Gateway" }));
    const err = await unwrap(client.GET("/api/v1/me")).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
    expect(err.problem.code).toBe("internal_error");
    respondWith(() => Promise.reject(new TypeError("Failed to fetch")));
    const net = await unwrap(client.GET("/api/v1/me")).catch((e) => e);
    expect(net.problem.code).toBe("network");
  });
});
