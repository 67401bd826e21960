export { releaseCheck } from './check.mjs';
export { checkTarball, entryPoints, packPackage, tarEntries, tarRead } from './pack.mjs';
export {
  canIsolateNetwork,
  closure,
  componentLicenses,
  indexBom,
  packageBom,
  refName,
  releaseBom,
  workspaceBom,
} from './sbom.mjs';
export { ephemeralKey, keyHint, publicKeyPem, signBlob, signBlobKeyless } from './sigstore.mjs';
export { fileStem, listWorkspacePackages, publishablePackages } from './workspace.mjs';
