// GET of a JSON answer with a bearer token, for the customers of the service scenario (their
// request's messages) and the figures read at the end of a run. Keep-alive connections through
// the given agent, so many small reads do not open a connection each.

import { Agent, get } from 'node:http';

export const keepAliveAgent = (maxSockets: number) => new Agent({ keepAlive: true, maxSockets });

/** The parsed body of a 200 answer; anything else is an Error naming the path and status. */
export function getJson(url: string, token: string, agent?: Agent): Promise<unknown> {
  const path = new URL(url).pathname;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`GET ${path}: not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
  });
}
