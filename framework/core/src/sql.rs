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
    match dialect {
        Dialect::Sqlite => format!("?{index}"),
        Dialect::Postgres => format!("${index}"),
    }
}

/// Quotes an identifier (table, column, index) the same way for either dialect.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
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
}
