/**
 * Remember the results of an expensive parse of a string (a PEM certificate or key). A proxy
 * re-signs thousands of files with the same one or two PEMs; node-forge's certificate parse
 * and OpenSSL's key load cost milliseconds each, the RSA signature itself well under one.
 * Results must be treated as immutable; the oldest entry goes first once `max` is reached.
 */
export function memoizeString<T>(fn: (input: string) => T, max = 64): (input: string) => T {
  const cache = new Map<string, T>();
  return (input) => {
    const hit = cache.get(input);
    if (hit !== undefined) return hit;
    const value = fn(input);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(input, value);
    return value;
  };
}
