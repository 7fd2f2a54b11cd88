/**
 * The one masker behind every output that can show a user's values: `render`, `plan`, dry runs
 * with rendered files, API answers, notifications and log lines. The rules (docs/format.md#masking):
 *
 * - strings listed as sensitive (Terraform outputs marked `sensitive`) are hidden wherever they appear;
 * - a value whose key looks secret (`"password": …`, a `dockerLabels`/`options`/`headers` entry), or
 *   the `value` beside a `name` that looks secret (ECS `environment`), is hidden, and so is every
 *   other occurrence of it in the same output;
 * - in text: the password of any `scheme://user:password@` URL, a lone user of an `http(s)://user@`
 *   URL, `NAME=value` and `?name=value` pairs, `"name": "value"` JSON pairs and `Bearer`/`Basic`
 *   credentials, where the name looks secret;
 * - ARNs are identifiers, never secrets (`secrets[].valueFrom`, `credentialsParameter`): they stay.
 *
 * Comparisons always use the real values (a changed password is a change); only what is shown is masked.
 */

export const MASK = "****";
/** Shown on the desired side of a diff when a masked value differs from the live one, so the diff still shows a line. */
export const MASK_CHANGED = "**** (changed)";

export interface MaskRules {
  /** Exact strings to hide wherever they appear (Terraform outputs marked sensitive). */
  sensitive?: readonly string[];
  /** Extra words that make a name look secret, matched like the built-in ones (whole words of the name). */
  secretNames?: readonly string[];
}

/**
 * Words of a name (split at `_`, `-`, `.`, spaces and camelCase) that make it look secret. Errs on the
 * side of masking: `AWS_ACCESS_KEY_ID` is an identifier, but it travels with the secret key and hiding
 * it costs nothing. Multi-word entries match consecutive words (`CONN_STR`, `CONNECTION_STRING`).
 */
export const SECRET_WORDS: readonly string[] = [
  "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS",
  "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATE", "AUTH", "OAUTH",
  "AUTHORIZATION", "BEARER", "DSN", "CONNSTR", "CONNECTIONSTRING", "CONN_STR", "CONN_STRING", "CONNECTION_STRING",
  "COOKIE", "SIGNATURE", "SIG", "SALT", "HMAC", "JWT",
];

/** Found anywhere in a name, even glued to other words (`DBPASSWORD`, `mysecretvalue`): unambiguous on their own. */
const SECRET_FRAGMENTS = ["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATEKEY"];

/** A secret-looking value shorter than this, or a bare number or boolean, is hidden where it stands but not hunted elsewhere (it would mask half the output). */
const MIN_HUNTED_LENGTH = 6;
const NOT_HUNTED = /^(true|false|yes|no|on|off|enabled|disabled|none|null|\d+)$/i;

const ARN = /^arn:aws[a-z-]*:/;

/** Fields that name the `value` beside them: ECS environment (`name`), tags (`key`), CloudFormation-style `Key`. */
const NAME_FIELDS = new Set(["name", "Name", "key", "Key"]);

function pairName(record: Record<string, unknown>): string | undefined {
  if (!("value" in record) && !("Value" in record)) return undefined;
  for (const f of NAME_FIELDS) if (typeof record[f] === "string") return record[f];
  return undefined;
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .map((w) => w.replace(/\d+$/, ""))
    .filter(Boolean);
}

export class Masker {
  private readonly sensitive: string[];
  private readonly phrases: string[][];
  private readonly extra: readonly string[];

  constructor(rules: MaskRules = {}) {
    this.extra = rules.secretNames ?? [];
    this.phrases = [...SECRET_WORDS, ...this.extra].map((w) => words(w)).filter((p) => p.length > 0);
    this.sensitive = sortLongestFirst(rules.sensitive ?? []);
  }

  /** The same rules with more sensitive strings. */
  with(sensitive: readonly string[]): Masker {
    return sensitive.length === 0 ? this : new Masker({ sensitive: [...this.sensitive, ...sensitive], secretNames: this.extra });
  }

  looksSecret(name: string): boolean {
    const upper = name.toUpperCase();
    if (SECRET_FRAGMENTS.some((f) => upper.includes(f))) return true;
    const ws = words(name);
    return this.phrases.some((p) => ws.some((_w, i) => p.every((pw, j) => ws[i + j] === pw)));
  }

  /** Masks free text: sensitive strings, then the text rules (URLs, pairs, bearer credentials). */
  text(s: string): string {
    let out = s;
    for (const secret of this.sensitive) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return this.textRules(out);
  }

  /** A masked copy of a user's document (rendered definitions, problems): every rule. */
  value<T>(v: T): T {
    return this.document(v) as T;
  }

  /**
   * A masked copy of one of Flotilla's own answers (API bodies, events, records): text rules on every
   * string and ECS `name`/`value` pairs, but not the key rule, since our own fields name references
   * (a repository's `credentials` is the name of a server credential, not a secret). Rendered
   * definitions inside an answer are masked with `value` where they are built.
   */
  answer<T>(v: T): T {
    return this.document(v, undefined, false, false) as T;
  }

