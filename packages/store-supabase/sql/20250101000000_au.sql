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
create index if not exists au_results_list_idx on public.au_results (created_at desc, key desc);
create index if not exists au_results_status_idx on public.au_results (status, created_at desc, key desc);
create index if not exists au_results_expires_idx on public.au_results (expires_at) where expires_at is not null;
create index if not exists au_results_tags_idx on public.au_results using gin (tags);

-- One row per delivery of work: linked to its record by `key`.
create table if not exists public.au_tasks (
  id bigint generated always as identity primary key,
  queue text not null default 'default',
  key text collate "C" not null,
  task text not null,
  status text not null default 'queued'
    check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  priority double precision not null default 0,
  run_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 1,
  lease_expiries integer not null default 0,
  max_lease_expiries integer not null default 3,
  backoff jsonb,
  timeout_ms integer,
  lease_token uuid,
  lease_expires_at timestamptz,
  worker text,
  cancel_requested boolean not null default false,
  last_error jsonb,
  dedupe_key text collate "C",
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
-- Matches the claim predicate: queued rows of a queue by priority, then run_at.
create index if not exists au_tasks_claim_idx on public.au_tasks (queue, priority desc, run_at, id)
  where status = 'queued';
-- Matches the sweep predicate: running rows by lease expiry.
create index if not exists au_tasks_lease_idx on public.au_tasks (queue, lease_expires_at)
  where status = 'running';
create unique index if not exists au_tasks_dedupe_idx on public.au_tasks (queue, dedupe_key)
  where dedupe_key is not null and status in ('queued', 'running');
create index if not exists au_tasks_key_idx on public.au_tasks (key);
-- The worker's id for one claim call: a claim tried again after its reply was lost
-- finds the rows it took instead of taking more (added after the first release).
alter table public.au_tasks add column if not exists claim_id uuid;
create index if not exists au_tasks_claim_id_idx on public.au_tasks (claim_id)
  where claim_id is not null and status = 'running';
create index if not exists au_tasks_finished_idx on public.au_tasks (finished_at) where finished_at is not null;

alter table public.au_results enable row level security;
alter table public.au_tasks enable row level security;
revoke all on table public.au_results, public.au_tasks from anon, authenticated;
grant select, insert, update, delete on table public.au_results, public.au_tasks to service_role;

-- ---- Helpers ----------------------------------------------------------------------

create or replace function public.au_now_ms() returns bigint
language sql volatile set search_path = '' as $$
  select (extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint
$$;

-- The record as au's ComputationRecord (absent fields left out; a JSON null value kept).
create or replace function public.au_record_json(r public.au_results) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
      'key', r.key, 'task', r.task, 'status', r.status, 'attempt', r.attempt,
      'maxAttempts', r.max_attempts, 'createdAt', r.created_at)
    || coalesce((
      select pg_catalog.jsonb_object_agg(f.name, f.value)
      from (values
        ('args', r.args), ('value', r.value), ('error', r.error), ('progress', r.progress),
        ('meta', r.meta), ('priority', pg_catalog.to_jsonb(r.priority)), ('tags', pg_catalog.to_jsonb(r.tags)),
        ('ttl', pg_catalog.to_jsonb(r.ttl)), ('startedAt', pg_catalog.to_jsonb(r.started_at)),
        ('finishedAt', pg_catalog.to_jsonb(r.finished_at)), ('expiresAt', pg_catalog.to_jsonb(r.expires_at)),
        ('runAt', pg_catalog.to_jsonb(r.run_at)), ('parent', pg_catalog.to_jsonb(r.parent))
      ) as f(name, value)
      where f.value is not null), '{}'::jsonb)
$$;

-- core's canTransition.
create or replace function public.au_can_transition(p_from text, p_to text) returns boolean
language sql immutable set search_path = '' as $$
  select case
    when p_from = p_to then p_from in ('pending', 'running')
    when p_from = 'pending' then p_to in ('running', 'failed', 'cancelled')
    when p_from = 'running' then p_to in ('pending', 'completed', 'failed', 'cancelled')
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

-- The live record, or null.
create or replace function public.au_result_get(p_key text, p_now bigint default null) returns jsonb
language sql stable set search_path = '' as $$
  select public.au_record_json(r) from public.au_results r
  where r.key = p_key and (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms()))
