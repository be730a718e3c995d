/**
 * The LTTng filter language, compiled once per event class to a JS predicate; event-name
 * selection; container selectors. See docs/filter.md.
 */
export type { FilterExpr, Node, RefNode, PathItem, CmpOp, BitOp } from './ast.js';
export { formatNode, refsOf, CONTAINER_ATTRIBUTES } from './ast.js';
export { parseFilter } from './parser.js';
export {
  compileFilter,
  REJECT_ALL,
  type CompileInfo,
  type EventPredicate,
  type FilterEnv,
} from './compile.js';
export { resolveRef } from './resolve.js';
export { EventNameSelector, splitNameList } from './names.js';
export {
  compileContainerMatcher,
  compileContainerSelector,
  containerMatches,
  hasContainerSelection,
  unmatchedSelectors,
  type ContainerInfo,
  type ContainerLookup,
  type ContainerMatcher,
  type ContainerSelection,
} from './containers.js';
export {
  addFilterOptions,
  buildRecordFilter,
  containerSelectionOf,
  filterRecords,
  needsContainerLookup,
  hasFilterOptions,
  type RecordStream,
  type FilterOptionValues,
  type RecordFilter,
  type RecordFilterOptions,
  type TraceSetLike,
} from './options.js';
export { starGlobMatch, normalizeStarGlob } from './strings.js';
