// Builds the dashboard (src/web) into dist/web, which `flotilla serve` serves at `/` and the package
// ships (src/server/web.ts). `npx vite --config vite.config.ts` serves it for development, with the
// API proxied to a `flotilla serve` on 127.0.0.1:8080.
import { defineConfig } from "vite";

export default defineConfig({
  root: "src/web",
  base: "/",
  publicDir: "public",
  build: {
    outDir: "../../dist/web",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    // Every asset is a file of its own: the Content-Security-Policy allows no inline code.
    assetsInlineLimit: 0,
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
});
