/**
 * Vega-Lite → Vega → SVG, in Node, without a browser or a canvas: `vega.View` with the `none` renderer
 * produces the SVG markup as a string (text widths are estimated). vega and vega-lite are ES modules with
 * top-level await, so they are loaded with a dynamic import (require() cannot load them).
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };

type Vega = typeof import('vega', { with: { 'resolution-mode': 'import' } });
type VegaLite = typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });

let libs: Promise<{ vega: Vega; vl: VegaLite }> | undefined;

function load(): Promise<{ vega: Vega; vl: VegaLite }> {
  libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }));
  return libs;
}

/** Shared look of every plot (fonts that any browser has, no external resources). */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eee' },
  legend: { labelFontSize: 11, labelLimit: 0 },
} as const;

/**
 * Renders a Vega-Lite spec to an SVG element string for inline use in HTML: the XML namespace
 * attributes are dropped (an HTML parser puts `<svg>` in the SVG namespace by itself) so that the page
 * holds no URL at all.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vl } = await load();
  const compiled = vl.compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\s+xmlns(?::\w+)?="[^"]*"/g, '');
  } finally {
    view.finalize();
  }
}
