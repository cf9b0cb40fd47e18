-- au: computation records and a durable task queue in PostgreSQL / Supabase.
--
-- Idempotent: applying this file twice is harmless. Every object lives in the schema
-- `public` (`au-supabase migrate --schema NAME` writes them to another schema instead).
-- Every atomic operation is a SQL function named `au_*`, callable through PostgREST
-- (`supabase.rpc(...)`) or any PostgreSQL driver. EXECUTE is granted to `service_role`
-- only. Timestamps of records are bigint milliseconds since the epoch (exactly what
-- au's `ComputationRecord` holds); the queue uses timestamptz and the database clock.
--
-- Copy to supabase/migrations/ under this name, or paste into the SQL editor.

-- ---- Roles (exist on Supabase; created here for plain PostgreSQL) ----------------
do $roles$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  elsif not (select r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = 'service_role')
    and (select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user) then
    alter role service_role bypassrls;
  end if;
end
$roles$;

create schema if not exists public;
grant usage on schema public to service_role;

-- Functions hold no data: drop every au_* function so that a changed signature never
-- leaves an old overload behind (PostgREST would find two candidates), then recreate.
do $drop$
declare
  f record;
begin
  for f in
    select p.oid::regprocedure as signature from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'au\_%'
  loop
    execute pg_catalog.format('drop function %s cascade', f.signature);
  end loop;
end
$drop$;

-- ---- Tables -----------------------------------------------------------------------

-- One row per computation: au's ComputationRecord.
create table if not exists public.au_results (
  key text collate "C" primary key,
  task text collate "C" not null,
  status text not null check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  args jsonb,
  value jsonb,
  error jsonb,
  progress jsonb,
  meta jsonb,
  attempt integer not null default 0,
  max_attempts integer not null default 1,
  priority double precision,
  tags text[],
  ttl double precision,
  created_at bigint not null,
  started_at bigint,
  finished_at bigint,
  expires_at bigint,
  run_at bigint,
  parent text collate "C"
);
-- The task's ctx.log lines ({lines, dropped}), bounded by core (added in a later release).
alter table public.au_results add column if not exists logs jsonb;
create index if not exists au_results_list_idx on public.au_results (created_at desc, key desc);
create index if not exists au_results_status_idx on public.au_results (status, created_at desc, key desc);
create index if not exists au_results_expires_idx on public.au_results (expires_at) where expires_at is not null;
-- Only tagged records: every version of a row goes into each index it matches, and most
-- records have no tags (the first release indexed them all).
drop index if exists public.au_results_tags_idx;
create index if not exists au_results_tagged_idx on public.au_results using gin (tags) where tags is not null;

-- One row per computation is also its queue entry: the columns below hold the delivery
-- (which queue, when it may run, the lease of the worker running it). A record made by a
-- store used without the queue leaves them null. So each state change is one write to
-- one row, and the record a worker writes under its lease IS the queue transition.
alter table public.au_results
  add column if not exists queue text collate "C",
  add column if not exists queue_status text,
  add column if not exists queue_priority double precision not null default 0,
  add column if not exists available_at timestamptz,
  add column if not exists deliveries integer not null default 0,
  add column if not exists lease_expiries integer not null default 0,
  add column if not exists max_lease_expiries integer not null default 3,
  add column if not exists backoff jsonb,
  add column if not exists timeout_ms integer,
  add column if not exists lease_token uuid,
  add column if not exists lease_expires_at timestamptz,
  add column if not exists worker text,
  add column if not exists claim_id uuid,
  add column if not exists cancel_requested boolean not null default false,
  add column if not exists last_error jsonb,
  add column if not exists queued_at timestamptz,
  add column if not exists ended_at timestamptz,
  -- A queue entry whose record lives in another store (a queue bound to, say, a Redis
  -- store): invisible to the au_result_* functions, removed once ended for a while.
  add column if not exists detached boolean not null default false,
  -- The attempts that ended before the current one (record.history), oldest first.
  add column if not exists history jsonb;

do $check$
begin
  if not exists (select 1 from pg_catalog.pg_constraint c
    where c.conrelid = 'public.au_results'::regclass and c.conname = 'au_results_queue_status_check') then
    alter table public.au_results add constraint au_results_queue_status_check
      check (queue_status in ('queued', 'running', 'completed', 'failed', 'cancelled'));
  end if;
end
$check$;

-- Matches the claim predicate: queued entries of a queue by priority, then availability.
create index if not exists au_results_claim_idx on public.au_results (queue, queue_priority desc, available_at, key)
  where queue_status = 'queued';
-- Matches the sweep predicate: running entries by lease expiry.
create index if not exists au_results_lease_idx on public.au_results (queue, lease_expires_at)
  where queue_status = 'running';
create index if not exists au_results_detached_idx on public.au_results (ended_at) where detached;
-- A claim tried again (its reply was lost) finds what it took by its id (au_claim): without
-- this index that lookup read every failed record of the table, on every claim. Entries
-- drop their claim id when they stop running, so the index holds the running ones (and
-- the records a sweep failed, until they are claimed again or removed).
create index if not exists au_results_claim_id_idx on public.au_results (claim_id) where claim_id is not null;

-- In-place upgrade from the two-table layout (a queue row in `au_tasks` per delivery):
-- each active delivery becomes the queue state of its record's row (a row of its own,
-- detached, when its record lives in another store), then the table goes. Finished
-- deliveries were history only (pruned after an hour); they are not carried over.
do $upgrade$
begin
  if exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relname = 'au_tasks' and c.relkind = 'r') then
    alter table public.au_tasks add column if not exists claim_id uuid;
    create temporary table au_active_deliveries on commit drop as
      select distinct on (t.key) t.* from public.au_tasks t
      where t.status in ('queued', 'running') order by t.key, t.id desc;
    insert into public.au_results (key, task, status, attempt, max_attempts, created_at, detached)
      select a.key, a.task, 'pending', 0, a.max_attempts,
        (extract(epoch from a.created_at) * 1000)::bigint, true
      from au_active_deliveries a
      on conflict (key) do nothing;
    update public.au_results r set queue = a.queue, queue_status = a.status, queue_priority = a.priority,
      available_at = a.run_at, deliveries = a.attempts,
      max_attempts = case when r.detached then a.max_attempts else r.max_attempts end,
      lease_expiries = a.lease_expiries, max_lease_expiries = a.max_lease_expiries, backoff = a.backoff,
      timeout_ms = a.timeout_ms, lease_token = a.lease_token, lease_expires_at = a.lease_expires_at,
      worker = a.worker, claim_id = a.claim_id, cancel_requested = a.cancel_requested,
      last_error = a.last_error, queued_at = a.created_at
    from au_active_deliveries a where r.key = a.key;
    drop table public.au_tasks cascade;
  end if;
end
$upgrade$;

-- The queue entries as the former `au_tasks` table showed them, for dashboards and checks.
create or replace view public.au_tasks as
  select r.key, r.queue, r.task, r.queue_status as status, r.queue_priority as priority,
    r.available_at as run_at, r.deliveries as attempts, r.max_attempts, r.lease_expiries,
    r.max_lease_expiries, r.backoff, r.timeout_ms, r.lease_token, r.lease_expires_at, r.worker,
    r.cancel_requested, r.last_error, r.claim_id, r.queued_at as created_at, r.ended_at as finished_at,
    r.detached
  from public.au_results r where r.queue_status is not null;

alter table public.au_results enable row level security;
revoke all on table public.au_results, public.au_tasks from anon, authenticated;
grant select, insert, update, delete on table public.au_results to service_role;
grant select on table public.au_tasks to service_role;

-- ---- Helpers ----------------------------------------------------------------------

