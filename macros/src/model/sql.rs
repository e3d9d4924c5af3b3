//! The SQL of a model's fixed operations, rendered at compile time for each
//! dialect, and the names of its indexes. The shapes are the contract documented
//! on `fw::__private::ModelSql`; the runtime splices and splits these strings.

use super::ast::{Generated, Model};

/// The SQL dialects fw generates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The fields of `fw::__private::ModelSql`, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelSql {
    pub(crate) columns: String,
    pub(crate) select: String,
    pub(crate) get: String,
    pub(crate) insert_columns: String,
    pub(crate) insert: String,
    pub(crate) update: String,
    pub(crate) delete: String,
}

/// `"name"`, as `fw`'s runtime quotes identifiers.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The `index`-th (1-based) bind placeholder.
fn placeholder(dialect: Dialect, index: usize) -> String {
    match dialect {
        Dialect::Sqlite => format!("?{index}"),
        Dialect::Postgres => format!("${index}"),
    }
}

/// The name of a `unique(...)`/`index(...)` over `columns` of `table`, exactly as
/// `fw::schema::unique_constraint_name` and `fw::schema::index_name` spell it (the
/// runtime maps constraint violations back to fields by these names).
pub(crate) fn index_name(table: &str, unique: bool, columns: &[&str]) -> String {
    let suffix = if unique { "key" } else { "idx" };
    format!("{table}_{}_{suffix}", columns.join("_"))
}

