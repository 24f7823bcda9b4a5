/** nfdump-style flow filters: parse, compile to an Elasticsearch query, print, report errors. */
export type * from './ast.js';
export {
  type CompileResult,
  compileAst,
  compileFilter,
  FILTER_FIELDS,
  type FilterError,
  type FilterQuery,
  formatFilterError,
  PROTOCOLS,
  TCP_FLAGS,
} from './compile.js';
export { type ParseResult, parseFilter } from './parse.js';
export { printFilter } from './print.js';
