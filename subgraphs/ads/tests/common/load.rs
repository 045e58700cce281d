//! Loads the fixture's tables with multi-row INSERTs, every value bound.

use promptsales_platform::{StoreUrl, mssql};
use sqlx::PgPool;

use super::fixture::{Fixture, Table, V};

pub async fn load_pg(pool: &PgPool, fixture: &Fixture) {
    for table in fixture.tables() {
        insert_pg(pool, &table).await;
    }
}

async fn insert_pg(pool: &PgPool, table: &Table) {
    let width = table.columns.len();
    for chunk in table.rows.chunks(500) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let row: Vec<String> = (0..width).map(|c| format!("${}", r * width + c + 1)).collect();
                format!("({})", row.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            table.name,
            table.columns.join(", "),
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for v in chunk.iter().flatten() {
            q = match v.clone() {
                V::Uuid(x) => q.bind(x),
                V::Str(x) => q.bind(x),
                V::I64(x) => q.bind(x),
                V::I32(x) => q.bind(x),
                V::Dec(x) => q.bind(x),
                V::Date(x) => q.bind(x),
                V::Time(x) => q.bind(x),
            };
        }
        q.execute(pool)
            .await
            .unwrap_or_else(|e| panic!("load {}: {e}", table.name));
    }
}

pub async fn load_mssql(url: &StoreUrl, fixture: &Fixture) {
    let database = url.database().expect("a database").to_owned();
    let mut conn = mssql::connect(url, &database, "ads-tests")
        .await
        .expect("connect to SQL Server");
    for table in fixture.tables() {
        let width = table.columns.len();
        // At most 2,100 parameters and 1,000 rows per INSERT … VALUES.
        for chunk in table.rows.chunks((2000 / width).min(1000)) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let row: Vec<String> = (0..width).map(|c| format!("@P{}", r * width + c + 1)).collect();
                    format!("({})", row.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                table.name,
                table.columns.join(", "),
                values.join(", ")
            );
            let mut q = tiberius::Query::new(sql);
            for v in chunk.iter().flatten() {
                match v.clone() {
                    V::Uuid(x) => q.bind(x),
                    V::Str(x) => q.bind(x),
                    V::I64(x) => q.bind(x),
                    V::I32(x) => q.bind(x),
                    V::Dec(x) => q.bind(x),
                    V::Date(x) => q.bind(x),
                    V::Time(x) => q.bind(x.map(|t| t.fixed_offset())),
                }
            }
            q.execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("load {}: {e}", table.name));
        }
    }
}