create or replace function public.au_now_ms() returns bigint
language sql volatile set search_path = '' as $$
  select (extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint
$$;

-- The record as au's ComputationRecord (absent fields left out; a JSON null value kept):
-- every field built at once, then the SQL nulls taken out by name.
-- No `set search_path` on the per-row helpers (this one, au_claimed_json, au_can_transition):
-- PostgreSQL never inlines a SQL function with a SET clause, and a call that sets it costs
-- a configuration save and restore per row (measured: a claim of 50 spent 18 ms there).
-- Their bodies name every function, operator and type with its schema instead.
create or replace function public.au_record_json(r public.au_results) returns jsonb
language sql stable as $$
  select pg_catalog.jsonb_build_object(
      'key', r.key, 'task', r.task, 'status', r.status, 'attempt', r.attempt,
      'maxAttempts', r.max_attempts, 'createdAt', r.created_at, 'args', r.args, 'value', r.value,
      'error', r.error, 'progress', r.progress, 'meta', r.meta, 'priority', r.priority, 'tags', r.tags,
      'ttl', r.ttl, 'startedAt', r.started_at, 'finishedAt', r.finished_at, 'expiresAt', r.expires_at,
      'runAt', r.run_at, 'parent', r.parent, 'logs', r.logs, 'history', r.history)
    operator(pg_catalog.-) pg_catalog.array_remove(array[
      case when r.args is null then 'args' end, case when r.value is null then 'value' end,
      case when r.error is null then 'error' end, case when r.progress is null then 'progress' end,
      case when r.meta is null then 'meta' end, case when r.priority is null then 'priority' end,
      case when r.tags is null then 'tags' end, case when r.ttl is null then 'ttl' end,
      case when r.started_at is null then 'startedAt' end, case when r.finished_at is null then 'finishedAt' end,
      case when r.expires_at is null then 'expiresAt' end, case when r.run_at is null then 'runAt' end,
      case when r.parent is null then 'parent' end, case when r.logs is null then 'logs' end,
      case when r.history is null then 'history' end], null)
$$;

-- core's canTransition.
create or replace function public.au_can_transition(p_from text, p_to text) returns boolean
language sql immutable as $$
  select case
    when p_from operator(pg_catalog.=) p_to then p_from operator(pg_catalog.=) any (array['pending', 'running'])
    when p_from operator(pg_catalog.=) 'pending' then p_to operator(pg_catalog.=) any (array['running', 'failed', 'cancelled'])
    when p_from operator(pg_catalog.=) 'running'
      then p_to operator(pg_catalog.=) any (array['pending', 'completed', 'failed', 'cancelled'])
    else false
  end
$$;

-- Milliseconds to wait after attempt p_attempt failed: core's computeBackoff in SQL.
-- p_backoff: {"kind": "fixed"|"linear"|"exponential", "delay": ms, "max": ms, "spread": 0-1, "scale": 0.5|1}
create or replace function public.au_backoff_ms(p_backoff jsonb, p_attempt integer) returns bigint
language plpgsql volatile set search_path = '' as $$
declare
  v_base double precision := coalesce((p_backoff->>'delay')::double precision, 1000);
  v_max double precision := coalesce((p_backoff->>'max')::double precision, 'infinity'::double precision);
  v_spread double precision := coalesce((p_backoff->>'spread')::double precision, 0);
  v_scale double precision := coalesce((p_backoff->>'scale')::double precision, 1);
  v_delay double precision;
begin
  v_delay := case coalesce(p_backoff->>'kind', 'exponential')
    when 'fixed' then v_base
    when 'linear' then v_base * p_attempt
    else v_base * power(2, greatest(p_attempt - 1, 0))
  end;
  v_delay := least(greatest(v_delay, 0), v_max);
  if v_spread > 0 then
    v_delay := least(v_delay * (1 - v_spread) + v_delay * v_spread * 2 * pg_catalog.random() * v_scale, v_max);
  end if;
  return round(v_delay)::bigint;
end
$$;

-- ---- Results ----------------------------------------------------------------------

-- The reads by key (here and below) are plpgsql, not sql: PostgreSQL plans the query of a
-- `language sql` function at every call (one with a SET clause is never inlined), while
-- plpgsql keeps its plan for the session. Measured on a read by key: 0.27 ms as sql,
-- 0.08 ms as plpgsql.

-- The live record, or null.
create or replace function public.au_result_get(p_key text, p_now bigint default null) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return (select public.au_record_json(r) from public.au_results r
    where r.key = p_key and not r.detached
      and (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms())));
end
$$;

-- Stores new records at once, all or none. Returns null when stored, else a key that is
-- taken (nothing is stored then). One statement for a whole batch (launchMany). An expired
-- record under a key is replaced; a detached row under a key (a queue entry without a
-- record here) gets the record and keeps its entry. With p_jobs (their queue entries, as
-- au_enqueue_many takes them) the new rows are queued in p_queue as they are inserted.
-- enable_seqscan off: PostgreSQL keeps a plpgsql function's plans for the session, and a
-- session that first ran it on an empty table kept plans that found keys by scanning the
-- whole table (measured: 13,000 scans reading 65 million rows over 10,000 single
-- launches). Every lookup here has an index; planning at every call instead
-- (force_custom_plan) cost more than the scans on the larger functions.
create or replace function public.au_result_create_many(
  p_records jsonb,
  p_now bigint default null,
  p_jobs jsonb default null,
  p_queue text default 'default'
) returns text
language plpgsql volatile set search_path = '' set enable_seqscan = off as $$
declare
  v_now bigint := coalesce(p_now, public.au_now_ms());
  v_keys text[] := array(select x->>'key' from pg_catalog.jsonb_array_elements(p_records) x);
  v_taken text;
  v_count integer;
begin
  select r.key into v_taken from public.au_results r
    where r.key = any (v_keys) and not r.detached and (r.expires_at is null or r.expires_at > v_now)
    limit 1;
  if v_taken is not null then return v_taken; end if;
  -- What is left under these keys expired: the new records replace it, queue entry included.
  delete from public.au_results r where r.key = any (v_keys) and not r.detached;
  insert into public.au_results as r (key, task, status, args, value, error, progress, meta, attempt,
    max_attempts, priority, tags, ttl, created_at, started_at, finished_at, expires_at, run_at, parent, logs,
    history, queue, queue_status, queue_priority, available_at, max_lease_expiries, backoff, timeout_ms,
    queued_at, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_interval_ms)
  select x->>'key', x->>'task', x->>'status', x->'args', x->'value', x->'error', x->'progress', x->'meta',
    coalesce((x->>'attempt')::integer, 0), coalesce((x->>'maxAttempts')::integer, 1),
    (x->>'priority')::double precision,
    case when x ? 'tags' and x->'tags' <> 'null'::jsonb
      then array(select pg_catalog.jsonb_array_elements_text(x->'tags')) end,
    (x->>'ttl')::double precision, (x->>'createdAt')::bigint, (x->>'startedAt')::bigint,
    (x->>'finishedAt')::bigint, (x->>'expiresAt')::bigint, (x->>'runAt')::bigint, x->>'parent', x->'logs',
    x->'history',
    -- With p_jobs (au_launch_many), each record's queue entry in the same row version.
    case when j.key is not null then p_queue end, case when j.key is not null then 'queued' end,
    coalesce(j."priority", 0), case when j.key is not null then public.au_available_at(j."runAtMs") end,
    coalesce(j."maxLeaseExpiries", 3), j.backoff, j."timeoutMs",
    case when j.key is not null then now() end,
    j."concurrencyKey", j."concurrencyLimit", j."rateKey", j."rateLimit", j."rateInterval"
  from pg_catalog.jsonb_array_elements(p_records) x
  left join public.au_queue_jobs(p_jobs) j on j.key = x->>'key'
  on conflict (key) do update set task = excluded.task, status = excluded.status, args = excluded.args,
    value = excluded.value, error = excluded.error, progress = excluded.progress, meta = excluded.meta,
    attempt = excluded.attempt, max_attempts = excluded.max_attempts, priority = excluded.priority,
    tags = excluded.tags, ttl = excluded.ttl, created_at = excluded.created_at,
    started_at = excluded.started_at, finished_at = excluded.finished_at, expires_at = excluded.expires_at,
    run_at = excluded.run_at, parent = excluded.parent, logs = excluded.logs, history = excluded.history,
    detached = false
  where r.detached;
  get diagnostics v_count = row_count;
  if v_count < pg_catalog.jsonb_array_length(p_records) then
    -- Another session took a key meanwhile: undo the whole batch.
    raise exception 'au_result_create_many: a key is taken' using errcode = '23505';
  end if;
  return null;
end
$$;

-- Stores a new record (an expired one under the same key is replaced). False when the key is taken.
create or replace function public.au_result_create(p_record jsonb, p_now bigint default null) returns boolean
language sql volatile set search_path = '' as $$
  select public.au_result_create_many(pg_catalog.jsonb_build_array(p_record), p_now) is null
$$;

