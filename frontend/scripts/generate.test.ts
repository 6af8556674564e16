// The committed client types must match the contract: a change to api/openapi.yaml
// without `npm run generate` fails here.
import { readFileSync } from "node:fs";
// @ts-expect-error plain ES module without types
import { generate, outPath } from "./generate.mjs";

describe("generated API types", () => {
  it("src/api/schema.d.ts is up to date with api/openapi.yaml", async () => {
    const want: string = await generate();
    expect(readFileSync(outPath, "utf8") === want, "run `npm run generate` in frontend/").toBe(true);
  }, 30_000);
});
