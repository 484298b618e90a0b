import { describe, expect, test } from 'vitest';
import {
  type BackendDescriptor,
  claimConnectionString,
  type LocationRequest,
  parseConnectionString,
  resolveLocation,
} from '../src/backend.js';
import {
  ConnectionSettingError,
  createMemory,
  InMemoryConversationMemory,
  inMemoryBackend,
} from '../src/index.js';

/** Toy descriptors: a file backend (bare paths, `toy:`) and a server backend (`srv://`, `server=`). */
const open = async () => new InMemoryConversationMemory();

const files: BackendDescriptor<{ file: string }> = {
  open,
  name: 'files',
  aliases: ['file-store'],
  title: 'Files',
  connectionStrings: {
    schemes: ['toy'],
    description: 'a path or toy:path',
    noun: 'a toy file',
    parseUrl: (text) => (text.length > 4 ? { location: { file: text.slice(4) } } : { refused: 'no file' }),
    parsePath: (text) => ({ file: text }),
  },
  settings: [{ name: 'DATABASE_URL', meaning: 'the file' }],
  resolve(input) {
    if (input.explicit) return input.explicit;
    const url = input.databaseUrl();
    if (url && 'otherBackend' in url) throw new ConnectionSettingError(url.source, 'is not a file');
    return url?.location ?? { file: 'default.toy' };
  },
  describe: ({ file }) => `files ${file}`,
  locationText: ({ file }) => file,
};

const server: BackendDescriptor<{ url: string }> = {
  open,
  name: 'server',
  aliases: [],
  title: 'Server',
  connectionStrings: {
    schemes: ['srv'],
    description: 'srv://host',
    noun: 'a server URL',
    parseUrl: (text) => ({ location: { url: text } }),
    parseOther: (text) =>
      text.startsWith('server=') ? { location: { url: `srv://${text.slice(7)}` } } : undefined,
  },
  settings: [{ name: 'SERVER_URL', meaning: 'the server' }],
  resolve(input) {
    if (input.explicit) return input.explicit;
    const setting = input.setting('SERVER_URL');
    if (setting) return input.parse(setting.value, setting.source).location as { url: string };
    const url = input.databaseUrl();
    if (url && 'location' in url) return url.location;
    return input.useDefaults ? { url: 'srv://localhost' } : undefined;
  },
  describe: ({ url }) => `server ${url}`,
  locationText: ({ url }) => url,
};

const backends = [files, server, inMemoryBackend];

function request(fields: Partial<LocationRequest>, settings: Record<string, string> = {}): LocationRequest {
  return {
    setting: (name) => (settings[name] === undefined ? undefined : { value: settings[name]!, source: name }),
    useDefaults: true,
    ...fields,
  };
}

function refusal(attempt: () => unknown): ConnectionSettingError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectionSettingError);
    return error as ConnectionSettingError;
  }
  throw new Error('accepted');
}

