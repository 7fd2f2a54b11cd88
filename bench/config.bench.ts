/** Render and validate a generated repository of 2,000 objects; objects per second and peak memory. */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOptions, loadRepository } from "../src/config/repository.ts";
import { WorkingTreeSource } from "../src/config/source.ts";
import type { BenchFigure } from "./run.ts";

const OBJECTS = 2000;

export default async function (): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-"));
  try {
    await writeFile(path.join(dir, "tf.json"), JSON.stringify({ cluster: { value: "bench" }, subnets: { value: ["subnet-1", "subnet-2"] }, region: { value: "us-east-1" } }));
    for (let i = 0; i < OBJECTS; i++) {
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
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const start = performance.now();
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const invalid = repo.objects.filter((o) => !o.valid).length;
    if (invalid) throw new Error(`${invalid} generated objects are invalid: ${JSON.stringify(repo.objects.find((o) => !o.valid)?.problems[0])}`);
    return [
      { name: `render + validate ${OBJECTS} objects (working tree)`, value: seconds, unit: "s" },
      { name: "objects per second", value: OBJECTS / seconds, unit: "objects/s" },
      { name: "peak resident memory", value: peak / 1024 / 1024, unit: "MiB" },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
