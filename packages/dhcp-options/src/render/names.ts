/** The configuration targets `render()` knows. */
export type RendererName = 'isc' | 'isc6' | 'kea4' | 'kea6' | 'dnsmasq' | 'ios' | 'windows';

/** Every renderer, in the order tools list them. */
export const RENDERER_NAMES: readonly RendererName[] = [
  'isc',
  'isc6',
  'kea4',
  'kea6',
  'dnsmasq',
  'ios',
  'windows',
];

/** Narrow a string (a CLI argument) to a renderer name. */
export function isRendererName(name: string): name is RendererName {
  return (RENDERER_NAMES as readonly string[]).includes(name);
}
