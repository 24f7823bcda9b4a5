import { DecodeError } from '../errors.js';
import {
  type DecodeInput,
  type ExportResult,
  emptyResult,
  unreadSince,
} from '../netflow/result.js';
import { holdOrDecode, learnTemplate } from '../netflow/sets.js';
import { Reader } from '../reader.js';
import { makeTemplate, type SnapshotField } from '../templates/store.js';
import type { PacketContext, Template, TemplateField } from '../templates/types.js';
import { elementFor } from './registry/index.js';

const HEADER_LENGTH = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;
/** The enterprise bit of a field specifier (RFC 7011 3.2). */
const ENTERPRISE_BIT = 0x8000;

/** Rebuilds an IPFIX template from its persisted field specs. */
export function ipfixTemplateFromSnapshot(
  id: number,
  fields: readonly SnapshotField[],
  scopeCount: number,
  options: boolean,
): Template {
  const built: TemplateField[] = fields.map(([enterprise, fid, length, scope]) => ({
    enterprise,
    id: fid,
    length,
    scope: scope === 1,
    info: elementFor(enterprise, fid),
  }));
  return makeTemplate(id, built, scopeCount, options);
}

/**
 * Decodes an IPFIX message (RFC 7011): templates and options templates, template
 * withdrawals, enterprise-specific and variable-length fields, padding, any number of
 * sets. The message length bounds the walk; a datagram longer than it carries junk
 * after the message, which is reported.
 */
export function decodeIpfix(buf: Uint8Array, input: DecodeInput): ExportResult {
  const res = emptyResult();
  try {
    const head = new Reader(buf);
    head.need(HEADER_LENGTH, 'IPFIX header');
    const version = head.u16();
    if (version !== 10) throw new DecodeError('unknown_version', `not IPFIX: version ${version}`);
    const length = head.u16();
    const exportSecs = head.u32();
    const sequence = head.u32();
    const domain = head.u32();
    const ctx: PacketContext = {
      version: 10,
      exporter: input.exporter,
      domain,
      sequence,
      exportTimeMs: exportSecs * 1000,
      sysUptimeMs: undefined,
      receivedMs: input.receivedMs,
    };
    res.ctx = ctx;
    if (length < HEADER_LENGTH) {
      throw new DecodeError('bad_length', `IPFIX message length ${length} < ${HEADER_LENGTH}`);
    }
    if (length > buf.length) {
      throw new DecodeError(
        'truncated',
        `IPFIX message of ${length} bytes, datagram has ${buf.length}`,
      );
    }
    if (length < buf.length) {
      res.issues.push({
        reason: 'bad_length',
        message: `${buf.length - length} bytes after the ${length}-byte IPFIX message ignored`,
      });
    }
    const r = new Reader(buf, HEADER_LENGTH, length);
    let ownRecords = 0;
    let heldHere = false;
    while (r.remaining > 0) {
      const setStart = r.pos;
      r.need(4, 'set header');
      const setId = r.u16();
      const setLength = r.u16();
      if (setLength < 4) {
        throw new DecodeError('bad_length', `set ${setId} length ${setLength} < 4`, setStart);
      }
      if (setLength - 4 > r.remaining) {
        throw new DecodeError(
          'truncated',
          `set ${setId} of ${setLength} bytes runs past the message`,
          setStart,
        );
      }
      const body = r.sub(setLength - 4, 'set');
      try {
        if (setId === TEMPLATE_SET) templateSet(body, ctx, input, res, false);
        else if (setId === OPTIONS_TEMPLATE_SET) templateSet(body, ctx, input, res, true);
        else if (setId < 256) {
          res.issues.push({ reason: 'unknown_set', message: `set id ${setId} is reserved` });
        } else {
          const before = res.records.length;
          const setsBefore = res.sets?.length ?? 0;
          const heldBefore = res.held;
          holdOrDecode(buf.subarray(body.pos, body.end), setId, ctx, input, res);
          // Late records of earlier messages are decoded in learnTemplate, not here, so
          // this difference is exactly this message's records.
          ownRecords += res.records.length - before + unreadSince(res, setsBefore);
          if (res.held !== heldBefore) heldHere = true;
        }
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        res.issues.push({ reason: err.reason, message: err.message });
        heldHere = true; // the record count of this message is no longer known
      }
    }
    res.sequenceIncrement = heldHere ? undefined : ownRecords;
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    res.issues.push({ reason: err.reason, message: err.message });
  }
  return res;
}

function templateSet(
  r: Reader,
  ctx: PacketContext,
  input: DecodeInput,
  res: ExportResult,
  options: boolean,
): void {
  const headerLength = options ? 6 : 4;
  while (r.remaining >= headerLength) {
    const id = r.u16('template id');
    const count = r.u16('field count');
    if (count === 0) {
      // Withdrawal (RFC 7011 8.1): the set id as template id withdraws all of the set's kind.
      if (id === TEMPLATE_SET || id === OPTIONS_TEMPLATE_SET) {
        res.templatesWithdrawn += input.store.withdraw(ctx.exporter, 10, ctx.domain);
      } else if (id >= 256) {
        res.templatesWithdrawn += input.store.withdraw(ctx.exporter, 10, ctx.domain, id);
      } else {
        throw new DecodeError('bad_template', `withdrawal of template id ${id} < 256`);
      }
      continue;
    }
    if (id < 256) throw new DecodeError('bad_template', `template id ${id} < 256`);
    let scopeCount = 0;
    if (options) {
      scopeCount = r.u16('scope field count');
      if (scopeCount === 0 || scopeCount > count) {
        throw new DecodeError(
          'bad_template',
          `options template ${id}: scope count ${scopeCount} of ${count}`,
        );
      }
    }
    // Each specifier takes at least 4 bytes: a count that cannot fit is rejected up front.
    r.need(count * 4, `template ${id} fields`);
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      let fid = r.u16('field id');
      const length = r.u16('field length');
      let enterprise = 0;
      if (fid & ENTERPRISE_BIT) {
        fid &= ~ENTERPRISE_BIT;
        enterprise = r.u32('enterprise number');
      }
      fields[i] = {
        enterprise,
        id: fid,
        length,
        scope: i < scopeCount,
        info: elementFor(enterprise, fid),
      };
    }
    learnTemplate(makeTemplate(id, fields, scopeCount, options), ctx, input, res);
  }
}
