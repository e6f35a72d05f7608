/**
 * Scrub: removes personal data and secrets from a batch before it leaves the edge, and counts every
 * redaction by rule.
 *
 *     const scrubber = createScrubber(config.scrub, tenant.scrubRules);   // once, at start-up
 *     const { redactions, spans } = scrubber.scrub(batch);   // { email: 2, creditcard: 1 }, 2 spans scrubbed
 *
 * The model is Sentry Relay's: a rule finds sensitive text (a pattern, or the whole value of a sensitive
 * attribute key) and a method says what becomes of it — `remove`, `replace` (with `[email]`, or the rule's
 * replacement), `mask` (`****`), or `hash` (an HMAC with a deployment secret, so equal values stay
 * joinable without being readable). The built-in rules are on by default and cover what Relay's defaults
 * cover and more: e-mails, card numbers (Luhn-checked), IBANs (mod-97-checked), US SSNs, bearer/basic
 * tokens, JWTs, PEM private keys, passwords in URLs, IPv4/IPv6 addresses, phone numbers, long numbers and
 * opaque tokens as URL path segments, and the values of sensitive attribute keys and query or fragment
 * parameters (password, secret, token, api_key, auth, session, phone, …, the configured sensitive words, and
 * configured rules' keys). They apply to span names, status messages, event names, scope names and versions,
 * schema URLs, vendors' tracestate members, attribute keys, and every string in resource, scope, span, event and link
 * attributes, including inside arrays and kvlists, and to bytes values that hold UTF-8 text. Keys on the safe
 * list (random ids, the user agent) are left alone. All patterns of a scrubber run as one combined regular
 * expression, bounded so that no input makes it backtrack for long.
 *
 * The scrubber changes the batch in place: the batch is the worker's own copy, made by the validate stage.
 */
import { createHmac } from 'node:crypto';
import { type AnyValue, type ExportTraceServiceRequest, fromBase64, type KeyValue, toBase64 } from '@rumkit/otlp';
import { ConfigError, type ScrubConfig, type ScrubRuleConfig } from '../config.ts';

export type ScrubMethod = 'remove' | 'replace' | 'mask' | 'hash';
export type RedactionCounts = Record<string, number>;

export interface ScrubResult {
  /** How many redactions each rule made. */
  redactions: RedactionCounts;
  /** The spans with something redacted in them, or in their resource or scope: the `scrubbed` outcome. */
  spans: number;
}

export interface Scrubber {
  /**
   * Scrubs the batch in place and says what it redacted. A dry run (what the dry-run route shows to anyone
   * holding a public key) writes `[hash]` without the digest, so it cannot serve to hash guesses with the
   * deployment's secret.
   */
  scrub(request: ExportTraceServiceRequest, options?: { dryRun?: boolean }): ScrubResult;
}

/** What a redaction is counted as and how it is made. */
interface RedactionRule {
  name: string;
  method: ScrubMethod;
  replacement?: string;
}

interface PatternRule extends RedactionRule {
  pattern: string;
  /** Whether a match really is what the rule means (a Luhn check for card numbers). */
  check?: (match: string) => boolean;
  /**
   * A cheap test that the pattern can match somewhere in the text: a necessary condition, never a guess,
   * so leaving the rule out of the combined expression changes no result. It reads the counts of one pass
   * over the text (`TextFeatures`), which spares most strings most alternatives and many the regex itself.
   */
  gate?: (text: string, features: TextFeatures) => boolean;
  /** Splits a match into kept prefix, secret and kept suffix (`Bearer ` + token). */
  split?: (match: string) => [string, string, string];
  /** The configured rule a match belongs to, when one pattern serves several (query parameters of rules' keys). */
  ruleFor?: (match: string) => RedactionRule | undefined;
  /** The pattern with the deployment's `scrub.sensitiveKeys` among its words, for rules that read those. */
  withSensitiveWords?: (extraWords: readonly string[]) => string;
}

/**
 * Words that make an attribute key or a query parameter sensitive when they end it or a part of it. `phone` is
 * here because a bare number under a phone key (`4155550123`) is too like an id or a timestamp for a pattern.
 */
const SENSITIVE_WORDS =
  'pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|auth|authorization|credentials?|' +
  'private[_-]?key|session|sessionid|sid|cookie|csrf|xsrf|jwt|bearer|signature|ssn|phone';
/**
 * What makes an attribute key sensitive wherever it is in the key, as in Sentry Relay's default
 * (`PASSWORD_KEY_REGEX`): `user_passwords`, `clientSecret`, `oauth_state`, `author` too, which is the price Relay
 * pays as well for not missing the others. The other sensitive words must end a part of the key (`tokens`,
 * `session2` and `sessionKey` do; `tokenizer` does not), and `otp` and `two_factor` must be one.
 */
const SENSITIVE_KEY_ANYWHERE =
  'password|passwd|secret|api[_-]?key|auth|credential|private[_-]?key|mysql_pwd|(?:^|[_.-])(?:otp|two[_-]?factor)(?:$|[_.-])';
/** Query parameters that carry personal data in practice, besides the sensitive words. */
const SENSITIVE_PARAMS = `${SENSITIVE_WORDS}|code|e-?mail|tel|mobile|sig|card`;

