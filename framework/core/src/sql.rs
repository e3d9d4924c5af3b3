//! The SQL dialects and how identifiers and bind parameters are written in each.

/// The SQL dialect of a database. fw generates SQL for each at compile time and
/// picks one at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3 (bundled), the zero-set-up default.
    Sqlite,
    /// PostgreSQL 13 or newer.
    Postgres,
}

impl Dialect {
    /// Every dialect, for code that renders SQL for each.
    pub const ALL: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];

    /// The dialect's lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// Renders the `index`-th (1-based) bind placeholder for `dialect`.
pub fn placeholder(dialect: Dialect, index: usize) -> String {
    let mut sql = String::with_capacity(4);
    push_placeholder(&mut sql, dialect, index);
    sql
}

/// Appends [`placeholder`]`(dialect, index)` to `sql`: statements rendered
/// per request (the query builder's) make no string per placeholder.
pub fn push_placeholder(sql: &mut String, dialect: Dialect, index: usize) {
    use std::fmt::Write as _;
    sql.push(match dialect {
        Dialect::Sqlite => '?',
        Dialect::Postgres => '$',
    });
    // Writing a number into a `String` cannot fail.
    let _ = write!(sql, "{index}");
}

/// Quotes an identifier (table, column, index) the same way for either dialect.
pub fn quote_ident(ident: &str) -> String {
    let mut sql = String::with_capacity(ident.len() + 2);
    push_quoted_ident(&mut sql, ident);
    sql
}

/// Appends [`quote_ident`]`(ident)` to `sql`, without a string of its own.
pub fn push_quoted_ident(sql: &mut String, ident: &str) {
    sql.push('"');
    for piece in ident.split_inclusive('"') {
        sql.push_str(piece);
        if piece.ends_with('"') {
            sql.push('"');
        }
    }
    sql.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_per_dialect() {
        assert_eq!(placeholder(Dialect::Sqlite, 3), "?3");
        assert_eq!(placeholder(Dialect::Postgres, 3), "$3");
    }

    #[test]
    fn identifiers_are_quoted_with_embedded_quotes_doubled() {
        assert_eq!(quote_ident("ex_date"), "\"ex_date\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn identifiers_and_placeholders_are_appended_to_a_statement() {
        let mut sql = String::from("SELECT 1 FROM ");
        push_quoted_ident(&mut sql, "a\"b\"");
        sql.push_str(" WHERE ");
        push_quoted_ident(&mut sql, "id");
        sql.push_str(" = ");
        push_placeholder(&mut sql, Dialect::Postgres, 12);
        assert_eq!(sql, "SELECT 1 FROM \"a\"\"b\"\"\" WHERE \"id\" = $12");
    }
}
