/**
 * The document-upload form: posts the file to the demo API inside a `document.upload` span and links the
 * result to its trace in the trace view.
 */
import { useSpan } from '@rumkit/react';
import { type FormEvent, useRef, useState } from 'react';
import { checkServiceStatus, type UploadResult, uploadDocument } from './demoApi.ts';
import type { DemoConfig } from './demoConfig.ts';

export function UploadPage({ config }: { config: DemoConfig }) {
  const fileInput = useRef<HTMLInputElement>(null);
  const [result, setResult] = useState<UploadResult>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const traceUpload = useSpan('document.upload', { 'app.page': 'upload' });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const file = fileInput.current?.files?.[0];
    if (!file) return;
    setError(undefined);
    try {
      setResult(
        await traceUpload((span) => {
          span.setAttribute('app.document.size', file.size);
          return uploadDocument(config.apiUrl, file);
        }),
      );
    } catch (e) {
      setError(`Upload failed: ${(e as Error).message}`);
    }
  };

  return (
    <main>
      <h1>Upload a document</h1>
      <p>
        This page is a React app traced with <code>@rumkit/react</code> (the <a href="/plain.html">plain-HTML page</a>{' '}
        loads the agent with a script tag); the API is traced by the OpenTelemetry Node SDK. One upload is one trace.
      </p>
      <form id="upload" onSubmit={onSubmit}>
        <input type="file" name="file" id="file" ref={fileInput} required />
        <button type="submit">Upload</button>
      </form>
      {result && (
        <section id="result">
          <h2>Processed</h2>
          <dl>
            <dt>Document</dt>
            <dd id="result-name">{result.name}</dd>
            <dt>Pages</dt>
            <dd id="result-pages">{result.pages}</dd>
            <dt>Language</dt>
            <dd id="result-language">{result.language}</dd>
            <dt>Trace</dt>
            <dd>
              <a
                id="result-trace"
                href={config.traceUrlTemplate.replace('{traceId}', result.traceId)}
                target="_blank"
                rel="noopener"
              >
                {result.traceId}
              </a>
            </dd>
          </dl>
        </section>
      )}
      {error && (
        <p id="error" role="alert">
          {error}
        </p>
      )}
      <hr />
      <button type="button" id="status" onClick={async () => setStatus(await checkServiceStatus(config.thirdPartyUrl))}>
        Check service status (third-party widget)
      </button>
      <span id="status-result">{status}</span>
    </main>
  );
}
