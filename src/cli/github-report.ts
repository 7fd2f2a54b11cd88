/**
 * What `validate`, `changes`, `plan` and `apply` add under `--output github` after their text
 * report: annotations, a Markdown section in the job summary and step outputs (github.ts).
 * Every value shown here was masked by the verb (problems, diffs, records) and is masked again on
 * its way out.
 */
import type { ChangeSet } from "../config/changes.ts";
import type { LoadedObject } from "../config/load-object.ts";
import type { ApplyResult, Decision } from "../controller/apply.ts";
import type { ObjectPlan } from "../controller/plan.ts";
import { hasErrors, sortProblems, type Problem } from "../core/problems.ts";
import type { deploymentRecord } from "../store/record.ts";
import { annotate, annotationScope, problemsMarkdown, setOutputs, writeSummary, type AnnotationScope } from "./github.ts";
import type { CliIO } from "./io.ts";
import * as md from "./markdown.ts";
import { plural } from "./output.ts";
import type { ValidateReport } from "./validate.ts";

function where(scope: AnnotationScope): string {
  return scope.prefix ? ` in ${md.code(scope.prefix.replace(/\/$/, ""))}` : "";
}

export async function githubValidate(io: CliIO, dir: string, report: ValidateReport): Promise<void> {
  const scope = await annotationScope(io, dir);
  const result = annotate(io, report.problems, scope);
  const s = report.summary;
  const verdict = report.valid ? "valid" : "invalid";
  const parts = [
    `### Flotilla validate${where(scope)}`,
    `**${plural(s.objects, "object")}: ${verdict}** (${plural(s.invalid, "invalid object")}) — ${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}`,
  ];
  const problems = problemsMarkdown(scope, result);
  if (problems) parts.push(problems);
  writeSummary(io, parts.join("\n\n"));
  setOutputs(io, { valid: String(report.valid), errors: String(s.errors), warnings: String(s.warnings) });
}

const CHANGE_LABEL = { deploy: "deploy", delete: "delete", none: "nothing" } as const;

export async function githubChanges(io: CliIO, dir: string, set: ChangeSet): Promise<void> {
  const scope = await annotationScope(io, dir);
  const problems = sortProblems(set.changes.flatMap((c) => c.problems.map((p) => ({ ...p, object: p.object ?? c.object }))));
  const result = annotate(io, problems, scope);
  const range = `${set.from ? md.code(set.from.slice(0, 12)) : "(first commit)"} → ${md.code(set.to.slice(0, 12))}`;
  const parts = [`### Flotilla changes${where(scope)}: ${range}`];
  if (set.changes.length === 0) parts.push("No deployment object changed.");
  else {
    parts.push(
      md.table(
        ["", "object", "why", "files"],
        set.changes.map((c) => [
          `**${CHANGE_LABEL[c.action]}**${hasErrors(c.problems) ? " (invalid)" : ""}`,
          md.code(c.object),
          md.text(c.description),
          c.files.map((f) => `${md.code(`${scope.prefix}${f.path}`)} ${f.status}`).join("<br>"),
        ]),
      ),
    );
    const count = (a: string) => set.changes.filter((c) => c.action === a).length;
    parts.push(`${plural(count("deploy"), "deploy")}, ${plural(count("delete"), "delete")}, ${plural(count("none"), "unchanged object")}`);
  }
  const problemsSection = problemsMarkdown(scope, result);
  if (problemsSection) parts.push(problemsSection);
  writeSummary(io, parts.join("\n\n"));
  const names = (a: string) => JSON.stringify(set.changes.filter((c) => c.action === a).map((c) => c.object));
  setOutputs(io, { deploys: names("deploy"), deletes: names("delete") });
}

const PLAN_LABEL = { create: "create", update: "update", none: "no change", invalid: "invalid", blocked: "blocked" } as const;

