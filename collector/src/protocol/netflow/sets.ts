import { DecodeError } from '../errors.js';
import { decodeDataSet } from '../templates/dataset.js';
import type { PacketContext, Template } from '../templates/types.js';
import { type DecodeInput, type ExportResult, setsFor } from './result.js';

/**
 * Stores a template and decodes any data that arrived before it (held with the
 * context of the packet it came in). A template refused by the per-exporter limit is
 * reported, and the exporter's existing templates stay.
 */
export function learnTemplate(
  t: Template,
  ctx: PacketContext,
  input: DecodeInput,
  res: ExportResult,
): void {
  if (input.store.put(ctx.exporter, ctx.version, ctx.domain, t) === 'limit_exceeded') {
    res.issues.push({
      reason: 'limit_exceeded',
      message: `template ${t.id} refused: exporter ${ctx.exporter} is at its template limit`,
    });
    return;
  }
  res.templatesLearned += 1;
  for (const held of input.store.takePending(ctx.exporter, ctx.version, ctx.domain, t.id)) {
    try {
      decodeDataSet(held.bytes, t, held.ctx, res.records, setsFor(input, res));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      res.issues.push({ reason: err.reason, message: err.message });
    }
  }
}

/**
 * Decodes a data set with its template, or holds a copy of it until the template
 * arrives. A set that cannot be held (exporter at its pending limit) is counted as
 * template_missing right away; the raw journal still has it.
 */
export function holdOrDecode(
  body: Uint8Array,
  templateId: number,
  ctx: PacketContext,
  input: DecodeInput,
  res: ExportResult,
): void {
  const t = input.store.get(ctx.exporter, ctx.version, ctx.domain, templateId);
  if (t) {
    decodeDataSet(body, t, ctx, res.records, setsFor(input, res));
    return;
  }
  const outcome = input.store.hold({ ctx, templateId, bytes: body.slice() });
  if (outcome === 'ok') {
    res.held += 1;
    res.sequenceIncrement = ctx.version === 10 ? undefined : res.sequenceIncrement;
    return;
  }
  res.issues.push({
    reason: 'template_missing',
    message: `no template ${templateId} for ${ctx.exporter} domain ${ctx.domain}, and no room to hold the data`,
  });
}
