//! The typed query builder: [`Column`], [`Filter`], [`Order`] and [`Query`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::Model;
use crate::db::{
    Access, Arguments, Conn, Dialect, lock_clause, push_placeholder, push_quoted_ident,
};
use crate::error::{Error, Result, classify};
use crate::field::Field;
use crate::model::seal::{decoder, digests_of, keyring_for};
use crate::schema::{FieldSchema, ModelSchema, SqlType};
use crate::sensitive::{Comparable, Keyring, Matchable, Plain};
use crate::value::Value;

pub use fw_core::api::Lookup;

/// A typed handle on one field of model `M` whose Rust type is `T`, emitted by
/// `#[model]` as an associated constant (`Security::SYMBOL`).
///
/// Filters built from it only accept values of the field's type, so comparing a
/// field with a value of the wrong type, or naming a field that does not exist,
/// is a compile error. `S` says what the stored value allows: a sensitive
/// field's column is [`Searchable`](crate::sensitive::Searchable) (only `eq`
/// and `is_in`) or [`Sealed`](crate::sensitive::Sealed) (no comparison), so
/// ordering or a range on a sealed value does not compile.
pub struct Column<M, T, S = Plain> {
    field: &'static FieldSchema,
    types: PhantomData<ColumnTypes<M, T, S>>,
}

/// A column's model, field type and access, as types only: the column holds
/// none of them, and is `Send` and `Sync` whatever they are.
type ColumnTypes<M, T, S> = fn() -> (M, T, S);

impl<M, T, S> Clone for Column<M, T, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T, S> Copy for Column<M, T, S> {}

impl<M, T, S> fmt::Debug for Column<M, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({})", self.field.name)
    }
}

impl<M: Model, T: Field, S> Column<M, T, S> {
    /// The handle for `field`. Used by generated code only.
    #[doc(hidden)]
    pub const fn new(field: &'static FieldSchema) -> Self {
        Column {
            field,
            types: PhantomData,
        }
    }

