/**
 * `--format` for listings and inspect, as docker users type it: `table` (the default view), `json` (one object a
 * line), or a Go-template-like text with `{{.Field}}` (dotted paths: `{{.Limits.Memory}}`), `{{json .Field}}`
 * and `{{json .}}`; `table TEMPLATE` adds a header row and aligns the columns. `\t` and `\n` in the text are a
 * tab and a newline, as in docker. Fields are the keys of the JSON output, first letter capitalised (`name` is
 * `{{.Name}}`), matched without regard to case, so a field added to a row is formattable at once.
 */
import { UsageError } from './errors.js';
import { table } from './output.js';

export type FormatSpec =
  | { kind: 'default' }
  | { kind: 'json' }
  | { kind: 'template'; template: string; table: boolean };

type Part = { text: string } | { path: string[]; json: boolean };

export function parseFormat(value: string | undefined): FormatSpec {
  if (value === undefined || value.trim() === '' || value.trim() === 'table') return { kind: 'default' };
  if (value.trim() === 'json') return { kind: 'json' };
  const isTable = /^table\s/.test(value);
  const template = (isTable ? value.replace(/^table\s+/, '') : value).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  parseTemplate(template); // reject a malformed template before anything is asked of the engine
  return { kind: 'template', template, table: isTable };
}

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  const action = /\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}/g;
  let at = 0;
  for (let match = action.exec(template); match; match = action.exec(template)) {
    if (match.index > at) parts.push({ text: template.slice(at, match.index) });
    parts.push({ path: match[2]!.split('.').filter(Boolean), json: Boolean(match[1]) });
    at = action.lastIndex;
  }
  if (at < template.length) parts.push({ text: template.slice(at) });
  for (const part of parts) {
    const stray = 'text' in part ? /\{\{[^}]*\}?\}?/.exec(part.text) : null;
    if (stray) throw new UsageError(`--format: unsupported template action "${stray[0]}" (use {{.Field}}, {{json .Field}} or {{json .}})`);
  }
  return parts;
}

/** The value at `path`, matching each step case-insensitively; a missing field is a usage error naming the fields there are. */
function lookup(value: unknown, path: string[]): unknown {
  let current = value;
  for (const step of path) {
    const record = current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : undefined;
    const key = record && Object.keys(record).find((k) => k.toLowerCase() === step.toLowerCase());
    if (!record || key === undefined) {
      const fields = record ? Object.keys(record).map(fieldName).join(', ') : 'none';
      throw new UsageError(`--format: no field "${step}" (fields: ${fields})`);
    }
    current = record[key];
  }
  return current;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(show).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A key as a template names it: `sizeBytes` → `SizeBytes`. */
const fieldName = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
/** A header as docker derives it from a field: `.SizeBytes` → `SIZE BYTES`. */
const headerFor = (path: string[]) => path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1 $2')).join(' ').toUpperCase();

export function renderTemplate(template: string, value: unknown): string {
  return parseTemplate(template)
    .map((part) => ('text' in part ? part.text : part.json ? JSON.stringify(lookup(value, part.path)) : show(lookup(value, part.path))))
    .join('');
}

/**
 * The lines `--format` prints for `items`, or undefined for the default view (the caller's own table).
 * `json` gives one compact object a line, as `docker ps --format json` does.
 */
export function formatItems(spec: FormatSpec, items: unknown[]): string | undefined {
  if (spec.kind === 'default') return undefined;
  if (spec.kind === 'json') return items.map((item) => JSON.stringify(item)).join('\n');
  if (!spec.table) return items.map((item) => renderTemplate(spec.template, item)).join('\n');
  // A table: one column per tab-separated cell of the template, headed by its fields' names.
  const cells = spec.template.split('\t');
  const headers = cells.map((cell) => parseTemplate(cell).map((p) => ('text' in p ? p.text.trim().toUpperCase() : headerFor(p.path))).join(''));
  return table(headers, items.map((item) => cells.map((cell) => renderTemplate(cell, item))));
}
