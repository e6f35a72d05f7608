/**
 * The request body on Node, read straight from the `IncomingMessage`: @hono/node-server would otherwise
 * build a web `Request` with a web stream over it, which costs more CPU than the rest of reading.
 *
 *     readBodyCapped(requestBody(incoming), contentLength, maxBytes)
 *
 * A reader that stops early (the body is over the limit) pauses the stream rather than destroying it, so
 * the socket stays open for the 413 answer.
 */
import type { IncomingMessage } from 'node:http';

export function requestBody(incoming: IncomingMessage): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const chunks: Uint8Array[] = [];
      let ended = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const onData = (chunk: Uint8Array) => {
        chunks.push(chunk);
        wake?.();
      };
      const onEnd = () => {
        ended = true;
        wake?.();
      };
      const onError = (error: Error) => {
        failure = error;
        wake?.();
      };
      // A client that goes away mid-body may close the stream without 'end' or 'error'. After 'end' a close is
      // the usual one, and an Error (its stack) made for each would cost 1 % of the worker's CPU.
      const onClose = () => {
        if (!ended) onError(new Error('the request was aborted'));
      };
      incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
      try {
        for (;;) {
          const chunk = chunks.shift();
          if (chunk) yield chunk;
          else if (ended) return;
          else if (failure) throw failure;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
        if (!ended) incoming.pause();
      }
    },
  };
}
