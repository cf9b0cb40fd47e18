import { ConfigError } from '@au/core';
import { integerFromEnv } from '@au/core/kit';

type Env = Readonly<Record<string, string | undefined>>;

/** The lease timings of the Postgres/Supabase queue, as the environment sets them. */
export interface LeaseSettings {
  leaseMs?: number;
  heartbeatInterval?: number;
  maxLeaseExpiries?: number;
}

/**
 * `AU_PG_LEASE_MS` (how long a claimed row is a worker's without a heartbeat),
 * `AU_PG_HEARTBEAT_MS` (how often a worker renews it; shorter than the lease) and
 * `AU_PG_MAX_LEASE_EXPIRIES` (lapsed leases before the row fails). Unset ones keep the
 * backend's defaults; a bad value is a `ConfigError` naming the variable.
 */
export function leaseSettingsFromEnv(env: Env): LeaseSettings {
  const settings: LeaseSettings = {};
  const leaseMs = integerFromEnv(env, 'AU_PG_LEASE_MS', 100, 24 * 3_600_000);
  if (leaseMs !== undefined) settings.leaseMs = leaseMs;
  const heartbeatInterval = integerFromEnv(env, 'AU_PG_HEARTBEAT_MS', 10, 24 * 3_600_000);
  if (heartbeatInterval !== undefined) {
    if (heartbeatInterval >= (leaseMs ?? 30_000)) {
      throw new ConfigError({
        setting: 'AU_PG_HEARTBEAT_MS',
        message: `must be shorter than the lease (AU_PG_LEASE_MS, ${leaseMs ?? 30_000} ms), got ${heartbeatInterval}`,
      });
    }
    settings.heartbeatInterval = heartbeatInterval;
  }
  const maxLeaseExpiries = integerFromEnv(env, 'AU_PG_MAX_LEASE_EXPIRIES', 1, 1000);
  if (maxLeaseExpiries !== undefined) settings.maxLeaseExpiries = maxLeaseExpiries;
  return settings;
}
