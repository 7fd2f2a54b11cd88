/**
 * The layering of docs/architecture.md is enforced by lint (eslint.config.js, LAYERS): each room of
 * src/ may import only the rooms below it. These checks lint probe files against the project's own
 * configuration, so a rule that stopped firing (a pattern that no longer matches, a room left out)
 * fails here, not only when someone adds a forbidden arrow.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";

const root = fileURLToPath(new URL("../", import.meta.url));
// The probes are not files of the TypeScript project: parse them without type information.
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked, { languageOptions: { parserOptions: { projectService: false, project: null } } }] });
// The table itself, from the configuration lint runs with.
const { LAYERS: layers, PROCESS_STARTERS: starters } = (await import(new URL("../eslint.config.js", import.meta.url).href)) as { LAYERS: Record<string, string[]>; PROCESS_STARTERS: string[] };

/** The layering messages lint gives for `code` as the file `file`. */
async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return result!.messages.filter((m) => m.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
}

describe("layering", () => {
  it("the controller may not import the server, not even a type (the API contract lives in src/api/)", async () => {
    const found = await violations("src/controller/probe.ts", 'import type { ServerDeps } from "../server/deps.ts";\nexport type { ServerDeps };\n');
    assert.equal(found.length, 1);
    assert.match(found[0]!, /src\/controller\/ may not import src\/server\//);
    assert.deepEqual(await violations("src/controller/probe.ts", 'import type { ControllerPort } from "../api/ports.ts";\nexport type { ControllerPort };\n'), []);
  });

  it("every room may import exactly the rooms LAYERS lists, from any depth of the room", async () => {
    const rooms = [...Object.keys(layers), "web"];
    for (const [room, allowed] of Object.entries(layers)) {
      for (const other of rooms.filter((r) => r !== room)) {
        for (const [file, up] of [[`src/${room}/probe.ts`, "../"], [`src/${room}/inner/probe.ts`, "../../"]] as const) {
          const found = await violations(file, `import type { X } from "${up}${other}/module.ts";\nexport type { X };\n`);
          assert.equal(found.length, allowed.includes(other) ? 0 : 1, `${file} importing src/${other}/: ${found.join("; ") || "allowed"}`);
        }
      }
    }
  });

  it("the rooms are the folders of src/ and point one way: no two rooms may import each other", async () => {
    const { readdir } = await import("node:fs/promises");
    const folders = (await readdir(`${root}src`, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    assert.deepEqual(folders.filter((f) => f !== "web" && !(f in layers)), [], "a new folder of src/ needs its place in LAYERS");
    for (const [room, allowed] of Object.entries(layers)) for (const other of allowed) assert.ok(!(layers[other] ?? []).includes(room), `${room} and ${other} may import each other`);
  });

  it("the dashboard may import the types of other rooms, never their code", async () => {
    assert.deepEqual(await violations("src/web/probe.ts", 'import type { CommitInfo } from "../api/types.ts";\nexport type { CommitInfo };\n'), []);
    assert.equal((await violations("src/web/probe.ts", 'import { WEBHOOK_OUTCOMES } from "../api/types.ts";\nexport { WEBHOOK_OUTCOMES };\n')).length, 1);
    assert.equal((await violations("src/web/probe.ts", 'import { readFile } from "node:fs/promises";\nexport { readFile };\n')).length, 1);
  });

  it("git runs from src/git/run.ts alone: no other file may start a process (a type import is fine)", async () => {
    const spawnGit = 'import { execFile } from "node:child_process";\nexport const run = execFile;\n';
    for (const file of ["src/controller/probe.ts", "src/config/probe.ts", "src/git/read-probe.ts", "src/cli/probe.ts", "src/deploy/traffic/probe.ts"]) {
      assert.equal((await violations(file, spawnGit)).length, 1, file);
      assert.equal((await violations(file, spawnGit.replace("node:child_process", "child_process"))).length, 1, file);
    }
    assert.deepEqual(await violations("src/git/read-probe.ts", 'import type { ChildProcess } from "node:child_process";\nexport type { ChildProcess };\n'), []);
    assert.deepEqual(starters, ["src/git/run.ts", "src/cli/demo-dashboard.ts"]);
    for (const file of starters) assert.deepEqual(await violations(file, spawnGit), [], file);
  });
});

