import type { AnyBackendDescriptor, ConnectionClaim } from './backend-descriptor.js';
import { ValidationError } from './errors.js';
import { maskSecrets } from './mask.js';

/** See {@link ConnectionSettingError.kind}. */
export type ConnectionSettingErrorKind =
  | 'connection-string'
  | 'backend-name'
  | 'location-missing'
  | 'setting';

/**
 * A setting (an option, flag or variable) that names or locates a backend was refused before anything was
 * opened. A `ValidationError` whose `field` is the setting's name (`DATABASE_URL`, `--url`, `POSTGRES_SCHEMA`);
 * `problem` is the message without that name, so that a caller can phrase it its own way.
 */
export class ConnectionSettingError extends ValidationError {
  /** The reason, starting with the refused value when it is shown (masked): `"x" is not ...`. */
  readonly problem: string;
  /**
   * `connection-string`: the value is not a connection string any backend accepts; `backend-name`: no backend
   * has that name; `location-missing`: the chosen backend ({@link backend}) was given no location and has no
   * default here; `setting`: anything else.
   */
  readonly kind: ConnectionSettingErrorKind;
  /** The backend concerned, when one was chosen. */
  readonly backend: string | undefined;
  constructor(
    setting: string,
    problem: string,
    kind: ConnectionSettingErrorKind = 'setting',
    backend?: string,
  ) {
    super(setting, problem);
    this.problem = problem;
    this.kind = kind;
    this.backend = backend;
  }
}

/** The descriptor named `name` (or one of its aliases), case and surrounding space ignored. */
export function findBackend<B extends AnyBackendDescriptor>(
  backends: readonly B[],
  name: string,
): B | undefined {
  const wanted = name.trim().toLowerCase();
  return backends.find((backend) => backend.name === wanted || backend.aliases.includes(wanted));
}

