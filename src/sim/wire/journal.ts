/**
 * `sim serve --state FILE`: the world is persisted as what made it, not as a picture of it. The
 * simulator's model keeps its pending work (task starts, health checks, drains) as callbacks on
 * its agenda, which cannot be written down; but it is deterministic: the same scenario, the same
 * calls at the same simulated instants give the same world, ids included. So the file is a
 * journal: a header (the scenarios and the start time), then one JSON line per call the simulator
 * answered, with its instant, and `now` marks of how far time got. A restart replays it (server.ts)
 * and carries on from the last mark.
 *
 * Each line is written whole with one write() as the call is taken, so a killed server loses at
 * most the call it was writing (a torn last line is dropped on load); the file is fsynced every
 * second and on shutdown. The header is written to a temporary file and renamed into place.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import type { WireCall } from "./protocol.ts";

export interface JournalHeader {
  format: "flotilla-sim-state";
  version: 1;
  /** Simulated epoch ms of t=0. */
  start: number;
  /** The scenario files' contents as given, merged in this order. */
  scenarios: unknown[];
  labels: string[];
}

export type JournalEntry = { t: number; call: WireCall } | { t: number; script: number } | { now: number };

export class JournalError extends Error {}

export class Journal {
  private fd: number | undefined;
  private dirty = false;
  readonly path: string;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Open an existing journal (its header and entries) or start one with `header`. */
  static open(path: string, header: JournalHeader): { journal: Journal; header: JournalHeader; entries: JournalEntry[]; resumed: boolean } {
    if (!existsSync(path)) {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, JSON.stringify(header) + "\n");
      const fd = openSync(tmp, "r");
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, path);
      return { journal: new Journal(path, openSync(path, "a")), header, entries: [], resumed: false };
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new JournalError(`cannot read the state file ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const lines = text.split("\n");
    let saved: JournalHeader;
    try {
      saved = JSON.parse(lines[0] ?? "") as JournalHeader;
    } catch {
      throw new JournalError(`${path} is not a state file written by flotilla sim serve (its first line is not its header)`);
    }
    if (saved.format !== "flotilla-sim-state" || saved.version !== 1) throw new JournalError(`${path} is not a state file written by flotilla sim serve (format ${String(saved.format)}, version ${String(saved.version)})`);
    const entries: JournalEntry[] = [];
    let good = Buffer.byteLength(lines[0]!);
    let offset = good + 1;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line !== "") {
        try {
          entries.push(JSON.parse(line) as JournalEntry);
        } catch {
          // A server killed mid-write leaves a torn last line; anything else is damage.
          if (lines.slice(i + 1).some((l) => l !== "")) throw new JournalError(`${path}: line ${i + 1} is damaged; the world cannot be rebuilt past it`);
          break;
        }
        good = offset + Buffer.byteLength(line);
      }
      offset += Buffer.byteLength(line) + 1;
    }
    // Keep every whole line and end the file with a newline, so the next entry starts a line of its own.
    truncateSync(path, good);
    const fd = openSync(path, "a");
    writeSync(fd, "\n");
    return { journal: new Journal(path, fd), header: saved, entries, resumed: true };
  }

  append(entry: JournalEntry): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, JSON.stringify(entry) + "\n");
    this.dirty = true;
  }

  /** Flush to disk if anything was written since the last flush. */
  sync(): void {
    if (this.fd === undefined || !this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
