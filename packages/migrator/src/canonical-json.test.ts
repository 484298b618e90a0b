import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('canonicalJson - equal JSON data gives equal text whatever the key order', () => {
    const a = JSON.parse('{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": null}}');
    const b = JSON.parse('{"a": {"x": null, "y": [1, {"c": 3, "d": 2}]}, "b": 1}');
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('canonicalJson - orders index-like keys as text (RFC 8785), not as JavaScript lists them', () => {
    expect(canonicalJson({ 10: 'a', 9: 'b', x: 1 })).toBe('{"10":"a","9":"b","x":1}');
    expect(canonicalJson([{ 2: 1, 1: 2 }])).toBe('[{"1":2,"2":1}]');
  });

  it('canonicalJson - keeps a "__proto__" key as data', () => {
    const value = JSON.parse('{"z": 1, "__proto__": {"a": 1}}');
    expect(canonicalJson(value)).toBe('{"__proto__":{"a":1},"z":1}');
  });

  it('canonicalJson - numbers and strings as JSON.stringify writes them; arrays keep their order', () => {
    expect(canonicalJson(JSON.parse('[1.50, 1e2, -0, "na\\u00efve", "\\u2028"]'))).toBe(
      '[1.5,100,0,"naïve","\u2028"]',
    );
    expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
  });
});
