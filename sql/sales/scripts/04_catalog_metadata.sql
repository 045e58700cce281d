-- =============================================================================
-- 04_catalog_metadata.sql: what the database says about itself, from
-- information_schema (the SQL standard's portable views) and pg_catalog
-- (PostgreSQL's own tables: everything, including what the standard has no
-- word for: indexes, sizes, partitions, dependencies)
--
-- What it shows, for schema sales (change it with -v schema=...)
--   1. tables with their kind, estimated rows and comment;
--   2. columns and types of one table (-v table=campaign_plans), both ways:
--      information_schema.columns and pg_attribute + format_type;
--   3. keys: primary, unique and foreign keys with their definitions, and for
--      each foreign key whether an index leads with its columns (an
--      unindexed FK makes deletes on the parent scan the child);
--   4. indexes with their definition, size and how often they were scanned;
--   5. sizes: table, indexes and TOAST per table, largest first;
--   6. dependencies: which table references which (the FK graph), which
--      triggers call which functions (pg_depend), and the partitions of the
--      partitioned audit_log (pg_inherits).
--
-- What to look at in the output
--   - campaign_plans and campaign_summaries among the tables, audit_log as a
--     "partitioned table" with its monthly partitions in section 6;
--   - campaign_plans_pkey PRIMARY KEY (id) and the composite foreign keys
--     such as approvals -> campaign_plans (campaign_plan_id, organization_id),
--     each with "indexed | t";
--   - in section 6, touch_updated_at called by a trigger on every table that
--     has updated_at.
--
-- Run: psql -X -v ON_ERROR_STOP=1 -d promptsales -f sql/sales/scripts/04_catalog_metadata.sql
-- Read-only; any role that can use the schema sees its own objects.
-- =============================================================================

\set QUIET on
\pset footer off
\if :{?schema}
\else
\set schema sales
\endif
\if :{?table}
\else
\set table campaign_plans
\endif
\set QUIET off

-- -----------------------------------------------------------------------------
-- 1. Tables
-- -----------------------------------------------------------------------------
\echo
\echo '== 1. tables (information_schema.tables + pg_class) =='

SELECT
    t.table_name,
    CASE c.relkind
        WHEN 'r' THEN 'table'
        WHEN 'p' THEN 'partitioned table'
        WHEN 'v' THEN 'view'
        WHEN 'm' THEN 'materialized view'
        WHEN 'f' THEN 'foreign table'
    END AS kind,
    c.relispartition AS is_partition,
    -- reltuples is the planner's estimate from the last ANALYZE (-1: never).
    greatest(c.reltuples, 0)::bigint AS estimated_rows,
    obj_description(c.oid, 'pg_class') AS comment
FROM information_schema.tables AS t
INNER JOIN pg_class AS c
    ON
        c.relname = t.table_name
        AND c.relnamespace = to_regnamespace(t.table_schema)
WHERE t.table_schema = :'schema'
ORDER BY c.relispartition, t.table_name;

-- -----------------------------------------------------------------------------
-- 2. Columns and types
-- -----------------------------------------------------------------------------
\echo
\echo '== 2. columns of' :schema.:table '(information_schema.columns) =='

SELECT
    ordinal_position AS pos,
    column_name,
    data_type,
    coalesce(character_maximum_length, numeric_precision) AS length_or_precision,
    numeric_scale AS scale,
    is_nullable,
    column_default
FROM information_schema.columns
WHERE table_schema = :'schema' AND table_name = :'table'
ORDER BY ordinal_position;

\echo '-- the same from pg_attribute: format_type gives the exact declared type'
SELECT
    a.attnum AS pos,
    a.attname AS column_name,
    format_type(a.atttypid, a.atttypmod) AS declared_type,
    a.attnotnull AS not_null,
    col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute AS a
WHERE
    a.attrelid = format('%I.%I', :'schema', :'table')::regclass
    AND a.attnum > 0
    AND NOT a.attisdropped
ORDER BY a.attnum;

-- -----------------------------------------------------------------------------
-- 3. Keys
-- -----------------------------------------------------------------------------
\echo
\echo '== 3. primary, unique and foreign keys (pg_constraint) =='

SELECT
    con.conrelid::regclass AS table_name,
    con.conname AS constraint_name,
    CASE con.contype
        WHEN 'p' THEN 'PRIMARY KEY'
        WHEN 'u' THEN 'UNIQUE'
        WHEN 'f' THEN 'FOREIGN KEY'
    END AS kind,
    pg_get_constraintdef(con.oid) AS definition,
    -- An FK is "indexed" when the leading columns of some index of the table
    -- are its columns (in any order).
    CASE
        WHEN con.contype = 'f'
            THEN EXISTS (
                SELECT
                FROM pg_index AS i
                WHERE
                    i.indrelid = con.conrelid
                    AND (i.indkey::smallint [])[0:cardinality(con.conkey) - 1] @> con.conkey
            )
    END AS indexed
FROM pg_constraint AS con
INNER JOIN pg_class AS c ON con.conrelid = c.oid
WHERE
    con.connamespace = to_regnamespace(:'schema')
    AND con.contype IN ('p', 'u', 'f')
    -- Partitions inherit their parent's keys; list them once.
    AND NOT c.relispartition
ORDER BY con.conrelid::regclass::text, con.contype DESC, con.conname;

\echo '-- the same keys as the standard sees them (information_schema)'
SELECT
    tc.table_name,
    tc.constraint_type,
    string_agg(kcu.column_name, ', ' ORDER BY kcu.ordinal_position) AS columns
FROM information_schema.table_constraints AS tc
INNER JOIN information_schema.key_column_usage AS kcu
    ON
        tc.constraint_schema = kcu.constraint_schema
        AND tc.constraint_name = kcu.constraint_name
        AND tc.table_name = kcu.table_name
WHERE tc.table_schema = :'schema' AND tc.table_name = :'table'
GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type
ORDER BY tc.constraint_type, columns;

-- -----------------------------------------------------------------------------
-- 4. Indexes
-- -----------------------------------------------------------------------------
\echo
\echo '== 4. indexes: definition, size, use (pg_index, pg_stat_user_indexes) =='

SELECT
    i.indrelid::regclass AS table_name,
    i.indexrelid::regclass AS index_name,
    i.indisunique AS is_unique,
    i.indpred IS NOT NULL AS is_partial,
    pg_size_pretty(pg_relation_size(i.indexrelid)) AS size,
    coalesce(s.idx_scan, 0) AS scans,
    pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i
INNER JOIN pg_class AS ic ON i.indexrelid = ic.oid
LEFT JOIN pg_stat_user_indexes AS s ON i.indexrelid = s.indexrelid
WHERE
    ic.relnamespace = to_regnamespace(:'schema')
    AND NOT ic.relispartition
ORDER BY i.indrelid::regclass::text, ic.relname;

-- -----------------------------------------------------------------------------
-- 5. Sizes
-- -----------------------------------------------------------------------------
\echo
\echo '== 5. sizes, largest first (partitions counted in their parent) =='

WITH tables AS (
    SELECT
        c.oid,
        c.relname
    FROM pg_class AS c
    WHERE
        c.relnamespace = to_regnamespace(:'schema')
        AND c.relkind IN ('r', 'p')
        AND NOT c.relispartition
),

parts AS (
    -- A plain table is its own only part; a partitioned one is its leaves.
    SELECT
        t.relname,
        t.oid AS relid
    FROM tables AS t
    WHERE NOT EXISTS (SELECT FROM pg_inherits AS i WHERE i.inhparent = t.oid)
    UNION ALL
    SELECT
        t.relname,
        p.relid
    FROM tables AS t
    CROSS JOIN LATERAL pg_partition_tree(t.oid) AS p
    WHERE p.isleaf AND p.relid <> t.oid
)

SELECT
    relname AS table_name,
    count(*) AS parts,
    pg_size_pretty(sum(pg_table_size(relid))) AS table_size,
    pg_size_pretty(sum(pg_indexes_size(relid))) AS indexes_size,
    pg_size_pretty(sum(pg_total_relation_size(relid))) AS total_size,
    sum(pg_total_relation_size(relid)) AS total_bytes
FROM parts
GROUP BY relname
ORDER BY total_bytes DESC, relname;

SELECT pg_size_pretty(pg_database_size(current_database())) AS database_size;

-- -----------------------------------------------------------------------------
-- 6. Dependencies
-- -----------------------------------------------------------------------------
\echo
\echo '== 6a. the foreign-key graph: who references whom =='

SELECT
    con.conrelid::regclass AS referencing_table,
    con.confrelid::regclass AS referenced_table,
    con.conname AS foreign_key,
    CASE con.confdeltype
        WHEN 'a' THEN 'no action'
        WHEN 'r' THEN 'restrict'
        WHEN 'c' THEN 'cascade'
        WHEN 'n' THEN 'set null'
        WHEN 'd' THEN 'set default'
    END AS on_delete
FROM pg_constraint AS con
INNER JOIN pg_class AS c ON con.conrelid = c.oid
WHERE
    con.contype = 'f'
    AND con.connamespace = to_regnamespace(:'schema')
    AND NOT c.relispartition
ORDER BY con.confrelid::regclass::text, con.conrelid::regclass::text;

\echo '== 6b. triggers and the functions they depend on (pg_depend) =='

SELECT
    p.oid::regprocedure AS function,
    count(*) AS triggers,
    string_agg(DISTINCT t.tgrelid::regclass::text, ', ') AS on_tables
FROM pg_depend AS d
INNER JOIN pg_trigger AS t ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
INNER JOIN pg_proc AS p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
WHERE
    p.pronamespace = to_regnamespace(:'schema')
    -- Internal triggers implement foreign keys; only the schema's own ones.
    AND NOT t.tgisinternal
    AND NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = t.tgrelid AND c.relispartition)
