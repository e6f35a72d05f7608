/**
 * Scrub: removes personal data and secrets from a batch before it leaves the edge, and counts every
 * redaction by rule.
 *
 *     const scrubber = createScrubber(config.scrub, tenant.scrubRules);   // once, at start-up
 *     const counts = scrubber.scrub(batch);                              // { email: 2, creditcard: 1 }
 *
 * The model is Sentry Relay's: a rule finds sensitive text (a pattern, or the whole value of a sensitive
 * attribute key) and a method says what becomes of it — `remove`, `replace` (with `[email]`, or the rule's
 * replacement), `mask` (`****`), or `hash` (an HMAC with a deployment secret, so equal values stay
 * joinable without being readable). The built-in rules are on by default and cover what Relay's defaults
 * cover and more: e-mails, card numbers (Luhn-checked), IBANs (mod-97-checked), US SSNs, bearer/basic
 * tokens, JWTs, PEM private keys, passwords in URLs, IPv4/IPv6 addresses, phone numbers, and the values of
 * sensitive attribute keys and query or fragment parameters (password, secret, token, api_key, auth,
 * session, …). They apply to span names, status messages, and every string in resource, scope, span, event
 * and link attributes, including inside arrays and kvlists. Keys on the safe list (random ids, the user
 * agent) are left alone. All patterns of a scrubber run as one combined regular expression, bounded so
 * that no input makes it backtrack for long.
 *
 * The scrubber changes the batch in place: the batch is the worker's own copy, made by the validate stage.
 */
import { createHmac } from 'node:crypto';
import type { AnyValue, ExportTraceServiceRequest, KeyValue } from '@rumkit/otlp';
import { ConfigError, type ScrubConfig, type ScrubRuleConfig } from '../config.ts';

export type ScrubMethod = 'remove' | 'replace' | 'mask' | 'hash';
export type RedactionCounts = Record<string, number>;

export interface Scrubber {
  /** Scrubs the batch in place and returns how many redactions each rule made. */
  scrub(request: ExportTraceServiceRequest): RedactionCounts;
}

interface PatternRule {
  name: string;
  pattern: string;
  method: ScrubMethod;
  replacement?: string;
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
}

/** Words that make an attribute key or a query parameter sensitive when they end it or a part of it. */
const SENSITIVE_WORDS =
  'pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|auth|authorization|credentials?|' +
  'private[_-]?key|session|sessionid|sid|cookie|csrf|xsrf|jwt|bearer|signature|ssn';
/** Query parameters that carry personal data in practice, besides the sensitive words. */
const SENSITIVE_PARAMS = `${SENSITIVE_WORDS}|code|e-?mail|phone|tel|mobile|sig|card`;

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
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
    gate: (t, f) => f.space && (t.includes('earer') || t.includes('asic') || t.includes('oken')),
    pattern: '(?<![\\w-])(?:[Bb]earer|[Bb]asic|[Tt]oken)\\s+[\\w.~+/=-]{8,}',
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
    gate: (_, f) => f.equals && f.paramStart,
    pattern: `[?&#;][\\w.-]{0,40}?(?i:${SENSITIVE_PARAMS})(?:[_.-][\\w.-]{0,40})?=[^&#\\s]+`,
    method: 'replace',
    replacement: '[Filtered]',
    split: (m) => {
      const eq = m.indexOf('=');
      return [m.slice(0, eq + 1), m.slice(eq + 1), ''];
    },
  },
  {
    name: 'email',
    gate: (t, f) => f.at || (f.percent && t.includes('%40')),
    // Starts only where a word starts, so the bounded local part is scanned once per word, not per letter.
    pattern: '(?<![\\w.%+-])[\\w.%+-]{1,64}(?:@|%40)(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}(?![\\w-])',
    method: 'replace',
  },
  {
    name: 'iban',
    gate: (_, f) => f.upper >= 2 && f.digits >= 2,
    pattern: '(?<!\\w)[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\\w)',
    method: 'replace',
    check: ibanIsValid,
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
    gate: (t, f) => f.colons >= 7 || (f.colons >= 2 && t.includes('::')),
    pattern:
      `(?<![\\w:])(?:(?:${HEX4}:){7}${HEX4}|(?:${HEX4}(?::${HEX4}){0,6})?::(?:${HEX4}(?::${HEX4}){0,6})?)` +
      '(?![\\w:])',
    method: 'replace',
    replacement: '[ip]',
    // "::" alone and C++-like "a::b" are not addresses worth a redaction.
    check: (m) => m.length >= 6 && /\d/.test(m),
  },
  {
    name: 'ipv4',
    gate: (_, f) => f.digitDots >= 3,
    // Not after `Product/`: that is a version (`Chrome/142.0.0.0`), as in user agents.
    pattern: `(?<![\\w.-]|[A-Za-z]\\/)(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}(?![\\w-]|\\.\\d)`,
    method: 'replace',
    replacement: '[ip]',
  },
  {
    name: 'phone',
    // Ten digits for (415) 555-0123, or a plus and at least three for +44 20 ….
    gate: (_, f) => f.digits >= 10 || (f.plus && f.digits >= 3),
    pattern:
      '(?<![\\w+])\\+[1-9]\\d{0,2}[ .-]?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{1,4}(?:[ .-]?\\d{1,4}){1,4}(?![\\w-])' +
      '|(?<![\\w-])\\(?\\d{3}\\)?[ .-]\\d{3}[ .-]\\d{4}(?![\\w-])',
    method: 'replace',
    check: (m) => {
      const digits = m.replace(/\D/g, '').length;
      return digits >= 8 && digits <= 15;
    },
  },
];

