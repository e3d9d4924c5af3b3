//! Reading the change log: one row's history, and pages of everything after a
//! sequence number.

use std::sync::LazyLock;
use std::time::Duration;

use futures_util::Stream;

use super::tables::{CHANGES_TABLE, PENDING_TABLE};
use super::{Change, FieldChange, Operation};
use crate::db::{Access, Arguments, Conn, Db, Dialect, Row, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Model;

const COLUMNS: &str = "\"seq\", \"model\", \"row_key\", \"operation\", \"version\", \"fields\", \
                       \"changed_at\", \"actor\", \"request_id\"";

/// How many [`COLUMNS`] there are.
const COLUMN_COUNT: usize = 9;

/// The default and largest page of [`after`].
const MAX_PAGE: u32 = 1000;

/// Every change after sequence number `seq` (0 for the start of the log), oldest
/// first, in pages; see [`ChangesAfter`].
///
/// Remembering the last `seq` of each page and asking for what comes after it
/// visits every committed change exactly once (see the [module docs](crate::changes)).
///
/// ```no_run
/// # async fn example(db: &fw::Db) -> fw::Result<()> {
/// let page = fw::changes::after(0).model("security").limit(100).fetch(db).await?;
/// # let _ = page; Ok(()) }
/// ```
pub fn after(seq: i64) -> ChangesAfter {
    ChangesAfter {
        after: seq,
        model: None,
        limit: MAX_PAGE,
    }
}

/// A page of the change log: built by [`after`], run by [`ChangesAfter::fetch`].
#[derive(Debug, Clone)]
pub struct ChangesAfter {
    after: i64,
    model: Option<String>,
    limit: u32,
}

impl ChangesAfter {
    /// Only changes of the model with table `table` (`Security::TABLE`).
    pub fn model(mut self, table: impl Into<String>) -> Self {
        self.model = Some(table.into());
        self
    }

    /// At most `limit` changes (default and maximum 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE);
        self
    }

    /// Reads the page. Through a [`Db`], every change committed before the
    /// call has its position first (see the [module docs](crate::changes)),
    /// so a write is in the page once its commit has returned; inside a
    /// transaction it reads the positions given so far.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the query fails, for example because the
    /// migrations creating `fw_changes` have not run.
    pub async fn fetch<'c>(self, conn: impl Into<Conn<'c>>) -> Result<Vec<Change>> {
        let conn = conn.into();
        let dialect = conn.dialect();
        let mut condition = format!("\"seq\" > {}", placeholder(dialect, 1));
        let mut parameters = 2;
        if self.model.is_some() {
            condition.push_str(&format!(" AND \"model\" = {}", placeholder(dialect, 2)));
            parameters += 1;
        }
        let limit = format!(" LIMIT {}", placeholder(dialect, parameters));
        read(conn, &condition, &limit, |args| {
            args.add(self.after)?;
            if let Some(model) = &self.model {
                args.add(model.as_str())?;
            }
            args.add(i64::from(self.limit))
        })
        .await
    }

    /// Every change after the cursor, a page at a time, ending at the end of the
    /// log: each page moves the cursor to its last change.
    ///
    /// A database error is the stream's last item.
    ///
    /// ```no_run
    /// # async fn example(db: fw::Db) -> fw::Result<()> {
    /// use futures_util::StreamExt as _;
    ///
    /// let mut pages = std::pin::pin!(fw::changes::after(0).pages(db));
    /// while let Some(page) = pages.next().await {
    ///     for change in page? {
    ///         println!("{} {} {}", change.seq, change.model, change.key);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages(self, db: Db) -> impl Stream<Item = Result<Vec<Change>>> + Send + 'static {
        self.page_stream(db, None)
    }

    /// As [`pages`](Self::pages), but never ending: once it has caught up, it
    /// looks for new changes every `interval` (the live tail of the log).
    pub fn follow(
        self,
        db: Db,
        interval: Duration,
    ) -> impl Stream<Item = Result<Vec<Change>>> + Send + 'static {
        self.page_stream(db, Some(interval))
    }

    fn page_stream(
        self,
        db: Db,
        poll_interval: Option<Duration>,
    ) -> impl Stream<Item = Result<Vec<Change>>> + Send + 'static {
        struct Cursor {
            query: ChangesAfter,
            db: Db,
            caught_up: bool,
        }
        let start = Cursor {
            query: self,
            db,
            caught_up: false,
        };
        futures_util::stream::unfold(Some(start), move |cursor| async move {
            let mut cursor = cursor?;
            loop {
                if cursor.caught_up {
                    tokio::time::sleep(poll_interval?).await;
                }
                let page = match cursor.query.clone().fetch(&cursor.db).await {
                    Ok(page) => page,
                    // Nothing after an error: the consumer resumes from its cursor.
                    Err(error) => return Some((Err(error), None)),
                };
                // A short page is the end of the log for now; a full one may have
                // more right behind it.
                cursor.caught_up = page.len() < cursor.query.limit as usize;
                if let Some(last) = page.last() {
                    cursor.query.after = last.seq;
                    return Some((Ok(page), Some(cursor)));
                }
            }
        })
    }
}

/// Where the change log stands, as `/metrics` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    /// The last position handed out, 0 before the first change.
    pub(crate) head: i64,
    /// On PostgreSQL, the committed records waiting for their positions;
    /// `None` on SQLite, where a record has its position as it is written.
    pub(crate) pending: Option<i64>,
}

