import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultServerConfig, loadServerConfig, parseServerConfig, ServerConfigError } from "../../src/controller/server-config.ts";
import type { Problem } from "../../src/core/problems.ts";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const BASE = "/etc/flotilla";
const parse = (text: string) => parseServerConfig(text, { file: "flotilla.yaml", baseDir: BASE });
function problems(text: string): Problem[] {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof ServerConfigError, String(e));
    return e.problems;
  }
  assert.fail("the configuration was accepted");
}

const FULL = `
listen: 0.0.0.0:8080
dataDir: /var/lib/flotilla
replica: flotilla-a
webhookSecretEnv: GH_WEBHOOK_SECRET
adminTokenEnv: FLOTILLA_ADMIN_TOKEN
logLevel: info
allowHttp: false
allowedLocalRoots: [/srv/git, repos]
http: { bodyLimit: 1048576, webhookBodyLimit: 5242880 }
credentials:
  github:
    type: token-env
    env: GITHUB_TOKEN
    hosts: [github.com]
  gitlab:
    type: token-file
    file: secrets/gitlab-token
    username: oauth2
    hosts: [gitlab.example.com, "gitlab.example.com:8443"]
  deploy-key:
    type: ssh-key
    file: /etc/flotilla/deploy_key
    knownHosts: known_hosts
    hosts: [github.com]
  vault:
    type: helper
    helper: vault
    hosts: [git.example.com]
notifications:
  targets:
    - url: https://hooks.example.com/flotilla
      headers: { Authorization: "Bearer \${HOOK_TOKEN}" }
  allowedTargets: ["https://hooks.slack.com/services/", alerts.example.com]
  allowedEnv: [HOOK_TOKEN]
  allowPrivateAddresses: [10.1.2.0/24, "fd00::/8", 192.168.1.10]
masking:
  secretNames: [LICENSE, PIN_CODE]
`;

