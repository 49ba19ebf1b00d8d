/** The part of js-yaml 4 that aca uses (the package ships no types; @types/js-yaml would be a dependency for two lines). */
declare module 'js-yaml' {
  export class YAMLException extends Error {
    reason: string;
    mark?: { line: number; column: number };
  }
  export function load(text: string, options?: { filename?: string; json?: boolean }): unknown;
}
