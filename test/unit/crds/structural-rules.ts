/**
 * A checker for the apiextensions.k8s.io/v1 rules a CRD must satisfy to be accepted
 * by the API server, as documented under "Specifying a structural schema" and
 * "Validation" in the Kubernetes CustomResourceDefinition docs:
 * - every node has a non-empty type, except x-kubernetes-int-or-string and
 *   x-kubernetes-preserve-unknown-fields nodes;
 * - inside allOf/anyOf/oneOf/not: no type, description, default, additionalProperties,
 *   nullable, and every field named there is also specified outside;
 * - metadata at the root is only `type: object` (restrictions on name/generateName aside);
 * - properties and additionalProperties are mutually exclusive; additionalProperties
 *   is never false; uniqueItems is never true; no $ref, definitions, dependencies,
 *   patternProperties, additionalItems, id, $schema; no default at the root;
 * - x-kubernetes-list-type only on arrays (atomic|set|map), map needs object items and
 *   list-map-keys naming required or defaulted scalar fields; map-type only on objects;
 *   embedded-resource only on objects; formats are ones Kubernetes knows;
 * - the CRD itself: name = plural.group, exactly one storage version, printer columns
 *   with known types and JSONPaths starting with ".".
 * Returns human-readable violations, empty when the CRD is acceptable.
 */

type Node = Record<string, unknown>;

const FORBIDDEN = ['$ref', 'definitions', 'dependencies', 'patternProperties', 'additionalItems', 'id', '$schema'];
const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];
const NOT_IN_JUNCTORS = ['type', 'description', 'default', 'additionalProperties', 'nullable'];
const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean'];
export const KUBERNETES_FORMATS = ['bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3',
  'uuid4', 'uuid5', 'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date',
  'duration', 'datetime', 'date-time', 'int32', 'int64', 'float', 'double'];
const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];

const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkJunctorBranch(branch: unknown, path: string, outside: Node, out: string[]): void {
  if (!isNode(branch)) return;
  for (const k of NOT_IN_JUNCTORS) {
    if (branch[k] !== undefined) out.push(`${path}: ${k} is not allowed inside allOf/anyOf/oneOf/not`);
  }
  for (const k of Object.keys(branch)) {
    if (k.startsWith('x-kubernetes-')) out.push(`${path}: ${k} is not allowed inside allOf/anyOf/oneOf/not`);
  }
  const props = isNode(branch.properties) ? branch.properties : {};
  const outsideProps = isNode(outside.properties) ? outside.properties : {};
  for (const p of Object.keys(props)) {
    if (outsideProps[p] === undefined) out.push(`${path}.properties.${p}: must also be specified outside the junctor`);
  }
  if (branch.items !== undefined && outside.items === undefined) out.push(`${path}.items: must also be specified outside the junctor`);
}

