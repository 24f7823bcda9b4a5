/**
 * The IPFIX / NetFlow v9 information-element registry.
 *
 * Data, not code: the tables are generated from public registries (see each file's
 * header and tools/generate.mjs) and turned into lookup structures once, at module load.
 * Lookups are on the decoder's hot path: O(1), and they allocate nothing.
 *
 * - enterprise 0: IANA (iana.ts);
 * - enterprise 29305: RFC 5103 reverse elements, derived from the IANA table
 *   (`reverseOctetDeltaCount` / `reverse_octet_delta_count`);
 * - other enterprises: one file per vendor; CERT (6871) reverse elements are derived the
 *   same way (id | 0x4000, see YAF's information model);
 * - NetFlow v9 field types sent without an enterprise number (Cisco ASA/NSEL and AVC,
 *   Palo Alto App-ID/User-ID, ntop nProbe) are in a separate map, {@link lookupCiscoV9},
 *   consulted only for NetFlow v9.
 *
 * Fortinet (12356) is not covered: FortiOS' documented NetFlow templates use IANA
 * elements only.
 */
import { ASSORTED_TABLES } from './assorted.js';
import { BARRACUDA_TABLES } from './barracuda.js';
import { CERT_TABLES } from './cert.js';
import { CISCO_TABLES } from './cisco.js';
import { CISCO_V9_TABLES } from './cisco-v9.js';
import { GIGAMON_TABLES } from './gigamon.js';
import { IANA_ROWS } from './iana.js';
import { IXIA_TABLES } from './ixia.js';
import { JUNIPER_TABLES } from './juniper.js';
import { snakeCase, vendorField } from './naming.js';
import { NETSCALER_TABLES } from './netscaler.js';
import { NTOP_TABLES } from './ntop.js';
import { PALOALTO_TABLES } from './paloalto.js';
import { PROCERA_TABLES } from './procera.js';
import type { AbstractType, ElementInfo, VendorTable } from './types.js';
import { VMWARE_TABLES } from './vmware.js';

export { FIELD_OVERRIDES, snakeCase, vendorField } from './naming.js';
export type { AbstractType, ElementInfo } from './types.js';

/** RFC 5103 reverse information elements. */
export const REVERSE_PEN = 29305;
/** CERT/NetSA (YAF); its reverse elements set bit 0x4000 of the id. */
export const CERT_PEN = 6871;
const CERT_REVERSE_BIT = 0x4000;
/** nProbe sends PEN-35632 element N as NetFlow v9 field type NTOP_V9_BASE + N. */
export const NTOP_PEN = 35632;
export const NTOP_V9_BASE = 57472;

function makeInfo(
  enterprise: number,
  id: number,
  name: string,
  field: string,
  type: AbstractType,
  semantics: string | undefined,
  units: string | undefined,
): ElementInfo {
  const info: {
    enterprise: number;
    id: number;
    name: string;
    field: string;
    type: AbstractType;
    semantics?: string;
    units?: string;
  } = { enterprise, id, name, field, type };
  if (semantics) info.semantics = semantics;
  if (units) info.units = units;
  return Object.freeze(info);
}

const capitalized = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/** Dense by id: an index, not a hash, for the most frequent case. */
const IANA_BY_ID: (ElementInfo | undefined)[] = Array.from({ length: 65536 }, () => undefined);
const IANA_LIST: ElementInfo[] = [];
for (const [id, name, type, semantics, units] of IANA_ROWS) {
  const info = makeInfo(0, id, name, snakeCase(name), type, semantics, units);
  IANA_BY_ID[id] = info;
  IANA_LIST.push(info);
}

const BY_ENTERPRISE = new Map<number, Map<number, ElementInfo>>();
const VENDOR_LIST: ElementInfo[] = [];

/** Adds an element unless its id is taken; a field already used in the enterprise gets `_<id>`. */
function addVendor(target: Map<number, ElementInfo>, used: Set<string>, info: ElementInfo): void {
  if (target.has(info.id)) return;
  let element = info;
  if (used.has(info.field)) {
    element = makeInfo(
      info.enterprise,
      info.id,
      info.name,
      `${info.field}_${info.id}`,
      info.type,
      info.semantics,
      info.units,
    );
  }
  used.add(element.field);
  target.set(element.id, element);
}

const USED_FIELDS = new Map<number, Set<string>>();
function enterpriseMap(enterprise: number): [Map<number, ElementInfo>, Set<string>] {
  let map = BY_ENTERPRISE.get(enterprise);
  let used = USED_FIELDS.get(enterprise);
  if (map === undefined || used === undefined) {
    map = new Map();
    used = new Set();
    BY_ENTERPRISE.set(enterprise, map);
    USED_FIELDS.set(enterprise, used);
  }
  return [map, used];
}

function tableInfos(
  table: VendorTable,
  enterprise = table.enterprise,
  idOffset = 0,
): ElementInfo[] {
  return table.rows.map(([id, name, type, semantics, units, field]) =>
    makeInfo(
      enterprise,
      id + idOffset,
      name,
      field || vendorField(table.prefix, name),
      type,
      semantics,
      units,
    ),
  );
}

