/**
 * JSON lines on stdout, one object per event, with the request id and tenant where there is one.
 *
 *     const log = createLogger('info');
 *     log.info('request', { requestId, tenant, status: 202 });
 *
 * Nothing secret is ever passed in: ingest keys, tokens and client addresses have no field here.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;
export type Logger = Record<LogLevel, (message: string, fields?: LogFields) => void>;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(level: LogLevel, write: (line: string) => void = console.log): Logger {
  const at =
    (messageLevel: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      if (ORDER[messageLevel] < ORDER[level]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: messageLevel, msg: message, ...fields }));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
