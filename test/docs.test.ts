/**
 * The user documentation says only what is true of this repository (issue 12, item 16): every
 * relative link and anchor resolves, nothing points at a design document that is not shipped, and
 * no page still says that a part which exists is missing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PAGES = ["README.md", "examples/README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} +(.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  }
  return out;
}

describe("user documentation", () => {
  it("Given every page, When its relative links are followed, Then each file and #anchor exists", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(path.join(ROOT, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [file, anchor] = target.split("#") as [string, string | undefined];
        const resolved = file ? path.join(path.dirname(path.join(ROOT, page)), file) : path.join(ROOT, page);
        if (!existsSync(resolved)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchors(readFileSync(resolved, "utf8")).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it("Given README and the docs, Then none sends the reader to DESIGN.md, which is not in the repository", () => {
    assert.equal(existsSync(path.join(ROOT, "DESIGN.md")), false);
    assert.deepEqual(PAGES.filter((p) => /DESIGN(\.md)?\b/.test(readFileSync(path.join(ROOT, p), "utf8"))), []);
  });

  it("Given the controller exists (serve, its API, metrics, notifications), Then no page says it is not here yet or comes later", () => {
    const stale = [/Not here yet/i, /later the controller/i];
    assert.deepEqual(PAGES.filter((p) => stale.some((re) => re.test(readFileSync(path.join(ROOT, p), "utf8")))), []);
  });
});
