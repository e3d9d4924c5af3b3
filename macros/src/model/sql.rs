//! The SQL of a model's fixed operations, rendered at compile time for each
//! dialect by `fw_core`'s statement renderer, which the runtime also renders its
//! patches and upserts with.

use fw_core::Dialect;
use fw_core::statement::{Column, Statements, Table};

use super::ast::Model;

/// Renders every statement of `model` for `dialect`.
pub(crate) fn render(model: &Model, dialect: Dialect) -> Statements {
    let columns: Vec<Column<'_>> = model
        .fields
        .iter()
        .map(|field| Column {
            name: &field.column,
            generated: field.generated,
            primary_key: field.is_primary_key_of(model),
        })
        .collect();
    Table {
        name: &model.table,
        columns: &columns,
    }
    .statements(dialect)
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
        assert_eq!(
            sqlite.select,
            format!(r#"SELECT {columns} FROM "dividend""#)
        );
        assert_eq!(
            sqlite.get,
            format!(r#"SELECT {columns} FROM "dividend" WHERE "id" = ?1"#)
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
}
