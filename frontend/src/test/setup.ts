import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// Mantine reads these browser APIs that jsdom lacks.
Object.defineProperty(window, "matchMedia", {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as unknown as { ResizeObserver: typeof RO }).ResizeObserver = RO;
window.HTMLElement.prototype.scrollIntoView = () => {};

// Component tests answer HTTP through respondWith (see ./http.ts); the API client
// captured fetch when it was created, so route every call through one switchable
// function.
type Handler = (req: Request) => Promise<Response> | Response;
let handler: Handler = () => new Response("no handler", { status: 599 });
export function respondWith(h: Handler) {
  handler = h;
}
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
  Promise.resolve(handler(input instanceof Request ? input : new Request(input, init)))) as typeof fetch;

afterEach(() => {
  cleanup();
  handler = () => new Response("no handler", { status: 599 });
});
