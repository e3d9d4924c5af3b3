//! The identity commands every app with [`App::auth`](crate::App::auth) has:
//! `createuser`, `changepassword`, `createtoken`, `revoketoken` and `roles`.
//!
//! A password is never an argument, where it would land in the shell's
//! history and the process list: it is typed at a prompt with echo off (twice),
//! or, when standard input is not a terminal, read as its first line
//! (`printf '%s\n' "$PASSWORD" | app createuser alice`).

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};

use super::password::Password;
use super::store::{self, NewAccount, NewToken};
use crate::context::AppContext;
use crate::error::Error;

/// The identity commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Creates a user, asking for their password (or reading it from standard
    /// input when that is not a terminal).
    Createuser(CreateUserArgs),
    /// Sets a user's password, asking for it as `createuser` does, and ends
    /// every session the user has.
    Changepassword {
        /// The user's username.
        username: String,
    },
    /// Creates an API token for a user and prints it, once, on standard
    /// output: store it now, it cannot be shown again.
    Createtoken(CreateTokenArgs),
    /// Lists a user's API tokens: id, name, prefix, and whether each is
    /// revoked or expired (never the tokens themselves, which fw does not keep).
    Tokens {
        /// The user's username.
        username: String,
    },
    /// Revokes an API token by its id (as `createtoken` and `tokens` report it).
    Revoketoken {
        /// The token's id.
        id: i64,
    },
    /// Lists the roles and the permissions each grants.
    Roles,
}

#[derive(Debug, Args)]
pub(crate) struct CreateUserArgs {
    /// The name the user signs in with: letters, digits and `@.+-_`.
    username: String,
    /// The user's email address.
    #[arg(long)]
    email: Option<String>,
    /// The user holds every permission.
    #[arg(long)]
    superuser: bool,
    /// A role to give the user; repeat for several.
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// The user signs in only with API tokens: ask for no password.
    #[arg(long)]
    no_password: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CreateTokenArgs {
    /// The user the token acts for.
    username: String,
    /// What the token is for (the program or person using it).
    #[arg(long)]
    name: String,
    /// Days until the token stops working; without it, it works until revoked.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    expires_in_days: Option<u32>,
    /// A permission the token is limited to; repeat for several. Without any,
    /// the token holds all of its user's permissions.
    #[arg(long = "scope", value_name = "PERMISSION")]
    scopes: Vec<String>,
    /// The API version (a date) the token's requests are served in when
    /// they send no `Api-Version`; without it, the newest version now.
    #[arg(long, value_name = "DATE")]
    api_version: Option<String>,
}

/// Where a command reads a password and writes what it prints.
pub(crate) struct Terminal<'a> {
    /// Standard input; `None` for the process's own (which may be a terminal).
    pub(crate) input: Option<&'a mut (dyn BufRead + Send)>,
    pub(crate) output: &'a mut (dyn Write + Send),
}

impl std::fmt::Debug for Terminal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal<'_> {
    /// A new password: typed twice at a prompt, or the first line of standard
    /// input when it is not a terminal.
    fn new_password(&mut self) -> anyhow::Result<Password> {
        let typed = match &mut self.input {
            Some(input) => read_line(&mut **input)?,
            None if std::io::stdin().is_terminal() => {
                let first = rpassword::prompt_password("Password: ")?;
                let again = rpassword::prompt_password("Password (again): ")?;
                anyhow::ensure!(first == again, "the passwords differ; nothing was changed");
                first
            }
            None => read_line(&mut std::io::stdin().lock())?,
        };
        Password::new(typed).map_err(|error| anyhow::anyhow!("{error}; nothing was changed"))
    }
}

/// The first line of `input`, without its line ending.
fn read_line(input: &mut dyn BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    anyhow::ensure!(
        !line.is_empty(),
        "no password on standard input; type it at a terminal, or pipe it in as one line"
    );
    Ok(line.to_owned())
}