/** `sqlite, postgres or memory`: the canonical names, for messages. */
export function backendNames(backends: readonly AnyBackendDescriptor[]): string {
  const names = backends.map((backend) => backend.name);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** Every accepted name, aliases included (`--backend` choices). */
export function backendChoices(backends: readonly AnyBackendDescriptor[]): string[] {
  return backends.flatMap((backend) => [backend.name, ...backend.aliases]);
}

/** The accepted connection-string forms of every backend, `; `-separated, for help and errors. */
export function acceptedForms(backends: readonly AnyBackendDescriptor[]): string {
  return backends
    .flatMap((backend) => (backend.connectionStrings ? [backend.connectionStrings.description] : []))
    .join('; ');
}

/** The backend and location a connection string names, or why none does. */
export type ClaimedLocation<B extends AnyBackendDescriptor = AnyBackendDescriptor> =
  | { readonly backend: B; readonly location: unknown }
  | { readonly refused: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const SCHEME_WITHOUT_COLON = /^[A-Za-z][A-Za-z0-9+.-]*\/\//;

/**
 * Which backend claims `input`, and its location. A string that has a URL scheme, or looks like it has one
 * (`word:/…`, `word//…`, `word:…//…`, or any scheme a backend lists), goes to the backend listing that scheme,
 * and an unknown scheme is refused here, for all backends: a typo never becomes a file of that name. A
 * scheme-less string goes to the first backend whose `parseOther` claims it, else to the one taking paths.
 */
export function claimConnectionString<B extends AnyBackendDescriptor>(
  backends: readonly B[],
  input: string,
): ClaimedLocation<B> {
  const text = input.trim();
  if (text === '') return { refused: 'it is empty' };
  const known = new Set(backends.flatMap((backend) => backend.connectionStrings?.schemes ?? []));
  const scheme = schemeOf(text, known);
  if (scheme !== null) {
    const afterScheme = text.slice(scheme.length);
    if (!afterScheme.startsWith(':')) {
      return { refused: `"${scheme}//" lacks the colon of a URL scheme ("${scheme}://")` };
    }
    const backend = backends.find((candidate) => candidate.connectionStrings?.schemes.includes(scheme));
    if (!backend) return { refused: `unknown scheme "${scheme}:"` };
    return located(backend, backend.connectionStrings!.parseUrl(text, scheme));
  }
  for (const backend of backends) {
    const claim = backend.connectionStrings?.parseOther?.(text);
    if (claim !== undefined) return located(backend, claim);
  }
  for (const backend of backends) {
    const parsePath = backend.connectionStrings?.parsePath;
    // The path as given (untrimmed): a file name may end in a space.
    if (parsePath) return { backend, location: parsePath(text === ':memory:' ? text : input) };
  }
  return { refused: 'no backend takes a file path' };
}

function located<B extends AnyBackendDescriptor>(
  backend: B,
  claim: ConnectionClaim<unknown>,
): ClaimedLocation<B> {
  return 'refused' in claim ? claim : { backend, location: claim.location };
}

/** The scheme of a string that is, or looks like, a URL; `null` for a plain path. */
function schemeOf(text: string, known: ReadonlySet<string>): string | null {
  const match = SCHEME.exec(text);
  // One letter before `:` is a Windows drive (C:\data), not a scheme.
  if (match && match[1]!.length > 1) {
    const scheme = match[1]!.toLowerCase();
    const rest = text.slice(match[0].length);
    if (known.has(scheme) || rest.startsWith('/') || rest.includes('//')) return scheme;
  }
  if (SCHEME_WITHOUT_COLON.test(text)) return text.slice(0, text.indexOf('/')).toLowerCase();
  return null;
}

/**
 * Like {@link claimConnectionString}, but a refusal is thrown: a {@link ConnectionSettingError} of kind
 * `connection-string` on `source`, echoing the input with its password masked and listing the accepted forms.
 */
export function parseConnectionString<B extends AnyBackendDescriptor>(
  backends: readonly B[],
  input: string,
  source: string,
): { readonly backend: B; readonly location: unknown } {
  const claim = claimConnectionString(backends, input);
  if ('refused' in claim) {
    throw new ConnectionSettingError(
      source,
      `${JSON.stringify(maskMalformed(input))} is not a connection string: ${claim.refused}. ` +
        `Accepted: ${acceptedForms(backends)}`,
      'connection-string',
    );
  }
  return claim;
}

/**
 * `input` masked for an error: `maskSecrets`, and also the password of a malformed URL it does not recognise
 * (`postgres:/user:secret@host`, `postgresql//user:secret@host`): whatever sits between the first `:` after
 * the user name and the last `@`.
 */
export function maskMalformed(input: string): string {
  return maskSecrets(input).replace(
    /^([A-Za-z][A-Za-z0-9+.-]*(?::\/*|\/\/)[^:/@\s]*):(\S*)@/,
    (all, head, pass) => (pass === '***' ? all : `${head}:***@`),
  );
}

/** A setting's value and where it came from (`--url`, `DATABASE_URL`, `databaseUrl`). */
export interface SourcedValue {
  readonly value: string;
  readonly source: string;
}

/** What {@link resolveLocation} chooses from; every field optional, blank values count as unset. */
export interface LocationRequest {
  /** The backend chosen explicitly (`--backend`, the `backend` option): wins over everything. */
  readonly backend?: SourcedValue;
  /** A location given explicitly (`--url`): its backend wins over `DATABASE_BACKEND`. */
  readonly location?: SourcedValue;
  /** `DATABASE_BACKEND`. */
  readonly backendSetting?: SourcedValue;
  /** `DATABASE_URL`: selects the backend that claims it when none is named, and locates a store. */
  readonly databaseUrl?: SourcedValue;
  /** A backend's own setting by its original name (`POSTGRES_DSN`), option or flag first. */
  setting(name: string): SourcedValue | undefined;
  /** See `ResolveInput.useDefaults`. */
  readonly useDefaults: boolean;
}

/** A chosen backend and its location: what a descriptor's `open` takes. */
export interface ResolvedLocation<B extends AnyBackendDescriptor = AnyBackendDescriptor> {
  readonly backend: B;
  /** `undefined` only when the backend has no location (in-memory). */
  readonly location: unknown;
}

/**
 * Chooses the backend and its location, the same way for `createMemory` and the CLI: the explicit backend,
 * else the backend of the explicit location, else `DATABASE_BACKEND`, else the backend that claims
 * `DATABASE_URL`, else the first of `backends` (the default). The chosen descriptor then locates its store
 * (`resolve`). Every refusal is a {@link ConnectionSettingError} naming the setting, before anything is opened;
 * a missing location (no default allowed) is one on the backend's first setting with `problem` starting
 * `needs a location`.
 */
export function resolveLocation<B extends AnyBackendDescriptor>(
  backends: readonly B[],
  request: LocationRequest,
): ResolvedLocation<B> {
  const present = (value: SourcedValue | undefined) => (value?.value.trim() ? value : undefined);
  const named = (value: SourcedValue | undefined) => {
    const given = present(value);
    if (!given) return undefined;
    const backend = findBackend(backends, given.value);
    if (!backend) {
      throw new ConnectionSettingError(
        given.source,
        `${JSON.stringify(given.value)}: expected ${backendNames(backends)}`,
        'backend-name',
      );
    }
    return backend;
  };
  const chosen = named(request.backend);
  // An explicit location is parsed even when blank: `--url ""` is a mistake to report, not an absence.
  const explicitValue = request.location;
  const explicit =
    explicitValue && parseConnectionString(backends, explicitValue.value, explicitValue.source);
  if (chosen && explicit && explicit.backend !== chosen) {
    throw new ConnectionSettingError(
      explicitValue.source,
      chosen.connectionStrings
        ? `is ${explicit.backend.connectionStrings!.noun} but the backend is ${chosen.name}; choose the backend ` +
            `${explicit.backend.name} or give ${chosen.connectionStrings.noun}`
        : `has no meaning with the backend ${chosen.name} (it takes no location: nothing is stored)`,
    );
  }
  const urlValue = present(request.databaseUrl);
  let urlClaim: { readonly backend: B; readonly location: unknown } | undefined;
  // Parsed on first need only: a malformed DATABASE_URL that the chosen backend never reads is no error.
  const databaseUrl = () => {
    if (urlValue && !urlClaim) urlClaim = parseConnectionString(backends, urlValue.value, urlValue.source);
    return urlClaim;
  };
  const backend =
    chosen ?? explicit?.backend ?? named(request.backendSetting) ?? databaseUrl()?.backend ?? backends[0];
  if (!backend) throw new ConnectionSettingError('backend', 'no backend is registered');
  const location = backend.resolve({
    ...(explicit ? { explicit: explicit.location } : {}),
    databaseUrl: () => {
      const claim = databaseUrl();
      if (!claim) return undefined;
      return claim.backend === backend
        ? { location: claim.location, source: urlValue!.source }
        : { otherBackend: claim.backend, source: urlValue!.source };
    },
    setting: (name) => present(request.setting(name)),
    parse: (text, source) => parseConnectionString(backends, text, source),
    useDefaults: request.useDefaults,
  });
  if (location === undefined && backend.connectionStrings) {
    throw new ConnectionSettingError(
      backend.settings[0]?.name ?? 'DATABASE_URL',
      `needs a location: ${backend.title} has no default here`,
      'location-missing',
      backend.name,
    );
  }
  return { backend, location };
}
