/** A local HTTP receiver on loopback that records every request (webhooks, GitHub's API). */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface Receiver {
  got: Received[];
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1; `answer` decides each response (default 200 "ok"); `n` counts from 1. */
export async function receiver(answer?: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<Receiver> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      if (answer) answer(req, res, got.length);
      else res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    got,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