/**
 * A query or fragment parameter whose name contains a sensitive word, or one of `extraWords`, and may go on
 * after it as a name does (`password_hash`, `passwordHash`, `token2`, `tokens`, `user[password]`): plain, or
 * percent-encoded once or twice (`redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fcode%3D…`, `?token%3D…`, `%253D`), whose
 * value then runs to the end of the parameter it is encoded in. Lower-case letters do not go on after the word
 * (`?telemetry=`, `?signup=`, `?sidebar=` are no secrets).
 */
function sensitiveParamPattern(extraWords: readonly string[]): string {
  const words = [SENSITIVE_PARAMS, ...extraWords.map(escapeRegExp)].join('|');
  // Name characters, brackets (`user[password]`, also encoded) included.
  const char = '(?:[\\w.\\[\\]-]|%(?:25)?5[bBdD])';
  const name = `${char}{0,40}?(?:${caseless(words)})(?:s?(?:[_.\\[\\]A-Z0-9-]|%(?:25)?5[bBdD])${char}{0,40}|s)?`;
  return `(?:[?&#;]|%(?:25)?(?:3[fFbB]|2[36]))${name}(?:=|%(?:25)?3[dD])[^&#\\s]+`;
}

/** `=` with or without spaces; `:` after a quote (JSON) or before a space: `session:start` is a name, not an assignment. */
const ASSIGNMENT_SIGN = `(?:["'][ \\t]*:[ \\t]*|[ \\t]*:[ \\t]+|[ \\t]*=[ \\t]*)`;

/** An authorization scheme, which an assignment keeps before the credential it redacts, as the bearer rule does. */
const AUTH_SCHEME = `(?:${caseless('bearer')}|[Bb]asic|[Nn]egotiate|NTLM|[Dd]igest|DPoP)`;

/**
 * `password=…`, `api_key: …`, `"secret":"…"`, `"newPassword":…` in free text (a span name, an exception message): a
 * name with a sensitive word where a word or a camelCase part starts, `=` or `:`, and the value — quoted, or up to a
 * space or separator; an authorization scheme before it stays.
 */
function sensitiveAssignmentPattern(extraWords: readonly string[]): string {
  const words = [SENSITIVE_WORDS, ...extraWords.map(escapeRegExp)].join('|');
  // Before the word: a part ending in a separator, or a camelCase part (`access` of `accessToken`). After it: a
  // plural, digits, or a part after a separator or a capital (`tokenValue`), never lower-case letters (`author`).
  const name = `(?:[\\w-]{0,40}[_.-]|[\\w-]{0,40}[a-z0-9](?=[A-Z]))?(?:${caseless(words)})(?:s?[_.A-Z0-9-][\\w-]{0,40}|s)?`;
  // Where free text starts a word (`login failed: password=…`, `{"secret":…`), not inside a URL, whose parameters
  // the sensitive_param rule reads: trying the name at every word of every URL cost 7 % of the whole app.
  // A quoted value runs to its closing quote, escaped quotes included (or to the line's end when there is none);
  // a bare one to a space or separator, however long.
  return `(?<=^|[\\s"'{,;(\\[])${name}${ASSIGNMENT_SIGN}(?:["']?${AUTH_SCHEME}[ \\t]+)?(?:"(?:[^"\\\\\\n]|\\\\.)*"?|'(?:[^'\\\\\\n]|\\\\.)*'?|[^\\s&;,"'<>)}\\]]+)`;
}

/** What an assignment keeps before its value: the sign, and an opening quote or a scheme. */
const ASSIGNMENT_PREFIX_END = new RegExp(`${ASSIGNMENT_SIGN}(?:["']?${AUTH_SCHEME}[ \\t]+)?["']?`);

/** Keeps an assignment's name, sign and quote or scheme; redacts its value (without the closing quote). */
const splitAssignment = (m: string): [string, string, string] => {
  const [prefix, rest] = splitAt(m, ASSIGNMENT_PREFIX_END);
  const quoted = /["']$/.test(rest) && /["']$/.test(prefix);
  return quoted ? [prefix, rest.slice(0, -1), rest.slice(-1)] : [prefix, rest, ''];
};

/** A query or fragment parameter with one of these exact names (a configured rule's `keys`). */
function namedParamPattern(names: readonly string[]): string {
  return `[?&#;](?:${caseless(names.map(escapeRegExp).join('|'))})=[^&#\\s]+`;
}

/**
 * A pattern whose letters match either case (`[pP][aA]…`). The combined expression cannot take the `i` flag,
 * which would loosen every other rule, and inline modifiers (`(?i:…)`) need V8 12.5: Node 22 has 12.4.
 * Escapes are copied as they are; the patterns given here have no character classes with letters.
 */
function caseless(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') out += char + (pattern[++i] ?? '');
    else {
      const lower = char.toLowerCase();
      const upper = char.toUpperCase();
      out += lower !== upper && lower.length === 1 && upper.length === 1 ? `[${lower}${upper}]` : char;
    }
  }
  return out;
}

/** `=` percent-encoded once or twice. The gates' expressions are made once: a gate runs for every string. */
const ENCODED_EQUALS = /%(?:25)?3d/i;
/** What every authorization scheme the bearer rule knows contains. */
const SCHEME_PART = /earer|asic|oken|egotiate|NTLM/i;

const hasParam = (t: string, f: TextFeatures) => (f.equals && f.paramStart) || (f.percent && ENCODED_EQUALS.test(t));

