export { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
export type { JournalDatagram, JournalEntry } from './format.js';
export { JournalReader } from './reader.js';
export { enforceRetention, type RetentionPolicy } from './retention.js';
export { listSegments } from './segments.js';
export { JournalWriter, type JournalWriterOptions } from './writer.js';
