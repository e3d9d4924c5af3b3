//! Who works with the brokerage's data and what each may do: the roles
//! `createuser --role` gives, declared in code so `migrate` keeps the
//! database's roles as written here.
//!
//! The lists are public so tests give a user exactly a role's permissions.

/// The application's own permission to import the clearing firm's daily file
/// (`import-dividends --operator`).
pub const IMPORT_DIVIDENDS: &str = "import_dividends";

/// The application's own permission to see account holders' names, which are
/// omitted from `/accounts` without it.
pub const VIEW_ACCOUNT_HOLDER_NAME: &str = "view_account_holder_name";

/// The application's own permission to see account holders' tax ids, and to
/// find accounts by one (`/accounts?tax_id=`).
pub const VIEW_ACCOUNT_TAX_ID: &str = "view_account_tax_id";

/// Operations staff: enter and correct announcements and securities, and
/// import the daily file.
pub const OPERATIONS: &[&str] = &[
    "view_security",
    "add_security",
    "change_security",
    "delete_security",
    "view_dividend",
    "add_dividend",
    "change_dividend",
    IMPORT_DIVIDENDS,
];

/// The customer apps' back end: reads securities and dividends, nothing else.
pub const CUSTOMER_APP: &[&str] = &["view_security", "view_dividend"];

/// Customer support: looks up accounts, what they hold and will be paid,
/// without the holder's tax id.
pub const SUPPORT: &[&str] = &[
    "view_security",
    "view_dividend",
    "view_account",
    VIEW_ACCOUNT_HOLDER_NAME,
    "view_position",
];

/// Compliance: reads everything, tax ids, the change log and the audit of
/// who saw holders' personal data included.
pub const COMPLIANCE: &[&str] = &[
    "view_security",
    "view_dividend",
    "view_account",
    "view_position",
    VIEW_ACCOUNT_HOLDER_NAME,
    VIEW_ACCOUNT_TAX_ID,
    fw::auth::VIEW_CHANGES,
    fw::sensitive::VIEW_SENSITIVE_READS,
];

/// Declares the application's permissions and roles on `app`.
pub fn declare(app: fw::App) -> fw::App {
    app.permission(
        IMPORT_DIVIDENDS,
        "Import the clearing firm's daily dividend file.",
    )
    .permission(VIEW_ACCOUNT_HOLDER_NAME, "See account holders' names.")
    .permission(
        VIEW_ACCOUNT_TAX_ID,
        "See account holders' tax ids, and find accounts by one.",
    )
    .role(
        "operations",
        "Enters and corrects announcements and securities, and imports the daily file.",
        OPERATIONS,
    )
    .role(
        "customer_app",
        "Reads securities and dividends for the customer apps.",
        CUSTOMER_APP,
    )
    .role(
        "support",
        "Looks up accounts and their holdings, without the holder's tax id.",
        SUPPORT,
    )
    .role(
        "compliance",
        "Reads everything: accounts with tax ids, the change log and the audit of sensitive reads.",
        COMPLIANCE,
    )
}