-- Applies patches atomically, each one mirroring core's applyPatch: p_updates is an array of
-- {key, patch, unset (fields to remove), ifStatus, now, leaseToken, viaRunning (a worker's
-- claim and its next write as one: the status moves through running)}; returns the new records
-- in that order, null where nothing was written. One statement for the whole batch (a
-- worker's fenced writes go out together): each patch is still judged on its own.
-- With a leaseToken a patch applies only while that lease is held on the row's queue entry
-- (fencing), and a status change moves the queue entry along in the same write: an ending
-- ends it, a return to pending (a retry) queues it again after the patch's runAt. Without
-- a lease, an ending also ends an entry still waiting in its queue. Rows are locked in key
-- order, so concurrent batches never wait on each other in a cycle.
-- (plpgsql, not sql: PostgreSQL plans a SQL function's query again at every call, and
-- plpgsql keeps the plan; enable_seqscan off keeps a plan made while the table was empty
-- from finding the rows by scanning it: see au_result_create_many.)
create or replace function public.au_result_update_many(p_updates jsonb) returns jsonb
language plpgsql volatile set search_path = '' set enable_seqscan = off as $$
declare
  v_records jsonb;
begin
  with input as (
    select x.ordinality, x.value->>'key' as key, coalesce(x.value->'patch', '{}'::jsonb) as patch,
      coalesce(array(select pg_catalog.jsonb_array_elements_text(x.value->'unset')), '{}'::text[]) as unset,
      case when x.value ? 'ifStatus' and x.value->'ifStatus' <> 'null'::jsonb
        then array(select pg_catalog.jsonb_array_elements_text(x.value->'ifStatus')) end as if_status,
      coalesce((x.value->>'now')::bigint, public.au_now_ms()) as now_ms,
      (x.value->>'leaseToken')::uuid as lease_token,
      coalesce((x.value->>'reopen')::boolean, false) as reopen,
      coalesce((x.value->>'viaRunning')::boolean, false) as via_running
    from pg_catalog.jsonb_array_elements(p_updates) with ordinality as x(value, ordinality)
  ), target as (
    -- A claim sent with its next write (viaRunning) moves the entry as that write does from running.
    select i.*, case when i.via_running then 'running' else r.status end as old_status,
      r.queue_status as old_queue_status,
      coalesce(i.patch->>'status', r.status) as new_status
    from input i join public.au_results r on r.key = i.key
    -- Said twice so that the rows are found by key, not by a scan of the table.
    where r.key = any (array(select k.key from input k))
      and not r.detached and (r.expires_at is null or r.expires_at > i.now_ms)
      and (i.lease_token is null or (r.lease_token = i.lease_token and r.queue_status = 'running'))
      and (i.if_status is null or r.status = any (i.if_status))
      -- A re-open (core's retry, no lease): failed or cancelled back to pending, value and error cleared.
      and ((i.reopen and i.lease_token is null and r.status in ('failed', 'cancelled')
          and i.patch->>'status' = 'pending')
        or ((coalesce(i.patch->>'status', r.status) = r.status
            or public.au_can_transition(r.status, i.patch->>'status')
            -- A claim sent with the write after it (viaRunning): pending → running → the new status.
            or (i.via_running and public.au_can_transition(r.status, 'running')
              and public.au_can_transition('running', i.patch->>'status')))
          and not (r.status in ('completed', 'failed', 'cancelled') and (i.patch ? 'value' or i.patch ? 'error'
            or 'value' = any (i.unset) or 'error' = any (i.unset)))))
    order by r.key
    for update of r
  ), moved as (
    select t.*, case
      when t.lease_token is not null and t.new_status <> t.old_status
        and t.new_status in ('completed', 'failed', 'cancelled') then t.new_status
      when t.lease_token is not null and t.new_status = 'pending' and t.old_status <> 'pending' then 'queued'
      when t.lease_token is null and t.new_status <> t.old_status
        and t.new_status in ('completed', 'failed', 'cancelled') and t.old_queue_status = 'queued' then t.new_status
      else t.old_queue_status end as new_queue_status
    from target t
  ), written as (
    update public.au_results u set
      status = m.new_status,
      args = case when m.patch ? 'args' then m.patch->'args' when 'args' = any (m.unset) then null else u.args end,
      value = case when m.patch ? 'value' then m.patch->'value' when 'value' = any (m.unset) then null else u.value end,
      error = case when m.patch ? 'error' then m.patch->'error' when 'error' = any (m.unset) then null else u.error end,
      progress = case when m.patch ? 'progress' then m.patch->'progress'
        when 'progress' = any (m.unset) then null else u.progress end,
      meta = case when m.patch ? 'meta' then m.patch->'meta' when 'meta' = any (m.unset) then null else u.meta end,
      attempt = case when m.patch ? 'attempt' then coalesce((m.patch->>'attempt')::integer, u.attempt)
        else u.attempt end,
      max_attempts = case when m.patch ? 'maxAttempts'
        then coalesce((m.patch->>'maxAttempts')::integer, u.max_attempts) else u.max_attempts end,
      priority = case when m.patch ? 'priority' then (m.patch->>'priority')::double precision
        when 'priority' = any (m.unset) then null else u.priority end,
      tags = case when m.patch ? 'tags' and m.patch->'tags' <> 'null'::jsonb
          then array(select pg_catalog.jsonb_array_elements_text(m.patch->'tags'))
        when m.patch ? 'tags' or 'tags' = any (m.unset) then null else u.tags end,
      ttl = case when m.patch ? 'ttl' then (m.patch->>'ttl')::double precision
        when 'ttl' = any (m.unset) then null else u.ttl end,
      started_at = case when m.patch ? 'startedAt' then (m.patch->>'startedAt')::bigint
        when 'startedAt' = any (m.unset) then null else u.started_at end,
      finished_at = case when m.patch ? 'finishedAt' then (m.patch->>'finishedAt')::bigint
        when 'finishedAt' = any (m.unset) then null else u.finished_at end,
      expires_at = case when m.patch ? 'expiresAt' then (m.patch->>'expiresAt')::bigint
        when 'expiresAt' = any (m.unset) then null else u.expires_at end,
      run_at = case when m.patch ? 'runAt' then (m.patch->>'runAt')::bigint
        when 'runAt' = any (m.unset) then null else u.run_at end,
      parent = case when m.patch ? 'parent' then m.patch->>'parent'
        when 'parent' = any (m.unset) then null else u.parent end,
      logs = case when m.patch ? 'logs' then m.patch->'logs'
        when 'logs' = any (m.unset) then null else u.logs end,
      history = case when m.patch ? 'history' then m.patch->'history'
        when 'history' = any (m.unset) then null else u.history end,
      -- The queue entry, moved along by the same write (the lease token is kept, so a later
      -- au_complete / au_fail of the same lease still agrees).
      queue_status = m.new_queue_status,
      ended_at = case when m.new_queue_status is distinct from m.old_queue_status and m.new_queue_status <> 'queued'
        then now() else u.ended_at end,
      lease_expires_at = case when m.new_queue_status is distinct from m.old_queue_status then null
        else u.lease_expires_at end,
      -- The claim's id matters only while the entry runs (au_claim): leaving it keeps
      -- au_results_claim_id_idx to the running entries.
      claim_id = case when m.old_queue_status = 'running' and m.new_queue_status is distinct from 'running' then null
        else u.claim_id end,
      -- A retry waits out the delay the worker computed (runAt - now), on the database clock.
      available_at = case when m.new_queue_status = 'queued' and m.old_queue_status = 'running'
        then now() + greatest(coalesce((m.patch->>'runAt')::bigint - m.now_ms, 0), 0) * interval '1 millisecond'
        else u.available_at end,
      last_error = case when m.lease_token is not null and m.new_status in ('pending', 'failed', 'cancelled')
        and m.patch ? 'error' then m.patch->'error' else u.last_error end
    from moved m where u.key = m.key
    returning m.ordinality, public.au_record_json(u) as record
  )
  select coalesce(pg_catalog.jsonb_agg(w.record order by i.ordinality), '[]'::jsonb) into v_records
  from input i left join written w on w.ordinality = i.ordinality;
  return v_records;
end
$$;

-- One patch (see au_result_update_many): the new record, or null when nothing was written.
create or replace function public.au_result_update(
  p_key text,
  p_patch jsonb,
  p_unset text[] default '{}',
  p_if_status text[] default null,
  p_now bigint default null,
  p_lease_token uuid default null,
  p_reopen boolean default false
) returns jsonb
language sql volatile set search_path = '' as $$
  select public.au_result_update_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'key', p_key, 'patch', p_patch, 'unset', pg_catalog.to_jsonb(coalesce(p_unset, '{}'::text[])),
    'ifStatus', pg_catalog.to_jsonb(p_if_status), 'now', p_now, 'leaseToken', p_lease_token,
    'reopen', p_reopen)))->0
$$;

-- The live records of several keys, as an object keyed by key (workers read a claimed batch at once).
create or replace function public.au_result_get_many(p_keys text[], p_now bigint default null) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return (select coalesce(pg_catalog.jsonb_object_agg(r.key, public.au_record_json(r)), '{}'::jsonb)
    from public.au_results r
    where r.key = any (p_keys) and not r.detached
      and (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms())));
end
$$;

-- Removes a record; true when a live one was there. A record whose queue entry is still
-- active keeps its row, detached, until that entry ends: its worker then finds no record,
-- runs nothing and says so, and the row goes with the next prune.
create or replace function public.au_result_delete(p_key text, p_now bigint default null) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  r public.au_results;
begin
  select * into r from public.au_results x where x.key = p_key and not x.detached for update;
  if not found then return false; end if;
  if r.queue_status in ('queued', 'running') then
    update public.au_results x set detached = true, args = null, value = null, error = null, progress = null,
      meta = null, tags = null, logs = null, history = null
    where x.key = p_key;
  else
    delete from public.au_results x where x.key = p_key;
  end if;
  return r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms());
end
$$;

-- A page of live records, newest first (created_at desc, key desc), after the given position.
create or replace function public.au_result_list(
  p_statuses text[] default null,
  p_task text default null,
  p_tag text default null,
  p_limit integer default 100,
  p_after_created_at bigint default null,
  p_after_key text default null,
  p_now bigint default null
) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_agg(public.au_record_json(page) order by page.created_at desc, page.key desc), '[]'::jsonb)
  from (
    select * from public.au_results r
    where (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms()))
      and not r.detached
      and (p_statuses is null or r.status = any (p_statuses))
      and (p_task is null or r.task = p_task)
      and (p_tag is null or r.tags @> array[p_tag])
      and (p_after_created_at is null or (r.created_at, r.key) < (p_after_created_at, p_after_key collate "C"))
    order by r.created_at desc, r.key desc
    limit least(greatest(coalesce(p_limit, 100), 1), 1001)
  ) page
$$;

-- How many live records match the filters (the same as au_result_list, without paging).
create or replace function public.au_result_count(
  p_statuses text[] default null,
  p_task text default null,
  p_tag text default null,
  p_now bigint default null
) returns bigint
language sql stable set search_path = '' as $$
  select pg_catalog.count(*) from public.au_results r
  where (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms()))
    and not r.detached
    and (p_statuses is null or r.status = any (p_statuses))
    and (p_task is null or r.task = p_task)
    and (p_tag is null or r.tags @> array[p_tag])
$$;

