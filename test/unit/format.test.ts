import { describe, expect, it } from 'vitest';
import { formatItems, parseFormat, renderTemplate } from '../../src/format.js';
import { UsageError } from '../../src/errors.js';
import { alignColumns, table, truncateVisible, visibleWidth } from '../../src/output.js';

const rows = [
  { name: 'agent', id: 'abc123', sizeBytes: 10, volumes: ['a', 'b'], limits: { memory: 512 } },
  { name: 'web', id: 'def456', sizeBytes: 2048, volumes: [], limits: { memory: 1024 } },
];

describe('--format', () => {
  it('leaves table (and no format) to the command\'s own view', () => {
    expect(formatItems(parseFormat(undefined), rows)).toBeUndefined();
    expect(formatItems(parseFormat('table'), rows)).toBeUndefined();
  });

  it('prints one compact JSON object a line for json', () => {
    expect(formatItems(parseFormat('json'), rows)).toBe(`${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}`);
  });

  it('fills {{.Field}} case-insensitively, with dotted paths, json and docker\'s \\t', () => {
    expect(formatItems(parseFormat('{{.Name}}\\t{{.ID}} {{.Limits.Memory}}'), rows)).toBe('agent\tabc123 512\nweb\tdef456 1024');
    expect(renderTemplate('{{json .Volumes}} {{.Volumes}} {{ .name }}', rows[0])).toBe('["a","b"] a,b agent');
    expect(renderTemplate('{{json .}}', { a: 1 })).toBe('{"a":1}');
  });

  it('makes a table with headers from the fields for "table TEMPLATE"', () => {
    expect(formatItems(parseFormat('table {{.Name}}\\t{{.SizeBytes}}'), rows)).toBe('NAME    SIZE BYTES\nagent   10\nweb     2048');
  });

  it('rejects what it does not support as a usage error naming the field or action', () => {
    expect(() => parseFormat('{{if .Name}}x{{end}}')).toThrow(UsageError);
    expect(() => parseFormat('{{.Name')).toThrow(/unsupported template action "\{\{\.Name"/);
    expect(() => renderTemplate('{{.Nope}}', rows[0])).toThrow(/no field "Nope" \(fields: Name, Id, SizeBytes, Volumes, Limits\)/);
    expect(() => renderTemplate('{{.Name.First}}', rows[0])).toThrow(/no field "First"/);
  });
});

describe('column widths', () => {
  const red = (s: string) => `\x1b[31m${s}\x1b[39m`;

  it('counts what is visible: colour codes none, wide characters two', () => {
    expect(visibleWidth(red('running'))).toBe(7);
    expect(visibleWidth('日本')).toBe(4);
    expect(visibleWidth('▁▂▃')).toBe(3);
  });

  it('aligns coloured cells as if they were plain', () => {
    const plain = table(['NAME', 'STATE', 'X'], [['a', 'running', '1'], ['bb', 'exited', '2']]);
    const coloured = table(['NAME', 'STATE', 'X'], [['a', red('running'), '1'], ['bb', 'exited', '2']]);
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(plain);
    expect(alignColumns([['日本', 'x'], ['abcd', 'y']], ' ')).toBe('日本 x\nabcd y');
  });

  it('cuts to a visible width, keeping colours and resetting them', () => {
    expect(truncateVisible('abcdef', 10)).toBe('abcdef');
    expect(truncateVisible('abcdef', 4)).toBe('abc…');
    expect(truncateVisible(`x${red('abcdef')}`, 4)).toBe('x\x1b[31mab…\x1b[0m');
    expect(visibleWidth(truncateVisible('日本語のテキスト', 5))).toBeLessThanOrEqual(5);
  });
});