  /**
   * A masked copy of a document. `counterpart` is the other side of a diff at the same place; with
   * `markChanged`, a secret that differs from it is shown as MASK_CHANGED instead of MASK. Values
   * hidden by name are also hidden wherever else they appear in either side.
   */
  document(doc: unknown, counterpart?: unknown, markChanged = false, byKey = true): unknown {
    const found: string[] = [];
    this.collect(doc, byKey, found);
    if (counterpart !== undefined) this.collect(counterpart, byKey, found);
    const m = this.with(found.filter((x) => x.length >= MIN_HUNTED_LENGTH && !NOT_HUNTED.test(x)));
    return m.walk(doc, counterpart, markChanged, byKey);
  }

  /**
   * Whether the value at `key` of `record` is hidden by name: the `value` beside a secret-looking
   * `name` (ECS environment), or (`byKey`) a scalar under a secret-looking key (a docker label, a log
   * driver option, a header). Booleans say nothing; ARNs are identifiers.
   */
  private hiddenByName(record: Record<string, unknown>, key: string, byKey: boolean): boolean {
    const value = record[key];
    if (typeof value !== "string" && typeof value !== "number") return false;
    if (typeof value === "string" && ARN.test(value)) return false;
    const name = pairName(record);
    if (name !== undefined) {
      if (key === "value" || key === "Value") return this.looksSecret(name);
      if (NAME_FIELDS.has(key)) return false; // the pair's name (`{"key": "env", "value": …}` is an ECS tag)
    }
    return byKey && this.looksSecret(key);
  }

  private collect(v: unknown, byKey: boolean, out: string[]): void {
    if (Array.isArray(v)) for (const x of v) this.collect(x, byKey, out);
    else if (isRecord(v)) {
      for (const [key, value] of Object.entries(v)) {
        if (this.hiddenByName(v, key, byKey)) out.push(String(value));
        else this.collect(value, byKey, out);
      }
    }
  }

  private walk(v: unknown, other: unknown, markChanged: boolean, byKey: boolean): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((item, i) => this.walk(item, Array.isArray(other) ? other[i] : undefined, markChanged, byKey));
    if (!isRecord(v)) return v;
    const otherRecord = isRecord(other) ? other : undefined;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(v)) {
      if (this.hiddenByName(v, key, byKey)) {
        // "(changed)" only where the other side has the same secret with another value: elsewhere
        // the line differs anyway (a new variable, a new container) and the marker would be noise.
        const same = otherRecord !== undefined && otherRecord[key] !== undefined && (key !== "value" || otherRecord["name"] === v["name"]);
        out[key] = markChanged && same && otherRecord[key] !== value ? MASK_CHANGED : MASK;
      } else {
        out[key] = this.walk(value, otherRecord?.[key], markChanged, byKey);
      }
    }
    return out;
  }

  private textRules(s: string): string {
    if (!/[:=@]|bearer|basic/i.test(s)) return s;
    return (
      s
        // scheme://user:password@host → scheme://user:****@host (the password may hold an unencoded @).
        .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@?#"'<>\\]*):([^\s/?#"'<>\\]*)@/gi, (m, head: string, pw: string) => (pw === MASK ? m : `${head}:${MASK}@`))
        // http(s)://token@host: a lone user of a web URL is usually a token.
        .replace(/\b(https?:\/\/)([^\s:/@?#"'<>\\]+)@/gi, (m, head: string, user: string) => (user === MASK ? m : `${head}${MASK}@`))
        .replace(/\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{8,})/g, (m, kind: string, sp: string, cred: string) => (looksLikeCredential(cred) ? `${kind}${sp}${MASK}` : m))
        // "name": "value" (JSON in a log line or a message).
        .replace(/"([^"\\]{1,200})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (m, key: string, sep: string, value: string) =>
          this.looksSecret(key) && value !== MASK && !ARN.test(value) ? `"${key}"${sep}"${MASK}"` : m,
        )
        // "name": "DB_PASSWORD", "value": "…" (an ECS environment entry serialised into text).
        .replace(/("name"\s*:\s*"([^"\\]{1,200})"\s*,\s*"value"\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (m, head: string, name: string) => (this.looksSecret(name) ? `${head}"${MASK}"` : m))
        // NAME=value, --db-password=value, ?api_key=value.
        .replace(/(^|[\s?&;,(\[{"'-])([A-Za-z_][A-Za-z0-9_.-]{0,200})=("[^"]*"|'[^']*'|[^\s"'&;,)\]}]+)/g, (m, pre: string, name: string, value: string) => {
          if (!this.looksSecret(name) || value === MASK || ARN.test(value)) return m;
          const quote = value[0] === '"' || value[0] === "'" ? value[0] : "";
          return `${pre}${name}=${quote}${MASK}${quote}`;
        })
    );
  }
}

/** A word after Bearer/Basic that is a credential rather than English ("Bearer tokens are…"). */
function looksLikeCredential(s: string): boolean {
  return /[0-9._~+/=-]/.test(s) || (/[a-z]/.test(s) && /[A-Z]/.test(s));
}

function sortLongestFirst(strings: readonly string[]): string[] {
  return [...new Set(strings.filter((x) => x.length > 0))].sort((a, b) => b.length - a.length);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The default rules, for callers that have no configuration of their own. */
export const defaultMasker = new Masker();

export function looksSecret(name: string): boolean {
  return defaultMasker.looksSecret(name);
}

/** A writer whose every chunk goes through the masker's text rules (log lines, a logger's destination). */
export function maskedWriter(write: (text: string) => void, masker: Masker = defaultMasker): (text: string) => void {
  return (text) => write(masker.text(text));
}