/// Renders every statement of `model` for `dialect`.
pub(crate) fn render(model: &Model, dialect: Dialect) -> ModelSql {
    let table = quote_ident(&model.table);
    let list = |columns: Vec<String>| columns.join(", ");
    let columns = list(
        model
            .fields
            .iter()
            .map(|field| quote_ident(&field.column))
            .collect(),
    );
    let key = model
        .primary_key()
        .map_or_else(String::new, |key| quote_ident(&key.column));
    let select = format!("SELECT {columns} FROM {table}");
    let get = format!("{select} WHERE {key} = {}", placeholder(dialect, 1));

    let inserted: Vec<String> = model
        .fields
        .iter()
        .filter(|field| field.generated != Generated::AutoIncrement)
        .map(|field| quote_ident(&field.column))
        .collect();
    let values: Vec<String> = (1..=inserted.len())
        .map(|index| placeholder(dialect, index))
        .collect();
    let insert_columns = list(inserted);
    let insert = if values.is_empty() {
        // Only an auto-increment key: both databases accept `DEFAULT VALUES`.
        format!("INSERT INTO {table} DEFAULT VALUES RETURNING {columns}")
    } else {
        format!(
            "INSERT INTO {table} ({insert_columns}) VALUES ({}) RETURNING {columns}",
            list(values)
        )
    };

    let mut parameter = 0;
    let mut next = || {
        parameter += 1;
        placeholder(dialect, parameter)
    };
    let mut assignments = Vec::new();
    for field in &model.fields {
        if field.is_insertable() && !field.is_primary_key_of(model) {
            assignments.push(format!("{} = {}", quote_ident(&field.column), next()));
        }
    }
    for field in &model.fields {
        if field.generated == Generated::UpdatedAt {
            assignments.push(format!("{} = {}", quote_ident(&field.column), next()));
        }
    }
    if let Some(version) = model.version() {
        let column = quote_ident(&version.column);
        assignments.push(format!("{column} = {column} + 1"));
    }
    if assignments.is_empty() {
        // Nothing can change: a no-op assignment keeps the statement valid, so an
        // update still checks that the row exists and returns it.
        assignments.push(format!("{key} = {key}"));
    }
    let mut update = format!(
        "UPDATE {table} SET {} WHERE {key} = {}",
        list(assignments),
        next()
    );
    if let Some(version) = model.version() {
        update.push_str(&format!(
            " AND {} = {}",
            quote_ident(&version.column),
            next()
        ));
    }
    update.push_str(&format!(" RETURNING {columns}"));

    let delete = format!(
        "DELETE FROM {table} WHERE {key} = {}",
        placeholder(dialect, 1)
    );
    ModelSql {
        columns,
        select,
        get,
        insert_columns,
        insert,
        update,
        delete,
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;
    use crate::ctxt::Ctxt;

    fn model(input: TokenStream) -> Model {
        let cx = Ctxt::new();
        let model = Model::from_input(&cx, TokenStream::new(), input).expect("a model");
        assert!(cx.check().is_ok());
        model
    }

    #[test]
    fn renders_versioned_model_for_both_dialects() {
        let model = model(quote! {
            struct Dividend {
                id: i64,
                security: Ref<Security>,
                #[field(column = "amount_col")] amount: Decimal,
                #[field(auto_now_add)] created_at: DateTime<Utc>,
                #[field(auto_now)] updated_at: DateTime<Utc>,
                #[field(version)] version: i64,
            }
        });
        let sqlite = render(&model, Dialect::Sqlite);
        let columns = r#""id", "security_id", "amount_col", "created_at", "updated_at", "version""#;
        assert_eq!(sqlite.columns, columns);
        assert_eq!(
            sqlite.select,
            format!(r#"SELECT {columns} FROM "dividend""#)
        );
        assert_eq!(
            sqlite.get,
            format!(r#"SELECT {columns} FROM "dividend" WHERE "id" = ?1"#)
        );
        assert_eq!(
            sqlite.insert_columns,
            r#""security_id", "amount_col", "created_at", "updated_at", "version""#
        );
        assert_eq!(
            sqlite.insert,
            format!(
                r#"INSERT INTO "dividend" ("security_id", "amount_col", "created_at", "updated_at", "version") VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {columns}"#
            )
        );
        assert_eq!(
            sqlite.update,
            format!(
                r#"UPDATE "dividend" SET "security_id" = ?1, "amount_col" = ?2, "updated_at" = ?3, "version" = "version" + 1 WHERE "id" = ?4 AND "version" = ?5 RETURNING {columns}"#
            )
        );
        assert_eq!(sqlite.delete, r#"DELETE FROM "dividend" WHERE "id" = ?1"#);
        let postgres = render(&model, Dialect::Postgres);
        assert_eq!(
            postgres.update,
            format!(
                r#"UPDATE "dividend" SET "security_id" = $1, "amount_col" = $2, "updated_at" = $3, "version" = "version" + 1 WHERE "id" = $4 AND "version" = $5 RETURNING {columns}"#
            )
        );
        assert_eq!(
            postgres.get,
            format!(r#"SELECT {columns} FROM "dividend" WHERE "id" = $1"#)
        );
    }

    #[test]
    fn supplied_keys_are_inserted_but_not_updated() {
        let model = model(quote! {
            struct Currency { #[field(primary_key)] code: String, name: String }
        });
        let sql = render(&model, Dialect::Postgres);
        assert_eq!(
            sql.insert,
            r#"INSERT INTO "currency" ("code", "name") VALUES ($1, $2) RETURNING "code", "name""#
        );
        assert_eq!(
            sql.update,
            r#"UPDATE "currency" SET "name" = $1 WHERE "code" = $2 RETURNING "code", "name""#
        );
    }

    #[test]
    fn key_only_model_still_has_valid_statements() {
        let model = model(quote!(
            struct Token {
                id: i64,
            }
        ));
        let sql = render(&model, Dialect::Sqlite);
        assert_eq!(
            sql.insert,
            r#"INSERT INTO "token" DEFAULT VALUES RETURNING "id""#
        );
        assert_eq!(
            sql.update,
            r#"UPDATE "token" SET "id" = "id" WHERE "id" = ?1 RETURNING "id""#
        );
    }

    #[test]
    fn index_names_match_the_runtime() {
        assert_eq!(
            index_name("dividend", true, &["security", "ex_date"]),
            "dividend_security_ex_date_key"
        );
        assert_eq!(
            index_name("dividend", false, &["pay_date"]),
            "dividend_pay_date_idx"
        );
    }
}
