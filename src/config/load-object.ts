/**
 * One deployment object, from files to validated definitions: load inputs, render the three
 * templates, parse them as JSON, validate each against its shape, then the cross-file rules.
 */
import { hasErrors, type Problem } from "../core/problems.ts";
import { parseDepDef, type DepDef } from "./depdef.ts";
import type { ObjectFiles } from "./discover.ts";
import { loadInputs, type InputEnvironment, type RefCache } from "./inputs.ts";
import { JsonDocument, type JsonObject } from "./json-document.ts";
import { checkObject } from "./rules.ts";
import { CREATE_SERVICE, REGISTER_TASK_DEFINITION, validateShape } from "./shapes.ts";
import type { RepoSource } from "./source.ts";
import { readRepoFile, type InputLimits } from "./limits.ts";
import { strategyOf, type DeployStrategy } from "./strategy.ts";
import { checkTemplate, isTemplate, renderTemplate, type TemplateLimits } from "./template.ts";

/** How an object deploys: from the depdef's `rainbow` block, else the svcdef's deployment controller. */
export type Strategy = DeployStrategy | "rainbow";

/** The AWS identity of the service an object manages. Two objects may never share one. */
export interface ServiceIdentity {
  region: string;
  cluster: string;
  service: string;
}

export interface LoadedObject {
  name: string;
  files: ObjectFiles;
  /** Rendered and parsed; present when the file exists and is valid JSON. */
  svcdef?: JsonObject;
  taskdef?: JsonObject;
  /** Always present: the depdef with defaults filled in. */
  depdef: DepDef;
  identity?: ServiceIdentity;
  strategy?: Strategy;
  /** Strings that must be masked in any output (sensitive Terraform outputs). */
  sensitive: string[];
  problems: Problem[];
  /** True when there are no error-severity problems. */
  valid: boolean;
}

export interface LoadOptions {
  /** Region used when the depdef names none (AWS_REGION, else us-east-1). */
  defaultRegion: string;
  refs: RefCache;
  /** File size, objects per commit, JSON depth (DEFAULT_INPUT_LIMITS). */
  limits: InputLimits;
  /** The environment variables ENV refs may read (none unless the operator allows some). */
  environment?: InputEnvironment;
  /** The template budget per file (DEFAULT_TEMPLATE_LIMITS for what is not given). */
  templateLimits?: Partial<TemplateLimits>;
}

export async function loadObject(source: RepoSource, files: ObjectFiles, options: LoadOptions): Promise<LoadedObject> {
  const problems: Problem[] = [];
  const inputs = await loadInputs(source, files.input, options.refs, options.limits, options.environment);
  problems.push(...inputs.problems);
  const inputsBroken = hasErrors(inputs.problems);

  const renderedLines = new Set<string>();
  const docs: Partial<Record<"svcdef" | "taskdef" | "depdef", JsonDocument>> = {};
  for (const kind of ["svcdef", "taskdef", "depdef"] as const) {
    const file = files[kind];
    if (!file) continue;
    const read = await readRepoFile(source, file, options.limits);
    if (!read || "problem" in read) {
      problems.push(read?.problem ?? { code: "FLT-FILE-UNREADABLE", severity: "error", file, message: "the file could not be read" });
      continue;
    }
    const text = read.text;
    // With broken inputs, a template would only report undefined variables that are really defined.
    if (inputsBroken && isTemplate(text)) continue;
    const rendered = renderTemplate(text, inputs.values, file, options.templateLimits ? { limits: options.templateLimits } : {});
    problems.push(...rendered.problems);
    if (rendered.text === undefined) continue;
    docs[kind] = new JsonDocument(file, rendered.text, { maxDepth: options.limits.jsonDepth });
    if (lineCount(text) !== lineCount(rendered.text)) renderedLines.add(file);
  }

  const svcdef = docs.svcdef?.object;
  const taskdef = docs.taskdef?.object;
  const depdefValue = docs.depdef?.object;
  for (const doc of Object.values(docs)) problems.push(...doc.problems);

  if (svcdef && docs.svcdef) problems.push(...validateShape(docs.svcdef, svcdef, CREATE_SERVICE));
  if (taskdef && docs.taskdef) problems.push(...validateShape(docs.taskdef, taskdef, REGISTER_TASK_DEFINITION));
  const { depdef, problems: depdefProblems, valid: depdefValid } = parseDepDef(depdefValue, docs.depdef);
  problems.push(...depdefProblems);
  if (docs.depdef) problems.push(...notificationTemplateProblems(depdef, docs.depdef));

  let identity: ServiceIdentity | undefined;
  let strategy: Strategy | undefined;
  if (svcdef && docs.svcdef) {
    identity = serviceIdentity(svcdef, depdef, options.defaultRegion);
    strategy = depdef.rainbow ? "rainbow" : strategyOf(svcdef);
    problems.push(...checkObject({ files, svcdef, svcdefDoc: docs.svcdef, taskdef, taskdefDoc: docs.taskdef, depdef, depdefDoc: docs.depdef, depdefGiven: depdefValue, depdefValid: depdefValid && (!files.depdef || depdefValue !== undefined), region: identity?.region }));
  }
  for (const p of problems) {
    p.object = files.name;
    if (p.line !== undefined && p.file && renderedLines.has(p.file) && !p.code.startsWith("FLT-TEMPLATE")) {
      p.message += " (line of the rendered file: see `flotilla render`)";
    }
  }
  return {
    name: files.name,
    files,
    ...(svcdef ? { svcdef } : {}),
    ...(taskdef ? { taskdef } : {}),
    depdef,
    ...(identity ? { identity } : {}),
    ...(strategy ? { strategy } : {}),
    sensitive: inputs.sensitive,
    problems,
    valid: !hasErrors(problems),
  };
}

/** Notification bodies render at delivery time; refuse what would never render (syntax, forbidden constructs) now. */
function notificationTemplateProblems(depdef: DepDef, doc: JsonDocument): Problem[] {
  const problems: Problem[] = [];
  depdef.notifications.forEach((n, i) => {
    const p = n.template === undefined ? undefined : checkTemplate(n.template);
    if (!p) return;
    const where = p.line !== undefined ? ` (line ${p.line}${p.column !== undefined ? `, column ${p.column}` : ""} of the template)` : "";
    problems.push(doc.problemAt(["notifications", i, "template"], { code: p.code, severity: "error", message: `notification template: ${p.message}${where}`, ...(p.hint ? { hint: p.hint } : {}) }));
  });
  return problems;
}

export function serviceIdentity(svcdef: JsonObject, depdef: DepDef, defaultRegion: string): ServiceIdentity | undefined {
  const name = svcdef["serviceName"];
  if (typeof name !== "string" || name === "") return undefined;
  const cluster = typeof svcdef["cluster"] === "string" && svcdef["cluster"] !== "" ? svcdef["cluster"] : "default";
  return { region: depdef.environment.region ?? defaultRegion, cluster: clusterName(cluster), service: name };
}

/** `arn:aws:ecs:us-east-1:123:cluster/prod` and `prod` name the same cluster. */
export function clusterName(cluster: string): string {
  const m = /^arn:[^:]+:ecs:[^:]*:\d*:cluster\/(.+)$/.exec(cluster);
  return m ? m[1]! : cluster;
}

export function identityKey(id: ServiceIdentity): string {
  return `${id.region}/${id.cluster}/${id.service}`;
}

/** Rendering may add or remove lines ({% for %}, multi-line values); then JSON positions refer to the rendered text. */
function lineCount(s: string): number {
  let n = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}
