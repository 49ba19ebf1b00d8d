/**
 * Where a JSON text stops being JSON, as line, column and reason. Node 20's JSON.parse often names neither a
 * position nor a line ("Unexpected token '}', ... is not valid JSON"); a configuration error must say both.
 * This scanner only runs after JSON.parse has failed, so it need not build values.
 */
export interface JsonSyntaxError {
  line: number;
  column: number;
  reason: string;
}

class Stop extends Error {
  constructor(readonly at: number, readonly reason: string) {
    super(reason);
  }
}

function scan(text: string): void {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const what = () => (i >= text.length ? 'end of file' : `"${text[i]}"`);
  const fail = (expected: string): never => {
    throw new Stop(i, `expected ${expected}, found ${what()}`);
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) throw new Stop(i, 'a control character (e.g. a line break) inside a string');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw new Stop(i, 'a bad \\u escape');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) throw new Stop(i, 'a bad escape in a string');
      }
      i++;
    }
    if (i >= text.length) throw new Stop(i, 'a string that is never closed');
    i++;
  };
  /** The members of an object or array: items separated by commas up to `close`. */
  const sequence = (close: string, item: () => void): void => {
    i++; // the opening bracket
    space();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      space();
      if (text[i] === ',') i++;
      else if (text[i] === close) return void i++;
      else fail(`"," or "${close}"`);
    }
  };
  const member = () => {
    space();
    if (text[i] !== '"') fail('a property name in double quotes');
    string();
    space();
    if (text[i] !== ':') fail('":" after a property name');
    i++;
    value();
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') return sequence('}', member);
    if (c === '[') return sequence(']', value);
    if (c === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!literal) fail('a value');
    i += literal![0].length;
  };
  value();
  space();
  if (i < text.length) fail('the end of the file');
}

/** The first syntax error of `text`, or undefined if it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    scan(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.at).split('\n');
    return { line: before.length, column: before[before.length - 1]!.length + 1, reason: error.reason };
  }
}