-- Removes expired records, and the ended entries of records kept elsewhere (detached) older
-- than p_queue_retention_ms. Returns records removed.
create or replace function public.au_prune_expired(p_now bigint default null, p_queue_retention_ms bigint default 3600000)
returns integer
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  delete from public.au_results r where r.expires_at is not null and r.expires_at <= coalesce(p_now, public.au_now_ms());
  get diagnostics v_count = row_count;
  delete from public.au_results r
    where r.detached and r.ended_at < now() - p_queue_retention_ms * interval '1 millisecond';
  -- Rate-limit windows with room, of groups that started nothing for a while (see "Flow control").
  delete from public.au_rate_windows w
    where w.full_until is null and w.starts[pg_catalog.cardinality(w.starts)] < now() - interval '1 day';
  return v_count;
end
$$;

-- Settings kept across migrations. `notify_changes`: announce each change of a record on
-- the channel "<schema>.au_results" (the payload is the key, then a newline and the
-- record's JSON when it fits). Off by default: NOTIFY serializes commits and costs
-- throughput; a PostgresStore created with `watch: true` turns it on.
create table if not exists public.au_settings (
  name text primary key,
  enabled boolean not null default false
);
alter table public.au_settings enable row level security;
revoke all on table public.au_settings from anon, authenticated;
grant select, insert, update on table public.au_settings to service_role;

-- `store_id`: this schema's identity, made once and kept across migrations. Every store
-- object over this schema (PostgresStore, SupabaseStore, in any process) reports it as
-- its `id`, so producers and workers can check that they share their records.
alter table public.au_settings add column if not exists value text;
insert into public.au_settings as s (name, enabled, value)
  values ('store_id', true, pg_catalog.gen_random_uuid()::text)
  on conflict (name) do update set value = excluded.value where s.value is null;

create or replace function public.au_store_id() returns text
language plpgsql stable set search_path = '' as $$
begin
  return (select s.value from public.au_settings s where s.name = 'store_id');
end
$$;

-- The store each queue's records live in, recorded by the first producer or worker of the
-- queue: a later one over another store is refused (StoreMismatchError) instead of
-- running work whose records it cannot see.
create table if not exists public.au_queue_stores (
  queue text collate "C" primary key,
  store_id text not null,
  bound_at timestamptz not null default now()
);
alter table public.au_queue_stores enable row level security;
revoke all on table public.au_queue_stores from anon, authenticated;
grant select, insert, delete on table public.au_queue_stores to service_role;

-- Records p_store_id for p_queue when none is, and returns the store the queue is bound to.
create or replace function public.au_bind_store(p_queue text, p_store_id text) returns text
language plpgsql volatile set search_path = '' as $$
declare
  v_bound text;
begin
  insert into public.au_queue_stores (queue, store_id) values (p_queue, p_store_id)
    on conflict (queue) do nothing;
  select q.store_id into v_bound from public.au_queue_stores q where q.queue = p_queue;
  return v_bound;
end
$$;

create or replace function public.au_set_notify_changes(p_enabled boolean) returns boolean
language sql volatile set search_path = '' as $$
  insert into public.au_settings (name, enabled) values ('notify_changes', p_enabled)
  on conflict (name) do update set enabled = excluded.enabled
  returning enabled
$$;

create or replace function public.au_results_notify() returns trigger
language plpgsql volatile set search_path = '' as $$
declare
  v_json text;
begin
  if not exists (select 1 from public.au_settings s where s.name = 'notify_changes' and s.enabled) then
    return null;
  end if;
  v_json := public.au_record_json(new)::text;
  -- A new record's key is marked with '+' (no key has one): only watchAll wants it.
  perform pg_catalog.pg_notify('public.au_results',
    case when tg_op = 'INSERT' then '+' else '' end
    || case when pg_catalog.octet_length(v_json) < 7000 then new.key || chr(10) || v_json else new.key end);
  return null;
end
$$;
drop trigger if exists au_results_notify on public.au_results;
-- Only changes of the record wake watchers: a claim or a lease renewal touches the row's
-- queue columns alone and notifies no one.
create trigger au_results_notify after update on public.au_results
  for each row when ((old.status, old.value, old.error, old.progress, old.meta, old.attempt, old.finished_at,
    old.expires_at, old.logs) is distinct from (new.status, new.value, new.error, new.progress, new.meta,
    new.attempt, new.finished_at, new.expires_at, new.logs))
  execute function public.au_results_notify();
-- A new record is announced too, for those who follow every computation (watchAll).
drop trigger if exists au_results_notify_insert on public.au_results;
create trigger au_results_notify_insert after insert on public.au_results
  for each row when (not new.detached)
  execute function public.au_results_notify();

-- ---- Queue ------------------------------------------------------------------------
-- A computation's queue entry lives in its record's row (see the columns above).

-- Queues many computations: p_jobs is an array of {key, task, priority, runAtMs, maxAttempts,
-- backoff, maxLeaseExpiries, timeoutMs, concurrencyKey, concurrencyLimit, rateKey, rateLimit,
-- rateInterval} (the last five: the launch's flow-control groups, see "Flow control"). The row of each record gets its queue entry; a key
-- without a record here (its record lives in another store) gets a detached row. A
-- computation already queued or running is left alone (a retried enqueue adds nothing),
-- and so is one whose record already ended. A record re-opened by a retry (pending again)
-- is queued anew, even while the cancelled run of its previous attempt is stopping. Returns how many were queued.
create or replace function public.au_enqueue_many(p_jobs jsonb, p_queue text default 'default') returns integer
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
  v_now_ms bigint := public.au_now_ms();
begin
  insert into public.au_results as r (key, task, status, attempt, max_attempts, created_at, detached, queue,
    queue_status, queue_priority, available_at, deliveries, lease_expiries, max_lease_expiries, backoff,
    timeout_ms, queued_at, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_interval_ms)
  select distinct on (j.key) j.key, j.task, 'pending', 0, greatest(coalesce(j."maxAttempts", 1), 1), v_now_ms,
    true, p_queue, 'queued', coalesce(j."priority", 0), public.au_available_at(j."runAtMs"),
    0, 0, coalesce(j."maxLeaseExpiries", 3), j.backoff, j."timeoutMs", now(),
    j."concurrencyKey", j."concurrencyLimit", j."rateKey", j."rateLimit", j."rateInterval"
  from public.au_queue_jobs(p_jobs) j
  on conflict (key) do update set queue = excluded.queue, queue_status = 'queued',
    queue_priority = excluded.queue_priority, available_at = excluded.available_at, deliveries = 0,
    lease_expiries = 0, max_lease_expiries = excluded.max_lease_expiries, backoff = excluded.backoff,
    timeout_ms = excluded.timeout_ms, queued_at = excluded.queued_at, ended_at = null,
    concurrency_key = excluded.concurrency_key, concurrency_limit = excluded.concurrency_limit,
    rate_key = excluded.rate_key, rate_limit = excluded.rate_limit, rate_interval_ms = excluded.rate_interval_ms,
    claimed_at = null,
    cancel_requested = false, lease_token = null, lease_expires_at = null, claim_id = null, worker = null,
    last_error = null
  where (r.queue_status is null or r.queue_status not in ('queued', 'running')
      -- A retried computation whose cancelled run has not stopped yet: the new entry takes
      -- over (a new lease; the old worker's fenced writes and heartbeats find it lost).
      or (r.queue_status = 'running' and r.cancel_requested and not r.detached and r.status = 'pending'))
    and (r.detached or r.status in ('pending', 'running'));
  get diagnostics v_count = row_count;
  if v_count > 0 then perform public.au_wake_workers(p_queue); end if;
  return v_count;
end
$$;

-- The queue entries of p_jobs (see au_enqueue_many), as rows.
create or replace function public.au_queue_jobs(p_jobs jsonb)
returns table (key text, task text, "priority" double precision, "runAtMs" bigint, "maxAttempts" integer,
  backoff jsonb, "maxLeaseExpiries" integer, "timeoutMs" integer, "concurrencyKey" text,
  "concurrencyLimit" integer, "rateKey" text, "rateLimit" integer, "rateInterval" bigint)
language sql immutable as $$
  select * from pg_catalog.jsonb_to_recordset(p_jobs) as j(key text, task text, "priority" double precision,
    "runAtMs" bigint, "maxAttempts" integer, backoff jsonb, "maxLeaseExpiries" integer, "timeoutMs" integer,
    "concurrencyKey" text, "concurrencyLimit" integer, "rateKey" text, "rateLimit" integer, "rateInterval" bigint)
$$;

-- When an entry queued to run at p_run_at_ms (epoch ms; null: now) becomes available.
create or replace function public.au_available_at(p_run_at_ms bigint) returns timestamptz
language sql stable as $$
  select case when p_run_at_ms is null then pg_catalog.now() else pg_catalog.to_timestamp(p_run_at_ms / 1000.0) end
$$;

-- Wakes idle workers of p_queue after an enqueue, unless other work already waits in the
-- queue: its workers are then busy, or were woken already, and claim again as their slots
-- free. NOTIFY serializes the commits of every notifying transaction, so a backlog should
-- not pay for it.
create or replace function public.au_wake_workers(p_queue text) returns void
language plpgsql volatile set search_path = '' as $$
begin
  if not exists (select 1 from public.au_results r
      where r.queue = p_queue and r.queue_status = 'queued' and r.available_at <= now()
        and r.queued_at < pg_catalog.transaction_timestamp()) then
    perform pg_catalog.pg_notify('public.au_wakeup', p_queue);
  end if;
end
$$;

-- Creates records and queues them in one statement and one row version each (the
-- records' rows carry their queue entries, see au_result_create_many): a launch through a
-- queue over this schema. Returns the key that was taken (nothing written), or null. A
-- key with a detached row (an entry without a record here) keeps that entry, queued again
-- if it had ended (au_enqueue_many). enable_seqscan off: see au_result_create_many.
create or replace function public.au_launch_many(
  p_records jsonb,
  p_jobs jsonb,
  p_queue text default 'default',
  p_now bigint default null
) returns text
language plpgsql volatile set search_path = '' set enable_seqscan = off as $$
declare
  v_keys text[] := array(select x->>'key' from pg_catalog.jsonb_array_elements(p_records) x);
  v_detached boolean := exists (select 1 from public.au_results r where r.key = any (v_keys) and r.detached);
  v_taken text := public.au_result_create_many(p_records, p_now, p_jobs, p_queue);
begin
  if v_taken is not null then return v_taken; end if;
  if v_detached then perform public.au_enqueue_many(p_jobs, p_queue);
  else perform public.au_wake_workers(p_queue);
  end if;
  return null;
end
$$;

-- Queues one computation (see au_enqueue_many). Returns 1 when queued, 0 when it already was.
create or replace function public.au_enqueue(
  p_key text,
  p_task text,
  p_priority double precision default 0,
  p_run_at_ms bigint default null,
  p_max_attempts integer default 1,
  p_backoff jsonb default null,
  p_queue text default 'default',
  p_max_lease_expiries integer default 3,
  p_timeout_ms integer default null,
  p_concurrency_key text default null,
  p_concurrency_limit integer default null,
  p_rate_key text default null,
  p_rate_limit integer default null,
  p_rate_interval_ms bigint default null
) returns integer
language sql volatile set search_path = '' as $$
  select public.au_enqueue_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'key', p_key, 'task', p_task, 'priority', p_priority, 'runAtMs', p_run_at_ms, 'maxAttempts', p_max_attempts,
    'backoff', p_backoff, 'maxLeaseExpiries', p_max_lease_expiries, 'timeoutMs', p_timeout_ms,
    'concurrencyKey', p_concurrency_key, 'concurrencyLimit', p_concurrency_limit, 'rateKey', p_rate_key,
    'rateLimit', p_rate_limit, 'rateInterval', p_rate_interval_ms))), p_queue)