const VENDOR_TABLES: readonly VendorTable[] = [
  ...CISCO_TABLES,
  ...JUNIPER_TABLES,
  ...NETSCALER_TABLES,
  ...CERT_TABLES,
  ...VMWARE_TABLES,
  ...NTOP_TABLES,
  ...IXIA_TABLES,
  ...PROCERA_TABLES,
  ...BARRACUDA_TABLES,
  ...GIGAMON_TABLES,
  ...ASSORTED_TABLES,
];
for (const table of VENDOR_TABLES) {
  const [map, used] = enterpriseMap(table.enterprise);
  for (const info of tableInfos(table)) addVendor(map, used, info);
}

// RFC 5103: every IANA element has a reverse counterpart under PEN 29305.
{
  const [map, used] = enterpriseMap(REVERSE_PEN);
  for (const iana of IANA_LIST) {
    addVendor(
      map,
      used,
      makeInfo(
        REVERSE_PEN,
        iana.id,
        `reverse${capitalized(iana.name)}`,
        `reverse_${iana.field}`,
        iana.type,
        iana.semantics,
        iana.units,
      ),
    );
  }
}

// YAF: CERT element N has its reverse at N | 0x4000 (unless listed explicitly).
{
  const [map, used] = enterpriseMap(CERT_PEN);
  for (const forward of [...map.values()]) {
    if (forward.id & CERT_REVERSE_BIT) continue;
    addVendor(
      map,
      used,
      makeInfo(
        CERT_PEN,
        forward.id | CERT_REVERSE_BIT,
        `reverse${capitalized(forward.name)}`,
        forward.field.replace(/^cert_/, 'cert_reverse_'),
        forward.type,
        forward.semantics,
        forward.units,
      ),
    );
  }
}

for (const map of BY_ENTERPRISE.values()) VENDOR_LIST.push(...map.values());

// NetFlow v9 field types that are not IANA's: Cisco, Palo Alto, and nProbe's 57472 + N.
const V9_BY_ID: (ElementInfo | undefined)[] = Array.from({ length: 65536 }, () => undefined);
const V9_LIST: ElementInfo[] = [];
{
  const used = new Set(IANA_LIST.map((e) => e.field));
  const infos = [
    ...CISCO_V9_TABLES.flatMap((t) => tableInfos(t)),
    ...PALOALTO_TABLES.flatMap((t) => tableInfos(t)),
    ...NTOP_TABLES.flatMap((t) => tableInfos(t, 0, NTOP_V9_BASE)),
  ];
  for (const info of infos) {
    if (info.id > 0xffff || V9_BY_ID[info.id] !== undefined || used.has(info.field)) {
      throw new Error(`registry: NetFlow v9 element ${info.id} (${info.field}) clashes`);
    }
    used.add(info.field);
    V9_BY_ID[info.id] = info;
    V9_LIST.push(info);
  }
}

/** The known element, or undefined. O(1), no allocation. */
export function lookupElement(enterprise: number, id: number): ElementInfo | undefined {
  if (enterprise === 0) return IANA_BY_ID[id];
  return BY_ENTERPRISE.get(enterprise)?.get(id);
}

/**
 * A NetFlow v9 field type (16 bits, no enterprise number) that is not an IANA element:
 * Cisco ASA/NSEL (33000-40005), Cisco AVC (32768 + PEN-9 id), Palo Alto (56701-56702),
 * ntop (57472 + PEN-35632 id). Consult before {@link lookupElement}(0, id), for v9 only.
 */
export function lookupCiscoV9(id: number): ElementInfo | undefined {
  return V9_BY_ID[id];
}

/** Bound on remembered synthesized entries, so hostile templates cannot grow memory. */
const MAX_SYNTHESIZED = 4096;
const SYNTHESIZED = new Map<number, Map<number, ElementInfo>>();
let synthesizedCount = 0;

/**
 * The element, or, for an unknown one, a stable stand-in of type `octetArray` whose
 * field is `element_<id>` (enterprise 0) or `enterprise_<pen>_<id>`: the decoder keeps
 * such values raw (hex). Never fails; allocates only the first time an unknown element
 * is seen (and per call past {@link MAX_SYNTHESIZED} distinct unknown elements).
 */
export function elementFor(enterprise: number, id: number): ElementInfo {
  const known = lookupElement(enterprise, id);
  if (known !== undefined) return known;
  let byId = SYNTHESIZED.get(enterprise);
  const cached = byId?.get(id);
  if (cached !== undefined) return cached;
  const field = enterprise === 0 ? `element_${id}` : `enterprise_${enterprise}_${id}`;
  const info = makeInfo(enterprise, id, field, field, 'octetArray', undefined, undefined);
  if (synthesizedCount < MAX_SYNTHESIZED) {
    if (byId === undefined) {
      byId = new Map();
      SYNTHESIZED.set(enterprise, byId);
    }
    byId.set(id, info);
    synthesizedCount++;
  }
  return info;
}

/** Every IANA element, by id. */
export function ianaElements(): readonly ElementInfo[] {
  return IANA_LIST;
}

/** Every enterprise-specific element (vendors, RFC 5103 and CERT reverse elements). */
export function enterpriseElements(): readonly ElementInfo[] {
  return VENDOR_LIST;
}

/** Every NetFlow v9-only element of {@link lookupCiscoV9}. */
export function netflowV9Elements(): readonly ElementInfo[] {
  return V9_LIST;
}
