import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderTemplate } from "../../src/config/template.ts";

function render(text: string, ctx: Record<string, unknown> = {}) {
  return renderTemplate(text, ctx, "svc_svcdef.json");
}

describe("templates: Jinja2 features", () => {
  it("substitutes variables, dotted and subscript access", () => {
    assert.equal(render('{{ a }}-{{ b.c }}-{{ t["blue-tg"] }}', { a: 1, b: { c: "x" }, t: { "blue-tg": "arn" } }).text, "1-x-arn");
  });
  it("tojson emits JSON, with optional indent", () => {
    assert.equal(render("{{ v | tojson }}", { v: ["a", { b: true }] }).text, '["a",{"b":true}]');
    assert.equal(render("{{ v | tojson(2) }}", { v: { a: 1 } }).text, '{\n  "a": 1\n}');
    assert.equal(render("{{ s | tojson }}", { s: 'q"uote' }).text, '"q\\"uote"');
  });
  it("default covers missing variables and missing members", () => {
    assert.equal(render("{{ x | default('d') }}").text, "d");
    assert.equal(render("{{ o.y | default(5) }}", { o: {} }).text, "5");
    assert.equal(render("{{ e | default('d', true) }}", { e: "" }).text, "d");
    assert.equal(render("{{ e | default('d') }}", { e: "" }).text, "");
  });
  it("for loops with loop.last and dict methods, if/else, set", () => {
    const t = '{% for v in m.values() %}"{{ v }}"{% if not loop.last %},{% endif %}{% endfor %}';
    assert.equal(render(t, { m: { a: "1", b: "2" } }).text, '"1","2"');
    assert.equal(render("{% if n > 2 %}big{% else %}small{% endif %}", { n: 3 }).text, "big");
    assert.equal(render("{% set y = n * 2 %}{{ y }}", { n: 3 }).text, "6");
    assert.equal(render("{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}", { m: { a: 1 } }).text, "a=1;");
  });
  it("format works as in Jinja (Python % formatting)", () => {
    assert.equal(render('{{ "%s-%d" | format(name, 7) }}', { name: "web" }).text, "web-7");
    assert.equal(render('{{ "%05.1f%%" | format(3.14159) }}').text, "003.1%");
    assert.equal(render('{{ "%(a)s/%(b)s" | format({"a": 1, "b": "x"}) }}').text, "1/x");
    assert.equal(render('{{ "%s" | format(missing) }}').problems[0]?.code, "FLT-TEMPLATE-UNDEFINED");
  });
  it("whitespace control and comments", () => {
    assert.equal(render("[{%- for i in xs %} {{ i }}{% endfor -%} ]{# note #}", { xs: [1, 2] }).text, "[ 1 2]");
  });
  it("is defined guards a missing variable", () => {
    assert.equal(render("{% if x is defined %}{{ x }}{% else %}none{% endif %}").text, "none");
  });
  it("an unused branch may reference missing variables (as Jinja's StrictUndefined)", () => {
    assert.equal(render('{% if env == "prod" %}{{ prod_only }}{% endif %}ok', { env: "dev" }).text, "ok");
  });
  it("leaves text without Jinja syntax untouched", () => {
    assert.equal(render('{"a": "b"}').text, '{"a": "b"}');
  });
});

describe("templates: strict undefined", () => {
  const cases: [string, string, Record<string, unknown>, string, number, number][] = [
    ["printed", '{\n  "image": "{{ image }}"\n}', {}, "image", 2, 16],
    ["missing member", '{\n\n  "a": {{ db.host }}\n}', { db: {} }, "db.host", 3, 11],
    ["condition", "{% if flag %}x{% endif %}", {}, "flag", 1, 7],
    ["iterated", "{% for i in items %}{{ i }}{% endfor %}", {}, "items", 1, 13],
    ["compared", '{% if env == "prod" %}x{% endif %}', {}, "env", 1, 7],
    ["filtered", "{{ name | upper }}", {}, "name", 1, 4],
    ["tojson", "{{ list | tojson }}", {}, "list", 1, 4],
    ["arithmetic", "{{ n + 1 }}", {}, "n", 1, 4],
    ["or operand", '{{ a or "b" }}', {}, "a", 1, 4],
  ];
  for (const [what, text, ctx, name, line, column] of cases) {
    it(`fails when an undefined variable is ${what}, naming it with line and column`, () => {
      const r = render(text, ctx);
      assert.equal(r.text, undefined);
      assert.equal(r.problems.length, 1);
      const p = r.problems[0]!;
      assert.equal(p.code, "FLT-TEMPLATE-UNDEFINED");
      assert.match(p.message, new RegExp(`'${name.replace(".", "\\.")}'`));
      assert.equal(p.file, "svc_svcdef.json");
      assert.deepEqual([p.line, p.column], [line, column]);
    });
  }
  it("reports syntax errors with a position", () => {
    const p = render('{\n  "a": "{{ x }"\n}', { x: 1 }).problems[0]!;
    assert.equal(p.code, "FLT-TEMPLATE-SYNTAX");
    assert.equal(p.line, 2);
  });
  it("reports an unknown filter", () => {
    const p = render("{{ x | nosuchfilter }}", { x: 1 }).problems[0]!;
    assert.equal(p.code, "FLT-TEMPLATE-RENDER");
    assert.match(p.message, /nosuchfilter/);
  });
});
