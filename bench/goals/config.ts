/**
 * G4, the config pipeline: render and validate a generated working tree of N objects (the mix of
 * templates Gitmoxi repositories use: plain placeholders, a `| tojson` list, a Terraform ref),
 * against reading the same files and JSON.parse of each, in the same process.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { median, timed } from "./measure.ts";

export async function generateTree(objects: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-"));
  await writeFile(path.join(dir, "tf.json"), JSON.stringify({ cluster: { value: "bench" }, subnets: { value: ["subnet-1", "subnet-2"] }, region: { value: "us-east-1" } }));
  for (let i = 0; i < objects; i++) {
    const d = path.join(dir, `team${i % 40}`, `svc${i}`);
    await mkdir(d, { recursive: true });
    await writeFile(path.join(d, `svc${i}_input.json`), JSON.stringify({ ref: { file: ["tf.json"], type: "TERRAFORM" }, image: `registry.example.com/svc${i}@sha256:${"a".repeat(64)}`, count: (i % 5) + 1 }));
    await writeFile(
      path.join(d, `svc${i}_svcdef.json`),
      `{"cluster": "{{ cluster }}", "serviceName": "svc${i}", "desiredCount": {{ count }}, "launchType": "FARGATE",
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}},
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": {{ subnets | tojson }}}}}`,
    );
    await writeFile(
      path.join(d, `svc${i}_taskdef.json`),
      `{"family": "svc${i}", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "containerDefinitions": [{"name": "app", "image": "{{ image }}", "portMappings": [{"containerPort": 80}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "{{ region }}", "awslogs-group": "/ecs/svc${i}"}}}]}`,
    );
    await writeFile(path.join(d, `svc${i}_depdef.json`), `{"environment": {"region": "{{ region }}"}, "stabilityCheck": {"timeout": 600}}`);
  }
  return dir;
}

export interface ConfigRun {
  objects: number;
  /** CPU seconds (medians of the repeats) of render + validate, and of read + JSON.parse. */
  load: number;
  baseline: number;
  loadWall: number;
  baselineWall: number;
}

/** Read every file of the tree (as the listing finds them) and JSON.parse it; templates that are not JSON yet count as read. */
function readAndParse(dir: string, files: string[]): number {
  let parsed = 0;
  for (const f of files) {
    const text = readFileSync(path.join(dir, f), "utf8");
    try {
      JSON.parse(text);
      parsed++;
    } catch {
      // a template ({{ count }} unquoted) is not JSON before rendering
    }
  }
  return parsed;
}

export async function renderAndValidate(objects: number, repeats = 3): Promise<ConfigRun> {
  const dir = await generateTree(objects);
  try {
    const source = new WorkingTreeSource(dir);
    const load: number[] = [];
    const base: number[] = [];
    const loadWall: number[] = [];
    const baseWall: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const b = await timed(async () => readAndParse(dir, await new WorkingTreeSource(dir).listFiles()));
      base.push(b.cpu);
      baseWall.push(b.wall);
      const l = await timed(() => loadRepository(source, loadOptions()));
      const invalid = l.result.objects.filter((o) => !o.valid);
      if (invalid.length) throw new Error(`${invalid.length} generated objects are invalid: ${JSON.stringify(invalid[0]?.problems[0])}`);
      load.push(l.cpu);
      loadWall.push(l.wall);
    }
    return { objects, load: median(load), baseline: median(base), loadWall: median(loadWall), baselineWall: median(baseWall) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
