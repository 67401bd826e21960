import {
  AUDIT_DECISIONS,
  AUDIT_OPERATIONS,
  type AuditDecision,
  type AuditEventInput,
  type AuditOperation,
  type AuditSink,
  SECURITY_PROFILES,
  type SecurityProfile,
} from '@codex/security-profile';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { AuditLogger, DECISIONS, OPERATIONS, PROFILES } from '../src/index.js';

describe('shared vocabulary with @codex/security-profile', () => {
  it('has exactly the same operations, decisions and profiles (types)', () => {
    expectTypeOf<(typeof OPERATIONS)[number]>().toEqualTypeOf<AuditOperation>();
    expectTypeOf<(typeof DECISIONS)[number]>().toEqualTypeOf<AuditDecision>();
    expectTypeOf<(typeof PROFILES)[number]>().toEqualTypeOf<SecurityProfile>();
  });

  it('has exactly the same lists at run time, in the same order', () => {
    expect([...OPERATIONS]).toEqual([...AUDIT_OPERATIONS]);
    expect([...DECISIONS]).toEqual([...AUDIT_DECISIONS]);
    expect([...PROFILES]).toEqual([...SECURITY_PROFILES]);
  });

  it('AuditLogger is an AuditSink', () => {
    expectTypeOf<AuditLogger>().toExtend<AuditSink>();
    expectTypeOf<Parameters<AuditLogger['log']>[0]>().toEqualTypeOf<AuditEventInput>();
    const sink: AuditSink = new AuditLogger({ path: '/nonexistent/never-written', enabled: false });
    expect(typeof sink.log).toBe('function');
  });
});
