//! The permissions and roles an application declares in code, and the check
//! that every role grants only permissions that exist.

use fw_core::access::{MAX_NAME_LENGTH, ModelPermission, VIEW_CHANGES, is_name};
use fw_core::names::{backticked, closest};

use super::store::RoleSpec;

/// What an application declares: its own permissions, with what each is for,
/// and its roles.
#[derive(Debug, Clone, Default)]
pub(crate) struct Declared {
    pub(crate) permissions: Vec<(&'static str, &'static str)>,
    pub(crate) roles: Vec<RoleSpec>,
}

impl Declared {
    /// Every permission that exists: the four of each model in `models` (by
    /// their struct names), `view_changes` when the change log is served, and
    /// the declared ones, sorted.
    pub(crate) fn known(&self, models: &[&'static str], change_log_api: bool) -> Vec<String> {
        let mut known: Vec<String> = models
            .iter()
            .flat_map(|model| {
                ModelPermission::ALL
                    .into_iter()
                    .map(move |permission| permission.of_model(model))
            })
            .chain(change_log_api.then(|| VIEW_CHANGES.to_owned()))
            .chain(self.permissions.iter().map(|(name, _)| (*name).to_owned()))
            .collect();
        known.sort();
        known.dedup();
        known
    }

    /// Checks the declarations against the permissions that exist: names
    /// well formed, none declared twice, and every permission a role grants
    /// known.
    ///
    /// # Errors
    ///
    /// One line per problem, each naming the permission or role and, for an
    /// unknown permission, the closest known one.
    pub(crate) fn check(
        &self,
        models: &[&'static str],
        change_log_api: bool,
    ) -> anyhow::Result<()> {
        let known = self.known(models, change_log_api);
        let mut problems = Vec::new();
        let name_rule = format!(
            "lowercase letters, digits and `_`, starting with a letter, at most {MAX_NAME_LENGTH} \
             characters"
        );
        for (index, (name, _)) in self.permissions.iter().enumerate() {
            if !is_name(name) {
                problems.push(format!(
                    "`App::permission(\"{name}\", ..)`: a permission's name is {name_rule}"
                ));
            } else if self.permissions[..index]
                .iter()
                .any(|(other, _)| other == name)
                || is_built_in(name, models)
            {
                problems.push(format!(
                    "`App::permission(\"{name}\", ..)` declares a permission that exists \
                     already; remove the declaration"
                ));
            }
        }
        for (index, role) in self.roles.iter().enumerate() {
            if !is_name(role.name) {
                problems.push(format!(
                    "`App::role(\"{}\", ..)`: a role's name is {name_rule}",
                    role.name
                ));
            }
            if self.roles[..index]
                .iter()
                .any(|other| other.name == role.name)
            {
                problems.push(format!(
                    "role `{}` is declared twice; declare it once with all its permissions",
                    role.name
                ));
            }
            for permission in &role.permissions {
                if known.iter().any(|known| known == permission) {
                    continue;
                }
                let hint = match closest(permission, known.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if known.is_empty() => {
                        "no permission exists yet: register models with `App::model` or \
                         declare permissions with `App::permission`"
                            .to_owned()
                    }
                    None => format!(
                        "declare it with `App::permission`, or grant one of {}",
                        backticked(known.iter().map(String::as_str))
                    ),
                };
                problems.push(format!(
                    "role `{}` grants `{permission}`, which is not a permission; {hint}",
                    role.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("{}", problems.join("\n"))
        }
    }
}

/// Whether `name` is one of the permissions fw makes: a model's four, or
/// `view_changes`.
fn is_built_in(name: &str, models: &[&'static str]) -> bool {
    name == VIEW_CHANGES
        || models.iter().any(|model| {
            ModelPermission::ALL
                .iter()
                .any(|permission| permission.of_model(model) == name)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(roles: &[(&'static str, &[&'static str])]) -> Declared {
        Declared {
            permissions: vec![("import_dividends", "Import the daily file.")],
            roles: roles
                .iter()
                .map(|(name, permissions)| RoleSpec {
                    name,
                    description: "",
                    permissions: permissions.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn permissions_come_from_models_the_change_log_and_declarations() {
        let known = declared(&[]).known(&["Dividend"], true);
        assert_eq!(
            known,
            [
                "add_dividend",
                "change_dividend",
                "delete_dividend",
                "import_dividends",
                "view_changes",
                "view_dividend"
            ]
        );
        assert!(
            !declared(&[])
                .known(&["Dividend"], false)
                .contains(&VIEW_CHANGES.to_owned())
        );
    }

    #[test]
    fn a_role_granting_an_unknown_permission_is_refused_with_a_suggestion() {
        let ok = declared(&[("operations", &["view_dividend", "import_dividends"])]);
        ok.check(&["Dividend"], false).unwrap();
        let typo = declared(&[("support", &["veiw_dividend"])]);
        let error = typo.check(&["Dividend"], false).unwrap_err().to_string();
        assert!(
            error.contains("role `support` grants `veiw_dividend`"),
            "{error}"
        );
        assert!(error.contains("did you mean `view_dividend`?"), "{error}");
        let changes = declared(&[("compliance", &["view_changes"])]);
        let error = changes.check(&["Dividend"], false).unwrap_err().to_string();
        assert!(error.contains("`view_changes`"), "{error}");
        changes.check(&["Dividend"], true).unwrap();
    }

    #[test]
    fn bad_and_repeated_declarations_are_refused() {
        let mut bad = declared(&[("Ops", &[]), ("Ops", &[])]);
        bad.permissions.push(("view_dividend", ""));
        bad.permissions.push(("import-dividends", ""));
        let error = bad.check(&["Dividend"], false).unwrap_err().to_string();
        assert_eq!(error.lines().count(), 5, "{error}");
        assert!(error.contains("`App::role(\"Ops\", ..)`"), "{error}");
        assert!(error.contains("role `Ops` is declared twice"), "{error}");
        assert!(
            error.contains(
                "`App::permission(\"view_dividend\", ..)` declares a permission that exists"
            ),
            "{error}"
        );
        assert!(
            error.contains("`App::permission(\"import-dividends\", ..)`"),
            "{error}"
        );
    }
}