/// Runs `command`; `known` are the permissions that exist, which a token's
/// scopes must be among.
///
/// # Errors
///
/// Bad input (an unknown user or role, a short password, an unknown scope)
/// and database errors; nothing is written then.
pub(crate) async fn run(
    command: AuthCommand,
    app: &AppContext,
    known: &[String],
    versions: &[&'static str],
    terminal: &mut Terminal<'_>,
) -> anyhow::Result<()> {
    let db = &app.db;
    match command {
        AuthCommand::Createuser(args) => {
            // Before asking for a password, not after.
            store::check_username(&args.username)?;
            if store::user_by_username(db, &args.username).await?.is_some() {
                anyhow::bail!("user `{}` exists already", args.username);
            }
            let password = if args.no_password {
                None
            } else {
                Some(terminal.new_password()?)
            };
            let mut tx = db.begin().await?;
            let user = store::create_user(
                &mut tx,
                NewAccount {
                    username: args.username,
                    email: args.email,
                    superuser: args.superuser,
                    password,
                },
            )
            .await
            .map_err(|error| match error.downcast_ref::<Error>() {
                Some(Error::UniqueViolation { .. }) => anyhow::anyhow!("the user exists already"),
                _ => error,
            })?;
            for role in &args.roles {
                store::grant_role(&mut tx, user.id, role).await?;
            }
            tx.commit().await?;
            writeln!(
                terminal.output,
                "Created user `{}` (id {}){}{}.",
                user.username,
                user.id,
                if user.is_superuser {
                    ", a superuser"
                } else {
                    ""
                },
                if args.roles.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", with roles {}",
                        fw_core::names::backticked(args.roles.iter().map(String::as_str))
                    )
                }
            )?;
        }
        AuthCommand::Changepassword { username } => {
            let user = existing_user(db, &username).await?;
            let password = terminal.new_password()?;
            store::set_password(db, user.id, password).await?;
            writeln!(
                terminal.output,
                "Changed the password of `{username}`; their sessions have ended."
            )?;
        }
        AuthCommand::Createtoken(args) => {
            let user = existing_user(db, &args.username).await?;
            anyhow::ensure!(
                user.is_active,
                "user `{}` is inactive; their tokens would be refused",
                args.username
            );
            if let Some(unknown) = args
                .scopes
                .iter()
                .find(|scope| !known.iter().any(|known| known == *scope))
            {
                let hint = fw_core::names::closest(unknown, known.iter().map(String::as_str))
                    .map(|close| format!("; did you mean `{close}`?"))
                    .unwrap_or_default();
                anyhow::bail!("`--scope {unknown}` is not a permission{hint}");
            }
            let api_version = store::token_api_version(args.api_version.as_deref(), versions)
                .map_err(|detail| anyhow::anyhow!("`--api-version`: {detail}"))?;
            let expires_at = args
                .expires_in_days
                .map(|days| crate::db::now() + chrono::TimeDelta::days(i64::from(days)));
            let created = store::create_token(
                db,
                user.id,
                NewToken {
                    name: args.name,
                    expires_at,
                    scopes: (!args.scopes.is_empty()).then_some(args.scopes),
                    api_version,
                },
            )
            .await?;
            // Standard output carries the token alone, for scripts to capture;
            // what it is goes to standard error.
            writeln!(terminal.output, "{}", created.token)?;
            eprintln!(
                "Created token {} (`{}`) for `{}`{}. It is shown once: store it now.",
                created.row.id,
                created.row.name,
                user.username,
                match created.row.expires_at {
                    Some(at) => format!(", expiring {}", at.format("%Y-%m-%d %H:%M UTC")),
                    None => String::new(),
                }
            );
        }
        AuthCommand::Tokens { username } => {
            let user = existing_user(db, &username).await?;
            let now = crate::db::now();
            let tokens = store::list_tokens(db, user.id).await?;
            if tokens.is_empty() {
                writeln!(terminal.output, "`{username}` has no tokens.")?;
            }
            for token in tokens {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M UTC")),
                    (None, Some(at)) if at <= now => {
                        format!("expired {}", at.format("%Y-%m-%d %H:%M UTC"))
                    }
                    (None, Some(at)) => format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")),
                    (None, None) => "does not expire".to_owned(),
                };
                let scopes = token
                    .scopes
                    .map(|scopes| format!(", limited to {scopes}"))
                    .unwrap_or_default();
                let pinned = token
                    .api_version
                    .map(|date| format!(", API version {date}"))
                    .unwrap_or_default();
                writeln!(
                    terminal.output,
                    "{}\t{}...\t{}\t{state}{scopes}{pinned}",
                    token.id, token.prefix, token.name
                )?;
            }
        }
        AuthCommand::Revoketoken { id } => match store::revoke_token(db, id, None).await? {
            Some(token) => writeln!(
                terminal.output,
                "Revoked token {id} (`{}`, {}...).",
                token.name, token.prefix
            )?,
            None => anyhow::bail!("there is no token {id}; `createtoken` reports each token's id"),
        },
        AuthCommand::Roles => {
            let roles = store::roles(db).await?;
            if roles.is_empty() {
                writeln!(
                    terminal.output,
                    "No roles. Declare them with `App::role` and run `migrate`."
                )?;
            }
            for (role, permissions) in roles {
                writeln!(terminal.output, "{}: {}", role.name, role.description)?;
                if permissions.is_empty() {
                    writeln!(terminal.output, "    (no permissions)")?;
                }
                for permission in permissions {
                    writeln!(terminal.output, "    {permission}")?;
                }
            }
        }
    }
    Ok(())
}

