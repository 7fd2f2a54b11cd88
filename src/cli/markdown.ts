/**
 * GitHub-flavoured Markdown for the job summary and the pull-request comment. Everything that comes
 * from a repository (object and file names, messages that quote values) is untrusted: it is escaped
 * so it can neither start HTML (a forged hidden marker, a `<details>` that swallows the rest), nor
 * break a table or a code fence, nor mention people (`@team` in a message would notify them).
 */

const BACKSLASH_ESCAPED = /[\\`*_{}[\]()#+!|~]/g;

/** Plain inline text: HTML and Markdown punctuation escaped, mentions defused, one line. */
export function text(s: string): string {
  return oneLine(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(BACKSLASH_ESCAPED, (c) => `\\${c}`)
    .replace(/@/g, "@&#8203;");
}

/** An inline code span that no backtick in `s` can close early. */
export function code(s: string): string {
  const line = oneLine(s);
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = line.startsWith("`") || line.endsWith("`") || line === "" ? " " : "";
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside it. */
export function fenced(body: string, lang = ""): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${lang}\n${body.replace(/\n+$/, "")}\n${fence}`;
}

/** A table; cells are Markdown already (from `text`/`code`), and pipes in them are escaped here (GFM splits cells on them even inside code spans). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/(?<!\\)\|/g, "\\|")).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Text inside HTML (a `<summary>`, where Markdown is not read): entities only. */
export function html(s: string): string {
  return oneLine(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/@/g, "@&#8203;");
}

/** A collapsed section; `summary` is HTML already (from `html`), `body` Markdown. */
export function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, " ");
}

/**
 * Cut Markdown we generated to at most `limit` bytes of UTF-8, at a line boundary, closing any
 * code fence and `<details>` left open, and ending with `note`. GitHub refuses a comment over
 * 65,536 characters and drops a step summary over 1 MiB.
 */
export function truncate(markdown: string, limit: number, note: string): string {
  if (Buffer.byteLength(markdown) <= limit) return markdown;
  const budget = limit - Buffer.byteLength(note) - 256;
  const kept: string[] = [];
  let size = 0;
  let fence: string | undefined;
  let openDetails = 0;
  for (const line of markdown.split("\n")) {
    const cost = Buffer.byteLength(line) + 1;
    if (size + cost > budget) break;
    kept.push(line);
    size += cost;
    if (fence) {
      if (line === fence) fence = undefined;
    } else {
      const opening = /^(`{3,})[\w-]*$/.exec(line);
      if (opening) fence = opening[1];
      else {
        openDetails += (line.match(/<details>/g) ?? []).length;
        openDetails -= (line.match(/<\/details>/g) ?? []).length;
      }
    }
  }
  if (fence) kept.push(fence);
  for (let i = 0; i < openDetails; i++) kept.push("", "</details>");
  return `${kept.join("\n")}\n\n${note}\n`;
}
