/**
 * The dashboard on the API's port: the single page at its routes, hashed assets cached for good,
 * nothing else from disk, a strict Content-Security-Policy on every answer, and a clear page when the
 * assets were never built.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { dashboardBuilt, WEB_ROOT } from "../../src/server/web.ts";
import { harness, type Harness } from "./helpers.ts";

function csp(header: unknown): Map<string, string> {
  return new Map(
    String(header)
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .map(([k, ...v]) => [k!, v.join(" ")]),
  );
}

describe("dashboard assets and pages", () => {
  let dir: string;
  let h: Harness;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "flotilla-web-"));
    mkdirSync(path.join(dir, "assets"));
    writeFileSync(path.join(dir, "index.html"), '<!doctype html><script type="module" src="/assets/app-abc123.js"></script>');
    writeFileSync(path.join(dir, "assets", "app-abc123.js"), "console.log('app')");
    writeFileSync(path.join(dir, "favicon.svg"), "<svg/>");
    h = await harness({ server: { web: { root: dir } } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the page at each of its routes, without a token, never cached stale", async () => {
    for (const url of ["/", "/signin", "/repositories/app", "/repositories/app/commits/abc1234", "/deployments/01JD3", "/objects/dev/web/web", "/deployments/01JD3?x=1"]) {
      const r = await h.req({ method: "GET", url, token: null });
      assert.equal(r.statusCode, 200, url);
      assert.match(String(r.headers["content-type"]), /^text\/html/);
      assert.equal(r.headers["cache-control"], "no-cache");
      assert.match(r.payload, /app-abc123\.js/);
    }
  });

  it("serves hashed assets as immutable, and nothing that was not there at start-up", async () => {
    const js = await h.req({ method: "GET", url: "/assets/app-abc123.js", token: null });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers["content-type"]), /javascript/);
    assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal((await h.req({ method: "GET", url: "/favicon.svg", token: null })).headers["cache-control"], "no-cache");
    writeFileSync(path.join(dir, "assets", "late.js"), "x");
    for (const url of ["/assets/late.js", "/assets/../../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "/api/v2/x"]) {
      const r = await h.req({ method: "GET", url, token: null });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json<{ code: string }>().code, "FLT-API-NOT-FOUND");
    }
  });

  it("sends a strict Content-Security-Policy and hardening headers with pages, assets and API answers", async () => {
    for (const [url, token] of [["/", null], ["/assets/app-abc123.js", null], ["/api/v1/repositories", h.reader]] as const) {
      const r = await h.req({ method: "GET", url, token });
      const policy = csp(r.headers["content-security-policy"]);
      assert.equal(policy.get("default-src"), "'none'", url);
      assert.equal(policy.get("script-src"), "'self'");
      assert.equal(policy.get("style-src"), "'self'");
      assert.equal(policy.get("connect-src"), "'self'");
      assert.equal(policy.get("frame-ancestors"), "'none'");
      assert.equal(policy.get("base-uri"), "'none'");
      assert.ok(!String(r.headers["content-security-policy"]).includes("unsafe"), "no unsafe-inline or unsafe-eval");
      assert.ok(!policy.has("upgrade-insecure-requests"), "plain HTTP on loopback must keep working");
      assert.equal(r.headers["x-content-type-options"], "nosniff");
      assert.equal(r.headers["x-frame-options"], "SAMEORIGIN");
      assert.equal(r.headers["referrer-policy"], "no-referrer");
      assert.equal(r.headers["strict-transport-security"], undefined);
    }
  });

  it("says clearly when the assets were never built, and the API still works", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "flotilla-web-empty-"));
    const bare = await harness({ server: { web: { root: empty } } });
    try {
      const r = await bare.req({ method: "GET", url: "/", token: null });
      assert.equal(r.statusCode, 503);
      assert.match(r.payload, /npm run build:web/);
      assert.doesNotMatch(r.payload, /<script/);
      assert.equal((await bare.req({ method: "GET", url: "/api/v1/repositories" })).statusCode, 200);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("the built dashboard (dist/web)", () => {
  it("is built, and its page loads its code and styles from files only, as the policy requires", () => {
    assert.ok(dashboardBuilt(), `no dashboard in ${WEB_ROOT}: run \`npm run build:web\` (npm test and npm ci do)`);
    const html = readFileSync(path.join(WEB_ROOT, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs!, /\bsrc="\/assets\/[^"]+\.js"/, "every script is a file");
      assert.equal(body!.trim(), "", "no inline script");
    }
    assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i, "no inline style or handler");
    assert.doesNotMatch(html, /https?:\/\//, "nothing from another host (no CDN)");
    const assets = readdirSync(path.join(WEB_ROOT, "assets"));
    for (const file of assets.filter((f) => f.endsWith(".js") || f.endsWith(".css"))) {
      const text = readFileSync(path.join(WEB_ROOT, "assets", file), "utf8");
      assert.doesNotMatch(text, /\bimport\s*\(\s*["']https?:|from\s*["']https?:|@import\s+url\(["']?https?:/, `${file} loads nothing from another host`);
    }
  });
});
