/**
 * `npm run mutation [-- ID...] [-- --match REGEX] [-- --min 90]`: applies each hand-made mutant (mutants.ts) alone to
 * a copy of the checkout and runs its tests there; a mutant is caught when they fail. Prints one
 * line per mutant and the figure (caught/total, %); exits 1 below `--min` (default 90) or when a
 * mutant no longer applies (its text is gone from the source or occurs twice) or breaks the syntax.
 *
 * The copy (in the system's temporary folder, removed at the end) keeps the working tree untouched
 * whatever happens to this process. The unmutated tests must pass there first.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_TESTS, MUTANTS, type Mutant } from "./mutants.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TIMEOUT_MS = 300_000;

function parseArgs(argv: string[]): { ids: string[]; match: RegExp[]; min: number } {
  const ids: string[] = [];
  const match: RegExp[] = [];
  let min = 90;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--min") min = Number(argv[++i]);
    else if (argv[i] === "--match") match.push(new RegExp(argv[++i] ?? "(?!)"));
    else ids.push(argv[i]!);
  }
  if (!Number.isFinite(min)) throw new Error("--min takes a percentage");
  return { ids, match, min };
}

/** The mutants named, and those whose id matches a --match pattern; all of them when neither is given. */
export function selectMutants(all: readonly Mutant[], ids: readonly string[], match: readonly RegExp[]): Mutant[] {
  if (!ids.length && !match.length) return [...all];
  return all.filter((m) => ids.includes(m.id) || match.some((r) => r.test(m.id)));
}

/** A copy of the checkout without node_modules (linked), .git and build output. */
function copyCheckout(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "flotilla-mutation-"));
  const skip = new Set(["node_modules", ".git", "dist", "coverage", "test-artifacts"]);
  cpSync(ROOT, dir, { recursive: true, filter: (src) => !skip.has(path.basename(src)) || path.dirname(src) !== ROOT });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

function runTests(dir: string, tests: readonly string[]): { ok: boolean; failed: string[]; output: string } {
  const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=tap", ...tests], { cwd: dir, encoding: "utf8", timeout: TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: "" } });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  // Leaf tests that failed: "not ok N - name" lines not followed by a subtest block of their own.
  const failed = [...output.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1]!.trim()).filter((name) => !/\.test\.ts$/.test(name));
  return { ok: r.status === 0, failed, output };
}

function parses(dir: string, file: string): boolean {
  return spawnSync(process.execPath, ["--check", path.join(dir, file)], { encoding: "utf8" }).status === 0;
}

function occurrences(text: string, part: string): number {
  let n = 0;
  for (let at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) n++;
  return n;
}

function main(): number {
  const { ids, match, min } = parseArgs(process.argv.slice(2));
  const chosen = selectMutants(MUTANTS, ids, match);
  const unknown = ids.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length || !chosen.length) {
    process.stderr.write(unknown.length ? `no mutant named ${unknown.join(", ")}\n` : `no mutant id matches ${match.map(String).join(", ")}\n`);
    return 2;
  }
  const dir = copyCheckout();
  try {
    const suites = [...new Set(chosen.map((m) => JSON.stringify(m.tests ?? DEFAULT_TESTS)))].map((s) => JSON.parse(s) as string[]);
    for (const tests of suites) {
      const base = runTests(dir, tests);
      if (!base.ok) {
        process.stderr.write(`the unmutated tests fail (${tests.join(" ")}): fix them first\n${base.output.slice(-4000)}\n`);
        return 2;
      }
    }
    let caught = 0;
    const survivors: Mutant[] = [];
    const broken: string[] = [];
    for (const m of chosen) {
      const file = path.join(dir, m.file);
      const original = readFileSync(file, "utf8");
      const count = occurrences(original, m.from);
      if (count !== 1 || m.from.includes("\n") || m.from === m.to) {
        broken.push(`${m.id}: its text occurs ${count} times in ${m.file}`);
        process.stdout.write(`INVALID   ${m.id} (${m.file}: the text occurs ${count} times)\n`);
        continue;
      }
      const line = original.slice(0, original.indexOf(m.from)).split("\n").length;
      try {
        writeFileSync(file, original.replace(m.from, () => m.to));
        if (!parses(dir, m.file)) {
          writeFileSync(file, original);
          if (!parses(dir, m.file)) throw new Error(`${m.file} does not parse even unmutated: has node_modules changed under this run (npm ci)?`);
          broken.push(`${m.id}: the mutated ${m.file} does not parse`);
          process.stdout.write(`INVALID   ${m.id} (${m.file}:${line} does not parse)\n`);
          continue;
        }
        const r = runTests(dir, m.tests ?? DEFAULT_TESTS);
        if (!r.ok) caught++;
        else survivors.push(m);
        const by = r.failed.length ? ` — ${r.failed.length} failed, e.g. "${r.failed[0]}"` : "";
        process.stdout.write(`${r.ok ? "SURVIVED" : "caught  "}  ${m.id.padEnd(42)} ${m.kind.padEnd(13)} ${m.file}:${line}${by}\n`);
      } finally {
        writeFileSync(file, original);
      }
    }
    const total = chosen.length - broken.length;
    const pct = total ? (100 * caught) / total : 0;
    process.stdout.write(`\n${caught}/${total} mutants caught (${pct.toFixed(1)}%)${survivors.length ? `; survived: ${survivors.map((m) => m.id).join(", ")}` : ""}\n`);
    if (broken.length) process.stdout.write(`not applied (fix the list): ${broken.join("; ")}\n`);
    return broken.length || pct < min ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run only as the script, so a test can import selectMutants.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