$$;

-- Stores a new record (an expired one under the same key is replaced). False when the key is taken.
create or replace function public.au_result_create(p_record jsonb, p_now bigint default null) returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_now bigint := coalesce(p_now, public.au_now_ms());
  v_done boolean;
begin
  insert into public.au_results as r (key, task, status, args, value, error, progress, meta, attempt,
    max_attempts, priority, tags, ttl, created_at, started_at, finished_at, expires_at, run_at, parent)
  values (p_record->>'key', p_record->>'task', p_record->>'status', p_record->'args', p_record->'value',
    p_record->'error', p_record->'progress', p_record->'meta', coalesce((p_record->>'attempt')::integer, 0),
    coalesce((p_record->>'maxAttempts')::integer, 1), (p_record->>'priority')::double precision,
    case when p_record ? 'tags' and p_record->'tags' <> 'null'::jsonb
      then array(select pg_catalog.jsonb_array_elements_text(p_record->'tags')) end,
    (p_record->>'ttl')::double precision, (p_record->>'createdAt')::bigint, (p_record->>'startedAt')::bigint,
    (p_record->>'finishedAt')::bigint, (p_record->>'expiresAt')::bigint, (p_record->>'runAt')::bigint,
    p_record->>'parent')
  on conflict (key) do update set task = excluded.task, status = excluded.status, args = excluded.args,
    value = excluded.value, error = excluded.error, progress = excluded.progress, meta = excluded.meta,
    attempt = excluded.attempt, max_attempts = excluded.max_attempts, priority = excluded.priority,
    tags = excluded.tags, ttl = excluded.ttl, created_at = excluded.created_at,
    started_at = excluded.started_at, finished_at = excluded.finished_at, expires_at = excluded.expires_at,
    run_at = excluded.run_at, parent = excluded.parent
  where r.expires_at is not null and r.expires_at <= v_now
  returning true into v_done;
  return coalesce(v_done, false);
end
$$;

