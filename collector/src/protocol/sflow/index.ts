export { decodeSflow, type SflowOptions } from './decode.js';
export type * from './types.js';
