/**
 * A reader cached per object identity (pure): snapshots keep an unchanged object's
 * identity, so a pass reads only the objects that changed. The object must not be
 * changed once read (datastores build new objects for changes).
 */
export function perObject<T>(read: (obj: unknown) => T): (obj: unknown) => T {
  const cache = new WeakMap<object, T>();
  return (obj) => {
    if (typeof obj !== 'object' || obj === null) return read(obj);
    let v = cache.get(obj);
    if (v === undefined) cache.set(obj, (v = read(obj)));
    return v;
  };
}
