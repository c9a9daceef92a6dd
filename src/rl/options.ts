/**
 * Option schemas for the update rules: a small JSON-schema-like description per option,
 * checked before any GPU work so that a scene config with a wrong field fails with one
 * InputError naming the algorithm, the field and what is expected.
 */
import { InputError } from '../errors.ts';

export type OptionSpec =
  | { type: 'number'; default: number; min?: number; max?: number; exclusiveMin?: boolean; description: string }
  | { type: 'integer'; default: number; min?: number; max?: number; description: string }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'enum'; values: readonly string[]; default: string; description: string }
  /** Either the string 'all' or a non-empty list of names. */
  | { type: 'names'; default: 'all' | readonly string[]; description: string }
  /** A pair [low, high] with min <= low <= high <= max. */
  | { type: 'range'; default: readonly [number, number]; min: number; max: number; description: string }
  /** A nested list of objects, checked by the owner (used by `composite`). */
  | { type: 'list'; default: readonly unknown[]; description: string };

export type OptionSchema = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { type: 'number' | 'integer' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'enum' }
      ? string
      : S extends { type: 'names' }
        ? 'all' | string[]
        : S extends { type: 'range' }
          ? [number, number]
          : unknown[];

export type ParsedOptions<S extends OptionSchema> = { [K in keyof S]: ValueOf<S[K]> };

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function bounds(spec: { min?: number; max?: number; exclusiveMin?: boolean }): string {
  const lo = spec.min === undefined ? '' : `${spec.exclusiveMin ? '>' : '>='} ${spec.min}`;
  const hi = spec.max === undefined ? '' : `<= ${spec.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

function checkOne(owner: string, key: string, spec: OptionSpec, value: unknown): unknown {
  const where = `${owner}: option '${key}'`;
  const fail = (what: string): never => {
    throw new InputError(`${where} must be ${what} (got ${show(value)}). ${spec.description}`);
  };
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      const b = bounds(spec);
      const expected = b ? `${kind} ${b}` : kind;
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(expected);
      if (spec.type === 'integer' && !Number.isInteger(value)) return fail(expected);
      if (spec.min !== undefined && (value < spec.min || ('exclusiveMin' in spec && spec.exclusiveMin && value === spec.min)))
        return fail(expected);
      if (spec.max !== undefined && value > spec.max) return fail(expected);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') return fail('true or false');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) return fail(`one of ${spec.values.map((v) => `'${v}'`).join(', ')}`);
      return value;
    case 'names':
      if (value === 'all') return value;
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0))
        return fail(`'all' or a non-empty list of parameter block names`);
      return [...(value as string[])];
    case 'range': {
      const expected = `a pair [low, high] with ${spec.min} <= low <= high <= ${spec.max}`;
      if (!Array.isArray(value) || value.length !== 2) return fail(expected);
      const [lo, hi] = value as unknown[];
      if (typeof lo !== 'number' || typeof hi !== 'number' || !(lo >= spec.min) || !(hi <= spec.max) || !(lo <= hi)) return fail(expected);
      return [lo, hi];
    }
    case 'list':
      if (!Array.isArray(value)) return fail('a list');
      return value;
  }
}

/**
 * Checks `options` against `schema` and fills defaults. Unknown keys are errors too (a typo
 * such as `sigmaa` would otherwise be silently ignored).
 */
export function parseOptions<S extends OptionSchema>(owner: string, schema: S, options: unknown): ParsedOptions<S> {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InputError(`${owner}: options must be an object of named settings (got ${show(options)}).`);
  }
  const given = options as Record<string, unknown>;
  const known = Object.keys(schema);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new InputError(`${owner}: unknown option '${key}'; known options are ${known.map((k) => `'${k}'`).join(', ')}.`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = given[key];
    out[key] = value === undefined ? structuredClone(spec.default) : checkOne(owner, key, spec, value);
  }
  return out as ParsedOptions<S>;
}

/** A JSON-schema object for a config validator (ajv) built from an option schema. */
export function toJsonSchema(schema: OptionSchema): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const base = { description: spec.description, default: spec.default };
    switch (spec.type) {
      case 'number':
        properties[key] = {
          ...base,
          type: 'number',
          ...(spec.min !== undefined ? (spec.exclusiveMin ? { exclusiveMinimum: spec.min } : { minimum: spec.min }) : {}),
          ...(spec.max !== undefined ? { maximum: spec.max } : {}),
        };
        break;
      case 'integer':
        properties[key] = {
          ...base,
          type: 'integer',
          ...(spec.min !== undefined ? { minimum: spec.min } : {}),
          ...(spec.max !== undefined ? { maximum: spec.max } : {}),
        };
        break;
      case 'boolean':
        properties[key] = { ...base, type: 'boolean' };
        break;
      case 'enum':
        properties[key] = { ...base, type: 'string', enum: [...spec.values] };
        break;
      case 'names':
        properties[key] = { ...base, oneOf: [{ const: 'all' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };
        break;
      case 'range':
        properties[key] = {
          ...base,
          type: 'array',
          items: { type: 'number', minimum: spec.min, maximum: spec.max },
          minItems: 2,
          maxItems: 2,
        };
        break;
      case 'list':
        properties[key] = { ...base, type: 'array' };
        break;
    }
  }
  return { type: 'object', additionalProperties: false, properties };
}