$$;

-- A claimed entry as the worker reads it: the delivery, and the live record to start from.
-- (No `set search_path`, to be inlined: see au_record_json.)
create or replace function public.au_claimed_json(r public.au_results, p_now_ms bigint) returns jsonb
language sql stable as $$
  select pg_catalog.jsonb_build_object('id', r.key, 'key', r.key, 'task', r.task, 'attempts', r.deliveries,
    'max_attempts', r.max_attempts, 'backoff', r.backoff, 'timeout_ms', r.timeout_ms,
    'lease_token', r.lease_token, 'priority', r.queue_priority,
    'record', case when not r.detached
      and (r.expires_at is null or r.expires_at operator(pg_catalog.>) p_now_ms)
      then public.au_record_json(r) end)
$$;

-- A record the queue failed for good (its lease lapsed too often), as au_claim returns it for
-- the claiming worker to announce to its dead-letter hooks.
create or replace function public.au_dead_letter_json(r public.au_results) returns jsonb
language sql stable as $$
  select pg_catalog.jsonb_build_object('dead_letter', true, 'key', r.key, 'record', public.au_record_json(r))
$$;

-- ---- Flow control: concurrency keys, rate limits, pause -------------------------------
-- What a launch computed (core's `Invocation.concurrency` / `rateLimit`) is written on the
-- row by au_enqueue_many, and au_claim (through au_claim_pick) hands out only rows whose
-- groups have room, in priority order, skipping rows of paused tasks or queues.
--
-- Concurrency: a group's running count is counted live from the rows themselves (running,
-- lease not expired), not kept in a counter. So nothing has to be given back: a completion,
-- a failure, a retry's backoff, a release or a cancel moves the row out of 'running' in
-- the write that ends it, and a dead worker's slot frees when its lease expires, with no
-- path that could leak a slot. What a count alone cannot do is stop two claimers from
-- both seeing room: each claimer takes a transaction-scoped advisory lock on the group
-- before it counts (pg_advisory_xact_lock, released at commit, after its claims are
-- visible), so the claims of one group are decided one at a time while other groups go
-- on in parallel. The count reads at most `limit` rows (au_results_concurrency_idx), so
-- it costs about what updating a counter row would, without a second table to keep true.
--
-- Rate limit: a sliding window per group in au_rate_windows, the times of the group's
-- latest starts (at most `limit` of them). A claim may start a row when fewer than `limit`
-- of them lie in the last `interval` ms; it appends its time under the group's advisory
-- lock. A sliding log, not fixed windows: fixed windows let 2 x limit starts through
-- across a window boundary. Each claim is a start (a retry counts again).
--
-- Locks: a claimer waits for a group lock only while it holds none (pg_try first, then a
-- blocking wait); holding one, it leaves a busy group to the claimer that has it for this
-- round. So two claimers never wait on each other in a cycle. Lock ids are
-- (hashtext('au.<kind>:<queue>'), hashtext(group)) in the two-integer advisory space; a
-- hash collision only makes two groups take turns.
alter table public.au_results
  -- `<task>` or `<task>:<key>`: at most concurrency_limit rows of it run at once.
  add column if not exists concurrency_key text collate "C",
  add column if not exists concurrency_limit integer,
  -- At most rate_limit claims of rate_key per rate_interval_ms.
  add column if not exists rate_key text collate "C",
  add column if not exists rate_limit integer,
  add column if not exists rate_interval_ms bigint,
  -- When the current delivery was claimed (the start a rate limit counts), database clock.
  add column if not exists claimed_at timestamptz;

do $flow_check$
begin
  if not exists (select 1 from pg_catalog.pg_constraint c
    where c.conrelid = 'public.au_results'::regclass and c.conname = 'au_results_flow_check') then
    alter table public.au_results add constraint au_results_flow_check check (
      (concurrency_key is null) = (concurrency_limit is null) and coalesce(concurrency_limit, 1) >= 1
      and (rate_key is null) = (rate_limit is null) and (rate_key is null) = (rate_interval_ms is null)
      and coalesce(rate_limit, 1) >= 1 and coalesce(rate_interval_ms, 1) >= 1);
  end if;
end
$flow_check$;

-- A group's running rows, counted at each claim of the group (only rows that have a group).
create index if not exists au_results_concurrency_idx on public.au_results (queue, concurrency_key)
  where queue_status = 'running' and concurrency_key is not null;
-- Rows waiting on a rate window, for au_claim's wake hint.
create index if not exists au_results_rate_waiting_idx on public.au_results (queue, rate_key)
  where queue_status = 'queued' and rate_key is not null;

-- The latest starts of each rate-limit group, oldest first, at most `limit` of them.
-- `full_until`: when the window has room again (null while it has room): lets a claim
-- skip full groups' rows without reading their windows one by one.
create table if not exists public.au_rate_windows (
  queue text collate "C" not null,
  key text collate "C" not null,
  starts timestamptz[] not null default '{}',
  full_until timestamptz,
  primary key (queue, key)
);
create index if not exists au_rate_windows_full_idx on public.au_rate_windows (queue, full_until)
  where full_until is not null;
alter table public.au_rate_windows enable row level security;
revoke all on table public.au_rate_windows from anon, authenticated;
grant select, insert, update, delete on table public.au_rate_windows to service_role;

-- What is paused: one row per paused task of a queue; task '' pauses the whole queue.
-- Paused rows stay queued (their records pending) and keep their place.
create table if not exists public.au_pauses (
  queue text collate "C" not null,
  task text collate "C" not null,
  paused_at timestamptz not null default now(),
  primary key (queue, task)
);
alter table public.au_pauses enable row level security;
revoke all on table public.au_pauses from anon, authenticated;
grant select, insert, delete on table public.au_pauses to service_role;

-- Pauses p_task of p_queue (null: the whole queue). True when it was not paused yet.
create or replace function public.au_pause(p_queue text default 'default', p_task text default null)
returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  if p_task = '' then
    raise exception 'au_pause: p_task must be a task name or null (the whole queue), got an empty string'
      using errcode = '22023';
  end if;
  insert into public.au_pauses (queue, task) values (p_queue, coalesce(p_task, ''))
    on conflict (queue, task) do nothing;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

-- Resumes p_task of p_queue (null: the whole queue; tasks paused one by one stay paused).
-- True when it was paused. Wakes the queue's listening workers.
create or replace function public.au_resume(p_queue text default 'default', p_task text default null)
returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  if p_task = '' then
    raise exception 'au_resume: p_task must be a task name or null (the whole queue), got an empty string'
      using errcode = '22023';
  end if;
  delete from public.au_pauses p where p.queue = p_queue and p.task = coalesce(p_task, '');
  get diagnostics v_count = row_count;
  if v_count > 0 then perform pg_catalog.pg_notify('public.au_wakeup', p_queue); end if;
  return v_count > 0;
end
$$;

-- What is paused in p_queue: {"queue": whole queue paused, "tasks": [paused tasks, by name]}.
create or replace function public.au_paused(p_queue text default 'default') returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return pg_catalog.jsonb_build_object(
    'queue', exists (select 1 from public.au_pauses p where p.queue = p_queue and p.task = ''),
    'tasks', coalesce((select pg_catalog.jsonb_agg(p.task order by p.task) from public.au_pauses p
      where p.queue = p_queue and p.task <> ''), '[]'::jsonb));