/** Keeps a parameter's name and redacts its value (after `=`, or `%3D` when encoded). */
const splitParamValue = (m: string): [string, string, string] => {
  const eq = /=|%(?:25)?3[dD]/.exec(m) as RegExpExecArray;
  const end = eq.index + eq[0].length;
  return [m.slice(0, end), m.slice(end), ''];
};

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}`;
const HEX4 = '[0-9a-fA-F]{1,4}';

/** The built-in rules, in priority order: at one position the first matching rule wins. */
export const BUILTIN_RULES: readonly PatternRule[] = [
  {
    name: 'pem_key',
    gate: (t, f) => f.dashes >= 10 && t.includes('-----BEGIN'),
    pattern: '-----BEGIN[A-Z ]{0,30}PRIVATE KEY-----(?:[\\s\\S]*?-----END[A-Z ]{0,30}PRIVATE KEY-----|[\\s\\S]*)',
    method: 'replace',
  },
  {
    name: 'jwt',
    gate: (t, f) => f.dots >= 2 && t.includes('eyJ'),
    pattern: '(?<![\\w-])eyJ[\\w-]{2,}\\.eyJ[\\w-]{2,}\\.[\\w-]*',
    method: 'replace',
  },
  {
    name: 'bearer_token',
    gate: (t, f) => f.space && SCHEME_PART.test(t),
    // `Bearer` in any case and with a credential of any length, as Relay reads it; the schemes that are also words
    // (`Basic information`, `Token expired`) only before eight credential characters.
    pattern: `(?<![\\w-])(?:${caseless('bearer')}\\s+[\\w.~+/=-]+|(?:[Bb]asic|[Tt]oken|[Nn]egotiate|NTLM)\\s+[\\w.~+/=-]{8,})`,
    method: 'replace',
    replacement: '[Filtered]',
    split: (m) => splitAt(m, /\s+/),
  },
  {
    name: 'url_password',
    gate: (t, f) => f.at && t.includes('://'),
    pattern: ':\\/\\/[^\\s/?#@:]{1,256}:[^\\s/?#@]{1,256}@',
    method: 'replace',
    replacement: '[Filtered]',
    split: (m) => {
      const colon = m.indexOf(':', 3);
      return [m.slice(0, colon + 1), m.slice(colon + 1, -1), '@'];
    },
  },
  {
    name: 'sensitive_param',
    gate: hasParam,
    pattern: sensitiveParamPattern([]),
    withSensitiveWords: sensitiveParamPattern,
    method: 'replace',
    replacement: '[Filtered]',
    split: splitParamValue,
  },
  {
    name: 'sensitive_assignment',
    gate: (_, f) => f.equals || f.colons > 0,
    pattern: sensitiveAssignmentPattern([]),
    withSensitiveWords: sensitiveAssignmentPattern,
    method: 'replace',
    replacement: '[Filtered]',
    split: splitAssignment,
  },
  {
    name: 'email',
    gate: (t, f) => f.at || (f.percent && (t.includes('%40') || t.includes('%2540'))),
    // Starts only where a word starts, so the bounded local part is scanned once per word, not per letter. Latin
    // letters with accents count (`jöhn@`), and an apostrophe within (`o'brien@`); the address may be followed by
    // a dash (`jane@example.com-backup`), which no domain ends with.
    pattern:
      "(?<![\\w.%+\\u00C0-\\u024F-])[\\w.%+\\u00C0-\\u024F-][\\w.%+'\\u00C0-\\u024F-]{0,63}(?:@|%(?:25)?40)" +
      '(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}(?!\\w)',
    method: 'replace',
  },
  {
    name: 'iban',
    gate: (_, f) => f.ibanStart,
    pattern: '(?<!\\w)[A-Za-z]{2}\\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?!\\w)',
    method: 'replace',
    // People write IBANs in one case; mixed-case tokens of the same shape would pass mod-97 once in 97.
    check: (m) => (m === m.toUpperCase() || m === m.toLowerCase()) && ibanIsValid(m),
  },
  {
    name: 'creditcard',
    gate: (_, f) => f.digits >= 13,
    pattern: '(?<![\\w-])(?:\\d[ -]?){12,18}\\d(?![\\w-])',
    method: 'mask',
    check: luhnIsValid,
  },
  {
    name: 'ssn',
    gate: (_, f) => f.digits >= 9 && f.dashes >= 2,
    pattern: '(?<![\\w-])(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}(?![\\w-])',
    method: 'replace',
  },
  {
    name: 'ipv6',
    gate: (t, f) => f.colons >= 6 || (f.colons >= 2 && t.includes('::')),
    // IPv4-mapped and -embedded forms (`::ffff:192.0.2.1`) first, and no match may end before `.digit`, so the
    // address is redacted whole rather than as `[ip].0.2.1`.
    pattern:
      `(?<![\\w:])(?:(?:${HEX4}:){6}${IPV4}|(?:${HEX4}(?::${HEX4}){0,4})?::(?:${HEX4}:){0,4}${IPV4}` +
      `|(?:${HEX4}:){7}${HEX4}|(?:${HEX4}(?::${HEX4}){0,6})?::(?:${HEX4}(?::${HEX4}){0,6})?)` +
      '(?![\\w:]|\\.\\d)',
    method: 'replace',
    replacement: '[ip]',
    // "::" alone and C++-like "a::b" are not addresses worth a redaction.
    check: (m) => m.length >= 6 && /\d/.test(m),
  },
  {
    name: 'ipv4',
    gate: (_, f) => f.digitDots >= 3,
    // Not after `Product/` where a token starts (`… Chrome/142.0.0.0`): that is a version, as in user agents. After
    // a path segment (`/geo/203.0.113.7`) it is an address.
    pattern: `(?<![\\w.-]|(?:^|[\\s(;,])[A-Za-z][\\w.-]*\\/)${IPV4}(?![\\w-]|\\.\\d)`,
    method: 'replace',
    replacement: '[ip]',
  },
  {
    name: 'phone',
    // Ten digits for (415) 555-0123 and 020 7946 0958, or a plus and at least three for +44 20 ….
    gate: (_, f) => f.digits >= 10 || (f.plus && f.digits >= 3),
    // International (+44 20 7946 0958), North American ((415)555-0123, 415-555-0123), and national with a
    // trunk 0 (020 7946 0958). Each needs a plus, parentheses or separators: a bare run of ten digits is as
    // likely an id or a timestamp.
    // The international form reads one digit (or one parenthesised area code) per step, so a long run of digits
    // has one reading, not one per way of cutting it into groups: that took seconds per megabyte.
    pattern:
      '(?<![\\w+])\\+[1-9](?:[ .-]?\\(\\d{1,4}\\)|[ .-]?\\d){6,18}(?![\\w-])' +
      '|(?<![\\w-])(?:\\(\\d{3}\\)[ .-]?|\\d{3}[ .-])\\d{3}[ .-]\\d{4}(?![\\w-])' +
      // Opens with the 0, not the lookbehind: the regex engine skips to the characters an alternative can start with.
      '|0(?<![\\w.+-]0)[1-9]\\d{0,3}(?:[ -]\\d{2,8}){1,4}(?![\\w-]|\\.\\d)',
    method: 'replace',
    check: (m) => {
      const digits = m.replace(/\D/g, '').length;
      // National numbers with their trunk 0 have 10 to 12 digits; fewer are more often lists of numbers.
      return m.startsWith('0') ? digits >= 10 && digits <= 12 : digits >= 8 && digits <= 15;
    },
  },
  {
    name: 'path_segment',
    gate: (_, f) => f.longSegment,
    // A whole segment: what follows may not continue it, so `index-B2xk9Qz.js` and `jane%40example.com` are
    // never cut short into a match. Last in order, so a card number or phone number in a path keeps its rule.
    pattern: '(?<=\\/)(?:\\d{6,}|[\\w-]{20,}={0,2})(?![\\w.~%@:+=-])',
    method: 'replace',
    check: isIdentifierSegment,
  },
  {
    name: 'user_path',
    gate: (t, f) =>
      (f.colons > 0 && (t.includes('sers') || t.includes('home') || t.includes('ettings'))) || t.includes('/Users/'),
    // The user's name in a file path, as Relay's `@userpath`: `C:\Users\jane\…`, `/Users/jane/…`,
    // `file:///home/jane/…`. Not in a web URL's path, where `/users/…` and `/home/…` are an app's routes.
    pattern:
      '(?:file://[^\\s/]{0,253}/(?:Users|home)/|(?<![\\w.-])[A-Za-z]:[\\\\/](?:[Uu]sers|Documents and Settings)[\\\\/]' +
      '|(?<=^|[\\s"\'(=])/Users/)[^/\\\\\\s?#"\'<>]{1,256}',
    method: 'replace',
    replacement: '[user]',
    split: (m) => {
      const name = Math.max(m.lastIndexOf('/'), m.lastIndexOf('\\')) + 1;
      return [m.slice(0, name), m.slice(name), ''];
    },
  },
];

