import type { Metadata } from '../types.js';

/** A UUID v4 as the contract's generated ids must look. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Metadata whose exact round trip the contract promises, one kind of value per sample. The special-keys
 * sample comes from `JSON.parse` because an object literal would turn `__proto__` into a prototype.
 */
export const METADATA_SAMPLES: Readonly<Record<string, Metadata>> = {
  'nested objects': { a: { b: { c: { d: 'deep' } }, sibling: 1 }, z: { empty: {} } },
  arrays: { list: [1, 'two', null, true, [3, [4, []]], { five: 5 }], empty: [] },
  'unicode keys and values': {
    ключ: 'значение',
    日本語: 'テキスト',
    Ünïcødé: 'àéîõü',
    'e\u0301': 'combining',
  },
  emoji: { '🎉': '🚀👩‍💻🏳️‍🌈', flags: ['🇯🇵', '🇺🇦'], skin: '👋🏽' },
  'integers beyond 2^31': {
    twoToThe31: 2 ** 31,
    twoToThe40: 2 ** 40,
    maxSafe: Number.MAX_SAFE_INTEGER,
    minSafe: Number.MIN_SAFE_INTEGER,
    belowInt32: -(2 ** 31) - 1,
  },
  floats: {
    tenth: 0.1,
    sum: 0.1 + 0.2,
    pi: Math.PI,
    tiny: 1e-7,
    avogadro: 6.02214076e23,
    max: Number.MAX_VALUE,
    min: Number.MIN_VALUE,
    epsilon: Number.EPSILON,
    negative: -2.5,
  },
  booleans: { yes: true, no: false, list: [true, false] },
  'null values': { nothing: null, list: [null, null], nested: { also: null } },
  'empty object': {},
  'keys special in JavaScript and SQL': JSON.parse(
    '{"__proto__":{"polluted":true},"constructor":"c","toString":1,"":"empty key","a.b":1,"$where":"x","key ":2}',
  ) as Metadata,
  'strings that look like other types': {
    number: '42',
    bool: 'true',
    null: 'null',
    date: '2025-03-01T12:00:00Z',
    json: '{"a":1}',
    empty: '',
  },
  'escapes in strings': {
    quote: 'it\'s "quoted"',
    backslash: 'C:\\path\\n',
    newline: 'a\nb\r\nc\t',
    control: '\u0001\u001f\u007f',
    sql: "'); DROP TABLE sessions; --",
  },
};

/** A metadata object of more than 100 KB once serialised. */
export function largeMetadata(): Metadata {
  const items: Metadata = {};
  for (let i = 0; i < 500; i++) {
    items[`key-${i}`] = { index: i, text: `value ${i} `.repeat(20), tags: ['α', 'β', i % 7 === 0] };
  }
  return { items, note: 'about 120 KB' };
}

/** Text the contract stores exactly, one difficulty per sample; each fits in a title too. */
export const TEXT_SAMPLES: Readonly<Record<string, string>> = {
  'multi-line text with LF, CRLF and CR': 'line 1\nline 2\r\nline 3\rline 4\n\n',
  'quotes and backslashes': "single ' double \" back ` slash \\ \\n literal \\\\ and \\' escaped",
  'SQL keywords': "'); DROP TABLE messages; --",
  'more SQL syntax': "Robert'); DELETE FROM sessions WHERE ('1'='1; SELECT * FROM messages; /* x */ -- %_",
  'Japanese, Russian and emoji': 'こんにちは世界、東京 · Привет, мир! · 👋🏽🧑‍💻🇯🇵',
  'combining characters, not normalised': 'e\u0301 vs \u00e9, A\u030a vs \u00c5',
  'leading and trailing whitespace': '  \t padded \n ',
  'text that looks like JSON': '{"role":"user","content":null}',
  'text that looks like a number': '00123.4500',
  'control characters other than U+0000': '\u0001\u0002\u0007\b\f\v\u001b[31mred\u001b[0m\u007f',
  'astral plane characters': '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱 🀄',
  'right-to-left text': 'مرحبا بالعالم שלום עולם',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text `${x}` is the point of this sample
  'placeholder and format signs': '%s %d $1 ? :name @p0 {0} ${x}',
  'byte order mark, zero-width and line separators': '\uFEFFstart\u200B\u200C\u200Dend\u2028\u2029',
  'noncharacters U+FFFE and U+FFFF': 'x\uFFFEy\uFFFFz',
  'the empty string': '',
};

/** 1 MiB of ASCII (1,048,576 characters). */
export function megabyteAscii(): string {
  return 'The quick brown fox jumps over the lazy dog. 0123456789\n'.repeat(18_725).slice(0, 1_048_576);
}

/** Just over 1 MB (in UTF-8) of mixed text: multi-byte characters, emoji, quotes, newlines. */
export function megabyteMixed(): string {
  const chunk = 'Ложь \'и\' "правда" \\ 東京タワー 🗼 — SELECT 1; --\r\n';
  return chunk.repeat(Math.ceil(1_000_000 / new TextEncoder().encode(chunk).length));
}

/** `levels` objects nested in one another (`{ leaf: true }` is one level). */
export function nestedMetadata(levels: number): Metadata {
  let value: Metadata = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}
