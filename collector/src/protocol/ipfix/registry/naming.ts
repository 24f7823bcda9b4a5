/**
 * Document field names for information elements.
 *
 * Records store every element under `netflow.<field>`. For IANA elements the field is
 * the IANA name in snake_case as Elastic's NetFlow integration (Filebeat's netflow input)
 * spells it, so that existing Kibana dashboards and saved searches keep working:
 *
 * - a lower-case letter or a digit followed by an upper-case letter starts a new word
 *   (`octetDeltaCount` -> `octet_delta_count`, `dot1qVlanId` -> `dot1q_vlan_id`);
 * - digits belong to the word before them (`sourceIPv4Address` -> `source_ipv4_address`);
 * - a run of one or two capitals is one word (`IPv4`, `MCast` -> `ipv4`, `mcast`);
 * - in a run of three or more capitals followed by a lower-case letter or a digit, the
 *   last capital starts the next word (`postNATSourceIPv4Address` ->
 *   `post_nat_source_ipv4_address`, `selectorIDTotalFlowsObserved` -> `selector_id_...`);
 * - names that already contain `_` are only lower-cased.
 *
 * The few names where Elastic's documents differ from that rule are in
 * {@link FIELD_OVERRIDES}.
 */

/** Explicit field names, by element name, where Elastic does not follow the rule above. */
export const FIELD_OVERRIDES: ReadonlyMap<string, string> = new Map([
  // Filebeat special-cases it (its generic rule would give `vr_fname`).
  ['VRFname', 'vrf_name'],
]);

function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}

/** snake_case of an element name, following Elastic's NetFlow field naming. */
export function snakeCase(name: string): string {
  const override = FIELD_OVERRIDES.get(name);
  if (override !== undefined) return override;
  if (name.includes('_')) return clean(name.toLowerCase());
  let out = '';
  // Capitals emitted since the last non-capital; starting at 1 keeps a leading
  // capital from producing a leading underscore.
  let capitals = 1;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const ch = name[i] ?? '';
    if (isUpper(code)) {
      if (capitals === 0) out += '_';
      out += ch.toLowerCase();
      capitals++;
    } else {
      if (capitals > 2) {
        // The last capital of a long run begins the next word.
        out = `${out.slice(0, -1)}_${out.slice(-1)}`;
      }
      out += ch;
      capitals = 0;
    }
  }
  return clean(out);
}

/** Keeps field names to `[a-z0-9_]`: vendor names may carry `-` or spaces. */
function clean(field: string): string {
  return field.replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * The field of a vendor element: `<prefix>_<snake_case name>`, where a name that already
 * starts with the vendor prefix (`netscalerRoundTripTime`) is not prefixed twice. The
 * prefix keeps vendor fields from colliding with IANA fields in the same document
 * (Cisco's `applicationCategoryName` 9/12232 vs IANA's 372, CERT's `tcpUrgTotalCount`).
 */
export function vendorField(prefix: string, name: string): string {
  if (prefix === '') return snakeCase(name);
  let rest = name;
  if (name.length > prefix.length && name.slice(0, prefix.length).toLowerCase() === prefix) {
    const next = name.charCodeAt(prefix.length);
    if (isUpper(next) || next === 95 /* _ */) rest = name.slice(prefix.length);
  }
  return `${prefix}_${snakeCase(rest)}`;
}
