export { HASH_SIZE, rfc6962Hasher, type Hasher, type Sha256 } from './hasher.js';
export { foldNodes, perfectRoot, rangeNodes, rootFromLeafHashes, type NodeId } from './tree.js';
export { splitPoint } from './math.js';
export { consistencyProofPlan, inclusionProofPlan, planNodes, proofFromPlan, type ProofPlan } from './proof.js';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.js';
export { TileEdge, type EdgeTile } from './edge.js';
export {
  FULL_TILE_BYTES,
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  TileTree,
  formatEntryBundle,
  formatTileIndex,
  hashesAtLevel,
  locateNode,
  parseEntryBundle,
  parseTilePath,
  tilePath,
  tileRoot,
  tileWidth,
  type NodeLocation,
  type TileId,
} from './tiles.js';
