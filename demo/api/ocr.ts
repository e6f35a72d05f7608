/**
 * A simulated OCR job: each step is a child span of the request's server span, so a trace shows where an
 * upload's time goes, from the click in the browser down to the database write.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('rumkit-demo-api');

export interface OcrResult {
  pages: number;
  language: string;
  words: number;
}

export async function runOcr(file: { name: string; bytes: Uint8Array }): Promise<OcrResult> {
  return tracer.startActiveSpan(
    'ocr.job',
    { attributes: { 'document.name': file.name, 'document.size': file.bytes.length } },
    (job) =>
      finish(job, async () => {
        const pages = Math.max(1, Math.ceil(file.bytes.length / 4096));
        await step('ocr.preprocess', { 'ocr.pages': pages }, 10);
        let words = 0;
        for (let page = 1; page <= Math.min(pages, 5); page++) {
          words += await step('ocr.extract_text', { 'ocr.page': page }, 15, () => countWords(file.bytes, page));
        }
        const language = await step('ocr.detect_language', {}, 5, () => 'en');
        await step(
          'INSERT documents',
          { 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT', 'db.collection.name': 'documents' },
          8,
        );
        job.setAttributes({ 'ocr.pages': pages, 'ocr.words': words, 'ocr.language': language });
        return { pages, language, words };
      }),
  );
}

async function step<T = void>(
  name: string,
  attributes: Record<string, string | number>,
  millis: number,
  work?: () => T,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, (span) =>
    finish(span, async () => {
      await sleep(millis);
      return work?.() as T;
    }),
  );
}

async function finish<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

function countWords(bytes: Uint8Array, page: number): number {
  const text = new TextDecoder().decode(bytes.subarray((page - 1) * 4096, page * 4096));
  return text.split(/\s+/).filter(Boolean).length;
}