-- Applies a patch atomically, mirroring core's applyPatch. p_unset names fields to remove.
-- With p_task_id and p_lease_token the write happens only while that lease is held (fencing).
-- Returns the new record, or null when nothing was written.
create or replace function public.au_result_update(
  p_key text,
  p_patch jsonb,
  p_unset text[] default '{}',
  p_if_status text[] default null,
  p_now bigint default null,
  p_task_id bigint default null,
  p_lease_token uuid default null
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_now bigint := coalesce(p_now, public.au_now_ms());
  v_unset text[] := coalesce(p_unset, '{}');
  r public.au_results;
  v_status text;
begin
  if p_lease_token is not null then
    perform 1 from public.au_tasks t
      where t.id = p_task_id and t.lease_token = p_lease_token and t.status = 'running'
      for update;
    if not found then return null; end if;
  end if;
  select * into r from public.au_results where key = p_key for update;
  if not found or (r.expires_at is not null and r.expires_at <= v_now) then return null; end if;
  if p_if_status is not null and not (r.status = any (p_if_status)) then return null; end if;
  v_status := coalesce(p_patch->>'status', r.status);
  if v_status <> r.status and not public.au_can_transition(r.status, v_status) then return null; end if;
  if r.status in ('completed', 'failed', 'cancelled')
     and (p_patch ? 'value' or p_patch ? 'error' or 'value' = any (v_unset) or 'error' = any (v_unset)) then
    return null;
  end if;
  update public.au_results u set
    status = v_status,
    args = case when p_patch ? 'args' then p_patch->'args' when 'args' = any (v_unset) then null else u.args end,
    value = case when p_patch ? 'value' then p_patch->'value' when 'value' = any (v_unset) then null else u.value end,
    error = case when p_patch ? 'error' then p_patch->'error' when 'error' = any (v_unset) then null else u.error end,
    progress = case when p_patch ? 'progress' then p_patch->'progress'
      when 'progress' = any (v_unset) then null else u.progress end,
    meta = case when p_patch ? 'meta' then p_patch->'meta' when 'meta' = any (v_unset) then null else u.meta end,
    attempt = case when p_patch ? 'attempt' then coalesce((p_patch->>'attempt')::integer, u.attempt) else u.attempt end,
    max_attempts = case when p_patch ? 'maxAttempts'
      then coalesce((p_patch->>'maxAttempts')::integer, u.max_attempts) else u.max_attempts end,
    priority = case when p_patch ? 'priority' then (p_patch->>'priority')::double precision
      when 'priority' = any (v_unset) then null else u.priority end,
    tags = case when p_patch ? 'tags' and p_patch->'tags' <> 'null'::jsonb
        then array(select pg_catalog.jsonb_array_elements_text(p_patch->'tags'))
      when p_patch ? 'tags' or 'tags' = any (v_unset) then null else u.tags end,
    ttl = case when p_patch ? 'ttl' then (p_patch->>'ttl')::double precision
      when 'ttl' = any (v_unset) then null else u.ttl end,
    started_at = case when p_patch ? 'startedAt' then (p_patch->>'startedAt')::bigint
      when 'startedAt' = any (v_unset) then null else u.started_at end,
    finished_at = case when p_patch ? 'finishedAt' then (p_patch->>'finishedAt')::bigint
      when 'finishedAt' = any (v_unset) then null else u.finished_at end,
    expires_at = case when p_patch ? 'expiresAt' then (p_patch->>'expiresAt')::bigint
      when 'expiresAt' = any (v_unset) then null else u.expires_at end,
    run_at = case when p_patch ? 'runAt' then (p_patch->>'runAt')::bigint
      when 'runAt' = any (v_unset) then null else u.run_at end,
    parent = case when p_patch ? 'parent' then p_patch->>'parent'
      when 'parent' = any (v_unset) then null else u.parent end
  where u.key = p_key
  returning * into r;
  -- A fenced write that ends the computation ends its delivery too (one round trip less;
  -- the token is kept, so a later au_complete / au_fail of the same lease still agrees).
  if p_lease_token is not null and v_status in ('completed', 'failed', 'cancelled') then
    update public.au_tasks t set status = v_status, finished_at = now(), lease_expires_at = null,
      last_error = case when v_status = 'completed' then t.last_error else r.error end
    where t.id = p_task_id;
  end if;
  return public.au_record_json(r);
end
$$;

-- The live records of several keys, as an object keyed by key (workers read a claimed batch at once).
create or replace function public.au_result_get_many(p_keys text[], p_now bigint default null) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_object_agg(r.key, public.au_record_json(r)), '{}'::jsonb)
  from public.au_results r
  where r.key = any (p_keys) and (r.expires_at is null or r.expires_at > coalesce(p_now, public.au_now_ms()))
$$;

-- Removes a record; true when a live one was there.
create or replace function public.au_result_delete(p_key text, p_now bigint default null) returns boolean
language sql volatile set search_path = '' as $$
  with gone as (delete from public.au_results r where r.key = p_key returning r.expires_at)
  select coalesce((select g.expires_at is null or g.expires_at > coalesce(p_now, public.au_now_ms()) from gone g), false)
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
      and (p_statuses is null or r.status = any (p_statuses))
      and (p_task is null or r.task = p_task)
      and (p_tag is null or r.tags @> array[p_tag])
      and (p_after_created_at is null or (r.created_at, r.key) < (p_after_created_at, p_after_key collate "C"))
    order by r.created_at desc, r.key desc
    limit least(greatest(coalesce(p_limit, 100), 1), 1001)
  ) page
$$;

-- Removes expired records, and finished queue rows older than p_queue_retention_ms. Returns records removed.
create or replace function public.au_prune_expired(p_now bigint default null, p_queue_retention_ms bigint default 3600000)
returns integer
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  delete from public.au_results r where r.expires_at is not null and r.expires_at <= coalesce(p_now, public.au_now_ms());
  get diagnostics v_count = row_count;
  delete from public.au_tasks t
    where t.finished_at is not null and t.finished_at < now() - p_queue_retention_ms * interval '1 millisecond';
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
language sql stable set search_path = '' as $$
  select s.value from public.au_settings s where s.name = 'store_id'
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
  perform pg_catalog.pg_notify('public.au_results',
    case when pg_catalog.octet_length(v_json) < 7000 then new.key || chr(10) || v_json else new.key end);
  return null;
