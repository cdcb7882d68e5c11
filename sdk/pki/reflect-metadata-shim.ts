// @peculiar/x509 2.x resolves its algorithm registry through tsyringe, which refuses to load
// unless the Reflect metadata API exists. The package does not ship a polyfill and this project
// does not depend on one, so the three functions tsyringe calls are installed here when no
// polyfill is present. Import this module before @peculiar/x509 (x509-library.ts does).

type MetadataByKey = Map<unknown, unknown>;

const store = new WeakMap<object, Map<PropertyKey | undefined, MetadataByKey>>();

function ownMetadata(target: object, property: PropertyKey | undefined, create: boolean): MetadataByKey | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let byKey = byProperty.get(property);
  if (!byKey) {
    if (!create) return undefined;
    byKey = new Map();
    byProperty.set(property, byKey);
  }
  return byKey;
}

const shim = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void {
    ownMetadata(target, property, true)?.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
    return ownMetadata(target, property, false)?.get(key);
  },
  getMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
    for (let at: object | null = target; at; at = Object.getPrototypeOf(at) as object | null) {
      const byKey = ownMetadata(at, property, false);
      if (byKey?.has(key)) return byKey.get(key);
    }
    return undefined;
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect["getMetadata"] !== "function") {
  for (const [name, fn] of Object.entries(shim)) {
    Object.defineProperty(Reflect, name, { value: fn, writable: true, configurable: true });
  }
}

export {};