const MAX_COMBINED_EXPRESSIONS = 256;

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
  wholeValue?: { name: string; method: ScrubMethod; replacement?: string };
  safe: boolean;
}

export function createScrubber(config: ScrubConfig, tenantRules: readonly ScrubRuleConfig[] = []): Scrubber {
  if (!config.enabled) return { scrub: () => ({}) };
  for (const [i, name] of config.disable.entries()) {
    if (!BUILTIN_RULE_NAMES.includes(name)) throw new ConfigError(`scrub.disable[${i}]: no built-in rule '${name}'`);
  }
  for (const name of Object.keys(config.methods)) {
    if (!BUILTIN_RULE_NAMES.includes(name)) throw new ConfigError(`scrub.methods.${name}: no built-in rule '${name}'`);
  }
  const userRules = [...config.rules, ...tenantRules];
  const patternRules: PatternRule[] = [
    ...userRules.flatMap((r) =>
      r.pattern === undefined
        ? []
        : [{ name: r.name, pattern: r.pattern, method: r.method, replacement: r.replacement }],
    ),
    ...BUILTIN_RULES.filter((r) => !config.disable.includes(r.name)).map((r) => ({
      ...r,
      method: config.methods[r.name] ?? r.method,
    })),
  ];
  const sensitiveKeyMethod = config.methods.sensitive_key ?? 'replace';
  const keyRules = new Map<string, KeyVerdict['wholeValue']>();
  for (const rule of userRules) {
    for (const key of rule.keys ?? []) keyRules.set(key.toLowerCase(), rule);
  }
  const hashSecret = config.hashSecret;
  const hashUser =
    [...patternRules, ...userRules].find((r) => r.method === 'hash') ??
    (sensitiveKeyMethod === 'hash' ? { name: 'sensitive_key' } : undefined);
  if (hashUser && !hashSecret)
    throw new ConfigError(`scrub.hashSecret: required by the hash method of rule '${hashUser.name}'`);

  const sensitiveKey = config.disable.includes('sensitive_key')
    ? undefined
    : new RegExp(
        `(?:${SENSITIVE_WORDS}${config.sensitiveKeys.map((w) => `|${escapeRegExp(w)}`).join('')})(?:$|[_.-])`,
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
  const combinedFor = (mask: number) => {
    let combined = combinedByMask.get(mask);
    if (!combined) {
      const rules = patternRules.filter((_, i) => mask & (1 << i));
      combined = { regex: new RegExp(rules.map((r, i) => `(?<${GROUP_NAMES[i]}>${r.pattern})`).join('|'), 'g'), rules };
      // Real traffic needs a few dozen sets; text crafted to pass every combination of gates (4096 of them)
      // only makes the cache start over, never hold thousands of compiled expressions.
      if (combinedByMask.size >= MAX_COMBINED_EXPRESSIONS) combinedByMask.clear();
      combinedByMask.set(mask, combined);
    }
    return combined;
  };
  if (patternRules.length > 31) throw new ConfigError('scrub.rules: at most 19 pattern rules are supported');
  const verdicts = new Map<string, KeyVerdict>();
  let activeRules: PatternRule[] = [];

  let counts: RedactionCounts = {};
  const count = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };

  const redact = (rule: { name: string; method: ScrubMethod; replacement?: string }, secret: string): string => {
    switch (rule.method) {
      case 'remove':
        return '';
      case 'mask':
        return secret.replace(/[^\s.@:/-]/g, '*');
      case 'hash':
        return `[hash:${createHmac('sha256', hashSecret as string)
          .update(secret)
          .digest('hex')
          .slice(0, 16)}]`;
      default:
        return rule.replacement ?? `[${rule.name}]`;
    }
  };

  const replacer = (match: string, ...args: unknown[]): string => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    let rule: PatternRule | undefined;
    for (let i = 0; i < activeRules.length; i++) {
      if (groups[GROUP_NAMES[i] as string] !== undefined) {
        rule = activeRules[i];
        break;
      }
    }
    if (!rule || (rule.check && !rule.check(match))) return match;
    count(rule.name);
    if (!rule.split) return redact(rule, match);
    const [prefix, secret, suffix] = rule.split(match);
    return prefix + redact(rule, secret) + suffix;
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
    const combined = combinedFor(mask);
    activeRules = combined.rules;
    return text.replace(combined.regex, replacer);
  };

  const verdictFor = (key: string): KeyVerdict => {
    let verdict = verdicts.get(key);
    if (verdict) return verdict;
    const lower = key.toLowerCase();
    const safe = safeExact.has(lower) || safePrefixes.some((p) => lower.startsWith(p));
    const userRule = keyRules.get(lower);
    verdict = {
      safe,
      wholeValue:
        userRule ??
        (!safe && sensitiveKey?.test(lower)
          ? { name: 'sensitive_key', method: sensitiveKeyMethod, replacement: '[Filtered]' }
          : undefined),
    };
    // Attribute keys repeat from batch to batch; an attacker inventing keys only fills the cache once.
    if (verdicts.size < 10_000) verdicts.set(key, verdict);
    return verdict;
  };

  const scrubValue = (value: AnyValue): void => {
    if (value.stringValue !== undefined) value.stringValue = scrubText(value.stringValue);
    else if (value.arrayValue) for (const item of value.arrayValue.values) scrubValue(item);
    else if (value.kvlistValue) value.kvlistValue.values = scrubAttributes(value.kvlistValue.values);
  };

  /** Scrubs attributes in place; returns a shorter list when a rule removes whole attributes. */
  const scrubAttributes = (attributes: KeyValue[]): KeyValue[] => {
    let kept: KeyValue[] | undefined;
    for (let i = 0; i < attributes.length; i++) {
      const kv = attributes[i] as KeyValue;
      const verdict = verdictFor(kv.key);
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
    scrub(request) {
      counts = {};
      for (const rs of request.resourceSpans) {
        if (rs.resource) rs.resource.attributes = scrubAttributes(rs.resource.attributes);
        for (const ss of rs.scopeSpans) {
          if (ss.scope?.attributes) ss.scope.attributes = scrubAttributes(ss.scope.attributes);
          for (const span of ss.spans) {
            span.name = scrubText(span.name);
            if (span.attributes) span.attributes = scrubAttributes(span.attributes);
            if (span.status?.message) span.status.message = scrubText(span.status.message);
            for (const event of span.events ?? []) {
              if (event.attributes) event.attributes = scrubAttributes(event.attributes);
            }
            for (const link of span.links ?? []) {
              if (link.attributes) link.attributes = scrubAttributes(link.attributes);
            }
          }
        }
      }
      return counts;
    },
  };
}

