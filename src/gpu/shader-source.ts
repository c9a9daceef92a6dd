/**
 * WGSL composition: `#include "lib/x.wgsl"` pulls a file from shaders/ once, and
 * `#if NAME` / `#else` / `#endif` keep or drop lines by a boolean define (used for the
 * subgroup and f16 variants). Every output line remembers its file and line so that a
 * compile error can point at the source the user edits, not at the composed text.
 */

export type ShaderReader = (path: string) => Promise<string>;

export interface ComposedShader {
  code: string;
  /** origin[i] = "file:line" of composed line i (0-based). */
  origin: string[];
}

const INCLUDE = /^\s*#include\s+"([^"]+)"\s*$/;
const IF = /^\s*#if\s+(!?)(\w+)\s*$/;
const ELSE = /^\s*#else\s*$/;
const ENDIF = /^\s*#endif\s*$/;

export async function composeShader(
  path: string,
  read: ShaderReader,
  defines: Record<string, boolean> = {},
): Promise<ComposedShader> {
  const out: string[] = [];
  const origin: string[] = [];
  const included = new Set<string>();

  async function emit(file: string): Promise<void> {
    if (included.has(file)) return;
    included.add(file);
    const lines = (await read(file)).split('\n');
    // Stack of "is this branch active" flags for nested #if.
    const active: boolean[] = [];
    const on = () => active.every(Boolean);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const where = `${file}:${i + 1}`;
      let m: RegExpMatchArray | null;
      if ((m = line.match(IF))) {
        const value = Boolean(defines[m[2]]);
        active.push(m[1] === '!' ? !value : value);
      } else if (ELSE.test(line)) {
        if (!active.length) throw new Error(`${where}: #else without #if`);
        active[active.length - 1] = !active[active.length - 1];
      } else if (ENDIF.test(line)) {
        if (!active.length) throw new Error(`${where}: #endif without #if`);
        active.pop();
      } else if (!on()) {
        continue;
      } else if ((m = line.match(INCLUDE))) {
        await emit(m[1]);
      } else {
        out.push(line);
        origin.push(where);
      }
    }
    if (active.length) throw new Error(`${file}: #if without #endif`);
  }

  await emit(path);
  return { code: out.join('\n'), origin };
}
