// The server-wide budget for request bodies still arriving (--max-body-memory): slow uploads
// that send their headers and part of a body and then stall are admitted only within the budget;
// past it they are refused 503 `unavailable`, while an ordinary POST and the admitted uploads are
// still served and applied, and every byte is given back when they complete or their clients go
// away.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budget, untilBudget, untilInUse } from './budget-harness.ts';
import { bearer, getJson, location, postJson, received, startTestServer, type TestServer } from './gateway-harness.ts';
import { openConnection, type RawConnection, type RawResponse } from './gateway-raw-client.ts';

/** What each slow upload sends before stalling. */
const PART = 16 * 1024;
/** What each declares: the charge of an admitted upload. */
const DECLARED = 256 * 1024;
/** Uploads the budget admits at once. */
const ADMITTED = 4;
const UPLOADS = 16;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ limits: { maxBodyMemoryBytes: ADMITTED * DECLARED } });
});
afterAll(() => server?.stop());

/** A customer's service request, padded with trailing whitespace (still valid JSON) to `length` bytes. */
function paddedRequest(i: number, length: number): Buffer {
  const event = JSON.stringify([{ id: `slow-${i}`, type: 'service.requested', request: `slow-${i}`, subject: `cust-${i}`, channel: 'chat', topic: 'billing' }]);
  return Buffer.from(event.padEnd(length, ' '));
}

/** Sends the headers of a POST declaring the whole body, then only its first `part` bytes. */
async function startSlowUpload(url: string, token: string, body: Buffer, part: number): Promise<RawConnection> {
  const conn = await openConnection(url);
  const head = ['POST /v1/events HTTP/1.1', 'Host: test', 'Content-Type: application/json', `Authorization: Bearer ${token}`, `Content-Length: ${body.length}`];
  conn.socket.write(`${head.join('\r\n')}\r\n\r\n`);
  conn.socket.write(body.subarray(0, part));
  return conn;
}

/** Resolves once `count` of the promises have settled. */
function settledCount(promises: Array<Promise<unknown>>, count: number): Promise<void> {
  return new Promise((resolve) => {
    let settled = 0;
    if (count === 0) resolve();
    for (const p of promises) {
      void p.finally(() => {
        if (++settled === count) resolve();
      });
    }
  });
}

describe('body memory budget', () => {
  it('refuses slow uploads past the budget with 503, serves ordinary POSTs and the admitted uploads, and gives every byte back', async () => {
    const ingest = bearer(server.token('ingest', 'feed'));
    const bodies = Array.from({ length: UPLOADS }, (_, i) => paddedRequest(i, DECLARED));
    // Customer tokens: the ones in end users' hands.
    const uploads = await Promise.all(bodies.map((body, i) => startSlowUpload(server.url, server.token('customer', `cust-${i}`), body, PART)));
    const answers: Array<RawResponse | undefined> = new Array(UPLOADS);
    // The admitted ones never answer unless they go on; closing them ends their reads.
    const reads = uploads.map((conn, i) => conn.read().then((r) => (answers[i] = r), () => undefined));

    // An upload is admitted (charged DECLARED) or refused at its first partial chunk: the budget
    // fits ADMITTED of them, every other one is answered.
    await settledCount(reads, UPLOADS - ADMITTED);
    const refused = answers.filter((a) => a !== undefined);
    expect(refused).toHaveLength(UPLOADS - ADMITTED);
    for (const answer of refused) {
      expect(answer!.status).toBe(503);
      expect(answer!.headers['retry-after']).toBe('1');
      expect(JSON.parse(answer!.body.toString()).error.code).toBe('unavailable');
    }
    expect(await budget(server.url, 'body_bytes')).toEqual({ inUse: ADMITTED * DECLARED, limit: ADMITTED * DECLARED, refusals: UPLOADS - ADMITTED });

    // With the budget spent, an ordinary POST (it arrives in one piece, holding nothing while
    // it waits) is answered and applied.
    const ordinary = await postJson(server.url, [location('l1', 'S1'), received('r1', 'DURING', 'S1', 3)], ingest);
    expect(ordinary.status).toBe(200);
    expect(ordinary.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect((await getJson(server.url, '/v1/stock/DURING')).body.available).toBe(3);

    // An admitted upload that goes on finishes whatever others do: answered and applied.
    const admitted = answers.findIndex((a) => a === undefined);
    uploads[admitted].socket.write(bodies[admitted].subarray(PART));
    await reads[admitted];
    expect(answers[admitted]!.status).toBe(200);
    expect(JSON.parse(answers[admitted]!.body.toString()).results).toMatchObject([{ id: `slow-${admitted}`, ok: true }]);
    const request = await getJson(server.url, `/v1/requests/slow-${admitted}`, bearer(server.token('customer', `cust-${admitted}`)));
    expect(request).toMatchObject({ status: 200, body: { request: `slow-${admitted}`, status: 'queued' } });
    expect((await budget(server.url, 'body_bytes')).inUse).toBe((ADMITTED - 1) * DECLARED);

    // The stalled clients go away (onAborted): what they held comes back, once.
    for (const conn of uploads) conn.close();
    await untilInUse(server.url, 'body_bytes', 0);

    // And a slow upload is admitted again.
    const again = await startSlowUpload(server.url, server.token('customer', 'cust-again'), paddedRequest(99, DECLARED), PART);
    await untilInUse(server.url, 'body_bytes', DECLARED);
    again.close();
    await untilInUse(server.url, 'body_bytes', 0);
  });

  it('charges an admitted upload its declared length but does not allocate it before the bytes come', async () => {
    const uploads = 24;
    const declared = 4 * 1024 * 1024;
    const s = await startTestServer({ limits: { maxBodyMemoryBytes: uploads * declared } });
    const conns: RawConnection[] = [];
    try {
      const token = s.token('customer', 'cust-big');
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < uploads; i++) conns.push(await startSlowUpload(s.url, token, paddedRequest(i, declared), 1));
      await untilBudget(s.url, 'body_bytes', (f) => f.inUse === uploads * declared);
      // Preallocating would hold 96 MiB here (this server runs in the test's process); growing
      // as bytes arrive holds one small first allocation per upload. The bound is half of that:
      // the whole process's buffers are counted, and what else it allocates meanwhile (LMDB's
      // and msgpack's buffers, not yet collected garbage) once took it past 16 MiB.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(48 * 1024 * 1024);
      // A 25th is refused at once, not after sending its 4 MiB.
      const extra = await startSlowUpload(s.url, token, paddedRequest(99, declared), 1);
      conns.push(extra);
      expect((await extra.read()).status).toBe(503);
    } finally {
      for (const conn of conns) conn.close();
      await untilInUse(s.url, 'body_bytes', 0);
      await s.stop();
    }
  });
});
