//! SQL Server bulk-load rows: each value becomes the typed TDS column value of its column.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tiberius::{IntoSql, TokenRow};
use uuid::Uuid;

use super::RowSink;

/// One row for a TDS bulk load.
#[derive(Debug, Default)]
pub struct TdsRow {
    row: TokenRow<'static>,
}

impl TdsRow {
    pub fn into_row(self) -> TokenRow<'static> {
        self.row
    }
}

macro_rules! typed {
    ($name:ident, $ty:ty) => {
        fn $name(&mut self, v: impl Into<Option<$ty>>) {
            self.row.push(v.into().into_sql());
        }
    };
}

impl RowSink for TdsRow {
    typed!(bool, bool);
    typed!(i16, i16);
    typed!(i32, i32);
    typed!(i64, i64);
    typed!(f64, f64);
    typed!(decimal, Decimal);
    typed!(uuid, Uuid);
    typed!(date, NaiveDate);
    typed!(time, DateTime<Utc>);

    fn text<'a>(&mut self, v: impl Into<Option<&'a str>>) {
        self.row.push(v.into().map(str::to_owned).into_sql());
    }

    fn bytes<'a>(&mut self, v: impl Into<Option<&'a [u8]>>) {
        self.row.push(v.into().map(<[u8]>::to_vec).into_sql());
    }

    fn json(&mut self, v: Option<&serde_json::Value>) {
        self.row.push(v.map(ToString::to_string).into_sql());
    }

    fn text_array<S: AsRef<str>>(&mut self, v: Option<&[S]>) {
        let json = v.map(|items| serde_json::Value::from(items.iter().map(|s| s.as_ref()).collect::<Vec<_>>()));
        self.json(json.as_ref());
    }
}
