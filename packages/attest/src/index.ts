export { AttestError, type AttestErrorCode } from './errors.js';
export { type FileSignature, type FileSignerPolicy, verifyFile } from './files.js';
export {
  type Bundle,
  bundleKind,
  parseBundle,
  parsePublicKey,
  parseTrustedRoot,
  shippedTrustedRoot,
  TrustedRoot,
} from './material.js';
export {
  type BundleInput,
  checkArtifactBinding,
  type KeylessPolicy,
  keylessPolicySchema,
  verifyKeyless,
  verifyWithKey,
} from './verify.js';