async fn existing_user(db: &crate::db::Db, username: &str) -> anyhow::Result<super::User> {
    store::user_by_username(db, username).await?.ok_or_else(|| {
        anyhow::anyhow!("there is no user `{username}`; create one with `createuser`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::models::{ApiToken, Role, RolePermission, Session, User, UserRole};
    use crate::auth::secret::{SecretHash, is_token};
    use crate::model::Model as _;
    use crate::testing::TestDb;

    /// `createtoken` prints the token and nothing else on standard output,
    /// and the token printed is the one that authenticates.
    async fn createtoken_prints_the_token_alone(test_db: TestDb) {
        let db = test_db.db();
        let schemas = [
            User::SCHEMA,
            Role::SCHEMA,
            RolePermission::SCHEMA,
            UserRole::SCHEMA,
            ApiToken::SCHEMA,
            Session::SCHEMA,
        ];
        crate::testing::create_tables(db, &schemas).await.unwrap();
        let app = test_db.context();
        crate::auth::user_with_permissions(db, "importer", &["import_dividends"])
            .await
            .unwrap();
        let mut output = Vec::new();
        let mut terminal = Terminal {
            input: None,
            output: &mut output,
        };
        let command = AuthCommand::Createtoken(CreateTokenArgs {
            username: "importer".to_owned(),
            name: "nightly".to_owned(),
            expires_in_days: Some(1),
            scopes: vec!["import_dividends".to_owned()],
            api_version: Some("2026-06-01".to_owned()),
        });
        let known = ["import_dividends".to_owned()];
        let versions = ["2026-12-01", "2026-06-01"];
        run(command, &app, &known, &versions, &mut terminal)
            .await
            .unwrap();
        let printed = String::from_utf8(output).unwrap();
        let token = printed.strip_suffix('\n').expect("one line");
        assert!(is_token(token), "{printed:?}");
        let identity = store::identity_from_token(db, SecretHash::of(token.as_bytes()))
            .await
            .unwrap()
            .expect("the printed token authenticates");
        assert_eq!(identity.username, "importer");
        assert_eq!(
            identity.api_version.as_deref(),
            Some("2026-06-01"),
            "pinned to the version asked for"
        );
        let unknown = AuthCommand::Createtoken(CreateTokenArgs {
            username: "importer".to_owned(),
            name: "typo".to_owned(),
            expires_in_days: None,
            scopes: Vec::new(),
            api_version: Some("2026-06-02".to_owned()),
        });
        let mut ignored = Vec::new();
        let mut terminal = Terminal {
            input: None,
            output: &mut ignored,
        };
        let error = run(unknown, &app, &known, &versions, &mut terminal)
            .await
            .expect_err("no such version");
        assert!(
            error.to_string().contains("2026-12-01, 2026-06-01"),
            "{error}"
        );
        let mut listed = Vec::new();
        let mut terminal = Terminal {
            input: None,
            output: &mut listed,
        };
        let tokens = AuthCommand::Tokens {
            username: "importer".to_owned(),
        };
        run(tokens, &app, &known, &versions, &mut terminal)
            .await
            .unwrap();
        let listed = String::from_utf8(listed).unwrap();
        assert!(listed.contains(", API version 2026-06-01"), "{listed}");
        assert!(identity.has("import_dividends"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn createtoken_prints_the_token_alone_sqlite() {
        createtoken_prints_the_token_alone(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn createtoken_prints_the_token_alone_postgres() {
        createtoken_prints_the_token_alone(TestDb::postgres().await).await;
    }
}