/** A UUID, recognised whole: none of its pieces is long enough for a token. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a path segment (six digits or more, or twenty word characters or more) identifies a person or is a
 * secret, rather than naming a resource.
 *
 * All digits: customer and account numbers, phone numbers, dates of birth (`140385`) and six-digit postcodes
 * have six digits or more, while what makes paths readable — API versions, years, page numbers, small catalogue
 * ids like `/products/1907` — has fewer. Relay leaves numeric ids alone; we redact the long ones because a
 * scrubber cannot tell a customer number from an order number, and the route stays readable without either.
 *
 * Otherwise an opaque token: a piece (between `-`, `_`, `=`) of sixteen letters and digits or more holding
 * both, as random tokens of base64url or hex do and slugs (`how-we-scaled-to-1m-users`) do not. UUIDs count as
 * tokens although their pieces are short: they are the usual form of reset, invitation and share links, which
 * are secrets, and a scrubber cannot tell those from resource ids. Hashed asset names never get here: their
 * dot continues the segment past the match.
 */
function isIdentifierSegment(segment: string): boolean {
  if (/^\d+$/.test(segment) || UUID.test(segment)) return true;
  return segment.split(/[-_=]/).some((piece) => piece.length >= 16 && /\d/.test(piece) && /[A-Za-z]/.test(piece));
}

const MAX_COMBINED_EXPRESSIONS = 256;
/** How many matches that redact nothing a text may have read again from their second character. */
const MAX_RESCANS = 32;

/** The combined expression's group names, `r0`…`r30`, made once rather than per match. */
const GROUP_NAMES = Array.from({ length: 31 }, (_, i) => `r${i}`);