/// Where the change log of `db` stands now, read in one statement (one
/// snapshot) and without sequencing anything: a scrape must not take the
/// sequencers' lock or do their work, so records committed and not yet
/// numbered are counted in [`Standing::pending`], not in the head.
pub(crate) async fn standing(db: &Db) -> Result<Standing> {
    static SQLITE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT coalesce(max(\"seq\"), 0) FROM {}",
            quote_ident(CHANGES_TABLE)
        )
    });
    static POSTGRES: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT (SELECT coalesce(max(\"seq\"), 0) FROM {}), (SELECT count(*) FROM {})",
            quote_ident(CHANGES_TABLE),
            quote_ident(PENDING_TABLE)
        )
    });
    let dialect = db.dialect();
    let (sql, pending) = match dialect {
        Dialect::Sqlite => (SQLITE.as_str(), false),
        Dialect::Postgres => (POSTGRES.as_str(), true),
    };
    let standing = Conn::from(db)
        .fetch_optional(sql.into(), Arguments::new(dialect), Access::Read, |row| {
            Ok(Standing {
                head: row.get::<i64>(0)?,
                pending: pending.then(|| row.get::<i64>(1)).transpose()?,
            })
        })
        .await?;
    Ok(standing.unwrap_or(Standing {
        head: 0,
        pending: pending.then_some(0),
    }))
}

/// Every change of the row of `M` with key `key`, oldest first; through a
/// [`Db`], with every change committed before the call (as
/// [`ChangesAfter::fetch`]).
pub(crate) async fn history<M: Model>(conn: Conn<'_>, key: M::Key) -> Result<Vec<Change>> {
    let dialect = conn.dialect();
    let condition = format!(
        "\"model\" = {} AND \"row_key\" = {}",
        placeholder(dialect, 1),
        placeholder(dialect, 2)
    );
    let key = super::record::key_text(&key.to_value());
    read(conn, &condition, "", |args| {
        args.add(M::SCHEMA.table)?;
        args.add(key.as_str())
    })
    .await
}

/// The changes whose columns meet `condition`, in log order, then `limit`
/// (a `LIMIT` clause or nothing); `bind` adds the parameters of both.
///
/// Through a [`Db`] on PostgreSQL the read sees every change committed before
/// it (see the module docs) without a statement of its own to find out
/// whether records wait for their positions: the one statement that reads
/// the changes also looks, and reads none when some wait. Only then are they
/// sequenced and the changes read again.
async fn read(
    conn: Conn<'_>,
    condition: &str,
    limit: &str,
    bind: impl Fn(&mut Arguments) -> Result<()>,
) -> Result<Vec<Change>> {
    let dialect = conn.dialect();
    let changes = quote_ident(CHANGES_TABLE);
    let select =
        format!("SELECT {COLUMNS} FROM {changes} WHERE {condition} ORDER BY \"seq\"{limit}");
    let mut args = Arguments::new(dialect);
    bind(&mut args)?;
    let db = match conn {
        Conn::Db(db) if dialect == Dialect::Postgres => db,
        conn => {
            return conn
                .fetch_all(select.into(), args, Access::Read, decode)
                .await;
        }
    };
    let looking = format!(
        "WITH \"fw_waiting\" AS (SELECT EXISTS (SELECT 1 FROM {pending}) AS \"waiting\") \
         SELECT \"fw_page\".*, \"fw_waiting\".\"waiting\" FROM \"fw_waiting\" LEFT JOIN LATERAL (\
             SELECT {COLUMNS} FROM {changes} WHERE NOT \"fw_waiting\".\"waiting\" AND {condition} \
             ORDER BY \"seq\"{limit}\
         ) AS \"fw_page\" ON true ORDER BY \"fw_page\".\"seq\"",
        pending = quote_ident(PENDING_TABLE),
    );
    let rows = Conn::Db(db)
        .fetch_all(looking.into(), args, Access::Read, |row| {
            // The column after the change's: whether records wait. A page
            // with no change is one row of nulls.
            let waiting: bool = row.get(COLUMN_COUNT)?;
            Ok((waiting, (!row.is_null(0)).then(|| decode(row)).transpose()?))
        })
        .await?;
    if !rows.iter().any(|(waiting, _)| *waiting) {
        return Ok(rows.into_iter().filter_map(|(_, change)| change).collect());
    }
    super::sequence::sequence_waiting(db).await?;
    let mut args = Arguments::new(dialect);
    bind(&mut args)?;
    Conn::Db(db)
        .fetch_all(select.into(), args, Access::Read, decode)
        .await
}

fn decode(row: &Row<'_>) -> Result<Change> {
    let operation: String = row.get(3)?;
    let fields: sqlx::types::Json<Vec<FieldChange>> = row.get_native(5)?;
    Ok(Change {
        seq: row.get(0)?,
        model: row.get(1)?,
        key: row.get(2)?,
        operation: Operation::from_name(&operation).ok_or_else(|| Error::Decode {
            column: "operation".to_owned(),
            reason: format!("`{operation}` is not `insert`, `update` or `delete`"),
        })?,
        version: row.get(4)?,
        fields: fields.0,
        at: row.get(6)?,
        actor: row.get(7)?,
        request_id: row.get(8)?,
    })
}
