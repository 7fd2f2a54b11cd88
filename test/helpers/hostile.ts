/**
 * A corpus of hostile repository objects: template injection and resource exhaustion, spread over
 * the four files of an object. Each case is one complete object whose other files are valid, so
 * the expected code can only come from the payload. Escape payloads carry JavaScript that would
 * write a marker file and open connections to a loopback listener if it ever ran.
 */
import { createServer, type Server } from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { FileKind } from "../../src/config/discover.ts";
import type { ProblemCode } from "../../src/core/problems.ts";

export interface HostileCase {
  id: string;
  technique: string;
  /** The file that carries the payload. */
  kind: FileKind;
  code: ProblemCode;
  /** The file the problem names: the payload's own, or for data smuggled in an input, the file using it. */
  reportedIn: string;
  /** The object's files, relative to the repository root. */
  files: Record<string, string>;
}

/** What a payload would reach if it ran: a marker file path and a loopback port. */
export interface Target {
  marker: string;
  port: number;
}

const svcdef = (id: string) => JSON.stringify({ cluster: "apps", serviceName: id, desiredCount: 1, launchType: "EC2" });
const taskdef = (id: string) => JSON.stringify({ family: id, containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "a".repeat(64), memory: 128 }] });

/** JavaScript (double quotes only, so it fits in a Jinja string in single quotes) that would touch the host. */
function js(t: Target): string {
  return [
    `process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(t.marker)}, "pwned")`,
    `process.getBuiltinModule("net").connect(${t.port}, "127.0.0.1").on("error", () => 0)`,
    `globalThis.fetch("http://127.0.0.1:${t.port}/pwned").catch(() => 0)`,
    `return "pwned"`,
  ].join("; ");
}

