/**
 * The collector's own code as the oracle for the frontend's tests: its filter compiler
 * (the grammar the API parses filters with) and its request schemas (what the API accepts).
 */

export { REQUEST_VARIANTS } from '../../../collector/src/query/api/schema';
export { compileFilter } from '../../../collector/src/query/filter/index';
