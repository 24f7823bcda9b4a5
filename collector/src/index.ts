// Public entry of the `sluice` library. Modules are added here as they land
// (protocol decoders, flow records, sinks); the CLI imports from the same places.
export { VERSION } from './version.js';
