//! A readable dump of a PostgreSQL schema, for snapshots that make every DDL change reviewable.

use sqlx::PgPool;

/// Tables (columns, constraints, indexes, triggers), types and functions of `schema`, one object
/// per line, in a stable order. Partitions are left out: their names carry dates.
pub async fn dump(pool: &PgPool, schema: &str) -> String {
    let lines: Vec<String> = sqlx::query_scalar(DUMP)
        .bind(schema)
        .fetch_all(pool)
        .await
        .expect("dump schema");
    lines.join("\n") + "\n"
}

const DUMP: &str = r#"
WITH rels AS (
    SELECT c.oid, c.relname, c.relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
)
SELECT line FROM (
    SELECT r.relname AS obj, 0 AS part, 0 AS pos,
           CASE r.relkind WHEN 'p' THEN 'table ' || r.relname || ' (partitioned: ' || pg_get_partkeydef(r.oid) || ')'
                          ELSE 'table ' || r.relname END AS line
    FROM rels r
    UNION ALL
    SELECT r.relname, 1, a.attnum,
           '  column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
    UNION ALL
    SELECT r.relname, 2, row_number() OVER (PARTITION BY r.relname ORDER BY k.conname),
           '  constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
    FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
    UNION ALL
    SELECT r.relname, 3, row_number() OVER (PARTITION BY r.relname ORDER BY i.relname),
           '  index ' || regexp_replace(pg_get_indexdef(x.indexrelid), ' ON [^ ]+ ', ' ')
    FROM rels r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = x.indexrelid
    UNION ALL
    SELECT r.relname, 4, row_number() OVER (PARTITION BY r.relname ORDER BY t.tgname),
           '  trigger ' || t.tgname || ': ' || regexp_replace(pg_get_triggerdef(t.oid), '^.* TRIGGER [^ ]+ ', '')
    FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT '~type ' || t.typname, 5, 0,
           'type ' || t.typname || ' ('
           || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0) || ')'
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
    WHERE n.nspname = $1 AND t.typtype = 'c' AND c.relkind = 'c'
    UNION ALL
    SELECT '~function ' || p.proname, 6, 0,
           'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') returns '
           || pg_get_function_result(p.oid)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = $1
) objects
ORDER BY obj, part, pos, line
"#;
