// The one HTTP client of the UI: openapi-fetch typed by the paths that
// openapi-typescript generates from api/openapi.yaml (src/api/schema.d.ts).
// It adds the session's CSRF token to state changes and turns problem+json
// answers into ApiError, which every page shows with <ProblemAlert>.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** FieldError is one entry of a 422 problem's errors[]. */
export interface FieldError {
  location: string;
  field: string;
  message: string;
}

/** Problem is an RFC 9457 problem body as Vigil sends it. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  errors?: FieldError[];
}

/** ApiError is thrown for every non-2xx answer. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly requestId: string | null;

  constructor(problem: Problem, requestId: string | null) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.name = "ApiError";
    this.status = problem.status;
    this.problem = problem;
    this.requestId = requestId;
  }

  /** fieldErrors maps a field name to its messages (422 validation problems). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) {
      out[e.field] = out[e.field] ? `${out[e.field]}; ${e.message}` : e.message;
    }
    return out;
  }
}

let csrfToken = "";

/** setCsrfToken remembers the session's token (from sign-in, tenant switch or /me). */
export function setCsrfToken(token: string | undefined) {
  csrfToken = token ?? "";
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!["GET", "HEAD", "OPTIONS"].includes(request.method) && csrfToken) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
};

export const client = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "", credentials: "same-origin" });
client.use(csrf);

/** toApiError builds an ApiError from a failed response and its parsed body. */
export function toApiError(response: Response, body: unknown): ApiError {
  const rid = response.headers.get("X-Request-ID");
  if (body && typeof body === "object" && "code" in body && "status" in body) {
    return new ApiError(body as Problem, rid);
  }
  return new ApiError(
    {
      title: response.statusText || "Request failed",
      status: response.status,
      code: response.status >= 500 ? "internal_error" : "bad_request",
      detail: typeof body === "string" && body ? body.slice(0, 200) : undefined,
    },
    rid,
  );
}

/**
 * unwrap awaits an openapi-fetch call and returns its data, or throws ApiError.
 * Usage: `unwrap(client.GET("/api/v1/accounts"))`.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await call;
  } catch (err) {
    throw new ApiError(
      { title: "Network error", status: 0, code: "network", detail: err instanceof Error ? err.message : String(err) },
      null,
    );
  }
  if (!res.response.ok) {
    throw toApiError(res.response, res.error);
  }
  return res.data as T;
}