end
$$;

-- Takes the advisory lock of a flow-control group (p_kind 'concurrency' or 'rate') for this
-- transaction: waits for it while p_holding is false (this claim holds no group lock, so it
-- cannot be part of a wait cycle), else only tries. True when held.
create or replace function public.au_flow_lock(p_kind text, p_queue text, p_key text, p_holding boolean)
returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_class integer := pg_catalog.hashtext('au.' || p_kind || ':' || p_queue);
  v_object integer := pg_catalog.hashtext(p_key);
begin
  if pg_catalog.pg_try_advisory_xact_lock(v_class, v_object) then return true; end if;
  if p_holding then return false; end if;
  perform pg_catalog.pg_advisory_xact_lock(v_class, v_object);
  return true;
end
$$;

-- The rows au_claim may take now, at most p_limit, locked (FOR UPDATE SKIP LOCKED), in
-- priority order: queued and due, of p_tasks (null: any), not of a task in p_paused, and
-- with room in their concurrency group and rate-limit window. A row of a full group is
-- passed over and the next rows are looked at, so one full group never holds up others.
-- Returns each row's key and, for a rate-limited row, the start recorded in its window.
create or replace function public.au_claim_pick(
  p_queue text,
  p_limit integer,
  p_tasks text[] default null,
  p_paused text[] default '{}'
) returns table (key text, claimed_at timestamptz)
language plpgsql volatile set search_path = '' as $$
declare
  v_wanted integer := greatest(coalesce(p_limit, 0), 0);
  v_round_limit integer;
  v_rows integer;
  -- Groups with no room for this claim (full, or decided by another claimer now).
  v_full text[];
  v_limited text[];
  -- Group locks this claim holds, and the slots it took, by concurrency group.
  v_locked text[] := '{}';
  v_taken jsonb := '{}';
  v_picked text[] := '{}';
  v_paused text[] := coalesce(p_paused, '{}');
  v_running integer;
  v_at timestamptz;
  v_starts timestamptz[];
  c record;
begin
  if v_wanted = 0 then return; end if;
  -- Full groups seen without locks: their waiting rows stay out of the scan. Only a hint
  -- (the check under the group lock decides), read on au_results_concurrency_idx and
  -- au_rate_windows_full_idx.
  select coalesce(pg_catalog.array_agg(g.concurrency_key), '{}') into v_full from (
    select r.concurrency_key from public.au_results r
    where r.queue = p_queue and r.queue_status = 'running' and r.concurrency_key is not null
      and r.lease_expires_at >= now()
    group by r.concurrency_key having pg_catalog.count(*) >= pg_catalog.max(r.concurrency_limit)) g;
  select coalesce(pg_catalog.array_agg(w.key), '{}') into v_limited from public.au_rate_windows w
    where w.queue = p_queue and w.full_until > pg_catalog.clock_timestamp();
  loop
    v_rows := 0;
    v_round_limit := v_wanted;
    for c in
      select r.key, r.concurrency_key, r.concurrency_limit, r.rate_key, r.rate_limit, r.rate_interval_ms
      from public.au_results r
      where r.queue = p_queue and r.queue_status = 'queued' and r.available_at <= now()
        and (p_tasks is null or r.task = any (p_tasks))
        and r.task <> all (v_paused)
        and (r.concurrency_key is null or r.concurrency_key <> all (v_full))
        and (r.rate_key is null or r.rate_key <> all (v_limited))
        -- Rows picked in an earlier round are still 'queued' (au_claim updates them after).
        and r.key <> all (v_picked)
      order by r.queue_priority desc, r.available_at, r.key
      limit v_round_limit
      for update skip locked
    loop
      v_rows := v_rows + 1;
      v_at := null;
      -- A group found full earlier in this round.
      continue when c.concurrency_key = any (v_full) or c.rate_key = any (v_limited);
      if c.concurrency_key is not null then
        if not c.concurrency_key = any (v_locked) then
          if not public.au_flow_lock('concurrency', p_queue, c.concurrency_key, pg_catalog.cardinality(v_locked) > 0) then
            v_full := v_full || c.concurrency_key;
            continue;
          end if;
          v_locked := v_locked || c.concurrency_key;
        end if;
        -- A new statement, so a new snapshot: the claims of whoever held the lock before are seen.
        select pg_catalog.count(*)::integer into v_running from public.au_results r
          where r.queue = p_queue and r.concurrency_key = c.concurrency_key and r.queue_status = 'running'
            and r.lease_expires_at >= now();
        if v_running + coalesce((v_taken->>c.concurrency_key)::integer, 0) >= c.concurrency_limit then
          v_full := v_full || c.concurrency_key;
          continue;
        end if;
      end if;
      if c.rate_key is not null then
        if not ('rate:' || c.rate_key) = any (v_locked) then
          if not public.au_flow_lock('rate', p_queue, c.rate_key, pg_catalog.cardinality(v_locked) > 0) then
            v_limited := v_limited || c.rate_key;
            continue;
          end if;
          v_locked := v_locked || ('rate:' || c.rate_key);
        end if;
        -- Read after the lock, so later than every start recorded before it.
        v_at := pg_catalog.clock_timestamp();
        select array(select s from public.au_rate_windows w, pg_catalog.unnest(w.starts) s
          where w.queue = p_queue and w.key = c.rate_key
            and s > v_at - c.rate_interval_ms * interval '1 millisecond' order by s)
          into v_starts;
        if pg_catalog.cardinality(v_starts) >= c.rate_limit then
          v_limited := v_limited || c.rate_key;
          continue;
        end if;
        -- Keep the latest `limit` starts, this one included.
        v_starts := (v_starts || v_at)[greatest(pg_catalog.cardinality(v_starts) + 2 - c.rate_limit, 1):];
        insert into public.au_rate_windows as w (queue, key, starts, full_until)
          values (p_queue, c.rate_key, v_starts, case when pg_catalog.cardinality(v_starts) >= c.rate_limit
            then v_starts[1] + c.rate_interval_ms * interval '1 millisecond' end)
          on conflict on constraint au_rate_windows_pkey do update set starts = excluded.starts, full_until = excluded.full_until;
      end if;
      if c.concurrency_key is not null then
        v_taken := v_taken || pg_catalog.jsonb_build_object(c.concurrency_key,
          coalesce((v_taken->>c.concurrency_key)::integer, 0) + 1);
      end if;
      v_picked := v_picked || c.key;
      key := c.key;
      claimed_at := v_at;
      return next;
      v_wanted := v_wanted - 1;
    end loop;
    -- Done when enough were picked, or the scan came back short (nothing more to look at).
    -- Otherwise rows were passed over, each adding its group to v_full / v_limited: the
    -- next round skips those groups, so the rounds end.
    exit when v_wanted <= 0 or v_rows < v_round_limit;
  end loop;
end
$$;

-- Claims up to p_limit runnable entries: expired leases are swept first (back to queued while
-- lease expiries remain, else failed along with their record), then the next entries by
-- priority (higher first) and availability are taken with FOR UPDATE SKIP LOCKED (rows of
-- paused tasks, and of groups without room, passed over: see "Flow control"), each with
-- its delivery counted, a fresh lease token and a lease expiry. Returns a JSON array of
-- claimed entries (au_claimed_json), the record included, so the worker reads nothing more,
-- followed by one {dead_letter: true, key, record} per record the sweep failed (the queue
-- gave up on it): the claim that failed it announces it, and only that one (a claim tried
-- again under the same id returns them again: the sweep marks them with its claim id).
-- With p_wake_hint, a claim that came back short while rows wait on a full rate window ends
-- with {wake_in_ms}: when the first of those windows has room again.
-- enable_seqscan off (au_claim_pick inside it too): see au_result_create_many.
create or replace function public.au_claim(
  p_queue text default 'default',
  p_worker text default null,
  p_limit integer default 1,
  p_lease_ms integer default 30000,
  p_tasks text[] default null,
  p_claim_id uuid default null,
  p_wake_hint boolean default false
) returns jsonb
language plpgsql volatile set search_path = '' set enable_seqscan = off as $$
declare
  v_now_ms bigint := public.au_now_ms();
  v_claimed jsonb;
  v_dead jsonb;
  v_paused text[];
  v_keys text[];
  v_starts timestamptz[];
  v_wake timestamptz;
