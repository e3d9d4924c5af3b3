//! The application's own commands, next to `serve`, `migrate` and the other
//! built-in ones.

use std::path::PathBuf;

use anyhow::Context as _;
use fw::auth::User;
use fw::{Db, Model as _};

use crate::import::{ImportOptions, Progress, import_file};
use crate::roles::IMPORT_DIVIDENDS;

/// `example-dividends <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Imports the clearing firm's daily dividend file (format: FILE_FORMAT.md) in
    /// one transaction; a file with any bad line is rejected whole.
    ImportDividends {
        /// The file to import.
        file: PathBuf,
        /// The username of the operator importing it, who needs the
        /// `import_dividends` permission; the change log records them as the
        /// author of every change the file makes.
        #[arg(long)]
        operator: String,
    },
}

impl fw::Commands for Command {
    async fn run(self, app: fw::AppContext) -> anyhow::Result<()> {
        match self {
            Command::ImportDividends { file, operator } => {
                let actor = importer_actor(&app.db, &operator).await?;
                let options = ImportOptions {
                    progress: Progress::Stderr,
                    ..ImportOptions::default()
                };
                let run_id = uuid::Uuid::now_v7().to_string();
                let summary = fw::changes::with_actor(
                    Some(actor),
                    Some(run_id),
                    import_file(&app.db, &file, options),
                )
                .await?;
                println!("{summary}");
            }
        }
        Ok(())
    }
}

/// Whether the importing user's roles grant `$2` (`import_dividends`): the
/// tables `App::auth` adds, read as the authenticate layer reads them.
const HOLDS_PERMISSION: &str = "SELECT COUNT(*) FROM fw_user_role ur \
     JOIN fw_role_permission rp ON rp.role_id = ur.role_id \
     WHERE ur.user_id = $1 AND rp.permission = $2";

/// The change log's actor for an import by `username`: `user:<id>`, with the
/// command it ran through, as a token's requests record theirs.
///
/// # Errors
///
/// When there is no such active user, or they lack `import_dividends`: the
/// import must not run, so nothing is written.
async fn importer_actor(db: &Db, username: &str) -> anyhow::Result<String> {
    let user = User::query()
        .filter(User::USERNAME.eq(username))
        .first(db)
        .await?
        .filter(|user| user.is_active)
        .with_context(|| {
            format!(
                "there is no active user `{username}` to import as; create one with \
                 `createuser {username} --role operations`"
            )
        })?;
    let holds = user.is_superuser
        || fw::sql(HOLDS_PERMISSION)
            .bind(user.id)
            .bind(IMPORT_DIVIDENDS.to_owned())
            .fetch_one(db, |row| row.get::<i64>(0))
            .await?
            > 0;
    if !holds {
        anyhow::bail!(
            "user `{username}` may not import dividends: their roles do not grant \
             `{IMPORT_DIVIDENDS}`; import as a user with the `operations` role"
        );
    }
    Ok(format!("user:{}/command:import-dividends", user.id))
}
