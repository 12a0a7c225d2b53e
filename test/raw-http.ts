/**
 * An HTTP/1.1 client on a raw socket, for tests that must control exactly
 * which bytes are sent and when: hold a body open, send headers and nothing
 * else, wait for `100 Continue`. It reads answers one by one (interim `1xx`
 * answers included) and knows whether the server closed the connection.
 */

import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json: any;
}

export class RawConn {
  private buf = Buffer.alloc(0);
  private waiter: { resolve: (a: RawAnswer) => void; reject: (e: Error) => void } | undefined;
  /** Set once the server closed (or reset) the connection. */
  isClosed = false;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  /** Bytes written so far (headers and body). */
  sent = 0;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.deliver();
    });
    // A reset after the answer is fine: the answer was read first.
    sock.on('error', () => {});
    this.closed = new Promise((r) =>
      sock.on('close', () => {
        this.isClosed = true;
        this.deliver();
        r();
      }),
    );
  }

  static open(base: string): Promise<RawConn> {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  /** Writes bytes; resolves once they are handed to the kernel (never rejects: a closed server shows in `isClosed`). */
  write(data: string | Buffer): Promise<void> {
    if (this.sock.destroyed || !this.sock.writable) return Promise.resolve();
    this.sent += typeof data === 'string' ? Buffer.byteLength(data, 'latin1') : data.length;
    return new Promise((r) => this.sock.write(data, () => r()));
  }

  /** The next answer (a `100 Continue` too); rejects if the connection closes first. */
  answer(): Promise<RawAnswer> {
    if (this.waiter) throw new Error('one answer at a time');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
    });
  }

  destroy(): void {
    this.sock.destroy();
  }

  /** Drops the connection with a TCP reset, as a client that crashed or timed out does. */
  reset(): void {
    this.sock.resetAndDestroy();
  }

  private deliver(): void {
    if (!this.waiter) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end >= 0) {
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).trim().toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const length = status >= 100 && status < 200 ? 0 : Number(headers['content-length'] ?? NaN);
      if (Number.isNaN(length)) return this.fail(new Error(`an answer without Content-Length: ${lines[0]}`));
      if (this.buf.length >= end + 4 + length) {
        const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + length));
        this.buf = this.buf.subarray(end + 4 + length);
        let json: any;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve({ status, headers, body, json });
        return;
      }
    }
    if (this.isClosed) this.fail(new Error(`the connection closed before a whole answer (${this.buf.length} bytes read)`));
  }

  private fail(e: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}

/** The head of a POST with the given headers (Host added). */
export function postHead(path: string, headers: Record<string, string | number>): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}