export async function githubPlan(io: CliIO, dir: string, plans: readonly ObjectPlan[], objects: readonly LoadedObject[], target: string, repoProblems: readonly Problem[] = []): Promise<void> {
  const scope = await annotationScope(io, dir);
  const planned = new Set(plans.map((p) => p.object));
  const invalid = objects.filter((o) => !o.valid && planned.has(o.name)).flatMap((o) => o.problems.filter((p) => p.severity === "error"));
  const result = annotate(io, sortProblems([...invalid, ...plans.flatMap((p) => p.problems), ...repoProblems.filter((p) => p.severity === "error")]), scope);
  const parts = [`### Flotilla plan${where(scope)} against ${target}`];
  if (plans.length === 0) parts.push("No object to plan.");
  else {
    parts.push(
      md.table(
        ["", "object", "why"],
        plans.map((p) => [`**${PLAN_LABEL[p.action]}**${p.wouldBe ? ` (${p.wouldBe} once fixed)` : ""}`, md.code(p.object), [...p.reasons, ...p.notCompared.map((n) => `not compared: ${n}`)].map(md.text).join("<br>")]),
      ),
    );
    const count = (a: ObjectPlan["action"]) => plans.filter((p) => p.action === a).length;
    parts.push(
      [`${count("create")} to create`, `${count("update")} to update`, `${count("none")} unchanged`, ...(count("blocked") ? [`${count("blocked")} blocked`] : []), ...(count("invalid") ? [`${count("invalid")} invalid`] : [])].join(", "),
    );
    for (const p of plans) {
      const diffs = [p.service, p.taskDefinition].filter((d) => d.changed).map((d) => d.text.replace(/\n*$/, ""));
      if (diffs.length) parts.push(md.details(`<code>${md.html(p.object)}</code>: ${PLAN_LABEL[p.action]}, the diff`, md.fenced(diffs.join("\n"), "diff")));
    }
  }
  const problemsSection = problemsMarkdown(scope, result);
  if (problemsSection) parts.push(problemsSection);
  writeSummary(io, parts.join("\n\n"));
  setOutputs(io, { plan: JSON.stringify(Object.fromEntries(plans.map((p) => [p.object, p.action]))) });
}

const DECISION_LABEL: Record<Decision["action"], string> = { create: "create", update: "update", delete: "delete", none: "no change", invalid: "invalid", blocked: "blocked" };

type DeploymentRecord = ReturnType<typeof deploymentRecord>;

/** `records`: the resumed and new deployments, masked as `--output json` prints them. */
export async function githubApply(io: CliIO, dir: string, result: ApplyResult, objects: readonly LoadedObject[], options: { dryRun: boolean; target: string; records: readonly DeploymentRecord[] }): Promise<void> {
  const scope = await annotationScope(io, dir);
  const invalid = objects.filter((o) => !o.valid).flatMap((o) => o.problems.filter((p) => p.severity === "error"));
  const annotated = annotate(io, sortProblems(invalid), scope);
  const records = options.records;
  for (const d of records) {
    if (d.phase !== "Succeeded") io.github?.command("error", { title: `Flotilla deployment ${d.phase}` }, `${d.object}: ${d.phase}${d.reason ? ` (${d.reason})` : ""}${d.message ? `: ${d.message}` : ""} — deployment ${d.id}`);
  }
  for (const x of result.errors) io.github?.command("error", { title: "Flotilla deployment stopped" }, `${x.object}: ${x.message}${x.deploymentId ? ` — deployment ${x.deploymentId}; the next apply resumes it if it is unfinished` : ""}`);
  const parts = [`### Flotilla apply${where(scope)} against ${options.target}${options.dryRun ? " (dry run: nothing changed)" : ""}`];
  parts.push(
    result.decisions.length
      ? md.table(
          ["", "object", "why"],
          result.decisions.map((d) => [`**${DECISION_LABEL[d.action]}**`, md.code(d.object), md.text(d.why) + (d.action === "delete" && d.held ? `<br>**held back:** ${md.text(d.held.message)}` : "") + (d.action === "blocked" ? d.problems.filter((p) => p.severity === "error").map((p) => `<br>${md.code(p.code)} ${md.text(p.message)}`).join("") : "")]),
        )
      : "No object to deploy.",
  );
  if (records.length) {
    parts.push(
      md.table(
        ["phase", "object", "deployment", "outcome"],
        records.map((d) => [`**${d.phase}**`, md.code(d.object), md.code(d.id), md.text([d.reason, d.message].filter(Boolean).join(": "))]),
      ),
    );
  }
  if (result.errors.length) parts.push(md.table(["stopped", "deployment", "error"], result.errors.map((x) => [md.code(x.object), x.deploymentId ? md.code(x.deploymentId) : "", md.text(x.message)])));
  const failed = records.filter((d) => d.phase !== "Succeeded").length + result.errors.length;
  parts.push(`${plural(records.length, "deployment")}: ${records.length - records.filter((d) => d.phase !== "Succeeded").length} succeeded, ${failed} failed or stopped`);
  const problemsSection = problemsMarkdown(scope, annotated);
  if (problemsSection) parts.push(problemsSection);
  writeSummary(io, parts.join("\n\n"));
  setOutputs(io, { deployments: JSON.stringify(records.map((d) => ({ object: d.object, id: d.id, phase: d.phase, reason: d.reason }))), failed: String(failed) });
}
