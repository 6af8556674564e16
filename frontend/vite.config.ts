import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vitest/config";

// dist/.keep is tracked in git so that the Go embed directive always has a folder to
// embed; Vite empties dist on every build, so put it back.
const keepDist: Plugin = {
  name: "vigil-keep-dist",
  apply: "build",
  closeBundle() {
    writeFileSync(resolve(import.meta.dirname, "dist/.keep"), "");
  },
};

export default defineConfig({
  plugins: [react(), keepDist],
  server: {
    port: 5173,
    // `npm run dev` talks to a `vigil serve` on :8080 (VIGIL_API to change it).
    proxy: { "/api": process.env.VIGIL_API ?? "http://localhost:8080" },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.ts"],
    css: false,
  },
});
