//! [`sql`]: reads written in SQL, for what the model query API cannot express
//! (joins, aggregates, reports).

use std::fmt;

use crate::db::{Access, Arguments, Conn, Dialect, Row};
use crate::error::{Error, Result};
use crate::field::Field;

/// Starts a read written in SQL: joins, aggregates and reports that the model
/// query API cannot express. Bind a value to each `$1`, `$2`, ... placeholder with
/// [`SqlQuery::bind`], then run it with [`fetch_all`](SqlQuery::fetch_all),
/// [`fetch_optional`](SqlQuery::fetch_optional) or
/// [`fetch_one`](SqlQuery::fetch_one) on a `&Db` or inside a `&mut Tx`.
///
/// The same text runs on SQLite and PostgreSQL, so it must be SQL both accept;
/// fw does not check it (see [the guide](crate::docs::models#raw-sql)). The text
/// is a `&'static str` so each connection prepares it once and reuses it.
///
/// ```no_run
/// # async fn example(db: &fw::Db) -> fw::Result<()> {
/// let symbols: Vec<(String, i64)> = fw::sql(
///     "SELECT s.symbol, count(d.id) FROM security s \
///      JOIN dividend d ON d.security_id = s.id \
///      WHERE d.pay_date >= $1 GROUP BY s.symbol ORDER BY s.symbol",
/// )
/// .bind(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
/// .fetch_all(db, |row| Ok((row.get(0)?, row.get(1)?)))
/// .await?;
/// # let _ = symbols;
/// # Ok(()) }
/// ```
pub fn sql(text: &'static str) -> SqlQuery {
    // One text serves both databases: SQLite reads `$1` as a parameter named
    // `$1`, and sqlx's SQLite driver binds such names by their number.
    SqlQuery {
        text,
        params: Vec::new(),
    }
}

/// A read written in SQL with its bound values; built by [`sql`].
#[must_use = "a query does nothing until one of its `fetch_*` methods runs it"]
pub struct SqlQuery {
    text: &'static str,
    params: Vec<Box<dyn Param>>,
}

/// A bound value waiting for the dialect, known only when the query runs, to
/// encode itself with its own [`Field::bind`].
trait Param: Send + Sync {
    fn bind_to(&self, args: &mut Arguments) -> Result<()>;
}

impl<T: Field> Param for T {
    fn bind_to(&self, args: &mut Arguments) -> Result<()> {
        self.bind(args)
    }
}

// Bound values are left out: they may be personal data.
impl fmt::Debug for SqlQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlQuery")
            .field("text", &self.text)
            .field("params", &self.params.len())
            .finish()
    }
}

impl SqlQuery {
    /// Binds `value` to the next placeholder: the first call to `$1`, the second
    /// to `$2`, and so on. Any field type binds, encoded as in a model's column
    /// (a decimal as exact text on SQLite, a `Ref` as its key, a choice as its
    /// text); `None` binds a NULL.
    pub fn bind<T: Field>(mut self, value: T) -> Self {
        self.params.push(Box::new(value));
        self
    }

    /// Runs the query and decodes every row with `decode`, in the order the SQL
    /// gives them.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the database rejects the SQL or a value, and
    /// whatever `decode` returns ([`Error::Decode`] from [`Row::get`]).
    pub async fn fetch_all<'c, T>(
        self,
        conn: impl Into<Conn<'c>>,
        decode: impl Fn(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let conn = conn.into();
        let args = self.arguments(conn.dialect())?;
        conn.fetch_all(self.text.into(), args, Access::Read, decode)
            .await
    }

    /// Runs the query and decodes its first row, if there is one.
    ///
    /// # Errors
    ///
    /// As [`fetch_all`](SqlQuery::fetch_all).
    pub async fn fetch_optional<'c, T>(
        self,
        conn: impl Into<Conn<'c>>,
        decode: impl Fn(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let conn = conn.into();
        let args = self.arguments(conn.dialect())?;
        conn.fetch_optional(self.text.into(), args, Access::Read, decode)
            .await
    }

    /// Runs a query that always returns a row (an aggregate, say) and decodes the
    /// first.
    ///
    /// # Errors
    ///
    /// As [`fetch_all`](SqlQuery::fetch_all), and [`Error::Database`] when there
    /// is no row.
    pub async fn fetch_one<'c, T>(
        self,
        conn: impl Into<Conn<'c>>,
        decode: impl Fn(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.fetch_optional(conn, decode)
            .await?
            .ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    fn arguments(&self, dialect: Dialect) -> Result<Arguments> {
        let mut args = Arguments::new(dialect);
        for param in &self.params {
            param.bind_to(&mut args)?;
        }
        Ok(args)
    }
}
