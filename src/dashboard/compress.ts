/**
 * Compression on the wire, negotiated by `Accept-Encoding`:
 *
 * - a response (a page, a fragment, JSON) of 1 KiB or more goes out as
 *   brotli (quality 5: a 1,000-task page compresses in a few ms) or gzip,
 *   compressed on libuv's thread pool, not on the event loop;
 * - the event stream is gzip with one compression context for the whole
 *   connection, flushed after every event (`Z_SYNC_FLUSH`): each event
 *   reaches the page at once, and an update to a row is mostly a repeat of
 *   that row's previous update, which the shared context sends as a few
 *   back-references.
 */
import { brotliCompress, constants, createGzip, gzip, type Gzip } from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";

export type Encoding = "br" | "gzip";

const MIN_BYTES = 1024;

/** The encoding to use for a client's `Accept-Encoding` (brotli first where allowed; `stream`: gzip only). */
export function pickEncoding(accept: string | string[] | undefined, stream = false): Encoding | null {
  const raw = (Array.isArray(accept) ? accept.join(",") : (accept ?? "")).toLowerCase();
  const allowed = new Set<string>();
  for (const part of raw.split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((x) => /^\s*q=([\d.]+)/.exec(x)?.[1]).find((x) => x !== undefined);
    if (name && (q === undefined || Number(q) > 0)) allowed.add(name.trim());
  }
  if (!stream && allowed.has("br")) return "br";
  if (allowed.has("gzip")) return "gzip";
  return null;
}

/** Sends `body`, compressed when the client accepts it and it is worth it. */
export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const enc = Buffer.byteLength(body) >= MIN_BYTES ? pickEncoding(req.headers["accept-encoding"]) : null;
  if (!enc || req.method === "HEAD") {
    res.writeHead(status, { ...headers, vary: "accept-encoding" });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const done = (err: Error | null, out: Buffer) => {
    if (res.destroyed) return;
    if (err) {
      res.writeHead(status, { ...headers, vary: "accept-encoding" });
      res.end(body);
      return;
    }
    res.writeHead(status, { ...headers, "content-encoding": enc, "content-length": String(out.length), vary: "accept-encoding" });
    res.end(out);
  };
  if (enc === "br") {
    brotliCompress(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(body) } }, done);
  } else gzip(body, { level: 6 }, done);
}

/** One open event stream: `send` writes an event and flushes it through the compressor. */
export class EventStream {
  private readonly gz: Gzip | null;

  constructor(
    readonly res: ServerResponse,
    encoding: Encoding | null,
  ) {
    if (encoding === "gzip") {
      this.gz = createGzip({ level: 6 });
      this.gz.pipe(res);
    } else this.gz = null;
  }

  send(text: string): void {
    if (this.res.destroyed) return;
    if (this.gz) {
      this.gz.write(text);
      this.gz.flush(constants.Z_SYNC_FLUSH);
    } else this.res.write(text);
  }

  end(): void {
    if (this.gz) this.gz.end();
    else this.res.end();
  }

  /** The page went away: free the compressor. */
  dispose(): void {
    if (!this.gz) return;
    this.gz.unpipe(this.res);
    this.gz.destroy();
  }
}