end
$$;
drop trigger if exists au_results_notify on public.au_results;
create trigger au_results_notify after update on public.au_results
  for each row execute function public.au_results_notify();

-- ---- Queue ------------------------------------------------------------------------

-- Enqueues one delivery of a computation. With a dedupe key (default: the computation key)
-- an active row with that key is returned instead of a new one. Returns the row id.
create or replace function public.au_enqueue(
  p_key text,
  p_task text,
  p_priority double precision default 0,
  p_run_at_ms bigint default null,
  p_max_attempts integer default 1,
  p_backoff jsonb default null,
  p_queue text default 'default',
  p_dedupe_key text default null,
  p_max_lease_expiries integer default 3,
  p_timeout_ms integer default null
) returns bigint
language plpgsql volatile set search_path = '' as $$
declare
  v_id bigint;
  v_run_at timestamptz := case when p_run_at_ms is null then now() else pg_catalog.to_timestamp(p_run_at_ms / 1000.0) end;
begin
  insert into public.au_tasks (queue, key, task, priority, run_at, max_attempts, backoff, dedupe_key,
    max_lease_expiries, timeout_ms)
  values (p_queue, p_key, p_task, coalesce(p_priority, 0), v_run_at, greatest(coalesce(p_max_attempts, 1), 1),
    p_backoff, coalesce(p_dedupe_key, p_key), coalesce(p_max_lease_expiries, 3), p_timeout_ms)
  on conflict (queue, dedupe_key) where dedupe_key is not null and status in ('queued', 'running') do nothing
  returning id into v_id;
  if v_id is null then
    select t.id into v_id from public.au_tasks t
      where t.queue = p_queue and t.dedupe_key = coalesce(p_dedupe_key, p_key) and t.status in ('queued', 'running');
    return v_id;
  end if;
  if v_run_at <= now() then perform pg_catalog.pg_notify('public.au_wakeup', p_queue); end if;
  return v_id;
end
$$;

-- Enqueues many: p_jobs is an array of {key, task, priority, runAtMs, maxAttempts, backoff, dedupeKey,
-- maxLeaseExpiries, timeoutMs}.
-- Returns how many rows were added (duplicates of active rows are skipped).
create or replace function public.au_enqueue_many(p_jobs jsonb, p_queue text default 'default') returns integer
language plpgsql volatile set search_path = '' as $$
declare
  v_count integer;
begin
  insert into public.au_tasks (queue, key, task, priority, run_at, max_attempts, backoff, dedupe_key,
    max_lease_expiries, timeout_ms)
  select p_queue, j.key, j.task, coalesce(j."priority", 0),
    case when j."runAtMs" is null then now() else pg_catalog.to_timestamp(j."runAtMs" / 1000.0) end,
    greatest(coalesce(j."maxAttempts", 1), 1), j.backoff, coalesce(j."dedupeKey", j.key),
    coalesce(j."maxLeaseExpiries", 3), j."timeoutMs"
  from pg_catalog.jsonb_to_recordset(p_jobs) as j(key text, task text, "priority" double precision,
    "runAtMs" bigint, "maxAttempts" integer, backoff jsonb, "dedupeKey" text, "maxLeaseExpiries" integer,
    "timeoutMs" integer)
  on conflict (queue, dedupe_key) where dedupe_key is not null and status in ('queued', 'running') do nothing;
  get diagnostics v_count = row_count;
  if v_count > 0 then perform pg_catalog.pg_notify('public.au_wakeup', p_queue); end if;
  return v_count;
end
$$;

-- Claims up to p_limit runnable rows: expired leases are swept first (back to queued while
-- lease expiries remain, else failed along with their record), then the next rows by
-- priority (higher first) and run_at are taken with FOR UPDATE SKIP LOCKED, each with its
-- attempt counted, a fresh lease token and a lease expiry.
create or replace function public.au_claim(
  p_queue text default 'default',
  p_worker text default null,
  p_limit integer default 1,
  p_lease_ms integer default 30000,
  p_tasks text[] default null,
  p_claim_id uuid default null
) returns setof public.au_tasks
language plpgsql volatile set search_path = '' as $$
declare
  v_now_ms bigint := public.au_now_ms();