export const BUILTIN_RULE_NAMES = ['sensitive_key', ...BUILTIN_RULES.map((r) => r.name)];

/** Keys never scrubbed by default: random ids and descriptions of the software, not of the person. */
const DEFAULT_SAFE_KEYS = [
  'session.id',
  'session.previous_id',
  'rumkit.page_view.id',
  'browser.web_vital.id',
  'browser.web_vital.name',
  'browser.web_vital.rating',
  'browser.web_vital.navigation_type',
  'user_agent.original',
  'service.name',
  'service.version',
  'service.namespace',
  'deployment.environment.name',
  'telemetry.sdk.*',
  'telemetry.distro.*',
];

interface KeyVerdict {
  /** The rule redacting the whole value, if the key is sensitive. */
  wholeValue?: RedactionRule;
  safe: boolean;
  /** Whether a pattern finds something in the key itself (`user.jane@example.com.visits`). */
  dirtyKey: boolean;
}

export function createScrubber(config: ScrubConfig, tenantRules: readonly ScrubRuleConfig[] = []): Scrubber {
  if (!config.enabled) return { scrub: () => ({ redactions: {}, spans: 0 }) };
  for (const [i, name] of config.disable.entries()) {
    if (!BUILTIN_RULE_NAMES.includes(name)) throw new ConfigError(`scrub.disable[${i}]: no built-in rule '${name}'`);
  }
  for (const name of Object.keys(config.methods)) {
    if (!BUILTIN_RULE_NAMES.includes(name)) throw new ConfigError(`scrub.methods.${name}: no built-in rule '${name}'`);
  }
  const userRules = [...config.rules, ...tenantRules];
  const keyRules = new Map<string, RedactionRule>();
  for (const rule of userRules) {
    for (const key of rule.keys ?? []) keyRules.set(key.toLowerCase(), rule);
  }
  const userPatternRules: PatternRule[] = userRules.flatMap((r) =>
    r.pattern === undefined ? [] : [{ name: r.name, pattern: r.pattern, method: r.method, replacement: r.replacement }],
  );
  const patternRules: PatternRule[] = [
    ...userPatternRules,
    // Rules' keys name query and fragment parameters too, as the same data travels in URLs. One pattern serves
    // all of them, so that lists of keys, however many, take one of the combined expression's groups.
    ...(keyRules.size === 0
      ? []
      : [
          {
            name: 'keys',
            gate: hasParam,
            pattern: namedParamPattern([...keyRules.keys()]),
            method: 'replace' as const,
            split: splitParamValue,
            ruleFor: (m: string) => keyRules.get(m.slice(1, m.indexOf('=')).toLowerCase()),
          },
        ]),
    ...BUILTIN_RULES.filter((r) => !config.disable.includes(r.name)).map((r) => ({
      ...r,
      pattern: r.withSensitiveWords?.(config.sensitiveKeys) ?? r.pattern,
      method: config.methods[r.name] ?? r.method,
    })),
  ];
  const sensitiveKeyMethod = config.methods.sensitive_key ?? 'replace';
  const hashSecret = config.hashSecret;
  const hashUser =
    [...patternRules, ...userRules].find((r) => r.method === 'hash') ??
    (sensitiveKeyMethod === 'hash' ? { name: 'sensitive_key' } : undefined);
  if (hashUser && !hashSecret)
    throw new ConfigError(`scrub.hashSecret: required by the hash method of rule '${hashUser.name}'`);

  const sensitiveKey = config.disable.includes('sensitive_key')
    ? undefined
    : new RegExp(
        `${SENSITIVE_KEY_ANYWHERE}|(?:${SENSITIVE_WORDS}${config.sensitiveKeys.map((w) => `|${escapeRegExp(w)}`).join('')})s?\\d*(?:$|[_.-])`,
        'i',
      );
  const safeExact = new Set<string>();
  const safePrefixes: string[] = [];
  for (const key of [...DEFAULT_SAFE_KEYS, ...config.safeKeys]) {
    if (key.endsWith('*')) safePrefixes.push(key.slice(0, -1).toLowerCase());
    else safeExact.add(key.toLowerCase());
  }
  // One combined expression per set of rules whose gates pass, keyed by that set as a bit mask.
  const combinedByMask = new Map<number, { regex: RegExp; rules: PatternRule[] }>();
  const compile = (mask: number) => {
    const rules = patternRules.filter((_, i) => mask & (1 << i));
    return { regex: new RegExp(rules.map((r, i) => `(?<${GROUP_NAMES[i]}>${r.pattern})`).join('|'), 'g'), rules };
  };
  // Every rule at once: what a text gets once the cache is full. The gates only spare rules that cannot match.
  let everyRule: ReturnType<typeof compile> | undefined;
  const combinedFor = (mask: number) => {
    let combined = combinedByMask.get(mask);
    if (combined) return combined;
    // Real traffic needs a few dozen sets. Text crafted to pass a new combination of gates each time (there are
    // thousands) would otherwise cost a compilation per string: past the cap, it gets the expression of every rule.
    if (combinedByMask.size >= MAX_COMBINED_EXPRESSIONS) {
      everyRule ??= compile(2 ** patternRules.length - 1);
      return everyRule;
    }
    combined = compile(mask);
    combinedByMask.set(mask, combined);
    return combined;
  };
  if (patternRules.length > GROUP_NAMES.length) {
    const free = GROUP_NAMES.length - (patternRules.length - userPatternRules.length);
    throw new ConfigError(`scrub.rules: at most ${free} rules with a pattern are supported`);
  }
  const verdicts = new Map<string, KeyVerdict>();
  /**
   * Names seen to need nothing: a browser batch repeats a few event names (`fetchStart`, `responseEnd`, … on
   * every fetch span), whose reading again cost as much as a third of the stage, and its scope names and
   * versions, which the e-mail rule's gate opens for (`@opentelemetry/…`).
   */
  const cleanNames = new Set<string>();
  const scrubName = (name: string): string => {
    if (cleanNames.has(name)) return name;
    const scrubbed = scrubText(name);
    if (scrubbed === name && cleanNames.size < 1_000) cleanNames.add(name);
    return scrubbed;
  };
  let activeRules: PatternRule[] = [];

  let counts: RedactionCounts = {};
  /** Redactions made in this batch so far: what tells a span that had some from one that had none. */
  let made = 0;
  let dryRun = false;
  const count = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
    made++;
  };

  const redact = (rule: RedactionRule, secret: string): string => {
    switch (rule.method) {
      case 'remove':
        return '';
      case 'mask':
        return secret.replace(/[^\s.@:/-]/g, '*');
      case 'hash':
        if (dryRun) return '[hash]';
        return `[hash:${createHmac('sha256', hashSecret as string)
          .update(secret)
          .digest('hex')
          .slice(0, 16)}]`;
      default:
        return rule.replacement ?? `[${rule.name}]`;
    }
  };

  const stickyByRule = new Map<PatternRule, RegExp>();
  /**
   * What a later active rule finds at `offset`, for a match that failed its own rule's check: a 16-digit id
   * that is no card number is still a long number in a path. The combined expression reports only the first
   * rule that matched at a place, so the later ones are asked here, one at a time; failed checks are rare.
   */
  const laterMatch = (text: string, offset: number, after: number, within: number) => {
    for (let i = after + 1; i < activeRules.length; i++) {
      const rule = activeRules[i] as PatternRule;
      let sticky = stickyByRule.get(rule);
      if (!sticky) {
        sticky = new RegExp(rule.pattern, 'y');
        stickyByRule.set(rule, sticky);
      }
      sticky.lastIndex = offset;
      const found = sticky.exec(text)?.[0];
      // The replacement cannot reach past the text the combined expression matched.
      if (found && found.length <= within && (!rule.check || rule.check(found))) return { rule, found };
    }
    return undefined;
  };

  /** What one match of the combined expression becomes, and how much of it that covers; undefined for nothing. */
  const redactMatch = (match: RegExpExecArray, text: string): { replacement: string; length: number } | undefined => {
    const groups = match.groups as Record<string, string | undefined>;
    const index = activeRules.findIndex((_, i) => groups[GROUP_NAMES[i] as string] !== undefined);
    let rule = activeRules[index];
    if (!rule) return undefined;
    let found = match[0];
    if (rule.check && !rule.check(found)) {
      const later = laterMatch(text, match.index, index, found.length);
      if (!later) return undefined;
      ({ rule, found } = later);
    }
    const redaction = rule.ruleFor?.(found) ?? rule;
    count(redaction.name);
    if (!rule.split) return { replacement: redact(redaction, found), length: found.length };
    const [prefix, secret, suffix] = rule.split(found);
    return { replacement: prefix + redact(redaction, secret) + suffix, length: found.length };
  };

  const features = emptyFeatures();
  const scrubText = (text: string): string => {
    if (!text) return text;
    readFeatures(text, features);
    let mask = 0;
    for (let i = 0; i < patternRules.length; i++) {
      const gate = (patternRules[i] as PatternRule).gate;
      if (!gate || gate(text, features)) mask |= 1 << i;
    }
    if (mask === 0) return text;
    const { regex, rules } = combinedFor(mask);
    activeRules = rules;
    let out = '';
    let copied = 0;
    let rescans = 0;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match; match = regex.exec(text)) {
      const redaction = match[0] ? redactMatch(match, text) : undefined;
      if (!redaction) {
        // Nothing to redact here, but the text the match spans may still hold something further on: in
        // `Order 1001 4111 1111 1111 1111` the digits from 1001 on fail Luhn, the card number inside them does not.
        // A few times per text: `1 1 1 …` would make every digit a match of its own, 20 times the work of reading
        // past each, which would sell a rate-limit token for far more CPU (bench/worker/pipeline.ts, adversarial).
        regex.lastIndex = ++rescans <= MAX_RESCANS ? match.index + 1 : match.index + match[0].length;
        continue;
      }
      out += text.slice(copied, match.index) + redaction.replacement;
      // What a later rule found may end before the match: the rest is read again.
      copied = regex.lastIndex = match.index + redaction.length;
    }
    return copied === 0 ? text : out + text.slice(copied);
  };

  const verdictFor = (key: string): KeyVerdict => {
    let verdict = verdicts.get(key);
    if (verdict) return verdict;
    const lower = key.toLowerCase();
    const safe = safeExact.has(lower) || safePrefixes.some((p) => lower.startsWith(p));
    const userRule = keyRules.get(lower);
    // Tried once per key, and its redactions not counted: the key is scrubbed again, and counted, wherever it
    // appears, since the hash method's output depends on a dry run.
    const outer = counts;
    const madeBefore = made;
    counts = {};
    const dirtyKey = scrubText(key) !== key;
    counts = outer;
    made = madeBefore;
    verdict = {
      safe,
      dirtyKey,
      wholeValue:
        userRule ??
        // camelCase words end where a capital starts: `passwordHash`, `tokenValue`.
        (!safe && sensitiveKey?.test(key.replace(/([a-z\d])(?=[A-Z])/g, '$1_').toLowerCase())
          ? { name: 'sensitive_key', method: sensitiveKeyMethod, replacement: '[Filtered]' }
          : undefined),
    };
    // Attribute keys repeat from batch to batch; an attacker inventing keys only fills the cache once.
    if (verdicts.size < 10_000) verdicts.set(key, verdict);
    return verdict;
  };

  const scrubValue = (value: AnyValue): void => {
    if (value.stringValue !== undefined) value.stringValue = scrubText(value.stringValue);
    else if (value.intValue !== undefined) scrubInt(value);
    else if (value.bytesValue !== undefined) value.bytesValue = scrubBytes(value.bytesValue, scrubText);
    else if (value.arrayValue) for (const item of value.arrayValue.values) scrubValue(item);
    else if (value.kvlistValue) value.kvlistValue.values = scrubAttributes(value.kvlistValue.values);
  };

  /**
   * A card number fits an int64 (`payment.card: 4111111111111111` from a form's number field); its redaction
   * is text, so the value becomes a string. Shorter numbers cannot hold anything the rules look for.
   */
  const scrubInt = (value: AnyValue): void => {
    const text = String(value.intValue);
    if (text.length < 12) return;
    const scrubbed = scrubText(text);
    if (scrubbed === text) return;
    delete value.intValue;
    value.stringValue = scrubbed;
  };

  /** Scrubs attributes in place; returns a shorter list when a rule removes whole attributes. */
  const scrubAttributes = (attributes: KeyValue[]): KeyValue[] => {
    let kept: KeyValue[] | undefined;
    for (let i = 0; i < attributes.length; i++) {
      const kv = attributes[i] as KeyValue;
      const verdict = verdictFor(kv.key);
      if (verdict.dirtyKey) {
        kv.key = scrubText(kv.key);
        // Keys that differed only in what was redacted are one now: the first keeps it.
        const earlier = kept ?? attributes.slice(0, i);
        if (earlier.some((other) => other.key === kv.key)) {
          kept = earlier;
          continue;
        }
      }
      if (verdict.wholeValue) {
        count(verdict.wholeValue.name);
        if (verdict.wholeValue.method === 'remove') {
          kept ??= attributes.slice(0, i);
          continue;
        }
        kv.value = { stringValue: redact(verdict.wholeValue, stringOf(kv.value)) };
      } else if (!verdict.safe) scrubValue(kv.value);
      kept?.push(kv);
    }
    return kept ?? attributes;
  };

  return {
    scrub(request, options) {
      counts = {};
      made = 0;
      let spans = 0;
      dryRun = options?.dryRun ?? false;
      for (const rs of request.resourceSpans) {
        const resourceStart = made;
        if (rs.resource) rs.resource.attributes = scrubAttributes(rs.resource.attributes);
        // A URL, sent by the page: it can carry what any URL can.
        if (rs.schemaUrl) rs.schemaUrl = scrubName(rs.schemaUrl);
        const resourceScrubbed = made > resourceStart;
        for (const ss of rs.scopeSpans) {
          const scopeStart = made;
          if (ss.schemaUrl) ss.schemaUrl = scrubName(ss.schemaUrl);
          if (ss.scope) {
            ss.scope.name = scrubName(ss.scope.name);
            if (ss.scope.version) ss.scope.version = scrubName(ss.scope.version);
            if (ss.scope.attributes) ss.scope.attributes = scrubAttributes(ss.scope.attributes);
          }
          // What the spans share, their resource's and their scope's, was scrubbed in each of them.
          const shared = resourceScrubbed || made > scopeStart;
          for (const span of ss.spans) {
            const spanStart = made;
            span.name = scrubText(span.name);
            if (span.traceState) span.traceState = scrubTraceState(span.traceState, scrubText);
            if (span.attributes) span.attributes = scrubAttributes(span.attributes);
            if (span.status?.message) span.status.message = scrubText(span.status.message);
            for (const event of span.events ?? []) {
              event.name = scrubName(event.name);
              if (event.attributes) event.attributes = scrubAttributes(event.attributes);
            }
            for (const link of span.links ?? []) {
              if (link.traceState) link.traceState = scrubTraceState(link.traceState, scrubText);
              if (link.attributes) link.attributes = scrubAttributes(link.attributes);
            }
            if (shared || made > spanStart) spans++;
          }
        }
      }
      return { redactions: counts, spans };
    },
  };
}

