/** Depdef notification targets at validate time: coded problems with file and JSON path, before any server is involved. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";

after(cleanupTrees);

const svcdef = { cluster: "apps", serviceName: "web", desiredCount: 1, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } };
const taskdef = { family: "web", containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "a".repeat(64), memory: 128 }] };

async function problemsFor(notifications: unknown[]) {
  const repo = await loadTree({ "svc/web_svcdef.json": svcdef, "svc/web_taskdef.json": taskdef, "svc/web_depdef.json": { notifications } });
  const o = repo.objects[0]!;
  return { valid: o.valid, problems: o.problems.filter((p) => p.code.startsWith("FLT-NOTIFY-")) };
}

describe("notification targets in validate", () => {
  it("warns (file, JSON path) about a literal address the server refuses by default, in any spelling; the object stays valid", async () => {
    const urls = ["http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0251.0376.0251.0376/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/", "http://127.0.0.1:8080/api/v1/repositories", "http://10.0.0.1/"];
    const r = await problemsFor(urls.map((url) => ({ url })));
    assert.equal(r.valid, true, "only the server's policy can tell whether it is allowed");
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.severity, p.file, p.path]),
      urls.map((_u, i) => ["FLT-NOTIFY-ADDRESS-FORBIDDEN", "warning", "svc/web_depdef.json", `$.notifications[${i}].url`]),
    );
    assert.match(r.problems[1]!.message, /link-local \(cloud metadata\) address \(169\.254\.169\.254\)/);
  });

  it("accepts a public https target with an allowed-looking header", async () => {
    const r = await problemsFor([{ url: "https://hooks.slack.com/services/T0/B0/X", headers: { Authorization: "Bearer ${SLACK_TOKEN}" }, events: ["failed"] }]);
    assert.deepEqual(r, { valid: true, problems: [] });
  });

  it("rejects scheme, user info and headers with errors that make the object invalid", async () => {
    const r = await problemsFor([{ url: "gopher://x/" }, { url: "https://a:b@x/" }, { url: "https://x/", headers: { "Transfer-Encoding": "chunked", "X-A": "line\r\nX-Injected: 1", "Bad Name": "x" } }]);
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.path]),
      [
        ["FLT-NOTIFY-URL-INVALID", "$.notifications[0].url"],
        ["FLT-NOTIFY-URL-INVALID", "$.notifications[1].url"],
        ["FLT-NOTIFY-HEADER-INVALID", "$.notifications[2].headers.Transfer-Encoding"],
        ["FLT-NOTIFY-HEADER-INVALID", "$.notifications[2].headers.X-A"],
        ["FLT-NOTIFY-HEADER-INVALID", '$.notifications[2].headers["Bad Name"]'],
      ],
    );
  });
});
