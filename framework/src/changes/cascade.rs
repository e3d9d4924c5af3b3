//! The writes a delete makes through `on_delete` foreign keys, recorded like the
//! delete itself.
//!
//! Deleting a row lets the database remove the rows that reference it with
//! `on_delete = "cascade"` and clear those that reference it with
//! `on_delete = "set_null"`. For the app's models that record changes, fw makes
//! those writes visible to the log: in the delete's transaction, before the row
//! goes, it locks the referencing rows, records each one the database is about
//! to remove (after its own referencing rows, recursively), and clears the
//! `set_null` references itself, as an update that bumps the row's version and
//! is recorded. The database's own action then finds nothing left to clear.
//!
//! Which models reference which comes from the models registered with
//! [`App::model`](crate::App::model); [`App::attach`](crate::App::attach) hands
//! them to a [`Db`](crate::Db).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use crate::changes::{key_text, record_delete, record_update};
use crate::db::{Access, BeforeDelete, Conn, Tx, lock_clause};
use crate::error::Result;
use crate::field::Field;
use crate::model::Model;
use crate::model::query::SqlBuilder;
use crate::model::write::patch_row;
use crate::schema::{FieldSchema, ModelSchema, OnDelete};
use crate::value::Value;

/// Rows already written by the delete being walked, by table and key: a
/// reference cycle (a row referencing itself, say) is walked once.
type Visited = HashSet<(&'static str, String)>;

type Walk<'t> = Pin<Box<dyn Future<Output = Result<()>> + Send + 't>>;

/// Writes, and records, what deleting the row of `table` keyed `key` does to
/// the rows of one model that reference it through `field`.
type WalkReferrers =
    for<'t> fn(&'t mut Tx, &'t Cascades, &'static FieldSchema, Value, &'t mut Visited) -> Walk<'t>;

/// A model as [`App::model`](crate::App::model) registers it for the walk.
#[derive(Clone, Copy)]
pub(crate) struct CascadingModel {
    schema: &'static ModelSchema,
    changelog: bool,
    walk: WalkReferrers,
}

impl CascadingModel {
    pub(crate) fn of<M: Model>() -> CascadingModel {
        CascadingModel {
            schema: M::SCHEMA,
            changelog: M::CHANGELOG,
            walk: walk_referrers::<M>,
        }
    }
}

/// For each table, the foreign keys to it whose `on_delete` action writes a row
/// the change log must see: a `set_null` on a model that records changes, or a
/// `cascade` on one that records changes or is itself referenced that way.
#[derive(Default)]
pub(crate) struct Cascades {
    referrers: HashMap<&'static str, Vec<(&'static FieldSchema, WalkReferrers)>>,
}

impl Cascades {
    pub(crate) fn new(models: &[CascadingModel]) -> Cascades {
        let references = || {
            models.iter().flat_map(|model| {
                model.schema.fields.iter().filter_map(move |field| {
                    let target = field.foreign_key?;
                    Some((model, field, target.table, target.on_delete))
                })
            })
        };
        // The tables whose deletes must be walked, grown until nothing is added:
        // a cascade through a model that records nothing can still reach one
        // that does.
        let mut walked: HashSet<&'static str> = HashSet::new();
        let needs_walk = |walked: &HashSet<&str>, model: &CascadingModel, action| match action {
            OnDelete::Cascade => model.changelog || walked.contains(model.schema.table),
            OnDelete::SetNull => model.changelog,
            OnDelete::Restrict => false,
        };
        loop {
            let before = walked.len();
            for (model, _, target, action) in references() {
                if needs_walk(&walked, model, action) {
                    walked.insert(target);
                }
            }
            if walked.len() == before {
                break;
            }
        }
        let mut referrers: HashMap<_, Vec<_>> = HashMap::new();
        for (model, field, target, action) in references() {
            if needs_walk(&walked, model, action) {
                referrers
                    .entry(target)
                    .or_default()
                    .push((field, model.walk));
            }
        }
        Cascades { referrers }
    }
}

/// Before the row of `table` keyed `key` is deleted: writes and records what its
/// deletion does to the rows referencing it.
impl BeforeDelete for Cascades {
    /// Whether deleting a row of `table` writes rows the change log must see.
    fn reaches(&self, table: &str) -> bool {
        self.referrers.contains_key(table)
    }

    fn run<'t>(&'t self, tx: &'t mut Tx, table: &'static str, key: Value) -> Walk<'t> {
        Box::pin(async move {
            let mut visited = Visited::from([(table, key_text(&key))]);
            walk(tx, self, table, key, &mut visited).await
        })
    }
}

impl std::fmt::Debug for Cascades {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut tables: Vec<_> = self.referrers.keys().collect();
        tables.sort();
        f.debug_struct("Cascades").field("tables", &tables).finish()
    }
}

fn walk<'t>(
    tx: &'t mut Tx,
    cascades: &'t Cascades,
    table: &'static str,
    key: Value,
    visited: &'t mut Visited,
) -> Walk<'t> {
    Box::pin(async move {
        for (field, walk_referrers) in cascades.referrers.get(table).into_iter().flatten() {
            walk_referrers(tx, cascades, field, key.clone(), visited).await?;
        }
        Ok(())
    })
}

fn walk_referrers<'t, M: Model>(
    tx: &'t mut Tx,
    cascades: &'t Cascades,
    field: &'static FieldSchema,
    referenced: Value,
    visited: &'t mut Visited,
) -> Walk<'t> {
    Box::pin(async move {
        let on_delete = field.foreign_key.map(|target| target.on_delete);
        for row in referencing::<M>(tx, field, &referenced).await? {
            let key = row.key().to_value();
            if !visited.insert((M::TABLE, key_text(&key))) {
                continue;
            }
            match on_delete {
                Some(OnDelete::Cascade) => {
                    walk(tx, cascades, M::TABLE, key, visited).await?;
                    if M::CHANGELOG {
                        record_delete(tx, &row).await?;
                    }
                }
                Some(OnDelete::SetNull) => {
                    let cleared = patch_row::<M>(
                        Conn::Tx(&mut *tx),
                        row.key().clone(),
                        None,
                        vec![(field, Value::Null)],
                    )
                    .await?;
                    record_update(tx, &row, &cleared).await?;
                }
                Some(OnDelete::Restrict) | None => {}
            }
        }
        Ok(())
    })
}

/// `M`'s rows whose `field` holds `referenced`, locked for the delete, in key
/// order.
async fn referencing<M: Model>(
    tx: &mut Tx,
    field: &'static FieldSchema,
    referenced: &Value,
) -> Result<Vec<M>> {
    let dialect = tx.dialect();
    let mut sql = SqlBuilder::new(dialect, M::TABLE);
    sql.push(M::sql(dialect).select);
    sql.push(" WHERE ");
    sql.push_column(field);
    sql.push(" = ");
    sql.push_value(field, referenced)?;
    sql.push(" ORDER BY ");
    sql.push_column(M::SCHEMA.primary_key());
    sql.push(lock_clause(dialect));
    let (text, args) = sql.finish();
    let conn = Conn::Tx(tx);
    let decode = crate::model::seal::decoder::<M>(crate::model::seal::keyring_for::<M>(&conn)?);
    conn.fetch_all(text.into(), args, Access::Write, decode)
        .await
}
