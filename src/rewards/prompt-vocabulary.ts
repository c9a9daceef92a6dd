/**
 * The words `prompt-attributes` understands. Anything else in a prompt is reported as
 * unknown rather than silently ignored.
 */
export type Rgb = [number, number, number];

export const COLOURS: Record<string, Rgb> = {
  red: [0.9, 0.08, 0.08], green: [0.1, 0.7, 0.15], blue: [0.1, 0.2, 0.9], yellow: [0.95, 0.85, 0.1],
  orange: [0.95, 0.5, 0.08], purple: [0.5, 0.15, 0.7], violet: [0.55, 0.25, 0.85], pink: [0.95, 0.5, 0.7],
  brown: [0.45, 0.28, 0.12], black: [0.03, 0.03, 0.03], white: [0.95, 0.95, 0.95], grey: [0.5, 0.5, 0.5],
  gray: [0.5, 0.5, 0.5], cyan: [0.1, 0.85, 0.9], magenta: [0.85, 0.1, 0.75], teal: [0.05, 0.5, 0.5],
  turquoise: [0.2, 0.8, 0.75], navy: [0.05, 0.08, 0.4], maroon: [0.45, 0.05, 0.08], beige: [0.85, 0.78, 0.6],
};

/** Materials that imply a colour when the prompt names none. */
export const MATERIAL_COLOURS: Record<string, Rgb> = {
  wooden: [0.55, 0.36, 0.2], wood: [0.55, 0.36, 0.2], golden: [0.9, 0.7, 0.2], gold: [0.9, 0.7, 0.2],
  silver: [0.75, 0.75, 0.78], steel: [0.6, 0.62, 0.65], chrome: [0.8, 0.8, 0.82], copper: [0.8, 0.45, 0.25],
  bronze: [0.7, 0.5, 0.25], brass: [0.8, 0.65, 0.3], marble: [0.9, 0.9, 0.88], stone: [0.5, 0.5, 0.48],
  concrete: [0.6, 0.6, 0.58], clay: [0.7, 0.4, 0.28], brick: [0.65, 0.25, 0.18], grass: [0.25, 0.6, 0.15],
  snow: [0.95, 0.95, 0.97], ice: [0.8, 0.9, 0.95],
};

/** Materials recognised but without a colour to score (their look is not a colour). */
export const UNSCORED_MATERIALS = new Set(['glass', 'plastic', 'metal', 'metallic', 'shiny', 'matte', 'glossy', 'rubber', 'transparent']);

export type ShapeName = 'cube' | 'sphere' | 'cylinder' | 'cone' | 'torus';

export const SHAPES: Record<string, ShapeName> = {
  cube: 'cube', box: 'cube', block: 'cube', crate: 'cube', dice: 'cube', die: 'cube',
  sphere: 'sphere', ball: 'sphere', orb: 'sphere', globe: 'sphere',
  cylinder: 'cylinder', pillar: 'cylinder', column: 'cylinder', can: 'cylinder',
  cone: 'cone',
  torus: 'torus', donut: 'torus', doughnut: 'torus', ring: 'torus',
};

/** Colour modifiers applied to the next colour word. */
export const MODIFIERS: Record<string, (c: Rgb) => Rgb> = {
  light: (c) => c.map((x) => x + 0.4 * (1 - x)) as Rgb,
  pale: (c) => c.map((x) => x + 0.5 * (1 - x)) as Rgb,
  dark: (c) => c.map((x) => 0.5 * x) as Rgb,
  deep: (c) => c.map((x) => 0.6 * x) as Rgb,
};

/** Words that carry no attribute to score. */
export const FILLER = new Set([
  'a', 'an', 'the', 'of', 'with', 'and', 'made', 'on', 'in', 'at', 'to', 'is', 'its', 'some', 'one', 'single',
  'small', 'big', 'large', 'tiny', 'huge', 'simple', 'plain', 'object', 'model', 'render', 'rendering', 'shaped',
  'shape', 'solid', 'colored', 'coloured', 'color', 'colour', 'photo', 'picture', 'image', 'view', 'detailed',
  'd', '3d', 'high', 'quality',
]);

export interface ParsedPrompt {
  colours: Rgb[];
  colourWords: string[];
  shapes: ShapeName[];
  unknown: string[];
  unscored: string[];
}

export function parsePrompt(prompt: string): ParsedPrompt {
  const words = prompt.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const out: ParsedPrompt = { colours: [], colourWords: [], shapes: [], unknown: [], unscored: [] };
  const materials: Rgb[] = [];
  let modifier: ((c: Rgb) => Rgb) | null = null;
  for (const w of words) {
    const singular = w.endsWith('s') && !(w in COLOURS) && SHAPES[w.slice(0, -1)] ? w.slice(0, -1) : w;
    if (w in MODIFIERS) modifier = MODIFIERS[w];
    else if (w in COLOURS) {
      out.colours.push(modifier ? modifier(COLOURS[w]) : COLOURS[w]);
      out.colourWords.push(w);
      modifier = null;
    } else if (w in MATERIAL_COLOURS) materials.push(MATERIAL_COLOURS[w]);
    else if (singular in SHAPES) {
      if (!out.shapes.includes(SHAPES[singular])) out.shapes.push(SHAPES[singular]);
    } else if (UNSCORED_MATERIALS.has(w)) out.unscored.push(w);
    else if (!FILLER.has(w) && !/^[0-9]+$/.test(w)) out.unknown.push(w);
  }
  if (!out.colours.length) out.colours.push(...materials);
  return out;
}
