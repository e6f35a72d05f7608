/**
 * A request sent as written, for what `fetch` will not send: a request target `URL` refuses, another Host.
 *
 *     const status = await rawRequest(port, 'GET http://[ HTTP/1.1', 'localhost');   // the answer's status
 */
import { connect } from 'node:net';

export function rawRequest(port: number, requestLine: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`${requestLine}\r\nhost: ${host}\r\nconnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status) resolve(Number(status));
      else reject(new Error(`no HTTP answer: ${JSON.stringify(answer.slice(0, 80))}`));
    });
  });
}