export function hostileCorpus(t: Target): HostileCase[] {
  const J = `'${js(t)}'`;
  const cases: (Omit<HostileCase, "files" | "reportedIn"> & { payload: string })[] = [];
  const add = (id: string, kind: FileKind, code: ProblemCode, technique: string, payload: string) => cases.push({ id, kind, code, technique, payload });

  // svcdef: the file the reported exploit used
  add("s-range-constructor", "svcdef", "FLT-TEMPLATE-FORBIDDEN", "the reported exploit: range.constructor(code)()", `{% set p = range.constructor(${J})() %}{"cluster": "apps", "serviceName": "{{ p }}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-concat-name", "svcdef", "FLT-TEMPLATE-FORBIDDEN", "constructor by a subscript built with ~", `{"cluster": "apps", "serviceName": "{{ range['constr' ~ 'uctor'](${J})() }}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-python-globals", "svcdef", "FLT-TEMPLATE-FORBIDDEN", "Python SSTI: cycler.__init__.__globals__.os", `{"cluster": "apps", "serviceName": "{{ cycler.__init__.__globals__.os.popen('touch ${t.marker}').read() }}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-include-file", "svcdef", "FLT-TEMPLATE-FORBIDDEN", "{% include %} of a host file", `{"cluster": "apps", "serviceName": "x", "desiredCount": 1, "launchType": "EC2", "tags": [{"key": "k", "value": "{% include '/etc/passwd' %}"}]}`);
  add("s-range-billion", "svcdef", "FLT-TEMPLATE-LIMIT", "a loop over range(10**9)", `{"cluster": "apps", "serviceName": "x{% for i in range(10**9) %}{% endfor %}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-string-multiply", "svcdef", "FLT-TEMPLATE-LIMIT", "string multiplication 'x' * 10**9", `{"cluster": "apps", "serviceName": "{{ 'x' * 10**9 }}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-macro-recursion", "svcdef", "FLT-TEMPLATE-LIMIT", "unbounded macro recursion", `{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{"cluster": "apps", "serviceName": "{{ r(0) }}", "desiredCount": 1, "launchType": "EC2"}`);
  add("s-deep-parens", "svcdef", "FLT-TEMPLATE-LIMIT", "expression nesting that overflows a recursive parser", `{"cluster": "apps", "serviceName": "{{ ${"(".repeat(20000)}1${")".repeat(20000)} }}", "desiredCount": 1, "launchType": "EC2"}`);

  // taskdef
  add("t-literal-constructor", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "a string literal's constructor chain", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ ''.constructor.constructor(${J})() }}", "memory": 128}]}`);
  add("t-loop-variable", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "the loop variable's members", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128, "environment": [{% for x in [1] %}{"name": "A", "value": "{{ loop['constructor']['constructor'](${J})() }}"}{% endfor %}]}]}`);
  add("t-caller", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "caller inside a {% call %} block", `{% macro m() %}{{ caller.constructor(${J})() }}{% endmacro %}{"family": "t", "containerDefinitions": [{"name": "app", "image": "{% call m() %}x{% endcall %}", "memory": 128}]}`);
  add("t-attr-filter", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "the attr and map(attribute=) filters", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ ((range | attr('constr' ~ 'uctor')))(${J})() }}", "memory": 128}]}`);
  add("t-sort-attribute", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "sort(attribute='__proto__') over a list literal", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ [{'a': 1}] | sort(attribute='__proto__') | first }}", "memory": 128}]}`);
  add("t-method", "taskdef", "FLT-TEMPLATE-FORBIDDEN", "a method outside the allow-list (str.format)", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ '{0.__class__.__init__.__globals__}'.format(range) }}", "memory": 128}]}`);
  add("t-nested-loops", "taskdef", "FLT-TEMPLATE-LIMIT", "nested loops, 10^6 iterations", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "nginx{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "memory": 128}]}`);
  add("t-set-doubling", "taskdef", "FLT-TEMPLATE-LIMIT", "{% set %} doubling a string in a loop", `{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ ns.s }}", "memory": 128}]}`);
  add("t-join-range", "taskdef", "FLT-TEMPLATE-LIMIT", "|join of a huge range", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "{{ range(10**8) | join(',') }}", "memory": 128}]}`);
  add("t-exponent", "taskdef", "FLT-TEMPLATE-LIMIT", "exponentiation overflow", `{"family": "t", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": {{ 10 ** 400 }}}]}`);

  // depdef
  add("d-import", "depdef", "FLT-TEMPLATE-FORBIDDEN", "{% import %} of another file", `{% import '../../s-include-file/s-include-file_svcdef.json' as m %}{"stabilityCheck": {"timeout": 600}}`);
  add("d-extends", "depdef", "FLT-TEMPLATE-FORBIDDEN", "{% extends %}", `{% extends '/etc/hostname' %}{"stabilityCheck": {"timeout": 600}}`);
  add("d-dict-proto", "depdef", "FLT-TEMPLATE-FORBIDDEN", "dict()[k] with k computed to '__proto__'", `{% set k = '__pro' ~ 'to__' %}{"stabilityCheck": {"timeout": {{ dict(a=1)[k] }}}}`);
  add("d-notification-template", "depdef", "FLT-TEMPLATE-FORBIDDEN", "a notification body template (kept raw in the depdef) reaching the constructor", `{% raw %}{"notifications": [{"url": "https://hooks.example.com/x", "template": "{{ range.constructor(${J.replace(/"/g, '\\"')})() }}"}]}{% endraw %}`);
  add("d-raw-unterminated", "depdef", "FLT-TEMPLATE-SYNTAX", "an unterminated raw block (quadratic search in the parser)", `{% raw %}${"{% ra ".repeat(150_000)}`);
  add("d-bracket-backtracking", "depdef", "FLT-TEMPLATE-SYNTAX", "nested brackets that made the slice parser backtrack exponentially", `{"stabilityCheck": {"timeout": {{ ${"[".repeat(40)}1 2${"]".repeat(40)} }}}}`);
  add("d-output-size", "depdef", "FLT-TEMPLATE-LIMIT", "rendered output over the limit", `{"stabilityCheck": {"timeout": 600}, "alarms": {"alarmNames": [{% for i in range(99999) %}"${"a".repeat(40)}",{% endfor %}"a"]}}`);
  add("d-deep-output", "depdef", "FLT-JSON-TOO-DEEP", "a template generating deeply nested JSON", `{"stabilityCheck": {"timeout": 600}, "targetGroupArnPairs": {% for i in range(20000) %}[{% endfor %}{% for i in range(20000) %}]{% endfor %}}`);

  // input: JSON only, so it smuggles data, never code
  add("i-huge", "input", "FLT-FILE-TOO-LARGE", "an input file over the size limit", JSON.stringify({ pad: "x".repeat(5 * 1024 * 1024) }));
  add("i-deep", "input", "FLT-JSON-TOO-DEEP", "an input nested a million levels deep", `{"x": ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}`);
  add("i-proto-key", "input", "FLT-TEMPLATE-UNDEFINED", "an input key __proto__ trying to pollute the template's scope", '{"__proto__": {"serviceName": "polluted"}, "constructor": {"prototype": {"x": 1}}}');
  add("i-template-in-value", "input", "FLT-JSON-SYNTAX", "template code in a value: substituted as text, never rendered again", JSON.stringify({ count: `{{ range.constructor(${J})() }}` }));
  add("i-huge-string-concat", "input", "FLT-TEMPLATE-LIMIT", "a large input string concatenated by the template", JSON.stringify({ big: "b".repeat(600_000) }));
  add("i-list-cartesian", "input", "FLT-TEMPLATE-LIMIT", "an input list driving a cartesian loop", JSON.stringify({ xs: Array.from({ length: 500 }, (_, i) => i) }));

  return cases.map(({ id, kind, code, technique, payload }) => {
    const dir = `hostile/${id}/${id}`;
    const files: Record<string, string> = { [`${dir}_svcdef.json`]: svcdef(id), [`${dir}_taskdef.json`]: taskdef(id) };
    files[`${dir}_${kind}.json`] = payload;
    // Inputs are data: the svcdef decides how it is used, and reports what goes wrong.
    const usedBySvcdef = ["i-proto-key", "i-template-in-value", "i-huge-string-concat", "i-list-cartesian"].includes(id);
    const reportedIn = `${dir}_${usedBySvcdef ? "svcdef" : kind}.json`;
    if (id === "i-proto-key") files[`${dir}_svcdef.json`] = '{"cluster": "apps", "serviceName": "{{ serviceName }}", "desiredCount": 1, "launchType": "EC2"}';
    if (id === "i-template-in-value") files[`${dir}_svcdef.json`] = `{"cluster": "apps", "serviceName": "${id}", "desiredCount": {{ count }}, "launchType": "EC2"}`;
    if (id === "i-huge-string-concat") files[`${dir}_svcdef.json`] = `{"cluster": "apps", "serviceName": "${id}", "desiredCount": 1, "launchType": "EC2", "tags": [{"key": "k", "value": "{{ big ~ big }}"}]}`;
    if (id === "i-list-cartesian") files[`${dir}_svcdef.json`] = `{"cluster": "apps", "serviceName": "${id}", "desiredCount": 1, "launchType": "EC2"{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}}`;
    return { id, kind, code, technique, files, reportedIn };
  });
}

/**
 * Watches for any connection a payload might open: a loopback listener that counts connections,
 * and `net.Socket.prototype.connect` (which fetch and http use underneath) recording every attempt.
 */
export class NetworkWatch {
  readonly attempts: string[] = [];
  connections = 0;
  private server: Server | undefined;

  async start(): Promise<number> {
    this.server = createServer((_req, res) => res.end("ok"));
    this.server.on("connection", () => this.connections++);
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Record connect attempts made while `fn` runs (and the event-loop turns right after it). */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    const proto = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => net.Socket };
    const original = proto.connect;
    const attempts = this.attempts;
    proto.connect = function (this: net.Socket, ...args: unknown[]) {
      attempts.push(JSON.stringify(args[0]));
      return original.apply(this, args);
    };
    try {
      const out = await fn();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      return out;
    } finally {
      proto.connect = original;
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
