/**
 * The demo API's upload limit, over real HTTP on loopback: a browser-sized upload past it is read to its end and
 * refused with 413, so the page shows the refusal at once.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../rawRequest.ts';
import { server } from './server.ts';

let url: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('POST /api/documents', () => {
  it('answers 413 to an upload past 10 MiB once it is sent, and 201 to a small one', async () => {
    const form = (bytes: number) => {
      const data = new FormData();
      data.append('file', new File([new Uint8Array(bytes)], 'scan.pdf'));
      return data;
    };
    // As a browser does, the whole body is sent before the answer is read: the server must read it to its end.
    const body = new Uint8Array(await new Response(form(20 * 1024 * 1024)).arrayBuffer());
    const contentType = new Response(form(0)).headers.get('content-type') as string;
    const large = await new Promise<{ status?: number; sent: boolean; text: string }>((resolve, reject) => {
      const req = request(`${url}/api/documents`, { method: 'POST', headers: { 'content-type': contentType } });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, sent: req.writableFinished, text }));
      });
      req.end(body);
    });
    expect(large).toEqual({ status: 413, sent: true, text: '{"error":"uploads are limited to 10485760 bytes"}' });
    const small = await fetch(`${url}/api/documents`, { method: 'POST', body: form(2048) });
    expect(small.status).toBe(201);
  });
});

describe('the server', () => {
  it('answers a request target that URL refuses with 400, and goes on serving', async () => {
    const { port } = server.address() as AddressInfo;
    expect(await rawRequest(port, 'GET http://[ HTTP/1.1', `127.0.0.1:${port}`)).toBe(400);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
