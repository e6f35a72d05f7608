/**
 * A request body streamed without Content-Length, 4 KiB per chunk up to 4 MB, that counts the chunks the server
 * pulled: a server that enforces its limit while streaming stops after a few.
 *
 *     const { body, pulled } = chunkedBody();
 *     await post(headers, body);
 *     expect(pulled()).toBeLessThan(20);
 */
export function chunkedBody(): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      if (pulled > 1000) controller.close();
      else controller.enqueue(new Uint8Array(4096).fill(32));
    },
  });
  return { body, pulled: () => pulled };
}
