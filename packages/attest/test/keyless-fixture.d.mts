// Types of ./keyless-fixture.mjs for the TypeScript tests.
import type { KeyObject } from 'node:crypto';
import type { TrustedRoot } from '@sigstore/protobuf-specs';

export const IDENTITY: string;
export const ISSUER: string;
export interface Certificates {
  caPem: string;
  caKey: KeyObject;
  leafPem: string;
  leafKey: KeyObject;
}
export function makeCertificates(opts?: {
  identity?: string;
  issuer?: string;
  commonName?: string;
  extensions?: string[];
}): Certificates;
export function fakeTlogEntry(): Record<string, unknown>;
export function certificateBundle(data: Buffer, certs: Certificates): Promise<Record<string, unknown>>;
export function trustedRootWith(caPem: string): TrustedRoot;
export function privateSigstore(
  artifact: Buffer,
  opts?: { identity?: string; issuer?: string },
): Promise<{
  bundle: Record<string, unknown>;
  trustedRootJson: Record<string, unknown>;
  trustedRoot: TrustedRoot;
}>;