GROUP BY p.oid
ORDER BY function;

\echo '== 6c. partitions and their bounds (pg_inherits) =='

SELECT
    i.inhparent::regclass AS parent,
    i.inhrelid::regclass AS partition,
    pg_get_expr(c.relpartbound, c.oid) AS bounds
FROM pg_inherits AS i
INNER JOIN pg_class AS c ON i.inhrelid = c.oid
WHERE c.relnamespace = to_regnamespace(:'schema') AND c.relkind IN ('r', 'p')
ORDER BY parent, partition;

\echo '== 6d. what a DROP TABLE would have to take along: views on the tables (pg_depend) =='

-- The schema has no views of its own, so this makes one, as a reporting team
-- would; a temporary view lives in this session only.
CREATE TEMPORARY VIEW plan_overview AS
SELECT
    o.name AS organization,
    p.title,
    p.status,
    p.planned_budget
FROM sales.campaign_plans AS p
INNER JOIN sales.organizations AS o ON p.organization_id = o.id;

SELECT DISTINCT
    d.refobjid::regclass AS table_name,
    r.ev_class::regclass AS dependent_view,
    'DROP TABLE fails unless CASCADE' AS consequence
FROM pg_depend AS d
INNER JOIN pg_rewrite AS r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
INNER JOIN pg_class AS c ON d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
WHERE
    c.relnamespace = to_regnamespace(:'schema')
    AND r.ev_class <> d.refobjid
ORDER BY table_name, dependent_view;