/**
 * A W3C tracestate with each vendor's value scrubbed. OpenTelemetry's own `ot` member is left as it is: the sample
 * stage reads its threshold and random value (a 14-digit `rv` can pass for a card number). A member whose value a
 * rule removed goes, since W3C forbids empty values, and so do members that are no `key=value` or whose key a rule
 * finds something in (`tenant@system` keys can hold an address): they would pass whatever they carry unread.
 */
function scrubTraceState(traceState: string, scrubText: (text: string) => string): string {
  const members: string[] = [];
  for (const member of traceState.split(',')) {
    const equals = member.indexOf('=');
    if (equals < 0) continue;
    const key = member.slice(0, equals);
    if (key.trim() === 'ot') {
      members.push(member);
      continue;
    }
    const value = scrubText(member.slice(equals + 1));
    if (value.trim() && scrubText(key) === key) members.push(`${key}=${value}`);
  }
  return members.join(',');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * Scrubs base64 `bytes` that hold UTF-8 text as that text, and returns them unchanged when nothing in them
 * changed. Other bytes (images, protobuf, invalid base64) are left: the rules describe text, and a redaction
 * spliced into binary data would only corrupt it.
 */
function scrubBytes(bytes: string, scrubText: (text: string) => string): string {
  let text: string;
  try {
    text = utf8Decoder.decode(fromBase64(bytes));
  } catch {
    return bytes;
  }
  const scrubbed = scrubText(text);
  if (scrubbed === text) return bytes;
  return toBase64(utf8Encoder.encode(scrubbed));
}

/** The text a whole-value redaction hashes or masks; structured values are hashed as their JSON. */
function stringOf(value: AnyValue): string {
  return value.stringValue ?? JSON.stringify(value);
}

/** What the rules' gates ask of a string, counted in one pass over it. */
export interface TextFeatures {
  /** ASCII digits: what `\d` matches. */
  digits: number;
  dashes: number;
  dots: number;
  /** Dots with a digit on both sides, as between the octets of an IPv4 address. */
  digitDots: number;
  colons: number;
  at: boolean;
  percent: boolean;
  equals: boolean;
  /** One of `?&#;`, which start a query or fragment parameter. */
  paramStart: boolean;
  /** Two ASCII letters followed by two digits, as an IBAN starts. */
  ibanStart: boolean;
  /** A `/` followed by 20 characters of `[\w-]`, or by such characters holding six digits. */
  longSegment: boolean;
  plus: boolean;
  /** A character that may be whitespace (`\s` also matches some non-ASCII spaces, so any of those counts). */
  space: boolean;
}

export function emptyFeatures(): TextFeatures {
  return {
    digits: 0,
    dashes: 0,
    dots: 0,
    digitDots: 0,
    colons: 0,
    at: false,
    percent: false,
    equals: false,
    paramStart: false,
    ibanStart: false,
    longSegment: false,
    plus: false,
    space: false,
  };
}

/** Counts `text`'s features into `f` (one object reused for every string: this runs for each of them). */
export function readFeatures(text: string, f: TextFeatures): void {
  f.digits = f.dashes = f.dots = f.digitDots = f.colons = 0;
  f.at = f.percent = f.equals = f.paramStart = f.ibanStart = f.longSegment = f.plus = f.space = false;
  let previous = 0;
  // Where the path segment being read starts (after a `/`), and the digits counted before it; -1 outside one.
  let segmentStart = -1;
  let digitsBeforeSegment = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 97 && code <= 122) {
      // Lower-case letters are most of most strings: they only continue a path segment, and the IBAN test
      // below looks back at them, so here they cost one test.
    } else if (code >= 48 && code <= 57) {
      f.digits++;
      if (
        i >= 3 &&
        previous >= 48 &&
        previous <= 57 &&
        isLetter(text.charCodeAt(i - 2)) &&
        isLetter(text.charCodeAt(i - 3))
      )
        f.ibanStart = true;
    } else if ((code >= 65 && code <= 90) || code === 95) {
      // Capitals and `_`, like lower-case letters, only continue a path segment.
    } else if (code === 45) f.dashes++;
    else {
      // Any other character ends a path segment.
      if (segmentStart >= 0) {
        if (isLongSegment(i - segmentStart, f.digits - digitsBeforeSegment)) f.longSegment = true;
        segmentStart = -1;
      }
      if (code === 47) {
        segmentStart = i + 1;
        digitsBeforeSegment = f.digits;
      } else if (code === 46) {
        f.dots++;
        const next = text.charCodeAt(i + 1);
        if (previous >= 48 && previous <= 57 && next >= 48 && next <= 57) f.digitDots++;
      } else if (code === 58) f.colons++;
      else if (code === 64) f.at = true;
      else if (code === 37) f.percent = true;
      else if (code === 61) f.equals = true;
      else if (code === 63 || code === 38 || code === 35 || code === 59) f.paramStart = true;
      else if (code === 43) f.plus = true;
      else if (code === 32 || (code >= 9 && code <= 13) || code >= 0xa0) f.space = true;
    }
    previous = code;
  }
  if (segmentStart >= 0 && isLongSegment(length - segmentStart, f.digits - digitsBeforeSegment)) f.longSegment = true;
}

/** Whether a path segment is long enough for the `path_segment` rule's pattern. */
function isLongSegment(characters: number, digits: number): boolean {
  return characters >= 20 || digits >= 6;
}

/** Whether `code` is an ASCII letter (`| 32` makes capitals lower-case and no other character a letter). */
function isLetter(code: number): boolean {
  return (code | 32) >= 97 && (code | 32) <= 122;
}

function splitAt(match: string, separator: RegExp): [string, string, string] {
  const found = separator.exec(match);
  if (!found) return ['', match, ''];
  const end = found.index + found[0].length;
  return [match.slice(0, end), match.slice(end), ''];
}

export function luhnIsValid(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function ibanIsValid(match: string): boolean {
  const iban = match.replace(/ /g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