describe('claimConnectionString', () => {
  test('a scheme goes to the backend owning it, a backend form to its claimer, a path to the file backend', () => {
    expect(claimConnectionString(backends, 'toy:a.toy')).toEqual({
      backend: files,
      location: { file: 'a.toy' },
    });
    expect(claimConnectionString(backends, 'SRV://h')).toEqual({
      backend: server,
      location: { url: 'SRV://h' },
    });
    expect(claimConnectionString(backends, 'server=h')).toEqual({
      backend: server,
      location: { url: 'srv://h' },
    });
    expect(claimConnectionString(backends, './x.toy')).toEqual({
      backend: files,
      location: { file: './x.toy' },
    });
    expect(claimConnectionString(backends, 'C:\\x.toy')).toMatchObject({ backend: files });
  });

  test('an unknown or malformed scheme is refused in one place, for every backend', () => {
    expect(claimConnectionString(backends, 'mysql://root@db/x')).toEqual({
      refused: 'unknown scheme "mysql:"',
    });
    expect(claimConnectionString(backends, 'srv//h')).toEqual({
      refused: '"srv//" lacks the colon of a URL scheme ("srv://")',
    });
    expect(claimConnectionString(backends, ' ')).toEqual({ refused: 'it is empty' });
    expect(claimConnectionString(backends, 'toy:')).toEqual({ refused: 'no file' });
    // Without a backend taking paths, a bare string is nobody's.
    expect(claimConnectionString([server], 'x.toy')).toEqual({ refused: 'no backend takes a file path' });
  });

  test('parseConnectionString throws a masked connection-string error listing every form', () => {
    const error = refusal(() => parseConnectionString(backends, 'mysql://root:hunter2@db/x', '--url'));
    expect(error.kind).toBe('connection-string');
    expect(error.field).toBe('--url');
    expect(error.message).not.toContain('hunter2');
    expect(error.problem).toBe(
      '"mysql://root:***@db/x" is not a connection string: unknown scheme "mysql:". Accepted: a path or toy:path; srv://host',
    );
  });
});

describe('resolveLocation', () => {
  test('explicit backend, else the explicit location, else the setting, else DATABASE_URL, else the first', () => {
    const pick = (fields: Partial<LocationRequest>) =>
      resolveLocation(backends, request(fields)).backend.name;
    const v = (value: string, source = 's') => ({ value, source });
    expect(pick({})).toBe('files');
    expect(pick({ databaseUrl: v('srv://h') })).toBe('server');
    expect(pick({ backendSetting: v('memory'), databaseUrl: v('srv://h') })).toBe('memory');
    expect(pick({ location: v('srv://h'), backendSetting: v('files') })).toBe('server');
    expect(pick({ backend: v(' FILE-STORE '), databaseUrl: v('x.toy') })).toBe('files');
  });

  test('the chosen backend locates its store; a malformed DATABASE_URL it never reads is no error', () => {
    expect(resolveLocation(backends, request({}, { SERVER_URL: 'server=h' })).location).toEqual({
      file: 'default.toy',
    });
    const chosen = resolveLocation(
      backends,
      request(
        { backend: { value: 'server', source: 'b' }, databaseUrl: { value: 'bad://', source: 'u' } },
        {
          SERVER_URL: 'server=h',
        },
      ),
    );
    expect(chosen).toEqual({ backend: server, location: { url: 'srv://h' } });
  });

  test('refusals name the setting and say what is wrong, before anything is opened', () => {
    const unknown = refusal(() =>
      resolveLocation(backends, request({ backendSetting: { value: 'mysql', source: 'DATABASE_BACKEND' } })),
    );
    expect([unknown.kind, unknown.field, unknown.problem]).toEqual([
      'backend-name',
      'DATABASE_BACKEND',
      '"mysql": expected files, server or memory',
    ]);
    const mismatch = refusal(() =>
      resolveLocation(
        backends,
        request({ backend: { value: 'files', source: '-b' }, location: { value: 'srv://h', source: '-u' } }),
      ),
    );
    expect(mismatch.problem).toMatch(/^is a server URL but the backend is files/);
    const nothing = refusal(() =>
      resolveLocation(
        backends,
        request({ backend: { value: 'memory', source: '-b' }, location: { value: 'x', source: '-u' } }),
      ),
    );
    expect(nothing.problem).toMatch(/no meaning with the backend memory/);
    const missing = refusal(() =>
      resolveLocation(backends, {
        ...request({ backend: { value: 'server', source: '-b' } }),
        useDefaults: false,
      }),
    );
    expect([missing.kind, missing.backend]).toEqual(['location-missing', 'server']);
  });
});

describe('createMemory', () => {
  test('opens the chosen backend through its descriptor, as an application store', async () => {
    const store = await createMemory({ backends, backend: 'memory', env: {} });
    expect(store).toBeInstanceOf(InMemoryConversationMemory);
    await store.close();
  });
});
