//! The PostgreSQL backend.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments as _, Postgres, Row as _};

use super::{ConnectOptions, Sql};
use crate::error::{Error, Result};
use crate::schema::SqlType;
use crate::value::Value;

pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<PgPool> {
    let connect_options = PgConnectOptions::from_str(url).map_err(|error| Error::InvalidUrl {
        url: super::redact_url(url),
        reason: error.to_string(),
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.wait_timeout)
        .connect_with(connect_options)
        .await?;
    Ok(pool)
}

pub(super) async fn execute<'e>(
    executor: impl sqlx::Executor<'e, Database = Postgres>,
    sql: Sql,
    args: PgArguments,
) -> Result<u64> {
    let result = sqlx::query_with(sql.into_sqlx(), args)
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}

pub(super) async fn execute_raw<'e>(
    executor: impl sqlx::Executor<'e, Database = Postgres>,
    sql: &str,
) -> Result<u64> {
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}

fn encode_error(error: sqlx::error::BoxDynError) -> Error {
    Error::Database(sqlx::Error::Encode(error))
}

pub(super) fn add_null(args: &mut PgArguments, sql_type: SqlType) -> Result<()> {
    // PostgreSQL checks parameter types, so the NULL must carry the column's type.
    let result = match sql_type {
        SqlType::SmallInt => args.add(None::<i16>),
        SqlType::Int => args.add(None::<i32>),
        SqlType::BigInt => args.add(None::<i64>),
        SqlType::Bool => args.add(None::<bool>),
        SqlType::Text => args.add(None::<String>),
        SqlType::Decimal => args.add(None::<Decimal>),
        SqlType::Date => args.add(None::<chrono::NaiveDate>),
        SqlType::Timestamp => args.add(None::<chrono::DateTime<chrono::Utc>>),
        SqlType::Uuid => args.add(None::<uuid::Uuid>),
        SqlType::Json => args.add(None::<sqlx::types::Json<serde_json::Value>>),
    };
    result.map_err(encode_error)
}

pub(super) fn add_value(args: &mut PgArguments, value: &Value) -> Result<()> {
    let result = match value {
        Value::Null => args.add(None::<String>),
        Value::Bool(value) => args.add(*value),
        Value::Int(value) => args.add(*value),
        Value::Text(value) => args.add(value.as_str()),
        Value::Decimal(value) => args.add(*value),
        Value::Date(value) => args.add(*value),
        Value::Timestamp(value) => args.add(*value),
        Value::Uuid(value) => args.add(*value),
        Value::Json(value) => args.add(sqlx::types::Json(value)),
    };
    result.map_err(encode_error)
}

/// Decimals come back normalized (`0.26`, not `0.26000000` as `NUMERIC(18,8)`
/// stores it), so a value reads the same on both databases.
pub(super) fn get_decimal(row: &PgRow, index: usize) -> Result<Option<Decimal>> {
    let value: Option<Decimal> = row.try_get(index).map_err(|error| Error::Decode {
        column: index.to_string(),
        reason: error.to_string(),
    })?;
    Ok(value.map(|value| value.normalize()))
}

/// Binds `values` as one array of `sql_type`'s element type.
pub(super) fn add_list(args: &mut PgArguments, sql_type: SqlType, values: &[Value]) -> Result<()> {
    fn collect<T>(values: &[Value], pick: impl Fn(&Value) -> Option<T>) -> Result<Vec<T>> {
        values
            .iter()
            .map(|value| {
                pick(value).ok_or_else(|| {
                    encode_error(format!("a list of one type holds {value:?}").into())
                })
            })
            .collect()
    }
    let result = match sql_type {
        SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
            args.add(collect(values, |value| match value {
                Value::Int(value) => Some(*value),
                _ => None,
            })?)
        }
        SqlType::Bool => args.add(collect(values, |value| match value {
            Value::Bool(value) => Some(*value),
            _ => None,
        })?),
        SqlType::Text => args.add(collect(values, |value| match value {
            Value::Text(value) => Some(value.clone()),
            _ => None,
        })?),
        SqlType::Decimal => args.add(collect(values, |value| match value {
            Value::Decimal(value) => Some(*value),
            _ => None,
        })?),
        SqlType::Date => args.add(collect(values, |value| match value {
            Value::Date(value) => Some(*value),
            _ => None,
        })?),
        SqlType::Timestamp => args.add(collect(values, |value| match value {
            Value::Timestamp(value) => Some(*value),
            _ => None,
        })?),
        SqlType::Uuid => args.add(collect(values, |value| match value {
            Value::Uuid(value) => Some(*value),
            _ => None,
        })?),
        SqlType::Json => return Err(encode_error("JSON values cannot be listed".into())),
    };
    result.map_err(encode_error)
}
