import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { newQueryClient, Providers } from "../Providers";

/** renderPage renders ui inside the app's providers at a route. */
export function renderPage(ui: ReactNode, path = "/") {
  const client = newQueryClient();
  client.setDefaultOptions({ queries: { retry: false } });
  return render(
    <Providers client={client}>
      <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
    </Providers>,
  );
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json", ...headers },
  });
}

export function problem(status: number, code: string, detail: string, errors?: { location: string; field: string; message: string }[]) {
  return json({ type: `https://vigil.dev/problems/${code}`, title: "x", status, code, detail, errors }, status, { "X-Request-ID": "req-1" });
}
