// Sends hand-written bytes over a raw TCP socket and collects everything the other side sends
// until it closes the connection: for requests no HTTP client would send (HTTP/1.0, bare LF,
// duplicate Content-Length), where what matters is the exact answer, or that none came.

import { connect } from 'node:net';

export interface Exchange {
  /** Who ended the connection: the server, or our guard after `guardMs` without a close. */
  closedBy: 'server' | 'guard';
  /** Milliseconds from the first write to the close. */
  ms: number;
  /** Everything received, as latin1 text. */
  text: string;
  /** The first response's status code, undefined when nothing came. */
  status?: number;
  /** The first response's headers, names lower-cased. */
  headers: Record<string, string>;
  /** The first response's body (up to the end of what was received). */
  body: string;
}

/**
 * Writes `chunks`, each as one write, and resolves once the socket closes. With
 * `awaitAnswerBetween` each chunk after the first waits until something was received (a second
 * packet sent after the server answered the first). A connection still open after `guardMs` is
 * destroyed by us and reported as `closedBy: 'guard'`, so a silent server fails a test instead
 * of hanging it.
 */
export function exchange(port: number, chunks: Array<string | Buffer>, guardMs: number, awaitAnswerBetween = false): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closedBy: Exchange['closedBy'] = 'server';
    let started = 0;
    const guard = setTimeout(() => {
      closedBy = 'guard';
      socket.destroy();
    }, guardMs);
    let answered: () => void = () => {};
    const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
    socket.on('data', (data: Buffer) => {
      received.push(data);
      answered();
    });
    // A reset after a refusal is still the server closing; what was received before it counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      answered();
      resolve({ closedBy, ms: Date.now() - started, ...parseFirstResponse(Buffer.concat(received).toString('latin1')) });
    });
    socket.once('connect', async () => {
      started = Date.now();
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && awaitAnswerBetween) await firstAnswer;
        if (socket.destroyed) return;
        socket.write(chunk);
      }
    });
  });
}

function parseFirstResponse(text: string): Pick<Exchange, 'text' | 'status' | 'headers' | 'body'> {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { text, status: undefined, headers: {}, body: '' };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers['content-length'];
  const rest = text.slice(end + 4);
  return { text, status: Number(statusLine.split(' ')[1]), headers, body: length === undefined ? rest : rest.slice(0, Number(length)) };
}