/** The text a whole-value redaction hashes or masks; structured values are hashed as their JSON. */
function stringOf(value: AnyValue): string {
  return value.stringValue ?? JSON.stringify(value);
}

/** What the rules' gates ask of a string, counted in one pass over it. */
export interface TextFeatures {
  /** ASCII digits: what `\d` matches. */
  digits: number;
  /** ASCII capitals: what `[A-Z]` matches. */
  upper: number;
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
  plus: boolean;
  /** A character that may be whitespace (`\s` also matches some non-ASCII spaces, so any of those counts). */
  space: boolean;
}

export function emptyFeatures(): TextFeatures {
  return {
    digits: 0,
    upper: 0,
    dashes: 0,
    dots: 0,
    digitDots: 0,
    colons: 0,
    at: false,
    percent: false,
    equals: false,
    paramStart: false,
    plus: false,
    space: false,
  };
}

/** Counts `text`'s features into `f` (one object reused for every string: this runs for each of them). */
export function readFeatures(text: string, f: TextFeatures): void {
  f.digits = f.upper = f.dashes = f.dots = f.digitDots = f.colons = 0;
  f.at = f.percent = f.equals = f.paramStart = f.plus = f.space = false;
  let previous = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 97 && code <= 122) {
      // Lower-case letters are most of most strings and matter to no gate.
    } else if (code >= 48 && code <= 57) f.digits++;
    else if (code >= 65 && code <= 90) f.upper++;
    else if (code === 46) {
      f.dots++;
      const next = text.charCodeAt(i + 1);
      if (previous >= 48 && previous <= 57 && next >= 48 && next <= 57) f.digitDots++;
    } else if (code === 45) f.dashes++;
    else if (code === 58) f.colons++;
    else if (code === 64) f.at = true;
    else if (code === 37) f.percent = true;
    else if (code === 61) f.equals = true;
    else if (code === 63 || code === 38 || code === 35 || code === 59) f.paramStart = true;
    else if (code === 43) f.plus = true;
    else if (code === 32 || (code >= 9 && code <= 13) || code >= 0xa0) f.space = true;
    previous = code;
  }
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
  const iban = match.replace(/ /g, '');
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