begin
  -- The same claim tried again (its reply was lost): the rows it took, and no more.
  if p_claim_id is not null then
    return query select * from public.au_tasks t
      where t.claim_id = p_claim_id and t.status = 'running' and t.queue = p_queue;
    if found then return; end if;
  end if;

  with expired as (
    select t.id from public.au_tasks t
    where t.queue = p_queue and t.status = 'running' and t.lease_expires_at < now()
    for update skip locked
  ), swept as (
    update public.au_tasks t set
      status = case
        when t.cancel_requested then 'cancelled'
        when t.lease_expiries < t.max_lease_expiries then 'queued'
        else 'failed' end,
      lease_expiries = t.lease_expiries + 1,
      lease_token = null,
      claim_id = null,
      lease_expires_at = null,
      run_at = now(),
      finished_at = case when t.cancel_requested or t.lease_expiries >= t.max_lease_expiries then now() end,
      last_error = pg_catalog.jsonb_build_object('name', 'LeaseExpiredError', 'message',
        '[au] [postgres-queue] the worker "' || coalesce(t.worker, '?') || '" stopped renewing its lease')
    from expired e where t.id = e.id
    returning t.key, t.status, t.last_error
  )
  update public.au_results r set
    status = 'failed', error = s.last_error, finished_at = v_now_ms,
    expires_at = case when r.ttl is null then r.expires_at else v_now_ms + (r.ttl * 1000)::bigint end
  from swept s
  where s.status = 'failed' and r.key = s.key and r.status in ('pending', 'running');

  return query
  with next as (
    select t.id from public.au_tasks t
    where t.queue = p_queue and t.status = 'queued' and t.run_at <= now()
      and (p_tasks is null or t.task = any (p_tasks))
    order by t.priority desc, t.run_at, t.id
    limit greatest(p_limit, 0)
    for update skip locked
  )
  update public.au_tasks t set
    status = 'running',
    attempts = t.attempts + 1,
    lease_token = pg_catalog.gen_random_uuid(),
    lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
    worker = p_worker,
    claim_id = p_claim_id
  from next where t.id = next.id
  returning t.*;
end
$$;

-- Renews a lease. Returns 'ok', 'cancel' (a cancel was asked: stop the work) or 'lost'
-- (the lease expired and the row went to someone else).
create or replace function public.au_heartbeat(p_id bigint, p_lease_token uuid, p_lease_ms integer default 30000)
returns text
language plpgsql volatile set search_path = '' as $$
declare
  v_cancel boolean;
begin
  update public.au_tasks t set lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
  where t.id = p_id and t.lease_token = p_lease_token and t.status = 'running'
  returning t.cancel_requested into v_cancel;
  if not found then return 'lost'; end if;
  return case when v_cancel then 'cancel' else 'ok' end;
end
$$;

-- Ends a delivery that ran (p_status 'completed', or 'cancelled' when its record was
-- cancelled). Fenced by the lease token; a retried call returns true again.
create or replace function public.au_complete(p_id bigint, p_lease_token uuid, p_status text default 'completed')
returns boolean
language plpgsql volatile set search_path = '' as $$
begin
  if p_status not in ('completed', 'cancelled') then
    raise exception 'au_complete: p_status must be completed or cancelled, got %', p_status using errcode = '22023';
  end if;
  update public.au_tasks t set status = p_status, finished_at = now(), lease_expires_at = null
  where t.id = p_id and t.lease_token = p_lease_token and t.status = 'running';
  if found then return true; end if;
  return exists (select 1 from public.au_tasks t
    where t.id = p_id and t.lease_token = p_lease_token and t.status = p_status);
end
$$;

