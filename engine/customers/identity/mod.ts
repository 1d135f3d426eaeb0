// Identity resolution for the customer domain: which customer every id belongs to, merges of
// customers that turn out to be one person, and the guard against merging many people through
// one shared id. Pure: all state goes through a StateEditor (see layout.ts for the keys).

export { blockKeys, idKind, idValue, isIdKind, kindRank, MAX_ID_CHARS, MAX_LINK_IDS } from './ids.ts';
export {
  DEFAULT_BLOCKED,
  DEFAULT_LIMITS,
  DEFAULT_SHARED_AFTER,
  isBlocked,
  resolveIdentityOptions,
  type IdentityOptions,
  type ResolvedIdentityOptions,
} from './options.ts';
export { isTombstone, keys as identityKeys } from './layout.ts';
export type { At, CustomerRecord, IdRecord, LogEntry, LogKind, RefusalReason, StoredCustomer, Tier, Tombstone } from './layout.ts';
export { customerRecord, idRecord, resolveCustomer } from './resolve.ts';
export { ensureCustomer } from './records.ts';
export { link, type LinkOutcome } from './link.ts';
export { mergeProfiles, setProfile } from './profile.ts';
export { explain } from './log.ts';
