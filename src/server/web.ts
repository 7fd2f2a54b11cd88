/**
 * The dashboard's pages and assets, on the API's port. The assets are built from src/web by Vite
 * (`npm run build:web`, run by `npm ci` through `prepare` and by `npm run build`) into dist/web,
 * which the package ships. They hold no data and no secret, so they are served without a token; the
 * data behind them comes from /api/v1 with the same authentication as every client (a session cookie
 * after sign-in, see session.ts).
 *
 * Every answer of the server carries a strict Content-Security-Policy (scripts, styles and connections
 * from this origin only; no inline script or style, no framing) and the usual hardening headers.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyHelmet from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** dist/web of this checkout or package (the same place from src/server and from dist/server). */
export const WEB_ROOT = fileURLToPath(new URL("../../dist/web/", import.meta.url));

/** The dashboard's client-side routes: each answers with the single page, which routes itself. */
export const PAGE_ROUTES = ["/", "/signin", "/repositories/*", "/deployments/*", "/objects/*"] as const;

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla</title></head>
<body><h1>The dashboard is not built</h1>
<p>This Flotilla has no dashboard assets in <code>dist/web</code>. In a source checkout, run <code>npm run build:web</code>
(<code>npm ci</code> does it too) and restart <code>flotilla serve</code>. The API under <code>/api/v1</code> works without it.</p>
</body></html>
`;

export interface DashboardOptions {
  /** Where the built assets are (default WEB_ROOT). */
  root?: string;
}

/** Whether the dashboard's assets are built at `root`. */
export function dashboardBuilt(root: string = WEB_ROOT): boolean {
  return existsSync(path.join(root, "index.html"));
}

export function registerDashboard(app: FastifyInstance, options: DashboardOptions = {}): void {
  const root = options.root ?? WEB_ROOT;
  void app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    // TLS and its policy belong to whatever terminates TLS in front of the server.
    hsts: false,
    referrerPolicy: { policy: "no-referrer" },
  });
  const index = dashboardBuilt(root) ? readFileSync(path.join(root, "index.html"), "utf8") : undefined;
  if (index !== undefined) {
    void app.register(fastifyStatic, {
      root,
      prefix: "/",
      // One route per file that exists at start-up: nothing else on disk is reachable.
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (reply, file) => {
        // Vite names assets by their content's hash, so they never change under one name.
        void reply.header("cache-control", path.relative(root, file).startsWith(`assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }
  const page = (_request: unknown, reply: FastifyReply) => {
    void reply.header("cache-control", "no-cache").type("text/html; charset=utf-8");
    return index !== undefined ? reply.send(index) : reply.code(503).send(NOT_BUILT);
  };
  for (const url of PAGE_ROUTES) app.get(url, page);
}
