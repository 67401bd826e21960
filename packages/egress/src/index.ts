export { addressRefusal, canonicalIp } from './address.js';
export { proxyEnvironment } from './env.js';
export type { EgressErrorCode } from './errors.js';
export { EgressConfigError, EgressResolveError, EgressStartError } from './errors.js';
export {
  type BoundAddress,
  type EgressDecision,
  type EgressLimits,
  type EgressProtocol,
  type EgressProxy,
  type EgressProxyOptions,
  type ListenTarget,
  type RefusedHost,
  startEgressProxy,
} from './proxy.js';
export { createResolver, type Resolver, type ResolverOptions } from './resolver.js';
export { compileHostList, type HostList, matchHost, normaliseHost } from './rules.js';
export {
  createEgressSession,
  type EgressRunOptions,
  type EgressSession,
  type EgressSessionOptions,
  egressSessionFor,
  summarizeRefused,
} from './session.js';
