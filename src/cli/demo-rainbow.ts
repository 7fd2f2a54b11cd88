/**
 * The demo's rainbow act: a `shop` service whose every version runs beside the others at its own
 * URL. Two versions are deployed by commits, both URLs are opened in the simulated world (the
 * load balancer's answer, as `sim.route` gives it), then a cutover, a cut-back and a cleanup.
 */
import { writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { createCleanup, createCutover, planCleanup } from "../controller/rainbow.ts";
import type { Runner } from "../deploy/runner.ts";
import type { Simulator } from "../sim/simulator.ts";
import { defaultVpc } from "../sim/vpc.ts";
import type { Deployment } from "../store/types.ts";
import type { Context } from "./context.ts";
import { paint, type CliIO } from "./io.ts";
import { resultLine } from "./progress.ts";

export const SHOP = "dev/shop/shop";
const LIVE_HOST = "shop.dev.example.com";
const host = (version: string) => `${version}.shop.dev.example.com`;

/** The load balancer the shop's versions hang off: HTTPS 443 answering 404 until a version is live. */
export async function shopListener(sim: Simulator): Promise<string> {
  const elb = sim.world().elbv2;
  const lb = await elb.createLoadBalancer({ Name: "dev-shop" });
  const listener = await elb.createListener({
    LoadBalancerArn: lb["LoadBalancerArn"],
    Port: 443,
    Protocol: "HTTPS",
    Certificates: [{ CertificateArn: `arn:aws:acm:${sim.region}:${sim.account}:certificate/dev-shop` }],
    DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain", MessageBody: "no version is live" } }],
  });
  return String(listener["ListenerArn"]);
}

/** The shop object's four files, its version from the input file; the cluster and network from the dev Terraform outputs. */
export async function writeShop(dir: string, sim: Simulator, listenerArn: string, version: string): Promise<void> {
  const at = path.join(dir, "dev", "shop");
  await mkdir(at, { recursive: true });
  const json = (name: string, v: unknown) => writeFile(path.join(at, `shop_${name}.json`), typeof v === "string" ? v : JSON.stringify(v, null, 2) + "\n");
  await json("input", { ref: { file: ["infra/terraform/dev_outputs.json"], type: "TERRAFORM" }, version, image: `public.ecr.aws/nginx/nginx:1.27.${version === "v1" ? 3 : 4}` });
  await json(
    "svcdef",
    `{
  "cluster": "{{ cluster_name }}",
  "serviceName": "shop",
  "desiredCount": 2,
  "launchType": "FARGATE",
  "networkConfiguration": { "awsvpcConfiguration": { "subnets": {{ private_subnets | tojson }}, "securityGroups": {{ app_security_group_ids | tojson }} } },
  "deploymentConfiguration": { "deploymentCircuitBreaker": { "enable": true, "rollback": true } },
  "loadBalancers": [ { "containerName": "shop", "containerPort": 8080 } ]
}
`,
  );
  await json("taskdef", {
    family: "dev-shop",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    executionRoleArn: "{{ task_execution_role_arn }}",
    containerDefinitions: [{ name: "shop", image: "{{ image }}", essential: true, portMappings: [{ containerPort: 8080 }] }],
  });
  await json("depdef", {
    environment: { region: "{{ region }}", account: "{{ account_id }}" },
    stabilityCheck: { pollInterval: 10, timeout: 600 },
    rainbow: {
      version: "{{ version }}",
      listeners: [{ listenerArn }],
      route: { hostHeader: "{version}.shop.dev.example.com" },
      targetGroup: { vpcId: defaultVpc(sim.region, sim.account).vpcId, healthCheck: { path: "/healthz", intervalSeconds: 10, healthyThresholdCount: 2 } },
      cutover: "MANUAL",
      cleanup: { automatic: false, keep: 0 },
    },
  });
}

/** What the load balancer answers for a host now, in one line. */
export function openUrl(io: CliIO, sim: Simulator, hostName: string): string {
  const r = sim.route({ loadBalancer: "dev-shop", port: 443, host: hostName });
  const who = r.services.length ? `answered by ${r.services.join(", ")}` : r.action === "fixed-response" ? "the load balancer's own answer" : "no target";
  const line = `  GET https://${hostName}/ → ${r.status} ${paint(io, "dim", `(${who})`)}`;
  io.out(line + "\n");
  return r.services.join(",");
}

/** Cut over, cut back and clean up, printing each outcome; the deployments, in order. */
export async function shopOperations(io: CliIO, ctx: Context, runner: Runner, sim: Simulator, say: (t: string) => void): Promise<{ deployments: Deployment[]; reached: string[] }> {
  const request = { store: ctx.worldStore, runner, clock: ctx.clock, requestedBy: "demo", source: "cli" };
  const out: Deployment[] = [];
  const reached: string[] = [];
  for (const v of ["v1", "v2"]) reached.push(openUrl(io, sim, host(v)));
  reached.push(openUrl(io, sim, LIVE_HOST));
  say("Both versions answer at their own URLs; the live host still gets the load balancer's 404. Now make v2 live (flotilla cutover dev/shop/shop v2):");
  for (const [version, line] of [
    ["v2", "One ModifyListener call, read back: every request for the live host now reaches v2. Something is wrong with v2? Cut back, no redeploy (flotilla cutover dev/shop/shop v1):"],
    ["v1", "v2 is still up at its own URL, so cutting forward again would be as instant. Clean up what is not live (flotilla cleanup dev/shop/shop, after a --dry-run):"],
  ] as const) {
    const d = await runner.run(await createCutover(request, SHOP, version));
    out.push(d);
    io.out(resultLine(io, d) + "\n");
    reached.push(openUrl(io, sim, LIVE_HOST));
    say(line);
  }
  const plan = await planCleanup(ctx.worldStore, ctx.aws, SHOP, ctx.clock.now());
  io.out(`  would remove: ${plan.remove.join(", ") || "nothing"}; keeps ${plan.kept.map((k) => `${k.version} (${k.why})`).join(", ")}\n`);
  const cleaned = await runner.run(await createCleanup(request, SHOP));
  out.push(cleaned);
  io.out(resultLine(io, cleaned) + "\n");
  reached.push(openUrl(io, sim, host("v2")));
  return { deployments: out, reached };
}