begin
  -- The same claim tried again (its reply was lost): the entries it took and the records it
  -- failed, and no more.
  if p_claim_id is not null then
    select pg_catalog.jsonb_agg(public.au_claimed_json(r, v_now_ms)) into v_claimed from public.au_results r
      where r.claim_id = p_claim_id and r.queue_status = 'running' and r.queue = p_queue;
    select pg_catalog.jsonb_agg(public.au_dead_letter_json(r)) into v_dead from public.au_results r
      where r.claim_id = p_claim_id and r.queue_status = 'failed' and r.status = 'failed' and r.queue = p_queue;
    if v_claimed is not null or v_dead is not null then
      return coalesce(v_claimed, '[]'::jsonb) || coalesce(v_dead, '[]'::jsonb);
    end if;
  end if;

  with expired as (
    select r.key, r.cancel_requested as cancelled, r.lease_expiries >= r.max_lease_expiries as spent
    from public.au_results r
    where r.queue = p_queue and r.queue_status = 'running' and r.lease_expires_at < now()
    for update skip locked
  ), swept as (
    select e.key, e.cancelled, e.spent,
      pg_catalog.jsonb_build_object('name', 'LeaseExpiredError', 'message',
        '[au] [postgres-queue] the worker "' || coalesce(r.worker, '?') || '" stopped renewing its lease') as error,
      -- The queue gives up: the record fails with it, unless it already ended.
      not e.cancelled and e.spent and not r.detached and r.status in ('pending', 'running') as fails_record
    from expired e join public.au_results r on r.key = e.key
  )
  , failed as (
    update public.au_results r set
    queue_status = case when s.cancelled then 'cancelled' when s.spent then 'failed' else 'queued' end,
    lease_expiries = r.lease_expiries + 1,
    lease_token = null,
    -- Marks the records this claim failed, for the same claim tried again (see above).
    claim_id = case when s.fails_record then p_claim_id end,
    lease_expires_at = null,
    available_at = now(),
    ended_at = case when s.cancelled or s.spent then now() end,
    last_error = s.error,
    status = case when s.fails_record then 'failed' else r.status end,
    error = case when s.fails_record then s.error else r.error end,
    finished_at = case when s.fails_record then v_now_ms else r.finished_at end,
    expires_at = case when s.fails_record and r.ttl is not null then v_now_ms + (r.ttl * 1000)::bigint
      else r.expires_at end
    from swept s where r.key = s.key
    returning case when s.fails_record then public.au_dead_letter_json(r) end as dead
  )
  select pg_catalog.jsonb_agg(f.dead) filter (where f.dead is not null) into v_dead from failed f;

  -- A paused queue starts nothing (its expired leases were swept above all the same).
  select coalesce(pg_catalog.array_agg(p.task), '{}') into v_paused from public.au_pauses p where p.queue = p_queue;
  if '' = any (v_paused) then return coalesce(v_dead, '[]'::jsonb); end if;

  select pg_catalog.array_agg(n.key), pg_catalog.array_agg(n.claimed_at) into v_keys, v_starts
    from public.au_claim_pick(p_queue, p_limit, p_tasks, v_paused) n;
  -- A claim that came back short while rows wait on a full rate window: when the first such
  -- window opens, for the worker to claim again then rather than at its next poll.
  if p_wake_hint and coalesce(pg_catalog.cardinality(v_keys), 0) < p_limit then
    select pg_catalog.min(w.full_until) into v_wake from public.au_rate_windows w
      where w.queue = p_queue and w.full_until > pg_catalog.clock_timestamp()
        and exists (select 1 from public.au_results r
          where r.queue = p_queue and r.queue_status = 'queued' and r.rate_key = w.key);
    if v_wake is not null then
      v_dead := coalesce(v_dead, '[]'::jsonb) || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'wake_in_ms', pg_catalog.ceil(extract(epoch from v_wake - pg_catalog.clock_timestamp()) * 1000)::bigint));
    end if;
  end if;
  if v_keys is null then return coalesce(v_dead, '[]'::jsonb); end if;

  with next as (
    select n.key, n.claimed_at from rows from (pg_catalog.unnest(v_keys), pg_catalog.unnest(v_starts)) as n(key, claimed_at)
  ), claimed as (
    update public.au_results r set
      queue_status = 'running',
      deliveries = r.deliveries + 1,
      lease_token = pg_catalog.gen_random_uuid(),
      lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
      worker = p_worker,
      claim_id = p_claim_id,
      claimed_at = coalesce(next.claimed_at, pg_catalog.clock_timestamp())
    -- Said twice so that the rows are found by key, not by a scan of the table.
    from next where r.key = next.key and r.key = any (v_keys)
    returning r.*
  )
  select pg_catalog.jsonb_agg(public.au_claimed_json(c::public.au_results, v_now_ms)
      order by c.queue_priority desc, c.available_at, c.key)
    into v_claimed from claimed c;
  -- Nothing swept (the usual case): the claimed entries alone, as before.
  if v_dead is null then return coalesce(v_claimed, '[]'::jsonb); end if;
  return coalesce(v_claimed, '[]'::jsonb) || v_dead;
end
$$;

-- Renews a lease. Returns 'ok', 'cancel' (a cancel was asked: stop the work) or 'lost'
-- (the lease expired and the entry went to someone else).
create or replace function public.au_heartbeat(p_key text, p_lease_token uuid, p_lease_ms integer default 30000)
returns text
language plpgsql volatile set search_path = '' as $$
declare
  v_cancel boolean;
begin
  update public.au_results r set lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
  where r.key = p_key and r.lease_token = p_lease_token and r.queue_status = 'running'
  returning r.cancel_requested into v_cancel;
  if not found then return 'lost'; end if;
  return case when v_cancel then 'cancel' else 'ok' end;
end
$$;

-- Ends a delivery that ran (p_status 'completed', or 'cancelled' when its record was
-- cancelled), when no fenced record write ended it already. Fenced by the lease token; a
-- retried call returns true again.
create or replace function public.au_complete(p_key text, p_lease_token uuid, p_status text default 'completed')
returns boolean
language plpgsql volatile set search_path = '' as $$
begin
  if p_status not in ('completed', 'cancelled') then
    raise exception 'au_complete: p_status must be completed or cancelled, got %', p_status using errcode = '22023';
  end if;
  update public.au_results r set queue_status = p_status, ended_at = now(), lease_expires_at = null,
    claim_id = null
  where r.key = p_key and r.lease_token = p_lease_token and r.queue_status = 'running';
  if found then return true; end if;
  return exists (select 1 from public.au_results r
    where r.key = p_key and r.lease_token = p_lease_token and r.queue_status = p_status);
end
$$;

-- Ends a failed attempt: back to queued after a backoff computed here (or p_delay_ms)
-- while attempts remain and p_retry is not false, else failed. Fenced by the lease token;
-- a retried call gives the same answer. Returns 'retry', 'failed' or 'refused'.
create or replace function public.au_fail(
  p_key text,
  p_lease_token uuid,
  p_error jsonb default null,
  p_retry boolean default null,
  p_delay_ms bigint default null
) returns text
language plpgsql volatile set search_path = '' as $$
declare
  r public.au_results;
  v_retry boolean;
begin
  select * into r from public.au_results x where x.key = p_key and x.lease_token = p_lease_token for update;
  if not found then return 'refused'; end if;
  if r.queue_status = 'queued' then return 'retry'; end if;
  if r.queue_status in ('failed', 'cancelled') then return 'failed'; end if;
  if r.queue_status is distinct from 'running' then return 'refused'; end if;
  v_retry := coalesce(p_retry, r.deliveries < r.max_attempts) and not r.cancel_requested;
  if v_retry then
    update public.au_results x set queue_status = 'queued', last_error = p_error, lease_expires_at = null,
      claim_id = null,
      available_at = now() + coalesce(p_delay_ms, public.au_backoff_ms(r.backoff, r.deliveries)) * interval '1 millisecond'
    where x.key = p_key;
    return 'retry';
  end if;
  update public.au_results x set queue_status = 'failed', last_error = p_error, lease_expires_at = null,
    ended_at = now(), claim_id = null
  where x.key = p_key;
  return 'failed';
end
$$;

-- Gives a delivery back without counting it (its worker could not write the record: a
-- store outage): queued again after p_delay_ms, its delivery not counted. Fenced by the
-- lease token; an entry whose cancel was asked ends cancelled instead. True when given back.
create or replace function public.au_release(p_key text, p_lease_token uuid, p_delay_ms bigint default 0)
returns boolean
language plpgsql volatile set search_path = '' as $$
begin
  update public.au_results r set
    queue_status = case when r.cancel_requested then 'cancelled' else 'queued' end,
    deliveries = greatest(r.deliveries - 1, 0),
    available_at = now() + greatest(coalesce(p_delay_ms, 0), 0) * interval '1 millisecond',
    ended_at = case when r.cancel_requested then now() end,
    lease_token = null, lease_expires_at = null, claim_id = null, worker = null
  where r.key = p_key and r.lease_token = p_lease_token and r.queue_status = 'running';
  return found;
end
$$;

-- Cancels a computation's delivery in p_queue: a queued entry ends at once, a running one
-- is flagged (its worker sees 'cancel' at its next heartbeat). The record, when still
-- pending or running, is marked cancelled in the same write. True when an active delivery was found.
create or replace function public.au_cancel(p_key text, p_queue text default 'default', p_reason text default null)
returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  r public.au_results;
  v_active boolean;
  v_now_ms bigint := public.au_now_ms();
begin
  select * into r from public.au_results x where x.key = p_key for update;
  if not found then return false; end if;
  v_active := r.queue = p_queue and r.queue_status in ('queued', 'running');
  update public.au_results x set
    queue_status = case when v_active and r.queue_status = 'queued' then 'cancelled' else x.queue_status end,
    ended_at = case when v_active and r.queue_status = 'queued' then now() else x.ended_at end,
    cancel_requested = x.cancel_requested or (v_active and r.queue_status = 'running'),
    status = case when not x.detached and x.status in ('pending', 'running') then 'cancelled' else x.status end,
    finished_at = case when not x.detached and x.status in ('pending', 'running') then v_now_ms
      else x.finished_at end,
    -- The fields core's serializeError writes for a CancelledError (handles read `reason`).
    error = case when not x.detached and x.status in ('pending', 'running') then
      pg_catalog.jsonb_build_object('name', 'CancelledError', 'code', 'AU_CANCELLED', 'key', p_key,
        'message', '[au] computation "' || p_key || '" was cancelled' || coalesce(': ' || nullif(p_reason, ''), ''))
      || case when p_reason is null then '{}'::jsonb else pg_catalog.jsonb_build_object('reason', p_reason) end
      else x.error end,
    expires_at = case when not x.detached and x.status in ('pending', 'running') and x.ttl is not null
      then v_now_ms + (x.ttl * 1000)::bigint else x.expires_at end
  where x.key = p_key;
  return coalesce(v_active, false);