function checkNode(node: unknown, path: string, out: string[], root: boolean): void {
  if (!isNode(node)) {
    out.push(`${path}: schema must be an object`);
    return;
  }
  for (const k of FORBIDDEN) if (node[k] !== undefined) out.push(`${path}: ${k} is forbidden`);
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  const type = node.type;
  if (type === undefined || type === '') {
    if (!intOrString && !preserve) out.push(`${path}: type must be set (structural schema)`);
  } else if (typeof type !== 'string' || !TYPES.includes(type)) {
    out.push(`${path}: unknown type ${JSON.stringify(type)}`);
  }
  if (root && node.default !== undefined) out.push(`${path}: default is not allowed at the root`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    out.push(`${path}: properties and additionalProperties are mutually exclusive`);
  }
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties must not be false`);
  if (node.uniqueItems === true) out.push(`${path}: uniqueItems must not be true (use x-kubernetes-list-type: set)`);
  if (typeof node.format === 'string' && !KUBERNETES_FORMATS.includes(node.format)) {
    out.push(`${path}: format ${node.format} is not one Kubernetes knows`);
  }
  const listType = node['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (type !== 'array') out.push(`${path}: x-kubernetes-list-type is only for arrays`);
    if (!['atomic', 'set', 'map'].includes(String(listType))) out.push(`${path}: x-kubernetes-list-type must be atomic, set or map`);
    if (listType === 'map') {
      const items = isNode(node.items) ? node.items : {};
      const keys = node['x-kubernetes-list-map-keys'];
      if (items.type !== 'object') out.push(`${path}: list-type map needs object items`);
      if (!Array.isArray(keys) || keys.length === 0) out.push(`${path}: list-type map needs x-kubernetes-list-map-keys`);
      const req = Array.isArray(items.required) ? (items.required as string[]) : [];
      const props = isNode(items.properties) ? items.properties : {};
      for (const k of Array.isArray(keys) ? (keys as string[]) : []) {
        const p = props[k];
        if (!isNode(p)) out.push(`${path}: list-map key ${k} is not a property of the items`);
        else if (!['string', 'integer', 'number', 'boolean'].includes(String(p.type))) out.push(`${path}: list-map key ${k} must be scalar`);
        else if (!req.includes(k) && p.default === undefined) out.push(`${path}: list-map key ${k} must be required or defaulted`);
      }
    }
  }
  if (node['x-kubernetes-list-map-keys'] !== undefined && listType !== 'map') {
    out.push(`${path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map`);
  }
  if (node['x-kubernetes-map-type'] !== undefined && type !== 'object') out.push(`${path}: x-kubernetes-map-type is only for objects`);
  if (node['x-kubernetes-embedded-resource'] === true && type !== 'object') out.push(`${path}: x-kubernetes-embedded-resource needs type object`);
  if (node['x-kubernetes-validations'] !== undefined) {
    const rules = node['x-kubernetes-validations'];
    if (!Array.isArray(rules) || rules.some((r) => !isNode(r) || typeof r.rule !== 'string' || r.rule === '')) {
      out.push(`${path}: x-kubernetes-validations must be a list of {rule, message}`);
    }
  }
  for (const j of JUNCTORS) {
    const v = node[j];
    if (v === undefined) continue;
    const branches = Array.isArray(v) ? v : [v];
    branches.forEach((b, i) => checkJunctorBranch(b, `${path}.${j}[${i}]`, node, out));
  }
  if (isNode(node.properties)) {
    for (const [name, child] of Object.entries(node.properties)) {
      if (root && name === 'metadata') {
        checkMetadata(child, `${path}.properties.metadata`, out);
        continue;
      }
      checkNode(child, `${path}.properties.${name}`, out, false);
    }
  }
  if (isNode(node.additionalProperties)) checkNode(node.additionalProperties, `${path}.additionalProperties`, out, false);
  if (type === 'array') {
    if (node.items === undefined) out.push(`${path}: an array needs items`);
    else checkNode(node.items, `${path}.items`, out, false);
  }
}

function checkMetadata(node: unknown, path: string, out: string[]): void {
  if (!isNode(node) || node.type !== 'object') {
    out.push(`${path}: metadata must be type object`);
    return;
  }
  for (const k of Object.keys(node)) {
    if (k !== 'type' && k !== 'properties' && k !== 'description') out.push(`${path}: only name and generateName may be restricted (found ${k})`);
  }
  if (isNode(node.properties)) {
    for (const k of Object.keys(node.properties)) {
      if (k !== 'name' && k !== 'generateName') out.push(`${path}.properties.${k}: only name and generateName may be restricted`);
    }
  }
}

export function checkCrd(crd: unknown): string[] {
  const out: string[] = [];
  if (!isNode(crd)) return ['CRD must be an object'];
  if (crd.apiVersion !== 'apiextensions.k8s.io/v1') out.push('apiVersion must be apiextensions.k8s.io/v1');
  if (crd.kind !== 'CustomResourceDefinition') out.push('kind must be CustomResourceDefinition');
  const spec = isNode(crd.spec) ? crd.spec : {};
  const names = isNode(spec.names) ? spec.names : {};
  const meta = isNode(crd.metadata) ? crd.metadata : {};
  if (meta.name !== `${String(names.plural)}.${String(spec.group)}`) out.push(`metadata.name must be ${String(names.plural)}.${String(spec.group)}`);
  if (!['Cluster', 'Namespaced'].includes(String(spec.scope))) out.push('spec.scope must be Cluster or Namespaced');
  for (const k of ['kind', 'plural']) if (typeof names[k] !== 'string' || names[k] === '') out.push(`spec.names.${k} is required`);
  if (typeof names.plural === 'string' && names.plural !== names.plural.toLowerCase()) out.push('spec.names.plural must be lower case');
  const versions = Array.isArray(spec.versions) ? (spec.versions as Node[]) : [];
  if (versions.length === 0) out.push('spec.versions must not be empty');
  if (versions.filter((v) => v.storage === true).length !== 1) out.push('exactly one version must be the storage version');
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    const schema = isNode(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (schema === undefined) out.push(`${at}.schema.openAPIV3Schema is required`);
    else {
      checkNode(schema, `${at}.schema.openAPIV3Schema`, out, true);
      if (isNode(schema) && schema.type !== 'object') out.push(`${at}.schema.openAPIV3Schema: the root must be type object`);
    }
    const cols = Array.isArray(v.additionalPrinterColumns) ? (v.additionalPrinterColumns as Node[]) : [];
    cols.forEach((c, j) => {
      if (typeof c.name !== 'string' || c.name === '') out.push(`${at}.additionalPrinterColumns[${j}].name is required`);
      if (!COLUMN_TYPES.includes(String(c.type))) out.push(`${at}.additionalPrinterColumns[${j}].type must be one of ${COLUMN_TYPES.join(', ')}`);
      if (typeof c.jsonPath !== 'string' || !c.jsonPath.startsWith('.')) out.push(`${at}.additionalPrinterColumns[${j}].jsonPath must start with "."`);
    });
    const sub = isNode(v.subresources) ? v.subresources : {};
    for (const k of Object.keys(sub)) if (k !== 'status' && k !== 'scale') out.push(`${at}.subresources.${k} is unknown`);
    if (sub.status !== undefined && isNode(schema) && isNode(schema.properties) && schema.properties.status === undefined) {
      out.push(`${at}: a status subresource needs a status property in the schema`);
    }
  });
  return out;
}
