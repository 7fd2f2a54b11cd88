/**
 * The template sandbox: a template sees JSON data, our filters/tests/globals and an allow-list of
 * methods, nothing else; it has no loader; and it runs within a per-file budget. Each escape
 * payload here ran arbitrary JavaScript under the nunjucks compiler this replaced (the marker file
 * and the global flag prove it did nothing).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderTemplate, type RenderOptions } from "../../src/config/template.ts";
import { CYCLER_METHODS, DICT_METHODS, FILTERS, LIST_METHODS, LOOP_METHODS, STRING_METHODS, TESTS } from "../../src/config/template-builtins.ts";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";

const dir = mkdtempSync(path.join(tmpdir(), "flotilla-sandbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const MARKER = path.join(dir, "MARKER");
const js = `global.__flotillaPwned = 1; process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(MARKER)}, 'x'); return 1`;

const data = {
  image: "nginx:1.27",
  tgs: { blue: "arn:tg/blue", green: "arn:tg/green" },
  color: "blue",
  subnets: ["subnet-a", "subnet-b"],
  env: { LOG_LEVEL: "info", REGION: "us-east-1" },
  objs: [
    { name: "b", port: 2 },
    { name: "a", port: 1 },
  ],
};

function render(text: string, ctx: Record<string, unknown> = data, options?: RenderOptions) {
  return renderTemplate(text, ctx, "svc_svcdef.json", options);
}

function assertRefused(text: string, code: string, ctx: Record<string, unknown> = data, options?: RenderOptions) {
  const r = render(text, ctx, options);
  assert.equal(existsSync(MARKER), false, "the payload ran");
  assert.equal((globalThis as Record<string, unknown>)["__flotillaPwned"], undefined, "the payload ran");
  assert.equal(r.text, undefined, `rendered: ${r.text}`);
  assert.equal(r.problems[0]?.code, code, JSON.stringify(r.problems));
  assert.equal(r.problems[0]?.file, "svc_svcdef.json");
  return r.problems[0];
}

describe("template sandbox: no way into the host language", () => {
  const js1 = JSON.stringify(js);
  const payloads: [string, string][] = [
    ["range.constructor (the reported exploit)", `{% set p = range.constructor(${js1})() %}{{ p }}`],
    ["a string literal's constructor chain", `{{ ''.constructor.constructor(${js1})() }}`],
    ["subscript with a literal", `{{ range['constructor'](${js1})() }}`],
    ["subscript with a concatenated name", `{{ range['constr' ~ 'uctor'](${js1})() }}`],
    ["a computed name from set", `{% set k = 'constr' + 'uctor' %}{{ range[k](${js1})() }}`],
    ["a name assembled by filters", `{% set k = ['con', 'structor'] | join %}{{ (range[k])(${js1})() }}`],
    ["a name from input data", `{{ image[tgs.blue[0:0] ~ 'constructor'] }}`],
    ["__proto__ on data", "{{ tgs.__proto__ }}"],
    ["__proto__ by subscript", "{{ tgs['__pro' ~ 'to__'] }}"],
    ["Python dunders", "{{ ''.__class__.__mro__[1].__subclasses__() }}"],
    ["Python globals through a global", "{{ cycler.__init__.__globals__.os.popen('touch x') }}"],
    ["a list literal's members", `{{ [].constructor.constructor(${js1})() }}`],
    ["a dict literal's members", `{{ {}.constructor.constructor(${js1})() }}`],
    ["a number's members", `{{ (1).constructor.constructor(${js1})() }}`],
    ["the loop variable", `{% for x in subnets %}{{ loop.constructor.constructor(${js1})() }}{% endfor %}`],
    ["the loop variable by subscript", `{% for x in subnets %}{{ loop['constructor'] }}{% endfor %}`],
    ["a loop item", "{% for x in subnets %}{{ x['constructor'] }}{% endfor %}"],
    ["a macro", `{% macro m() %}{% endmacro %}{{ m.constructor(${js1})() }}`],
    ["caller inside a call block", `{% macro m() %}{{ caller.constructor(${js1})() }}{% endmacro %}{% call m() %}x{% endcall %}`],
    ["caller by subscript", `{% macro m() %}{{ caller['constructor'] }}{% endmacro %}{% call m() %}x{% endcall %}`],
    ["joiner", `{{ joiner().constructor(${js1})() }}`],
    ["cycler", "{% set c = cycler(1, 2) %}{{ c['constructor'] }}"],
    ["namespace", "{% set ns = namespace(a=1) %}{{ ns.__proto__ }}"],
    ["assigning into a namespace's prototype", "{% set ns = namespace() %}{% set ns.__proto__ = 1 %}"],
    ["dict()", "{{ dict(a=1)['constructor'] }}"],
    ["the attr filter", "{{ range | attr('constructor') }}"],
    ["the attr filter on data", "{{ tgs | attr('__proto__') }}"],
    ["map(attribute=)", "{{ objs | map(attribute='constructor') | list }}"],
    ["map(attribute=) with a dotted path", "{{ objs | map(attribute='name.constructor') | list }}"],
    ["map through the attr filter", "{{ objs | map('attr', 'constructor') | list }}"],
    ["sort(attribute=)", "{{ objs | sort(attribute='__proto__') }}"],
    ["selectattr", "{{ objs | selectattr('constructor') | list }}"],
    ["groupby", "{{ objs | groupby('constructor') }}"],
    ["|safe", `{{ (range | safe).constructor(${js1})() }}`],
    ["a set block's result", `{% set s %}x{% endset %}{{ s.constructor.constructor(${js1})() }}`],
    ["a method not on the allow-list", "{{ image.toString() }}"],
    ["a JavaScript array method", "{{ subnets.map(range) }}"],
    ["a mutating dict method", "{{ tgs.update({'x': 1}) }}"],
    ["a mutating list method", "{{ subnets.append('x') }}"],
    ["Python's str.format (a known Jinja escape)", "{{ '{0.__class__}'.format(image) }}"],
    ["a regular expression literal", "{{ r/(a+)+$/ }}"],
  ];
  for (const [what, text] of payloads) {
    it(`refuses ${what}`, () => {
      assertRefused(text, "FLT-TEMPLATE-FORBIDDEN");
    });
  }

  it("refuses a host name even in a branch that is never taken", () => {
    assertRefused(`{% if false %}{{ range.constructor(${JSON.stringify(js)})() }}{% endif %}`, "FLT-TEMPLATE-FORBIDDEN");
  });

  it("says where and why, with a hint", () => {
    const p = assertRefused('{\n  "image": "{{ image.constructor }}"\n}', "FLT-TEMPLATE-FORBIDDEN");
    assert.deepEqual([p.line, p.column], [2, 22]);
    assert.match(p.message, /'constructor' cannot be read/);
    const m = assertRefused("{{ image.toString() }}", "FLT-TEMPLATE-FORBIDDEN");
    assert.match(m.hint ?? "", /items\(\)/);
  });

  it("host values never reach a template through its data", () => {
    assertRefused("{{ fn }}", "FLT-TEMPLATE-FORBIDDEN", { fn: () => 1 });
    assertRefused("{{ when.getTime() }}", "FLT-TEMPLATE-FORBIDDEN", { when: new Date(0) });
    assertRefused("{{ o.x }}", "FLT-TEMPLATE-FORBIDDEN", { o: { x: new Map() } });
  });

  it("an own key that happens to be called constructor or __proto__ is only data", () => {
    const ctx = JSON.parse('{"m": {"constructor": "c", "__proto__": {"x": 1}}, "k": "constructor"}') as Record<string, unknown>;
    assert.equal(render("{{ m[k] }}", ctx).text, "c");
    assert.equal(render("{% for key, v in m.items() %}{{ key }};{% endfor %}", ctx).text, "constructor;__proto__;");
  });
});

describe("template sandbox: no loader", () => {
  for (const tag of ["{% include 'other_svcdef.json' %}", "{% import 'macros.j2' as m %}", "{% extends 'base.json' %}", "{% from 'macros.j2' import tag %}", "{% include '/etc/passwd' %}"]) {
    it(`refuses ${tag}`, () => {
      const p = assertRefused(`{"a": 1}${tag}`, "FLT-TEMPLATE-FORBIDDEN");
      assert.match(p.hint ?? "", /rendered on its own/);
    });
  }
});

describe("template sandbox: budget", () => {
  const cases: [string, string, RenderOptions?][] = [
    ["range(10**9)", "{% for i in range(10**9) %}{% endfor %}"],
    ["nested loops", "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"],
    ["macro recursion", "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}"],
    ["mutual macro recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}"],
    ["string multiplication", "{{ 'x' * 10**9 }}"],
    ["list multiplication", "{{ [1, 2] * 10**9 }}"],
    ["join of a huge range", "{{ range(10**8) | join(',') }}"],
    ["exponentiation", "{{ 10 ** 400 }}"],
    ["doubling a string in a loop", "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"],
    ["doubling a list in a loop", "{% set ns = namespace(l=[0]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"],
    ["a shared list written as JSON", "{% set ns = namespace(l=['" + "x".repeat(100) + "']) %}{% for i in range(30) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l | tojson }}"],
    ["output size", "{% for i in range(100000) %}" + "y".repeat(100) + "{% endfor %}"],
    ["str.replace growth", "{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s.replace('', ns.s) %}{% endfor %}"],
    ["padding", "{{ 'a'.ljust(10**9) }}"],
    ["format width", "{{ '%999999999s' | format('a') }}"],
    ["center filter", "{{ 'a' | center(10**9) }}"],
    ["indent filter", "{{ ('\\n' * 500000) | indent(1000) }}"],
    ["sorting huge lists", "{{ range(10**6) | sort }}"],
    ["nesting", "{{ " + "(".repeat(300) + "1" + ")".repeat(300) + " }}"],
    ["nesting that breaks the parser", "{{ " + "[".repeat(20000) + " }}"],
    ["steps", "{% for i in range(100000) %}{{ i }}{% endfor %}", { limits: { steps: 10_000 } }],
  ];
  for (const [what, text, options] of cases) {
    it(`stops ${what} with FLT-TEMPLATE-LIMIT`, () => {
      assertRefused(text, "FLT-TEMPLATE-LIMIT", data, options);
    });
  }

  it("stops at the wall-time limit (measured on the injected clock)", () => {
    let t = 0;
    const p = assertRefused("{% for i in range(50000) %}{{ i }}{% endfor %}", "FLT-TEMPLATE-LIMIT", data, { now: () => (t += 50) });
    assert.match(p.message, /longer than 2,000 ms/);
  });

  it("names the limit and the line", () => {
    const p = assertRefused('{\n"a": "{% for i in range(10**9) %}{% endfor %}"}', "FLT-TEMPLATE-LIMIT");
    assert.equal(p.line, 2);
    assert.match(p.message, /100,000 items/);
  });

  it("a raw block without its end tag is refused at once (nunjucks' own search is quadratic)", () => {
    assertRefused("{% raw %}" + "{% ra ".repeat(50000), "FLT-TEMPLATE-SYNTAX");
  });

  it("ordinary loops stay well within the budget", () => {
    assert.equal(render("{% for i in range(5000) %}{{ i }},{% endfor %}").text?.length, 5000 + [...Array(5000).keys()].join("").length);
  });
});

describe("template sandbox: what Gitmoxi repositories use keeps working", () => {
  it("a depdef loops over a Terraform map output's values, with loop.last placing commas", () => {
    const tf = { alarm_names: { cpu: "svc-cpu-high", mem: "svc-mem-high", "5xx": "svc-5xx" } };
    const t = '{"alarms": {"alarmNames": [{% for name in alarm_names.values() %}"{{ name }}"{% if not loop.last %}, {% endif %}{% endfor %}]}}';
    assert.deepEqual(JSON.parse(render(t, tf).text!), { alarms: { alarmNames: ["svc-cpu-high", "svc-mem-high", "svc-5xx"] } });
  });
  it("a svcdef picks one entry of a map by key (subscript with a variable and with a literal, .get)", () => {
    assert.equal(render('{{ tgs[color] }} {{ tgs["green"] }} {{ tgs.get("blue") }} {{ tgs.get("red", "none") }}').text, "arn:tg/blue arn:tg/green arn:tg/blue none");
  });
  it("items(), keys(), values() and loop.* (index, first, last, length, revindex)", () => {
    const t = "{% for k, v in env.items() %}{{ loop.index }}/{{ loop.length }}{{ ' first' if loop.first }}{{ ' last' if loop.last }}:{{ k }}={{ v }};{% endfor %}{{ env.keys() | list | join(',') }}|{{ env.values() | join(',') }}";
    assert.equal(render(t).text, "1/2 first:LOG_LEVEL=info;2/2 last:REGION=us-east-1;LOG_LEVEL,REGION|info,us-east-1");
  });
  it("environment blocks built from a map, in JSON", () => {
    const t = '[{% for name, value in env | dictsort %}{"name": "{{ name }}", "value": {{ value | tojson }}}{{ "," if not loop.last }}{% endfor %}]';
    assert.deepEqual(JSON.parse(render(t).text!), [{ name: "LOG_LEVEL", value: "info" }, { name: "REGION", value: "us-east-1" }]);
  });
  it("string methods real Jinja offers", () => {
    assert.equal(render("{{ image.split(':')[1] }} {{ image.upper() }} {{ image.startswith('nginx') }} {{ ' x '.strip() }} {{ 'a-b'.replace('-', '_') }} {{ '7'.zfill(3) }}").text, "1.27 NGINX:1.27 True x a_b 007");
  });
  it("filters on lists of objects", () => {
    assert.equal(render("{{ objs | sort(attribute='name') | map(attribute='port') | join(',') }} {{ objs | selectattr('port', 'gt', 1) | map(attribute='name') | first }} {{ objs | sum(attribute='port') }}").text, "1,2 b 3");
  });
  it("macros with defaults, call blocks, namespace, joiner, cycler, slices", () => {
    assert.equal(render("{% macro kv(k, v='-') %}{{ k }}={{ v }}{{ caller() if caller is defined }}{% endmacro %}{{ kv('a') }} {% call kv('b', 'c') %}!{% endcall %}").text, "a=- b=c!");
    assert.equal(render("{% set ns = namespace(total=0) %}{% for o in objs %}{% set ns.total = ns.total + o.port %}{% endfor %}{{ ns.total }}").text, "3");
    assert.equal(render("{% set j = joiner(', ') %}{% for s in subnets %}{{ j() }}{{ s }}{% endfor %}|{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}").text, "subnet-a, subnet-b|aba");
    assert.equal(render("{{ subnets[1:] }} {{ image[:5] }} {{ subnets[-1] }}").text, "['subnet-b'] nginx subnet-b");
  });
  it("prints values as Python's Jinja does", () => {
    assert.equal(render("{{ t }} {{ f }} {{ n }} {{ l }} {{ d }} {{ 1.5 }}", { t: true, f: false, n: null, l: [1, "a"], d: { k: "v" } }).text, "True False None [1, 'a'] {'k': 'v'} 1.5");
    assert.equal(render("{{ t | lower }} {{ l | tojson }}", { t: true, l: [1, "a"] }).text, 'true [1,"a"]');
  });
  it("Python truthiness: an empty list or dict is false", () => {
    assert.equal(render("{{ 'y' if l else 'n' }}{{ 'y' if d else 'n' }}", { l: [], d: {} }).text, "nn");
  });
  it("variables set in a loop stay in the loop (use namespace to carry them out)", () => {
    assert.equal(render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{% endfor %}{{ x }}").text, "1");
  });
  it("a raw block leaves Docker log-tag braces alone", () => {
    assert.equal(render('{"tag": "{% raw %}{{.Name}}/{{.ID}}{% endraw %}"}').text, '{"tag": "{{.Name}}/{{.ID}}"}');
  });
});

describe("template sandbox: notification templates in a depdef", () => {
  after(cleanupTrees);
  it("are checked when the depdef is validated: a forbidden construct names the depdef and the JSON path", async () => {
    const template = `{"text": "{{ deployment.object }} {{ range.constructor(${JSON.stringify(js)})() }}"}`;
    const repo = await loadTree({
      "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 1, launchType: "EC2", taskDefinition: "web:1" },
      // The depdef is itself a template: a notification template inside it is kept literal with raw.
      "apps/web/web_depdef.json": `{% raw %}${JSON.stringify({ notifications: [{ url: "https://hooks.example.com/x", template }] })}{% endraw %}`,
    });
    const p = repo.objects[0]!.problems.find((x) => x.code === "FLT-TEMPLATE-FORBIDDEN");
    assert.ok(p, JSON.stringify(repo.objects[0]!.problems));
    assert.equal(p.file, "apps/web/web_depdef.json");
    assert.equal(p.path, "$.notifications[0].template");
    assert.match(p.message, /^notification template: '\.?constructor(\(\))?' cannot be (read|called).*\(line 1, column \d+ of the template\)$/);
    assert.equal(repo.objects[0]!.valid, false);
    assert.equal(existsSync(MARKER), false);
  });
});

describe("template sandbox: docs/format.md lists what templates can use", () => {
  it("every filter, test and method", () => {
    const doc = readFileSync(new URL("../../docs/format.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("### Templates are sandboxed"));
    for (const name of [...FILTERS.keys(), ...TESTS.keys()]) assert.ok(section.includes(`\`${name}\``), `${name} is not documented`);
    for (const name of [...DICT_METHODS.keys(), ...LIST_METHODS.keys(), ...STRING_METHODS.keys(), ...LOOP_METHODS.keys(), ...CYCLER_METHODS.keys()]) assert.ok(section.includes(`\`${name}(`), `${name}() is not documented`);
  });
});