-- Ends a failed attempt: back to queued after a backoff computed here (or p_delay_ms)
-- while attempts remain and p_retry is not false, else failed. Fenced by the lease token;
-- a retried call gives the same answer. Returns 'retry', 'failed' or 'refused'.
create or replace function public.au_fail(
  p_id bigint,
  p_lease_token uuid,
  p_error jsonb default null,
  p_retry boolean default null,
  p_delay_ms bigint default null
) returns text
language plpgsql volatile set search_path = '' as $$
declare
  t public.au_tasks;
  v_retry boolean;
begin
  select * into t from public.au_tasks x where x.id = p_id and x.lease_token = p_lease_token for update;
  if not found then return 'refused'; end if;
  if t.status = 'queued' then return 'retry'; end if;
  if t.status in ('failed', 'cancelled') then return 'failed'; end if;
  if t.status <> 'running' then return 'refused'; end if;
  v_retry := coalesce(p_retry, t.attempts < t.max_attempts) and not t.cancel_requested;
  if v_retry then
    update public.au_tasks x set status = 'queued', last_error = p_error, lease_expires_at = null, claim_id = null,
      run_at = now() + coalesce(p_delay_ms, public.au_backoff_ms(t.backoff, t.attempts)) * interval '1 millisecond'
    where x.id = p_id;
    return 'retry';
  end if;
  update public.au_tasks x set status = 'failed', last_error = p_error, lease_expires_at = null, finished_at = now()
  where x.id = p_id;
  return 'failed';
end
$$;

-- Gives a delivery back without counting it (its worker could not write the record: a
-- store outage): queued again after p_delay_ms, its attempt not counted. Fenced by the
-- lease token; a row whose cancel was asked ends cancelled instead. True when it was given back.
create or replace function public.au_release(p_id bigint, p_lease_token uuid, p_delay_ms bigint default 0)
returns boolean
language plpgsql volatile set search_path = '' as $$
begin
  update public.au_tasks t set
    status = case when t.cancel_requested then 'cancelled' else 'queued' end,
    attempts = greatest(t.attempts - 1, 0),
    run_at = now() + greatest(coalesce(p_delay_ms, 0), 0) * interval '1 millisecond',
    finished_at = case when t.cancel_requested then now() end,
    lease_token = null, lease_expires_at = null, claim_id = null, worker = null
  where t.id = p_id and t.lease_token = p_lease_token and t.status = 'running';
  return found;
end
$$;

-- Cancels the active deliveries of a computation: queued ones end at once, running ones
-- are flagged (their worker sees 'cancel' at its next heartbeat). The record, when still
-- pending or running, is marked cancelled too. True when an active delivery was found.
create or replace function public.au_cancel(p_key text, p_queue text default 'default', p_reason text default null)
returns boolean
language plpgsql volatile set search_path = '' as $$
declare
  v_queued integer;
  v_running integer;
  v_now_ms bigint := public.au_now_ms();
begin
  update public.au_tasks t set status = 'cancelled', finished_at = now()
  where t.queue = p_queue and t.key = p_key and t.status = 'queued';
  get diagnostics v_queued = row_count;
  update public.au_tasks t set cancel_requested = true
  where t.queue = p_queue and t.key = p_key and t.status = 'running';
  get diagnostics v_running = row_count;
  update public.au_results r set status = 'cancelled', finished_at = v_now_ms,
    -- The fields core's serializeError writes for a CancelledError (handles read `reason`).
    error = pg_catalog.jsonb_build_object('name', 'CancelledError', 'code', 'AU_CANCELLED', 'key', p_key,
      'message', '[au] computation "' || p_key || '" was cancelled' || coalesce(': ' || nullif(p_reason, ''), ''))
      || case when p_reason is null then '{}'::jsonb else pg_catalog.jsonb_build_object('reason', p_reason) end,
    expires_at = case when r.ttl is null then r.expires_at else v_now_ms + (r.ttl * 1000)::bigint end
  where r.key = p_key and r.status in ('pending', 'running');
  return v_queued + v_running > 0;
end
$$;

-- Counts of queue rows by status (for dashboards and tests).
create or replace function public.au_queue_stats(p_queue text default 'default') returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_object_agg(s.status, s.n), '{}'::jsonb)
  from (select t.status, count(*) as n from public.au_tasks t where t.queue = p_queue group by t.status) s
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
