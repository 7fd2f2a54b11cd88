/**
 * Deployment objects are path prefixes: `dev/web/web_svcdef.json` and `dev/web/web_taskdef.json`
 * belong to object `dev/web/web`. Only the four exact suffixes count; every other file (including
 * `.json.sample` copies and Lambda's `_lambdainput.json`) is ignored.
 */
export const SUFFIXES = {
  svcdef: "_svcdef.json",
  taskdef: "_taskdef.json",
  depdef: "_depdef.json",
  input: "_input.json",
} as const;

export type FileKind = keyof typeof SUFFIXES;

export interface ObjectFiles {
  /** The object's name: its path prefix. */
  name: string;
  svcdef?: string;
  taskdef?: string;
  depdef?: string;
  input?: string;
}

export function classifyFile(file: string): { kind: FileKind; object: string } | undefined {
  for (const [kind, suffix] of Object.entries(SUFFIXES) as [FileKind, string][]) {
    if (file.endsWith(suffix) && file.length > suffix.length && !file.endsWith("/" + suffix)) {
      return { kind, object: file.slice(0, -suffix.length) };
    }
  }
  return undefined;
}

/** Group files into objects, sorted by name. Objects without a svcdef are returned too (as orphans). */
export function discoverObjects(files: Iterable<string>): ObjectFiles[] {
  const objects = new Map<string, ObjectFiles>();
  for (const file of files) {
    const c = classifyFile(file);
    if (!c) continue;
    let o = objects.get(c.object);
    if (!o) objects.set(c.object, (o = { name: c.object }));
    o[c.kind] = file;
  }
  return [...objects.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
