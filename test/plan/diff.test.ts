import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffDefinitions } from "../../src/plan/diff.ts";
import { formatPath } from "../../src/plan/json.ts";

describe("diffDefinitions", () => {
  it("gives a unified diff of the canonical JSON, live first, with the given labels", () => {
    const d = diffDefinitions({ family: "web", memory: "1024" }, { memory: "512", family: "web" }, { labels: { live: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7", desired: "dev/web/web_taskdef.json" } });
    assert.equal(
      d.text,
      [
        "--- arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "+++ dev/web/web_taskdef.json",
        "@@ -1,4 +1,4 @@",
        " {",
        '   "family": "web",',
        '-  "memory": "512"',
        '+  "memory": "1024"',
        " }",
        "",
      ].join("\n"),
    );
  });

  it("puts names first in the canonical JSON, then the other keys alphabetically", () => {
    const d = diffDefinitions({ containerDefinitions: [{ image: "b", essential: false, name: "web" }], family: "web" }, undefined);
    assert.match(d.text, /\+\{\n\+  "family": "web",\n\+  "containerDefinitions": \[\n\+    \{\n\+      "name": "web",\n\+      "essential": false,\n\+      "image": "b"/);
  });

  it("treats null, empty lists and empty objects as absent, and key order as meaningless", () => {
    const d = diffDefinitions({ a: 1, b: null, c: [], d: {}, e: { f: [] } }, { a: 1 });
    assert.equal(d.changed, false);
  });

  it("writes paths with brackets for keys that are not identifiers", () => {
    assert.equal(formatPath(["containerDefinitions", 0, "logConfiguration", "options", "awslogs-group"]), '$.containerDefinitions[0].logConfiguration.options["awslogs-group"]');
    const d = diffDefinitions({ options: { "awslogs-group": "/ecs/a" } }, { options: { "awslogs-group": "/ecs/b" } });
    assert.deepEqual(d.changes.map((c) => c.path), ['$.options["awslogs-group"]']);
  });

  it("reports list items by position when they have no identity, and added items at the end", () => {
    const d = diffDefinitions({ command: ["serve", "--port", "9090", "--debug"] }, { command: ["serve", "--port", "8080"] });
    assert.deepEqual(d.changes, [
      { path: "$.command[2]", kind: "changed", desired: "9090", live: "8080" },
      { path: "$.command[3]", kind: "added", desired: "--debug" },
    ]);
  });
});
