//! The PostgreSQL twins must keep the tables and columns of the prescribed stores (SQL Server for
//! ads and crm, MongoDB for content), so an adapter can be swapped without the data changing shape.

use std::collections::BTreeMap;

use promptsales_platform::{
    Backend, Store,
    migrate::{MongoMigration, embedded},
};
use promptsales_testkit::TestDb;

/// Tables and their columns, in order, as declared by the `CREATE TABLE` statements of a T-SQL file.
fn tsql_tables(script: &str, schema: &str) -> BTreeMap<String, Vec<String>> {
    let mut tables = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let prefix = format!("CREATE TABLE {schema}.");
    for line in script.lines() {
        if let Some(rest) = line.strip_prefix(&prefix) {
            let name = rest.split([' ', '(']).next().unwrap_or_default().to_owned();
            current = Some((name, Vec::new()));
            continue;
        }
        let Some((name, columns)) = current.as_mut() else {
            continue;
        };
        if line.starts_with(')') {
            tables.insert(std::mem::take(name), std::mem::take(columns));
            current = None;
            continue;
        }
        // A column line: indented one level, an identifier, then its type (constraints, their
        // continuation lines and comments are not).
        let mut words = line.split_whitespace();
        let (Some(first), Some(second)) = (words.next(), words.next()) else {
            continue;
        };
        let keyword = [
            "CONSTRAINT",
            "PRIMARY",
            "INDEX",
            "UNIQUE",
            "FOREIGN",
            "CHECK",
            "PERIOD",
            "--",
        ];
        let is_ident = first
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let column_indent = line.starts_with("    ") && !line.starts_with("     ");
        if column_indent
            && is_ident
            && !keyword.iter().any(|k| first.starts_with(k))
            && second.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        {
            columns.push(first.to_owned());
        }
    }
    tables
}

async fn pg_tables(db: &TestDb, schema: &str) -> BTreeMap<String, Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname, a.attnum",
    )
    .bind(schema)
    .fetch_all(db.pool())
    .await
    .expect("columns");
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in rows {
        tables.entry(table).or_default().push(column);
    }
    tables
}

#[tokio::test]
async fn should_keep_the_tables_and_columns_of_sql_server_in_the_postgres_twins() {
    for store in [Store::Ads, Store::Crm] {
        let script: String = embedded(store, Backend::Mssql)
            .expect("files")
            .iter()
            .map(|f| f.content)
            .collect();
        let tsql = tsql_tables(&script, store.name());
        assert!(tsql.len() >= 7, "{store}: found only {:?} in the T-SQL", tsql.keys());
        let db = TestDb::migrated(store).await;
        assert_eq!(
            pg_tables(&db, store.name()).await,
            tsql,
            "{store}: PostgreSQL twin differs from T-SQL"
        );
    }
}

#[tokio::test]
async fn should_have_one_postgres_table_per_mongodb_collection() {
    let mut collections: Vec<String> = Vec::new();
    for file in embedded(Store::Content, Backend::Mongo).expect("files") {
        let migration = MongoMigration::parse(&file.path, file.content).expect("valid migration");
        collections.extend(migration.collections.into_iter().map(|c| c.name));
    }
    // A later migration may change a collection's validator (0002: campaign log reviews): one
    // collection still, one table.
    collections.sort();
    collections.dedup();
    let db = TestDb::migrated(Store::Content).await;
    let tables: Vec<String> = pg_tables(&db, "content").await.into_keys().collect();
    assert_eq!(tables, collections);
}

#[test]
fn should_read_columns_and_skip_constraints_in_tsql() {
    let script = "CREATE TABLE ads.t (\n    id UNIQUEIDENTIFIER NOT NULL,\n    -- note\n    name NVARCHAR(10) NULL,\n    CONSTRAINT t_pkey PRIMARY KEY (id)\n);\n";
    assert_eq!(tsql_tables(script, "ads")["t"], vec!["id", "name"]);
}