end
$$;

-- Counts of queue entries by status (for dashboards and tests).
create or replace function public.au_queue_stats(p_queue text default 'default') returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_object_agg(s.queue_status, s.n), '{}'::jsonb)
  from (select r.queue_status, count(*) as n from public.au_results r
    where r.queue = p_queue and r.queue_status is not null group by r.queue_status) s
$$;

-- Entries of a queue waiting to start (queued, delayed included), of one task or all:
-- what a launch checks against maxQueued. Counted on au_results_queued_task_idx.
create index if not exists au_results_queued_task_idx on public.au_results (queue, task)
  where queue_status = 'queued';

create or replace function public.au_queue_count(p_queue text default 'default', p_task text default null)
returns bigint
language plpgsql stable set search_path = '' as $$
begin
  -- Two statements, so that each keeps a plan that counts on au_results_queued_task_idx.
  if p_task is null then
    return (select count(*) from public.au_results r where r.queue = p_queue and r.queue_status = 'queued');
  end if;
  return (select count(*) from public.au_results r
    where r.queue = p_queue and r.queue_status = 'queued' and r.task = p_task);
end
$$;

-- ---- Schedules --------------------------------------------------------------------
-- One row per schedule: au's ScheduleState as JSON (`state`), with the columns a firer
-- selects on copied out of it. `queue` is the queue whose workers fire it. Times are
-- bigint ms since the epoch of the callers' clock (the firers compare with their own),
-- like the records' times. A firer claims due schedules with a short lease
-- (au_schedule_claim_due, FOR UPDATE SKIP LOCKED): one firer at a time handles a
-- schedule, launches its due ticks (each tick's computation key is `<id>:<tick>`, so even
-- a firer that lost its lease cannot make a second run) and advances it by
-- compare-and-set on `revision` (au_schedule_save), then lets go (au_schedule_release).
create table if not exists public.au_schedules (
  id text collate "C" primary key,
  queue text collate "C" not null,
  task text collate "C" not null,
  state jsonb not null,
  revision bigint not null,
  paused boolean not null default false,
  next_run_at bigint,
  fire_lease_until bigint,
  fire_worker text
);
create index if not exists au_schedules_due_idx on public.au_schedules (queue, next_run_at)
  where not paused and next_run_at is not null;
alter table public.au_schedules enable row level security;
revoke all on table public.au_schedules from anon, authenticated;
grant select, insert, update, delete on table public.au_schedules to service_role;

create or replace function public.au_schedule_get(p_id text) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return (select s.state from public.au_schedules s where s.id = p_id);
end
$$;

-- Every schedule (of p_queue, or of all queues when null), by id.
create or replace function public.au_schedule_list(p_queue text default null) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_agg(s.state order by s.id), '[]'::jsonb) from public.au_schedules s
  where p_queue is null or s.queue = p_queue
$$;

-- Writes p_state when the stored revision is p_expected ('revision'), when there is none
-- ('absent'), or whatever is stored ('any'). Returns whether it wrote. A schedule
-- rewritten keeps its fire lease.
create or replace function public.au_schedule_save(
  p_state jsonb,
  p_queue text,
  p_mode text default 'revision',
  p_expected bigint default null
) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_id text := p_state->>'id';
  v_count integer;
begin
  if p_mode = 'absent' then
    insert into public.au_schedules (id, queue, task, state, revision, paused, next_run_at)
      values (v_id, p_queue, p_state->>'task', p_state, (p_state->>'revision')::bigint,
        coalesce((p_state->>'paused')::boolean, false), (p_state->>'nextRunAt')::bigint)
      on conflict (id) do nothing;
  elsif p_mode = 'any' then
    insert into public.au_schedules as s (id, queue, task, state, revision, paused, next_run_at)
      values (v_id, p_queue, p_state->>'task', p_state, (p_state->>'revision')::bigint,
        coalesce((p_state->>'paused')::boolean, false), (p_state->>'nextRunAt')::bigint)
      on conflict (id) do update set queue = excluded.queue, task = excluded.task, state = excluded.state,
        revision = excluded.revision, paused = excluded.paused, next_run_at = excluded.next_run_at;
  else
    update public.au_schedules s set queue = p_queue, task = p_state->>'task', state = p_state,
      revision = (p_state->>'revision')::bigint, paused = coalesce((p_state->>'paused')::boolean, false),
      next_run_at = (p_state->>'nextRunAt')::bigint
    where s.id = v_id and s.revision = p_expected;
  end if;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

create or replace function public.au_schedule_delete(p_id text) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  delete from public.au_schedules s where s.id = p_id;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

-- Leases up to p_limit schedules of p_queue that are due at p_now_ms (not paused, next
-- tick at or before it, no live lease) to p_worker for p_lease_ms, skipping rows another
-- firer holds. p_tasks: only schedules of these tasks (null: any). Returns
-- {"due": [states], "next": earliest next tick of the queue's other active schedules}.
create or replace function public.au_schedule_claim_due(
  p_queue text,
  p_worker text,
  p_now_ms bigint,
  p_lease_ms integer default 10000,
  p_limit integer default 10,
  p_tasks text[] default null
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_due jsonb;
  v_next bigint;
begin
  with due as (
    select s.id from public.au_schedules s
    where s.queue = p_queue and not s.paused and s.next_run_at <= p_now_ms
      and (s.fire_lease_until is null or s.fire_lease_until < p_now_ms)
      and (p_tasks is null or s.task = any (p_tasks))
    order by s.next_run_at
    limit greatest(p_limit, 0)
    for update skip locked
  ), leased as (
    update public.au_schedules s set fire_lease_until = p_now_ms + p_lease_ms, fire_worker = p_worker
    from due where s.id = due.id
    returning s.state
  )
  select pg_catalog.jsonb_agg(l.state) into v_due from leased l;
  select min(s.next_run_at) into v_next from public.au_schedules s
    where s.queue = p_queue and not s.paused and s.next_run_at > p_now_ms
      and (p_tasks is null or s.task = any (p_tasks));
  return pg_catalog.jsonb_build_object('due', coalesce(v_due, '[]'::jsonb), 'next', v_next);
end
$$;

-- Ends p_worker's fire lease on schedule p_id (the next due tick can be claimed at once).
create or replace function public.au_schedule_release(p_id text, p_worker text) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  update public.au_schedules s set fire_lease_until = null, fire_worker = null
    where s.id = p_id and s.fire_worker is not distinct from p_worker;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

-- ==== Locks (PostgresLocks: withLock with a fencing token) =========================
-- Kept apart from the queue above: its own table and functions (granted with the rest below).
--
-- One row per key ever locked: the last fencing token issued for the key and until when
-- its hold lasts (database clock, ms since the epoch; 0 once released). The row stays
-- after a release so that a key's tokens never go back: do not delete rows of keys that
-- may be locked again.
create table if not exists public.au_locks (
  key text collate "C" primary key,
  token bigint not null,
  expires_at bigint not null
);
grant select, insert, update, delete on table public.au_locks to service_role;

-- Takes p_key for p_ttl_ms when no live hold has it, in one statement: a new key gets
-- token 1, a free or expired one its last token + 1 (the row lock orders concurrent
-- takers). Returns {"token", "expiresAt"}, or null when another holder has it.
create or replace function public.au_lock_acquire(p_key text, p_ttl_ms bigint) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_now bigint := public.au_now_ms();
  v_held jsonb;
begin
  insert into public.au_locks as l (key, token, expires_at)
  values (p_key, 1, v_now + p_ttl_ms)
  on conflict (key) do update set token = l.token + 1, expires_at = v_now + p_ttl_ms
    where l.expires_at <= v_now
  returning pg_catalog.jsonb_build_object('token', l.token, 'expiresAt', l.expires_at) into v_held;
  return v_held;
end
$$;

-- Extends the hold of p_token to p_ttl_ms from now. False when that hold is over
-- (expired, released, or the key taken again).
create or replace function public.au_lock_renew(p_key text, p_token bigint, p_ttl_ms bigint) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_now bigint := public.au_now_ms();
  v_count integer;
begin
  update public.au_locks l set expires_at = v_now + p_ttl_ms
    where l.key = p_key and l.token = p_token and l.expires_at > v_now;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

-- Ends the hold of p_token (the token stays, for the next one). False when it was over.
create or replace function public.au_lock_release(p_key text, p_token bigint) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  update public.au_locks l set expires_at = 0
    where l.key = p_key and l.token = p_token and l.expires_at > public.au_now_ms();
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

-- ---- Privileges -------------------------------------------------------------------
do $grants$
declare
  f record;
begin
  for f in
    select p.oid::regprocedure as signature from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'au\_%'
  loop
    execute pg_catalog.format('revoke execute on function %s from public, anon, authenticated', f.signature);
    execute pg_catalog.format('grant execute on function %s to service_role', f.signature);
  end loop;
end
$grants$;

notify pgrst, 'reload schema';