describe("server configuration", () => {
  it("reads every section of a full YAML file; relative paths are relative to the file's directory", () => {
    const c = parse(FULL);
    assert.equal(c.listen, "0.0.0.0:8080");
    assert.equal(c.dataDir, "/var/lib/flotilla");
    assert.equal(c.replica, "flotilla-a");
    assert.equal(c.webhookSecretEnv, "GH_WEBHOOK_SECRET");
    assert.deepEqual(c.allowedLocalRoots, ["/srv/git", "/etc/flotilla/repos"]);
    assert.deepEqual(c.credentials["github"], { type: "token-env", env: "GITHUB_TOKEN", username: "x-access-token", hosts: ["github.com"] });
    assert.deepEqual(c.credentials["gitlab"], { type: "token-file", file: "/etc/flotilla/secrets/gitlab-token", username: "oauth2", hosts: ["gitlab.example.com", "gitlab.example.com:8443"] });
    assert.deepEqual(c.credentials["deploy-key"], { type: "ssh-key", file: "/etc/flotilla/deploy_key", knownHosts: "/etc/flotilla/known_hosts", hosts: ["github.com"] });
    assert.deepEqual(c.credentials["vault"], { type: "helper", helper: "vault", hosts: ["git.example.com"] });
    assert.deepEqual(c.notifications, {
      targets: [{ url: "https://hooks.example.com/flotilla", headers: { Authorization: "Bearer ${HOOK_TOKEN}" } }],
      allowedTargets: ["https://hooks.slack.com/services/", "alerts.example.com"],
      allowedEnv: ["HOOK_TOKEN"],
      allowPrivateAddresses: ["10.1.2.0/24", "fd00::/8", "192.168.1.10"],
    });
    assert.deepEqual(c.http, { bodyLimit: 1048576, webhookBodyLimit: 5242880 });
    assert.deepEqual(c.masking, { secretNames: ["LICENSE", "PIN_CODE"] });
  });

  it("reads JSON too, and an empty file or none at all means the safe defaults", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-config-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "c.json"), JSON.stringify({ allowHttp: true, credentials: { gh: { type: "token-env", env: "GH", hosts: ["github.com"] } } }));
    const c = await loadServerConfig("c.json", dir);
    assert.equal(c.allowHttp, true);
    assert.equal(c.dataDir, path.join(dir, ".flotilla"));
    for (const d of [parse(""), defaultServerConfig(BASE)]) {
      assert.equal(d.allowHttp, false);
      assert.deepEqual(d.allowedLocalRoots, []);
      assert.deepEqual(d.credentials, {});
      assert.deepEqual(d.notifications, { targets: [], allowedTargets: [], allowedEnv: [], allowPrivateAddresses: [] });
      assert.deepEqual(d.masking, { secretNames: [] });
      assert.equal(d.listen, "127.0.0.1:8080");
      assert.equal(d.adminTokenEnv, "FLOTILLA_ADMIN_TOKEN");
    }
    await assert.rejects(loadServerConfig("missing.yaml", dir), (e: { code?: string; problem: Problem }) => e.code === "FLT-SERVER-CONFIG" && e.problem.file === "missing.yaml");
  });

  it("refuses a credential helper that is a command, a '!' snippet or a path, with the file, the JSON path and the line", () => {
    for (const helper of ["!touch MARKER; echo", "store --file=/tmp/x", "/usr/bin/evil", "../../bin/sh", "vault;id", "$(id)", ""]) {
      const [p] = problems(`credentials:\n  bad:\n    type: helper\n    helper: ${JSON.stringify(helper)}\n    hosts: [github.com]\n`);
      assert.equal(p!.code, "FLT-SERVER-CONFIG");
      assert.equal(p!.file, "flotilla.yaml");
      assert.equal(p!.path, "$.credentials.bad.helper");
      assert.equal(p!.line, 4, helper);
      assert.match(p!.message, /never a command/);
    }
  });

  it("refuses credentials without hosts, hosts with schemes, paths or wildcards, and unknown keys", () => {
    const cases: [string, string][] = [
      ["credentials:\n  gh: { type: token-env, env: GH }\n", "$.credentials.gh.hosts"],
      ["credentials:\n  gh: { type: token-env, env: GH, hosts: [] }\n", "$.credentials.gh.hosts"],
      ["credentials:\n  gh: { type: token-env, env: GH, hosts: ['https://github.com'] }\n", "$.credentials.gh.hosts[0]"],
      ["credentials:\n  gh: { type: token-env, env: GH, hosts: ['*.github.com'] }\n", "$.credentials.gh.hosts[0]"],
      ["credentials:\n  gh: { type: token-env, env: GH, hosts: ['github.com/org'] }\n", "$.credentials.gh.hosts[0]"],
      ["credentials:\n  gh: { type: token-env, env: 'GH TOKEN', hosts: [github.com] }\n", "$.credentials.gh.env"],
      ["credentials:\n  gh: { type: token-env, env: GH, hosts: [github.com], value: ghp_x }\n", "$.credentials.gh.value"],
      ["credentials:\n  gh: { type: password, hosts: [github.com] }\n", "$.credentials.gh.type"],
      ["credentials:\n  'env:X': { type: token-env, env: X, hosts: [github.com] }\n", '$.credentials["env:X"]'],
      ["credentials:\n  k: { type: ssh-key, file: '-oProxyCommand=x', hosts: [github.com] }\n", "$.credentials.k.file"],
      ["allowedLocalRoots: [/]\n", "$.allowedLocalRoots[0]"],
      ["allowHttp: yes please\n", "$.allowHttp"],
      ["notifications: { allowPrivateAddresses: [10.0.0.0/33] }\n", "$.notifications.allowPrivateAddresses[0]"],
      ["notifications: { allowedEnv: ['A-B'] }\n", "$.notifications.allowedEnv[0]"],
      ["notifications: { targets: [{ url: 'file:///etc/passwd' }] }\n", "$.notifications.targets[0].url"],
      ["notifications: { allowedTargets: ['not a host'] }\n", "$.notifications.allowedTargets[0]"],
      ["masking: { secretNames: ['a b'] }\n", "$.masking.secretNames[0]"],
      ["masking: { showSensitive: true }\n", "$.masking.showSensitive"],
      ["listen: everywhere\n", "$.listen"],
      ["alowHttp: true\n", "$.alowHttp"],
    ];
    for (const [text, where] of cases) {
      const all = problems(text);
      assert.ok(all.every((p) => p.code === "FLT-SERVER-CONFIG" && p.file === "flotilla.yaml" && typeof p.line === "number"), text);
      assert.ok(all.some((p) => p.path === where), `${text}: ${JSON.stringify(all)}`);
    }
  });

  it("reports YAML syntax errors and duplicate keys with their line", () => {
    const [dup] = problems("allowHttp: true\nallowHttp: false\n");
    assert.equal(dup!.line, 2);
    const [syntax] = problems("credentials:\n  gh: [unclosed\n");
    assert.equal(syntax!.code, "FLT-SERVER-CONFIG");
    assert.ok(syntax!.line! >= 2);
  });
});