    /// The field's static metadata.
    pub const fn schema(&self) -> &'static FieldSchema {
        self.field
    }

    fn compare(self, op: Comparison, value: impl Into<T::Scalar>) -> Filter<M> {
        Filter::new(Condition::Compare {
            field: self.field,
            op,
            value: value.into().to_value(),
        })
    }

    /// `field = value`.
    pub fn eq(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Matchable,
    {
        self.compare(Comparison::Eq, value)
    }

    /// `field <> value` (rows where the field is NULL do not match).
    pub fn ne(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Comparable,
    {
        self.compare(Comparison::Ne, value)
    }

    /// `field < value`.
    pub fn lt(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Comparable,
    {
        self.compare(Comparison::Lt, value)
    }

    /// `field <= value`.
    pub fn lte(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Comparable,
    {
        self.compare(Comparison::Lte, value)
    }

    /// `field > value`.
    pub fn gt(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Comparable,
    {
        self.compare(Comparison::Gt, value)
    }

    /// `field >= value`.
    pub fn gte(self, value: impl Into<T::Scalar>) -> Filter<M>
    where
        S: Comparable,
    {
        self.compare(Comparison::Gte, value)
    }

    /// `field IN (values...)`; an empty list matches nothing.
    pub fn is_in<V: Into<T::Scalar>>(self, values: impl IntoIterator<Item = V>) -> Filter<M>
    where
        S: Matchable,
    {
        Filter::new(Condition::In {
            field: self.field,
            values: values
                .into_iter()
                .map(|value| value.into().to_value())
                .collect(),
        })
    }

    /// Ascending order on this field.
    pub fn asc(self) -> Order<M>
    where
        S: Comparable,
    {
        Order {
            field: self.field,
            descending: false,
            model: PhantomData,
        }
    }

    /// Descending order on this field.
    pub fn desc(self) -> Order<M>
    where
        S: Comparable,
    {
        Order {
            field: self.field,
            descending: true,
            model: PhantomData,
        }
    }
}

impl<M: Model, T: Field, S> Column<M, Option<T>, S> {
    /// `field IS NULL` when `null` is true, `field IS NOT NULL` otherwise.
    pub fn is_null(self, null: bool) -> Filter<M> {
        Filter::new(Condition::IsNull {
            field: self.field,
            null,
        })
    }
}

/// Fields whose filters can match text patterns: `String` and `Option<String>`.
pub trait TextField: Field {}
impl TextField for String {}
impl TextField for Option<String> {}

impl<M: Model, T: TextField, S> Column<M, T, S> {
    fn like(self, pattern: TextPattern, case_insensitive: bool, text: &str) -> Filter<M> {
        Filter::new(Condition::Like {
            field: self.field,
            pattern,
            case_insensitive,
            text: text.to_owned(),
        })
    }

    /// The text contains `text` (case-sensitive).
    pub fn contains(self, text: &str) -> Filter<M>
    where
        S: Comparable,
    {
        self.like(TextPattern::Contains, false, text)
    }

    /// The text contains `text`, ignoring ASCII case.
    pub fn icontains(self, text: &str) -> Filter<M>
    where
        S: Comparable,
    {
        self.like(TextPattern::Contains, true, text)
    }

    /// The text starts with `text` (case-sensitive).
    pub fn starts_with(self, text: &str) -> Filter<M>
    where
        S: Comparable,
    {
        self.like(TextPattern::StartsWith, false, text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Comparison {
    fn operator(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "<>",
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextPattern {
    Contains,
    StartsWith,
}

#[derive(Debug, Clone)]
enum Condition {
    Compare {
        field: &'static FieldSchema,
        op: Comparison,
        value: Value,
    },
    /// `(a, b) > (x, y)`: a row-value comparison, which an index on `(a, b)`
    /// answers as one range (a single field is a plain comparison).
    CompareRows {
        fields: Vec<&'static FieldSchema>,
        op: Comparison,
        values: Vec<Value>,
    },
    In {
        field: &'static FieldSchema,
        values: Vec<Value>,
    },
    IsNull {
        field: &'static FieldSchema,
        null: bool,
    },
    Like {
        field: &'static FieldSchema,
        pattern: TextPattern,
        case_insensitive: bool,
        text: String,
    },
    /// The rows whose reference `field` points at a row of `table` (by its key
    /// `key`) that meets `condition`, rendered as a subquery so it reads one
    /// table at a time on every database.
    Related {
        field: &'static FieldSchema,
        table: &'static str,
        key: &'static str,
        condition: Box<Condition>,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// A typed condition on rows of `M`, built from [`Column`] methods.
///
/// Combine with [`Filter::and`], [`Filter::or`], [`Filter::not`], [`Filter::all`]
/// and [`Filter::any`].
pub struct Filter<M> {
    condition: Condition,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for Filter<M> {
    fn clone(&self) -> Self {
        Filter {
            condition: self.condition.clone(),
            model: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Filter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.condition.fmt(f)
    }
}

impl<M> Filter<M> {
    fn new(condition: Condition) -> Self {
        Filter {
            condition,
            model: PhantomData,
        }
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter<M>) -> Filter<M> {
        Filter::all([self, other])
    }

    /// This or `other`.
    pub fn or(self, other: Filter<M>) -> Filter<M> {
        Filter::any([self, other])
    }

    /// The negation of this filter.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<M> {
        Filter::new(Condition::Not(Box::new(self.condition)))
    }

    /// Every one of `filters` (true when empty).
    pub fn all(filters: impl IntoIterator<Item = Filter<M>>) -> Filter<M> {
        Filter::new(Condition::All(
            filters.into_iter().map(|filter| filter.condition).collect(),
        ))
    }

    /// At least one of `filters` (false when empty).
    pub fn any(filters: impl IntoIterator<Item = Filter<M>>) -> Filter<M> {
        Filter::new(Condition::Any(
            filters.into_iter().map(|filter| filter.condition).collect(),
        ))
    }
}

impl<M: Model> Filter<M> {
    /// A filter on `field` chosen at run time. `values` holds one value, except for
    /// [`Lookup::In`] (any number) and [`Lookup::IsNull`] (one `Value::Bool`); text
    /// lookups take a `Value::Text`.
    ///
    /// Returns `None` when `field` is not one of `M`'s fields or the values do not
    /// fit the lookup, so a filter can never name another table's column.
    pub fn lookup(
        field: &'static FieldSchema,
        lookup: Lookup,
        values: Vec<Value>,
    ) -> Option<Filter<M>> {
        if !M::SCHEMA.fields.iter().any(|own| own == field) {
            return None;
        }
        Condition::lookup(field, lookup, values).map(Filter::new)
    }

    /// A filter on a field of the row that `reference` points at, chosen at run
    /// time: `Filter::<Dividend>::related(Dividend::SECURITY.schema(),
    /// Security::SCHEMA, Security::SYMBOL.schema(), Lookup::Exact, values)` keeps
    /// the dividends of the security with that symbol. `values` are as for
    /// [`Filter::lookup`].
    ///
    /// Returns `None` when `reference` is not one of `M`'s fields referring to
    /// `target`, `field` is not one of `target`'s fields, or the values do not
    /// fit the lookup.
    pub fn related(
        reference: &'static FieldSchema,
        target: &'static ModelSchema,
        field: &'static FieldSchema,
        lookup: Lookup,
        values: Vec<Value>,
    ) -> Option<Filter<M>> {
        let foreign_key = reference.foreign_key?;
        let owned = M::SCHEMA.fields.iter().any(|own| own == reference)
            && foreign_key.table == target.table
            && target.fields.iter().any(|own| own == field);
        if !owned {
            return None;
        }
        let condition = Condition::lookup(field, lookup, values)?;
        Some(Filter::new(Condition::Related {
            field: reference,
            table: target.table,
            key: foreign_key.column,
            condition: Box::new(condition),
        }))
    }
}

impl Condition {
    /// The condition `lookup` on `field` with `values`, or `None` when the values
    /// do not fit the lookup. Which table `field` belongs to is the caller's check.
    fn lookup(field: &'static FieldSchema, lookup: Lookup, values: Vec<Value>) -> Option<Self> {
        let single = |values: Vec<Value>| -> Option<Value> {
            let mut values = values.into_iter();
            let value = values.next()?;
            values.next().is_none().then_some(value)
        };
        let compare = |op: Comparison, values: Vec<Value>| {
            single(values).map(|value| Condition::Compare { field, op, value })
        };
        let like = |pattern: TextPattern, case_insensitive: bool, values: Vec<Value>| match single(
            values,
        )? {
            Value::Text(text) => Some(Condition::Like {
                field,
                pattern,
                case_insensitive,
                text,
            }),
            _ => None,
        };
        Some(match lookup {
            Lookup::Exact => compare(Comparison::Eq, values)?,
            Lookup::Gt => compare(Comparison::Gt, values)?,
            Lookup::Gte => compare(Comparison::Gte, values)?,
            Lookup::Lt => compare(Comparison::Lt, values)?,
            Lookup::Lte => compare(Comparison::Lte, values)?,
            Lookup::In => Condition::In { field, values },
            Lookup::IsNull => match single(values)? {
                Value::Bool(null) => Condition::IsNull { field, null },
                _ => return None,
            },
            Lookup::Contains => like(TextPattern::Contains, false, values)?,
            Lookup::IContains => like(TextPattern::Contains, true, values)?,
            Lookup::StartsWith => like(TextPattern::StartsWith, false, values)?,
        })
    }
}

/// One ordering term: a field and a direction.
pub struct Order<M> {
    field: &'static FieldSchema,
    descending: bool,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for Order<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Order<M> {}

impl<M> fmt::Debug for Order<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.descending { "-" } else { "" };
        write!(f, "{sign}{}", self.field.name)
    }
}

impl<M: Model> Order<M> {
    /// An ordering term chosen at run time (`ordering=-ex_date` in a query
    /// string); `None` when `field` is not one of `M`'s fields.
    pub fn by(field: &'static FieldSchema, descending: bool) -> Option<Order<M>> {
        M::SCHEMA
            .fields
            .iter()
            .any(|own| own == field)
            .then_some(Order {
                field,
                descending,
                model: PhantomData,
            })
    }
}

impl<M> Order<M> {
    /// The ordered field.
    pub fn field(&self) -> &'static FieldSchema {
        self.field
    }

    /// Whether the order is descending.
    pub fn is_descending(&self) -> bool {
        self.descending
    }
}

/// The unique key an [`Model::upsert`] conflicts on: one column or a tuple of
/// columns matching a unique constraint.
#[derive(Debug)]
pub struct ConflictTarget<M> {
    fields: Vec<&'static FieldSchema>,
    model: PhantomData<fn() -> M>,
}

impl<M> ConflictTarget<M> {
    pub(crate) fn fields(&self) -> &[&'static FieldSchema] {
        &self.fields
    }
}

/// A searchable sealed field is a conflict target too: its unique constraint is
/// on its digest column, through which the upsert finds the existing row.
impl<M: Model, T: Field, S: Matchable> From<Column<M, T, S>> for ConflictTarget<M> {
    fn from(column: Column<M, T, S>) -> Self {
        ConflictTarget {
            fields: vec![column.field],
            model: PhantomData,
        }
    }
}

impl<M: Model, A: Field, B: Field> From<(Column<M, A>, Column<M, B>)> for ConflictTarget<M> {
    fn from((a, b): (Column<M, A>, Column<M, B>)) -> Self {
        ConflictTarget {
            fields: vec![a.field, b.field],
            model: PhantomData,
        }
    }
}

impl<M: Model, A: Field, B: Field, C: Field> From<(Column<M, A>, Column<M, B>, Column<M, C>)>
    for ConflictTarget<M>
{
    fn from((a, b, c): (Column<M, A>, Column<M, B>, Column<M, C>)) -> Self {
        ConflictTarget {
            fields: vec![a.field, b.field, c.field],
            model: PhantomData,
        }
    }
}

/// Where a keyset page starts: strictly after (or before) the row whose ordering
/// values and key are given.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The values of the ordering fields followed by the primary key, of the row
    /// the page starts next to.
    pub values: Vec<Value>,
    /// `true` to page backwards (rows before the cursor).
    pub backwards: bool,
}

/// A query over the rows of `M`: filters, ordering, a limit and a keyset cursor.
///
/// Keyset pagination stays fast on deep pages: the next page starts after the last
/// row's ordering values, instead of skipping rows with `OFFSET`. The primary key
/// is always the final ordering term, so the order is total and pages are stable
/// under concurrent inserts.
///
/// Every page, the thousandth as the first, is a range of an index whose columns
/// are the ordering fields then the primary key (`index(ex_date, id)` for
/// `order_by(Dividend::EX_DATE.desc())`), in any mix of directions, on both
/// databases: the condition after the cursor starts with a bound the index
/// answers (a row-value comparison of the leading fields that walk the same
/// way). When the first ordering field is nullable, its NULLs and its values
/// are two ranges of that index, read in one statement. See the resources
/// guide, "Pages", for what else an index can and cannot do for an ordering.
///
/// ```no_run
/// # #[fw::model]
/// # pub struct Security {
/// #     pub id: i64,
/// #     #[field(unique, max_length = 12)]
/// #     pub symbol: String,
/// # }
/// # use fw::Model;
/// # async fn example(db: &fw::Db) -> fw::Result<()> {
/// let query = || Security::query().order_by(Security::SYMBOL.desc()).limit(50);
/// let first = query().all(db).await?;
/// if let Some(last) = first.last() {
///     let next = query().after(last).all(db).await?;
/// #   let _ = next;
/// }
/// # Ok(()) }
/// ```
pub struct Query<M> {
    filters: Vec<Condition>,
    order: Vec<Order<M>>,
    limit: Option<u64>,
    cursor: Option<Cursor>,
    for_update: bool,
}

impl<M> fmt::Debug for Query<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("filters", &self.filters)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("cursor", &self.cursor)
            .field("for_update", &self.for_update)
            .finish()
    }
}

impl<M> Clone for Query<M> {
    fn clone(&self) -> Self {
        Query {
            filters: self.filters.clone(),
            order: self.order.clone(),
            limit: self.limit,
            cursor: self.cursor.clone(),
            for_update: self.for_update,
        }
    }
}

impl<M: Model> Default for Query<M> {
    fn default() -> Self {
        Query::new()
    }
}

impl<M: Model> Query<M> {
    /// All rows, in primary-key order.
    pub fn new() -> Self {
        Query {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            cursor: None,
            for_update: false,
        }
    }

    /// Keeps only rows matching `filter` (and every earlier filter).
    pub fn filter(mut self, filter: Filter<M>) -> Self {
        self.filters.push(filter.condition);
        self
    }

    /// Orders by `order`, after any earlier ordering terms. The primary key is
    /// always added last as a tie-breaker.
    pub fn order_by(mut self, order: Order<M>) -> Self {
        self.order.push(order);
        self
    }

    /// Returns at most `limit` rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Locks the matching rows until the transaction ends, Django's
    /// `select_for_update()`: another transaction that locks or writes them
    /// waits, so a row read, checked and then written stays as it was read.
    /// `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite a transaction already
    /// holds the database's write lock (see [`Db::begin`](crate::Db::begin)).
    /// Run it on a [`Tx`](crate::Tx): outside one the lock ends with the statement.
    pub fn for_update(mut self) -> Self {
        self.for_update = true;
        self
    }

    /// Starts after `row` in this query's order (the next page).
    pub fn after(mut self, row: &M) -> Self {
        self.cursor = Some(Cursor {
            values: self.cursor_values(row),
            backwards: false,
        });
        self
    }

    /// Ends before `row` in this query's order (the previous page); rows still
    /// come back in this query's order.
    pub fn before(mut self, row: &M) -> Self {
        self.cursor = Some(Cursor {
            values: self.cursor_values(row),
            backwards: true,
        });
        self
    }

    /// Starts next to a cursor taken earlier (for example from an API token).
    pub fn cursor(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// The cursor of `row` for this query's order.
    pub fn cursor_values(&self, row: &M) -> Vec<Value> {
        let values = row.values();
        self.ordering()
            .iter()
            .map(|order| {
                let index = M::SCHEMA
                    .fields
                    .iter()
                    .position(|field| field.name == order.field.name)
                    .unwrap_or_default();
                values[index].clone()
            })
            .collect()
    }

    fn ordering(&self) -> Vec<Order<M>> {
        let key = M::SCHEMA.primary_key();
        let mut ordering = self.order.clone();
        if !ordering.iter().any(|order| order.field.name == key.name) {
            let descending = ordering.first().is_some_and(|order| order.descending);
            ordering.push(Order {
                field: key,
                descending,
                model: PhantomData,
            });
        }
        ordering
    }

    /// The matching rows.
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    pub async fn all<'c>(self, conn: impl Into<Conn<'c>>) -> Result<Vec<M>> {
        let conn = conn.into();
        let keyring = keyring_for::<M>(&conn)?;
        let (text, args) = self.statement(conn.dialect(), keyring.clone())?.finish();
        let access = if self.for_update {
            Access::Write
        } else {
            Access::Read
        };
        let decode = decoder::<M>(keyring);
        let mut rows = conn
            .fetch_all(text.into(), args, access, decode)
            .await
            .map_err(|error| classify(error, M::SCHEMA))?;
        if self.cursor.as_ref().is_some_and(|cursor| cursor.backwards) {
            rows.reverse();
        }
        Ok(rows)
    }

    /// How the database would read [`Query::all`]'s rows, as Django's
    /// `QuerySet.explain()`: PostgreSQL's `EXPLAIN`, or SQLite's `EXPLAIN
    /// QUERY PLAN`, one line per line of the plan. Nothing is read or locked.
    ///
    /// ```no_run
    /// # #[fw::model(index(symbol, id))]
    /// # pub struct Security {
    /// #     pub id: i64,
    /// #     #[field(max_length = 12)]
    /// #     pub symbol: String,
    /// # }
    /// # use fw::Model;
    /// # async fn example(db: &fw::Db, last: &Security) -> fw::Result<()> {
    /// let plan = Security::query()
    ///     .order_by(Security::SYMBOL.asc())
    ///     .after(last)
    ///     .limit(50)
    ///     .explain(db)
    ///     .await?;
    /// // PostgreSQL: Index Cond: (ROW(symbol, id) > ROW(...))
    /// println!("{plan}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the database refuses
    /// the statement.
    pub async fn explain<'c>(&self, conn: impl Into<Conn<'c>>) -> Result<String> {
        let conn = conn.into();
        let dialect = conn.dialect();
        let statement = self.statement(dialect, keyring_for::<M>(&conn)?)?;
        let (text, args) = statement.finish();
        let (explain, detail) = match dialect {
            Dialect::Postgres => ("EXPLAIN ", 0),
            // id, parent, unused, detail
            Dialect::Sqlite => ("EXPLAIN QUERY PLAN ", 3),
        };
        let lines = conn
            .fetch_all(
                format!("{explain}{text}").into(),
                args,
                Access::Read,
                |row| row.get::<String>(detail),
            )
            .await?;
        Ok(lines.join("\n"))
    }

    /// The statement [`Query::all`] runs.
    fn statement(&self, dialect: Dialect, keyring: Option<Arc<Keyring>>) -> Result<SqlBuilder> {
        let backwards = self.cursor.as_ref().is_some_and(|cursor| cursor.backwards);
        let mut sql = SqlBuilder::new(dialect, M::TABLE);
        sql.seal_with(keyring);
        let ranges = self.ranges();
        if let [range] = ranges.as_slice() {
            self.push_range(&mut sql, range, backwards)?;
            return Ok(sql);
        }
        // Each range is read in its index's order, and the few rows they give
        // are put in the page's order.
        sql.push("SELECT * FROM (");
        for (position, range) in ranges.iter().enumerate() {
            if position > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT * FROM (");
            self.push_range(&mut sql, range, backwards)?;
            sql.push(&format!(") AS \"fw_range_{position}\""));
        }
        sql.push(") AS \"fw_page\"");
        self.push_order(&mut sql, backwards, false);
        self.push_limit(&mut sql);
        Ok(sql)
    }

    /// `SELECT` of the rows in `range` (conditions beside the filters), in the
    /// page's order, limited and locked as asked.
    fn push_range(&self, sql: &mut SqlBuilder, range: &[Condition], reversed: bool) -> Result<()> {
        sql.push(M::sql(sql.dialect).select);
        self.push_where(sql, range)?;
        self.push_order(sql, reversed, true);
        self.push_limit(sql);
        if self.for_update {
            sql.push(lock_clause(sql.dialect));
        }
        Ok(())
    }

    fn push_limit(&self, sql: &mut SqlBuilder) {
        if let Some(limit) = self.limit {
            sql.push(&format!(" LIMIT {limit}"));
        }
    }

    /// The first matching row in this query's order, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    pub async fn first<'c>(self, conn: impl Into<Conn<'c>>) -> Result<Option<M>> {
        Ok(self.limit(1).all(conn).await?.into_iter().next())
    }

    /// The number of matching rows (ignoring limit and cursor).
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    pub async fn count<'c>(self, conn: impl Into<Conn<'c>>) -> Result<u64> {
        let conn = conn.into();
        let dialect = conn.dialect();
        let mut sql = SqlBuilder::new(dialect, M::TABLE);
        sql.seal_with(keyring_for::<M>(&conn)?);
        sql.push("SELECT COUNT(*) FROM ");
        sql.push_ident(M::SCHEMA.table);
        self.push_where(&mut sql, &[])?;
        let (text, args) = sql.finish();
        let count = conn
            .fetch_optional(text.into(), args, Access::Read, |row| row.get::<i64>(0))
            .await?;
        Ok(count.unwrap_or_default().try_into().unwrap_or_default())
    }

    /// Whether any row matches.
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    pub async fn exists<'c>(self, conn: impl Into<Conn<'c>>) -> Result<bool> {
        let conn = conn.into();
        let dialect = conn.dialect();
        let mut sql = SqlBuilder::new(dialect, M::TABLE);
        sql.seal_with(keyring_for::<M>(&conn)?);
        sql.push("SELECT 1 FROM ");
        sql.push_ident(M::SCHEMA.table);
        self.push_where(&mut sql, &[])?;
        sql.push(" LIMIT 1");
        let (text, args) = sql.finish();
        let found = conn
            .fetch_optional(text.into(), args, Access::Read, |_| Ok(()))
            .await?;
        Ok(found.is_some())
    }

    /// `WHERE` the filters and `range` hold.
    fn push_where(&self, sql: &mut SqlBuilder, range: &[Condition]) -> Result<()> {
        let conditions: Vec<Condition> = self.filters.iter().chain(range).cloned().collect();
        if conditions.is_empty() {
            return Ok(());
        }
        sql.push(" WHERE ");
        sql.push_condition(&Condition::All(conditions))
    }

    /// The ranges of the ordering's index that a page reads, in the order the
    /// statement reads them, each as the conditions that bound it.
    ///
    /// One range, unless the first ordering field is nullable: NULLs come
    /// before every value, and no single condition that an index can answer
    /// spans NULLs and values, so the NULLs and the values are two ranges
    /// (the one the cursor is in, and the other when the page reads on into
    /// it). Within either, the field's NULLs need no place of their own, so
    /// each range is read in a plain index's order on PostgreSQL too.
    fn ranges(&self) -> Vec<Vec<Condition>> {
        let ordering = self.ordering();
        let terms = self
            .cursor
            .as_ref()
            .map(|cursor| keyset_terms(&ordering, cursor));
        let lead = ordering[0].field;
        if !lead.nullable {
            return vec![terms.map(|terms| vec![after(&terms)]).unwrap_or_default()];
        }
        let is_null = |null| Condition::IsNull { field: lead, null };
        let backwards = self.cursor.as_ref().is_some_and(|cursor| cursor.backwards);
        let nulls_read_first = ordering[0].descending == backwards;
        let (nulls, values) = match terms {
            None => (Some(vec![is_null(true)]), Some(vec![is_null(false)])),
            Some(terms) if matches!(terms[0].value, Value::Null) => (
                Some(vec![is_null(true), after(&terms[1..])]),
                nulls_read_first.then(|| vec![is_null(false)]),
            ),
            Some(mut terms) => {
                terms[0].comparable = true;
                (
                    (!nulls_read_first).then(|| vec![is_null(true)]),
                    Some(vec![is_null(false), after(&terms)]),
                )
            }
        };
        let ranges = if nulls_read_first {
            [nulls, values]
        } else {
            [values, nulls]
        };
        ranges.into_iter().flatten().collect()
    }

    /// `ORDER BY` the ordering. NULLs sort first in ascending order (last in
    /// descending) on both databases; PostgreSQL's default is the opposite, so
    /// it is spelled out, except for the first field `within_range` (see
    /// [`Query::ranges`]), where it is left to match the index.
    fn push_order(&self, sql: &mut SqlBuilder, reversed: bool, within_range: bool) {
        sql.push(" ORDER BY ");
        for (position, order) in self.ordering().iter().enumerate() {
            if position > 0 {
                sql.push(", ");
            }
            sql.push_operand(order.field);
            let descending = order.descending != reversed;
            let placed = order.field.nullable && !(within_range && position == 0);
            sql.push(match (descending, placed) {
                (false, false) => " ASC",
                (true, false) => " DESC",
                (false, true) => " ASC NULLS FIRST",
                (true, true) => " DESC NULLS LAST",
            });
        }
    }
}

/// One ordering term of a keyset condition, with the cursor's value for it.
#[derive(Debug, Clone)]
struct KeysetTerm {
    field: &'static FieldSchema,
    value: Value,
    /// The rows after the cursor hold greater values (in ascending order
    /// with NULLs first): the term ascends and the page reads forwards, or it
    /// descends and the page reads backwards.
    greater: bool,
    /// `<`, `=` and `>` alone compare it: neither the field, in the rows the
    /// condition is asked of, nor the cursor's value is NULL.
    comparable: bool,
}

fn keyset_terms<M>(ordering: &[Order<M>], cursor: &Cursor) -> Vec<KeysetTerm> {
    ordering
        .iter()
        .enumerate()
        .map(|(position, order)| KeysetTerm {
            field: order.field,
            value: cursor.values.get(position).cloned().unwrap_or(Value::Null),
            greater: order.descending == cursor.backwards,
            comparable: !order.field.nullable,
        })
        .collect()
}

/// The rows strictly after the cursor in the order of `terms`, led by a bound
/// an index answers as one range: the longest leading run of comparable terms
/// walking the same way is compared as a row, `(a, b) >= (x, y) AND ((a, b) >
/// (x, y) OR ((a, b) = (x, y) AND ...))`, a single `(a, b, id) > (x, y, z)`
/// when it is every term. An OR of alternatives alone is no index bound on
/// PostgreSQL, which would read the index from its start and filter.
fn after(terms: &[KeysetTerm]) -> Condition {
    let run = leading_run(terms);
    if run.is_empty() || run.len() == terms.len() {
        return strictly_after(terms);
    }
    let op = if run[0].greater {
        Comparison::Gte
    } else {
        Comparison::Lte
    };
    Condition::All(vec![compare_rows(run, op), strictly_after(terms)])
}

/// `(a > x) OR (a = x AND (b > y OR ...))`, a comparable run of terms
/// compared as one row, a nullable term with its NULLs (see [`beyond`]).
fn strictly_after(terms: &[KeysetTerm]) -> Condition {
    let run = leading_run(terms);
    let (beyond_lead, tied, rest) = match run {
        [] => {
            let term = &terms[0];
            (
                beyond(term.field, &term.value, term.greater),
                same_as(term.field, &term.value),
                &terms[1..],
            )
        }
        run => {
            let op = if run[0].greater {
                Comparison::Gt
            } else {
                Comparison::Lt
            };
            (
                compare_rows(run, op),
                compare_rows(run, Comparison::Eq),
                &terms[run.len()..],
            )
        }
    };
    if rest.is_empty() {
        return beyond_lead;
    }
    Condition::Any(vec![
        beyond_lead,
        Condition::All(vec![tied, strictly_after(rest)]),
    ])
}

/// The longest leading run of comparable terms that walk the same way.
fn leading_run(terms: &[KeysetTerm]) -> &[KeysetTerm] {
    let length = match terms.first() {
        Some(first) if first.comparable => terms
            .iter()
            .take_while(|term| term.comparable && term.greater == first.greater)
            .count(),
        _ => 0,
    };
    &terms[..length]
}

fn compare_rows(terms: &[KeysetTerm], op: Comparison) -> Condition {
    Condition::CompareRows {
        fields: terms.iter().map(|term| term.field).collect(),
        op,
        values: terms.iter().map(|term| term.value.clone()).collect(),
    }
}

/// The rows whose `field` equals `value`, a NULL equalling a NULL (rows tie on
/// a NULL ordering value).
fn same_as(field: &'static FieldSchema, value: &Value) -> Condition {
    match value {
        Value::Null => Condition::IsNull { field, null: true },
        value => Condition::Compare {
            field,
            op: Comparison::Eq,
            value: value.clone(),
        },
    }
}

/// The rows after `value` (`greater`) or before it in ascending order with
/// NULLs first.
fn beyond(field: &'static FieldSchema, value: &Value, greater: bool) -> Condition {
    let compare = |op| Condition::Compare {
        field,
        op,
        value: value.clone(),
    };
    match (value, greater) {
        (Value::Null, true) => Condition::IsNull { field, null: false },
        (Value::Null, false) => Condition::Any(Vec::new()),
        (_, true) => compare(Comparison::Gt),
        (_, false) if field.nullable => Condition::Any(vec![
            compare(Comparison::Lt),
            Condition::IsNull { field, null: true },
        ]),
        (_, false) => compare(Comparison::Lt),
    }
}

/// Renders SQL text and binds its parameters in step, so placeholders and
/// arguments can never drift apart.
#[derive(Debug)]
pub(crate) struct SqlBuilder {
    dialect: Dialect,
    text: String,
    args: Arguments,
    /// The table the statement reads, whose searchable sealed fields equality
    /// compares through digests.
    table: &'static str,
    /// The keys those digests are made with (`None` for a model without
    /// sealed fields).
    keyring: Option<Arc<Keyring>>,
}

impl SqlBuilder {
    /// A statement on `table`.
    pub(crate) fn new(dialect: Dialect, table: &'static str) -> Self {
        SqlBuilder {
            dialect,
            text: String::with_capacity(256),
            args: Arguments::new(dialect),
            table,
            keyring: None,
        }
    }

    /// Compares searchable sealed fields through digests made with `keyring`
    /// (`None` for a model without sealed fields).
    pub(crate) fn seal_with(&mut self, keyring: Option<Arc<Keyring>>) {
        self.keyring = keyring;
    }

    /// `field`'s digest equals one of the digests of `values` under every key.
    fn push_digest_match(&mut self, field: &FieldSchema, values: &[Value]) -> Result<()> {
        let (Some(keyring), Some(digest)) = (&self.keyring, field.digest_column()) else {
            return Err(Error::NoKeyring { table: self.table });
        };
        let digests = digests_of(keyring, self.table, field, values);
        if digests.is_empty() {
            self.push("1 = 0");
            return Ok(());
        }
        self.push_ident(&digest);
        self.push(" IN (");
        for (position, digest) in digests.iter().enumerate() {
            if position > 0 {
                self.push(", ");
            }
            self.push_bound(digest)?;
        }
        self.push(")");
        Ok(())
    }

    pub(crate) fn push(&mut self, sql: &str) {
        self.text.push_str(sql);
    }

    pub(crate) fn push_column(&mut self, field: &FieldSchema) {
        self.push_ident(field.column);
    }

    /// `ident`, quoted. Identifiers and placeholders are written straight
    /// into the text: a statement rendered per request makes no string for
    /// each of them.
    fn push_ident(&mut self, ident: &str) {
        push_quoted_ident(&mut self.text, ident);
    }

    /// The placeholder of the last argument bound.
    fn push_placeholder(&mut self) {
        push_placeholder(&mut self.text, self.dialect, self.args.len());
    }

    /// A comparable expression for `field`: decimals are stored as text on SQLite,
    /// so they compare as numbers there.
    fn push_operand(&mut self, field: &FieldSchema) {
        if self.dialect == Dialect::Sqlite && field.sql_type == SqlType::Decimal {
            self.text.push_str("CAST(");
            self.push_column(field);
            self.text.push_str(" AS REAL)");
        } else {
            self.push_column(field);
        }
    }

    pub(crate) fn push_value(&mut self, field: &FieldSchema, value: &Value) -> Result<()> {
        self.args.add_value(value)?;
        if self.dialect == Dialect::Sqlite && field.sql_type == SqlType::Decimal {
            self.push("CAST(");
            self.push_placeholder();
            self.push(" AS REAL)");
        } else {
            self.push_placeholder();
        }
        Ok(())
    }

    /// `field` is one of `values`, bound as one parameter (see
    /// [`Arguments::add_list`]): a statement's text, and so the prepared
    /// statements a connection caches, do not grow with the list.
    fn push_list(&mut self, field: &FieldSchema, values: &[Value]) -> Result<()> {
        self.args.add_list(field.sql_type, values)?;
        match self.dialect {
            Dialect::Postgres => {
                self.push_column(field);
                self.push(" = ANY(");
                self.push_placeholder();
                self.push(")");
            }
            Dialect::Sqlite => {
                self.push_operand(field);
                let item = match field.sql_type {
                    SqlType::Decimal => "CAST(value AS REAL)",
                    SqlType::Uuid => "unhex(value)",
                    _ => "value",
                };
                self.push(" IN (SELECT ");
                self.push(item);
                self.push(" FROM json_each(");
                self.push_placeholder();
                self.push("))");
            }
        }
        Ok(())
    }

    /// `(a, b) op (x, y)`, or `a op x` for a single field.
    fn push_rows(
        &mut self,
        fields: &[&FieldSchema],
        op: Comparison,
        values: &[Value],
    ) -> Result<()> {
        let row = fields.len() > 1;
        if row {
            self.push("(");
        }
        for (position, field) in fields.iter().enumerate() {
            if position > 0 {
                self.push(", ");
            }
            self.push_operand(field);
        }
        self.push(if row { ") " } else { " " });
        self.push(op.operator());
        self.push(if row { " (" } else { " " });
        for (position, (field, value)) in fields.iter().zip(values).enumerate() {
            if position > 0 {
                self.push(", ");
            }
            self.push_value(field, value)?;
        }
        if row {
            self.push(")");
        }
        Ok(())
    }

    pub(crate) fn push_bound(&mut self, value: &Value) -> Result<()> {
        self.args.add_value(value)?;
        self.push_placeholder();
        Ok(())
    }

    fn push_condition(&mut self, condition: &Condition) -> Result<()> {
        match condition {
            Condition::Compare {
                field,
                op: Comparison::Eq,
                value,
            } if field.sensitivity.is_sealed() => {
                self.push_digest_match(field, std::slice::from_ref(value))?;
            }
            Condition::In { field, values } if field.sensitivity.is_sealed() => {
                self.push_digest_match(field, values)?;
            }
            Condition::Compare { field, op, value } => {
                self.push_operand(field);
                self.push(" ");
                self.push(op.operator());
                self.push(" ");
                self.push_value(field, value)?;
            }
            Condition::CompareRows { fields, op, values } => {
                self.push_rows(fields, *op, values)?;
            }
            Condition::In { field, values } => {
                if values.is_empty() {
                    self.push("1 = 0");
                    return Ok(());
                }
                self.push_list(field, values)?;
            }
            Condition::IsNull { field, null } => {
                self.push_column(field);
                self.push(if *null { " IS NULL" } else { " IS NOT NULL" });
            }
            Condition::Like {
                field,
                pattern,
                case_insensitive,
                text,
            } => {
                self.push_like(field, *pattern, *case_insensitive, text)?;
            }
            Condition::Related {
                field,
                table,
                key,
                condition,
            } => {
                self.push_column(field);
                self.push(" IN (SELECT ");
                self.push_ident(key);
                self.push(" FROM ");
                self.push_ident(table);
                self.push(" WHERE ");
                self.push_condition(condition)?;
                self.push(")");
            }
            Condition::All(conditions) => {
                if conditions.is_empty() {
                    self.push("1 = 1");
                }
                for (position, condition) in conditions.iter().enumerate() {
                    if position > 0 {
                        self.push(" AND ");
                    }
                    self.push("(");
                    self.push_condition(condition)?;
                    self.push(")");
                }
            }
            Condition::Any(conditions) => {
                if conditions.is_empty() {
                    self.push("1 = 0");
                }
                for (position, condition) in conditions.iter().enumerate() {
                    if position > 0 {
                        self.push(" OR ");
                    }
                    self.push("(");
                    self.push_condition(condition)?;
                    self.push(")");
                }
            }
            Condition::Not(condition) => {
                self.push("NOT (");
                self.push_condition(condition)?;
                self.push(")");
            }
        }
        Ok(())
    }

    /// Text matching. `LIKE` ignores ASCII case on SQLite but not on PostgreSQL, so
    /// case-sensitive matches on SQLite use `INSTR`, and case-insensitive ones
    /// lower both sides on both databases.
    fn push_like(
        &mut self,
        field: &FieldSchema,
        pattern: TextPattern,
        case_insensitive: bool,
        text: &str,
    ) -> Result<()> {
        if self.dialect == Dialect::Sqlite && !case_insensitive {
            self.push("INSTR(");
            self.push_column(field);
            self.push(", ");
            self.push_bound(&Value::Text(text.to_owned()))?;
            self.push(match pattern {
                TextPattern::Contains => ") > 0",
                TextPattern::StartsWith => ") = 1",
            });
            return Ok(());
        }
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = match pattern {
            TextPattern::Contains => format!("%{escaped}%"),
            TextPattern::StartsWith => format!("{escaped}%"),
        };
        if case_insensitive {
            self.push("LOWER(");
            self.push_column(field);
            self.push(") LIKE LOWER(");
            self.push_bound(&Value::Text(like))?;
            self.push(")");
        } else {
            self.push_column(field);
            self.push(" LIKE ");
            self.push_bound(&Value::Text(like))?;
        }
        self.push(" ESCAPE '\\'");
        Ok(())
    }

    pub(crate) fn finish(self) -> (String, Arguments) {
        (self.text, self.args)
    }
}
