// A strict JSON parser for safetensors headers: rejects duplicate keys (JSON.parse silently keeps the last,
// so two readers could disagree about a tensor) and nesting deeper than MAX_JSON_DEPTH (guards recursion);
// optional limits on array and object sizes, and a visitor for top-level members, bound the memory a text can claim.

import { MAX_JSON_DEPTH } from '../format/constants.js';

/**
 * Parsed JSON value; objects keep key order (needed to report tensors as the header lists them). A `bigint` is an
 * unsigned integer literal (digits only: no sign, fraction or exponent), returned only with `exactIntegers`.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Thrown with the character position of the problem; `limit` when a JsonLimits bound, not the grammar, was broken. */
export class JsonProblem extends Error {
  constructor(message: string, readonly position: number, readonly limit = false) {
    super(message);
  }
}

/** One JSON number (RFC 8259 grammar), matched at lastIndex over the whole text: a number has no length bound. */
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** An unsigned integer literal: the only number form serde_json reads into an unsigned integer field. */
const UNSIGNED_INTEGER = /^(?:0|[1-9]\d*)$/;

/** Bounds that keep a hostile text from building huge values (a 100 MB header of `0,` or `"k":{},` grows ~10x in memory). */
export interface JsonLimits {
  /** Longest array allowed anywhere (default unbounded). */
  maxArrayItems?: number;
  /** Most keys allowed in any one object (default unbounded). */
  maxObjectKeys?: number;
  /**
   * Called for each member of a top-level object, in order, instead of keeping it: memory then holds one member
   * at a time, and a bad member stops the parse where it is. Errors it throws pass through unchanged.
   */
  onTopMember?: (key: string, value: JsonValue) => void;
  /**
   * Return unsigned integer literals as exact `bigint`s (default false: every number is a `number`), so that a caller
   * can tell `8` from `8.0`, `8e0` or `-0`, and read integers beyond 2^53 exactly.
   */
  exactIntegers?: boolean;
}

/**
 * Parses `text`, which must hold one JSON value and nothing but whitespace around it.
 * @throws JsonProblem with the character position; whatever `limits.onTopMember` throws
 */
export function parseStrictJson(text: string, limits: JsonLimits = {}): JsonValue {
  const maxItems = limits.maxArrayItems ?? Infinity;
  const LITERALS: [string, JsonValue][] = [['true', true], ['false', false], ['null', null]];
  const maxKeys = limits.maxObjectKeys ?? Infinity;
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (what: string, limit = false): never => {
    throw new JsonProblem(`${what} at character ${i}`, i, limit);
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = Object.create(null);
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const keyAt = i;
        const key = string();
        if (seen.has(key)) {
          i = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        if (seen.size >= maxKeys) {
          i = keyAt;
          fail(`object with more than ${maxKeys} keys`, true);
        }
        seen.add(key);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (depth === 0 && limits.onTopMember) limits.onTopMember(key, v);
        else obj[key] = v;
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        if (arr.length >= maxItems) fail(`array with more than ${maxItems} items`, true);
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return limits.exactIntegers && UNSIGNED_INTEGER.test(m[0]) ? BigInt(m[0]) : Number(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      i += c === 0x5c ? 2 : 1;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    let s: string;
    try {
      s = JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('bad escape in string');
    }
    // A \uD800-style escape without its pair parses to a lone surrogate, which UTF-8 cannot hold: a name
    // written to the index would come back as U+FFFD and no longer match. serde_json refuses it too.
    if (LONE_SURROGATE.test(s)) {
      i = start;
      return fail('unpaired surrogate escape in string');
    }
    return s;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected text after the value');
  return v;
}
