import { DecodeError } from '../errors.js';
import { type ElementInfo, elementFor, lookupCiscoV9 } from '../ipfix/registry/index.js';
import { Reader } from '../reader.js';
import { makeTemplate, type SnapshotField } from '../templates/store.js';
import type { PacketContext, Template, TemplateField } from '../templates/types.js';
import { type DecodeInput, type ExportResult, emptyResult } from './result.js';
import { holdOrDecode, learnTemplate } from './sets.js';

/** RFC 3954 section 6.1: options scope field types, a space of their own. */
const SCOPE_NAMES: Record<number, string> = {
  1: 'system',
  2: 'interface',
  3: 'line_card',
  4: 'cache',
  5: 'template',
};

const scopeInfos = new Map<number, ElementInfo>();

/** Element description of a v9 options scope field (not an IANA element). */
export function v9ScopeElement(type: number): ElementInfo {
  let info = scopeInfos.get(type);
  if (!info) {
    const name = SCOPE_NAMES[type] ?? `type_${type}`;
    info = {
      enterprise: 0,
      id: type,
      name: `scope_${name}`,
      field: `scope_${name}`,
      type: 'unsigned64',
    };
    scopeInfos.set(type, info);
  }
  return info;
}

/** v9 field types share IANA's numbering; Cisco's NSEL/ASA ids live above 32767 without a PEN. */
export function v9Element(id: number): ElementInfo {
  return lookupCiscoV9(id) ?? elementFor(0, id);
}

/** Rebuilds a v9 template from its persisted field specs. */
export function v9TemplateFromSnapshot(
  id: number,
  fields: readonly SnapshotField[],
  scopeCount: number,
  options: boolean,
): Template {
  const built: TemplateField[] = fields.map(([, fid, length, scope]) => ({
    enterprise: 0,
    id: fid,
    length,
    scope: scope === 1,
    info: scope === 1 ? v9ScopeElement(fid) : v9Element(fid),
  }));
  return makeTemplate(id, built, scopeCount, options);
}

const HEADER_LENGTH = 20;

/**
 * Decodes a NetFlow v9 export packet (RFC 3954). The header's record count is not
 * trusted for termination (some exporters leave template records out of it): flowsets
 * are walked by their lengths.
 */
export function decodeNetflowV9(buf: Uint8Array, input: DecodeInput): ExportResult {
  const res = emptyResult();
  try {
    const r = new Reader(buf);
    r.need(HEADER_LENGTH, 'NetFlow v9 header');
    const version = r.u16();
    if (version !== 9)
      throw new DecodeError('unknown_version', `not NetFlow v9: version ${version}`);
    r.u16(); // count: informational only, see above
    const sysUptimeMs = r.u32();
    const unixSecs = r.u32();
    const sequence = r.u32();
    const domain = r.u32();
    const ctx: PacketContext = {
      version: 9,
      exporter: input.exporter,
      domain,
      sequence,
      exportTimeMs: unixSecs * 1000,
      sysUptimeMs,
      receivedMs: input.receivedMs,
    };
    res.ctx = ctx;
    res.sequenceIncrement = 1;
    while (r.remaining >= 4) {
      const setStart = r.pos;
      const setId = r.u16();
      const setLength = r.u16();
      if (setLength < 4) {
        throw new DecodeError('bad_length', `flowset ${setId} length ${setLength} < 4`, setStart);
      }
      if (setLength - 4 > r.remaining) {
        throw new DecodeError(
          'truncated',
          `flowset ${setId} of ${setLength} bytes runs past the packet`,
          setStart,
        );
      }
      const body = r.sub(setLength - 4, 'flowset');
      try {
        if (setId === 0) templateFlowSet(body, ctx, input, res);
        else if (setId === 1) optionsTemplateFlowSet(body, ctx, input, res);
        else if (setId < 256) {
          res.issues.push({ reason: 'unknown_set', message: `flowset id ${setId} is reserved` });
        } else {
          holdOrDecode(buf.subarray(body.pos, body.end), setId, ctx, input, res);
        }
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        res.issues.push({ reason: err.reason, message: err.message });
      }
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    res.issues.push({ reason: err.reason, message: err.message });
  }
  return res;
}

function templateFlowSet(
  r: Reader,
  ctx: PacketContext,
  input: DecodeInput,
  res: ExportResult,
): void {
  // Records continue while a template header fits; less is padding.
  while (r.remaining >= 4) {
    const id = r.u16('template id');
    const count = r.u16('template field count');
    if (id < 256) throw new DecodeError('bad_template', `template id ${id} < 256`, r.pos - 4);
    if (count === 0)
      throw new DecodeError('bad_template', `template ${id} has no fields`, r.pos - 4);
    r.need(count * 4, `template ${id} fields`);
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const fid = r.u16();
      const length = r.u16();
      fields[i] = { enterprise: 0, id: fid, length, scope: false, info: v9Element(fid) };
    }
    learnTemplate(makeTemplate(id, fields, 0, false), ctx, input, res);
  }
}

function optionsTemplateFlowSet(
  r: Reader,
  ctx: PacketContext,
  input: DecodeInput,
  res: ExportResult,
): void {
  while (r.remaining >= 6) {
    const id = r.u16('options template id');
    const scopeBytes = r.u16('option scope length');
    const optionBytes = r.u16('option length');
    if (id < 256) throw new DecodeError('bad_template', `options template id ${id} < 256`);
    if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0) {
      throw new DecodeError('bad_template', `options template ${id}: lengths not multiples of 4`);
    }
    const scopeCount = scopeBytes / 4;
    const count = scopeCount + optionBytes / 4;
    if (count === 0) throw new DecodeError('bad_template', `options template ${id} has no fields`);
    r.need(count * 4, `options template ${id} fields`);
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const fid = r.u16();
      const length = r.u16();
      const scope = i < scopeCount;
      fields[i] = {
        enterprise: 0,
        id: fid,
        length,
        scope,
        info: scope ? v9ScopeElement(fid) : v9Element(fid),
      };
    }
    learnTemplate(makeTemplate(id, fields, scopeCount, true), ctx, input, res);
  }
}
