// Structured logging in node_exporter's style: logfmt (default) or JSON lines on stderr.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
type Fields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Supplies trace_id/span_id of the active span, when tracing is on. */
let contextFields: () => Fields | undefined = () => undefined;
export function setLogContextProvider(fn: () => Fields | undefined): void {
  contextFields = fn;
}

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}

export class Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly format: LogFormat = 'logfmt',
    private readonly bound: Fields = {},
    private readonly out: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  child(fields: Fields): Logger {
    return new Logger(this.level, this.format, { ...this.bound, ...fields }, this.out);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  log(level: LogLevel, msg: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString();
    const record: Fields = { ts, level, msg, ...this.bound, ...fields, ...contextFields() };
    // A field called ts/level/msg must not disguise the record (the keys keep their leading position).
    Object.assign(record, { ts, level, msg });
    for (const [k, v] of Object.entries(record)) if (v instanceof Error) record[k] = v.message;
    const line =
      this.format === 'json'
        ? JSON.stringify(record)
        : Object.entries(record)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${logfmtValue(v)}`)
            .join(' ');
    this.out(line + '\n');
  }

  debug(msg: string, fields?: Fields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.log('error', msg, fields);
  }
}
