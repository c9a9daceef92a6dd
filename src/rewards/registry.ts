/**
 * Reward plugins by built-in name or by module path. Options are validated against the
 * module's `optionsSchema` with ajv (defaults filled in); a bad option gets an InputError
 * naming the plugin and the field.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { InputError } from '../errors.ts';
import type { RewardPlugin, RewardPluginModule, RewardSpec } from './plugin.ts';

/** Built-in rewards, imported on first use so that e.g. onnxruntime loads only for `clip`. */
export const builtinRewards: Record<string, () => Promise<RewardPluginModule>> = {
  geometry: () => import('./geometry.ts'),
  consistency: () => import('./consistency.ts'),
  clip: () => import('./clip.ts'),
  'prompt-attributes': () => import('./prompt-attributes.ts'),
  http: () => import('./http.ts'),
  'reference-video': () => import('./reference-video.ts'),
};

function describeAjvError(e: ErrorObject): { field: string; message: string } {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { field: path ? `${path}.${missing}` : missing, message: 'is required' };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { field: path ? `${path}.${extra}` : extra, message: 'is not a known option' };
  }
  return { field: path || '(options)', message: e.message ?? 'is invalid' };
}

/** Validates (and fills defaults into) a copy of the options; throws InputError naming plugin and field. */
export function validateOptions(pluginName: string, schema: object | undefined, options: object | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone((options ?? {}) as Record<string, unknown>);
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy))
    throw new InputError(`reward plugin '${pluginName}': 'options' must be an object.`);
  if (!schema) return copy;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validate = ajv.compile(schema);
  if (!validate(copy)) {
    const parts = (validate.errors ?? []).map(describeAjvError).map((d) => `option '${d.field}' ${d.message}`);
    throw new InputError(`reward plugin '${pluginName}': ${[...new Set(parts)].join('; ')}.`);
  }
  return copy;
}

async function importModule(spec: RewardSpec, baseDir: string): Promise<{ label: string; mod: RewardPluginModule }> {
  if (spec.module !== undefined) {
    if (typeof spec.module !== 'string' || !spec.module)
      throw new InputError(`reward plugin: 'module' must be a non-empty path.`);
    const path = isAbsolute(spec.module) ? spec.module : resolve(baseDir, spec.module);
    if (!existsSync(path)) throw new InputError(`reward plugin '${spec.module}': no file at ${path} (module paths are relative to the scene config).`);
    let mod: RewardPluginModule;
    try {
      mod = (await import(pathToFileURL(path).href)) as RewardPluginModule;
    } catch (e) {
      throw new InputError(`reward plugin '${spec.module}': could not import ${path}: ${(e as Error).message}`);
    }
    return { label: spec.module, mod };
  }
  if (typeof spec.name !== 'string') throw new InputError(`reward plugin: give either 'name' (a built-in) or 'module' (a path).`);
  const load = builtinRewards[spec.name];
  if (!load)
    throw new InputError(`reward plugin '${spec.name}': unknown built-in; known: ${Object.keys(builtinRewards).join(', ')} (or give 'module' with a path).`);
  return { label: spec.name, mod: await load() };
}

/** Loads, validates and instantiates one reward plugin. Module paths are relative to `baseDir`. */
export async function loadRewardPlugin(spec: RewardSpec, baseDir: string): Promise<RewardPlugin> {
  const label0 = spec.name ?? spec.module ?? '(unnamed)';
  if (typeof spec.weight !== 'number' || !Number.isFinite(spec.weight))
    throw new InputError(`reward plugin '${label0}': 'weight' must be a finite number.`);
  const { label, mod } = await importModule(spec, baseDir);
  if (typeof mod.default !== 'function')
    throw new InputError(`reward plugin '${label}': the module must default-export a factory (options) => RewardPlugin.`);
  const options = validateOptions(label, mod.optionsSchema, spec.options);
  // Built-ins' folder options are relative to the scene config, like module paths.
  if (spec.module === undefined && typeof options.modelDir === 'string' && !isAbsolute(options.modelDir))
    options.modelDir = resolve(baseDir, options.modelDir);
  const plugin = mod.default(options);
  if (!plugin || typeof plugin.name !== 'string' || typeof plugin.score !== 'function' || typeof plugin.differentiable !== 'boolean')
    throw new InputError(`reward plugin '${label}': the factory must return { name: string, differentiable: boolean, score(views, gpu) }.`);
  return plugin;
}
