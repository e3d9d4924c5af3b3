//! The runtime reads bottom-up: each module of `framework/src` imports only
//! modules on its own layer or below, as [`LAYERS`] lists them, so there is no
//! import circle between layers.
//!
//! An import is any path through `crate::`, `super::` or `self::`, in a `use`
//! or in code, and any use of a name so imported; it counts against the module
//! that defines the name, followed through re-exports (`pub use`), so importing
//! through a module's face (`crate::changes::after`) is importing the module
//! that defines it (`changes::read`). A parent's own use of its children
//! (`mod read; pub use read::after;`) is not an import: the face stands for its
//! children. Unit tests (`#[cfg(test)] mod tests`) are left out: they may use
//! anything, `testing` included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules of `framework/src`, bottom first, one layer a line. A module is
/// placed by the longest entry that is it or one of its parents: `rest` places
/// every `rest::*` module not listed itself. Modules on one layer may import
/// each other.
const LAYERS: &[&[&str]] = &[
    // The keys sensitive fields are sealed with: cryptography alone, and the
    // vocabulary of sealed columns.
    &["sensitive::keys", "sensitive"],
    // Plain values: errors and the value type (the static schema is fw-core's,
    // below all of framework/src).
    &["error", "value"],
    // Reading settings from the environment.
    &["settings", "settings::env"],
    // The perimeter's settings, and the client's address behind trusted
    // proxies: what configuration carries, below it.
    &[
        "client",
        "settings::edge",
        "settings::observe",
        "settings::rate_limits",
    ],
    // The database: pools, transactions and their hooks, rows, arguments.
    &["db"],
    // A change record and the log's tables, which `migrate` tunes.
    &["changes::tables"],
    // Migrations: the operations of a file, on the columns they carry; then
    // the schema states they change, their lint, SQL, files and runs, which
    // share the errors and options of `migrate` itself.
    &["migrate::column"],
    &["migrate::operation"],
    &["migrate"],
    // What commands and handlers get.
    &["context"],
    // How a Rust type is stored: binding, decoding, its JSON.
    &["field"],
    &["changes"],
    // Typed queries and writes (`model::query`, `model::write`: `Model`'s
    // provided query API is their face), with the change records writes make
    // and the history a model reads; `model::seal` seals and opens sensitive
    // fields on the way.
    &["model", "changes::record", "changes::read"],
    // A model's sealed fields without its type, and what runs over them:
    // rotating keys, erasing a row's personal data, their commands.
    &["sensitive::sealed"],
    &["sensitive::rotate", "sensitive::erase"],
    &["sensitive::command"],
    &["reference"],
    &["sql"],
    &["changes::cascade"],
    &["changes::tail"],
    // Who is calling, and whether they may (identity, above, fills it in).
    &["caller"],
    // HTTP: resources, their errors and inputs, and their OpenAPI document.
    &["rest::error"],
    // Who is calling and what they may do: the vocabulary; its tables,
    // secrets, passwords and cookies; the store that reads and writes
    // identities, and the declared roles; then the layer that authenticates
    // each request (with the CSRF check of cookie writes) and the commands
    // (the endpoints are listed with the layers they use).
    &["auth"],
    &[
        "auth::models",
        "auth::secret",
        "auth::password",
        "auth::session",
    ],
    &["auth::store", "auth::declared", "auth::throttle"],
    &["auth::csrf"],
    &["auth::layer", "auth::commands"],
    &["rest::idempotency"],
    &["rest"],
    &["rest::input"],
    &["rest::params"],
    &["openapi"],
    &["rest::preconditions"],
    // The audit of responses that revealed sensitive values.
    &["sensitive::reads"],
    &["rest::handlers"],
    // Custom actions, served by the resources' handlers.
    &["rest::action"],
    // API versions: the declared versions and their edits, what an edit does
    // to the JSON crossing the edge and to the document, and the edge itself.
    &["version", "version::shape", "version::document"],
    &["version::edge"],
    &["rest::api"],
    &["openapi::diff"],
    &["changes::http", "auth::http"],
    // What stands between the network and the routes, around everything
    // above: the access log and the metrics, the client's address, health
    // probes, CORS, security headers, compression and rate limits.
    &["perimeter"],
    &["serve"],
    // The command line: the app runs the `openapi` command, which compares
    // the app's document with the committed one.
    &["app", "openapi::committed"],
    // The test support that drives an app.
    &["testing"],
];

#[test]
fn every_module_imports_only_its_layer_and_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_sources(&src, &src, &mut files);
    let problems = check(&files, LAYERS);
    assert!(
        problems.is_empty(),
        "framework/src does not read bottom-up:\n{}",
        problems.join("\n")
    );
}

/// The check itself fails on a lower module importing a higher one, directly,
/// through a face's re-export, or through a name imported earlier.
#[test]
fn an_import_from_a_higher_layer_is_refused() {
    let layers: &[&[&str]] = &[&["db"], &["changes"], &["app"]];
    let sources = |db: &str| {
        BTreeMap::from([
            (
                "lib.rs".to_owned(),
                "mod app; mod changes; mod db;".to_owned(),
            ),
            ("db/mod.rs".to_owned(), db.to_owned()),
            (
                "changes/mod.rs".to_owned(),
                "mod read;\npub use read::after;\nuse crate::db::Tx;".to_owned(),
            ),
            ("changes/read.rs".to_owned(), "pub fn after() {}".to_owned()),
            ("app.rs".to_owned(), "use crate::db::Db;".to_owned()),
        ])
    };
    assert_eq!(
        check(&sources("pub struct Tx;"), layers),
        Vec::<String>::new()
    );
    for db in [
        "use crate::app::App;",
        "use crate::{app::{self, App}};",
        "fn run() { crate::changes::after(); }",
        "use crate::changes;\nfn run() { changes::after(); }",
        "use super::app::App as Top;",
    ] {
        let problems = check(&sources(db), layers);
        assert_eq!(problems.len(), 1, "{db}: {problems:?}");
        assert!(problems[0].starts_with("`db` imports "), "{problems:?}");
    }
    let problems = check(
        &sources("/// crate::app::App\nfn f() { \"crate::app\"; }"),
        layers,
    );
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "comments and strings are not imports"
    );
}

/// Every `.rs` file under `dir`, by its path relative to `root`.
fn read_sources(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("framework/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            read_sources(root, &path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(root).expect("under root");
            let relative = relative.to_string_lossy().replace('\\', "/");
            files.insert(relative, std::fs::read_to_string(&path).expect("UTF-8"));
        }
    }
}

/// The imports of `files` (paths relative to `src`) that run up `layers`.
fn check(files: &BTreeMap<String, String>, layers: &[&[&str]]) -> Vec<String> {
    let names: BTreeSet<String> = files.keys().map(|path| module_name(path)).collect();
    let modules: BTreeMap<String, Module> = files
        .iter()
        .map(|(path, text)| {
            let name = module_name(path);
            let module = Module::parse(&name, text, &names);
            (name, module)
        })
        .collect();
    let mut problems = Vec::new();
    for entry in layers.iter().flat_map(|layer| layer.iter()) {
        if !names.contains(*entry) {
            problems.push(format!(
                "`{entry}` is in LAYERS, but framework/src has no such module: remove it"
            ));
        }
    }
    for (name, module) in &modules {
        // The crate root is the crate's face, above everything.
        if name.is_empty() {
            continue;
        }
        let Some(layer) = layer_of(name, layers) else {
            problems.push(format!(
                "`{name}` is not in LAYERS: add it on the layer it belongs to"
            ));
            continue;
        };
        let mut imported = BTreeSet::new();
        for path in &module.paths {
            // Naming a module (`use crate::changes;`) imports nothing yet: what
            // the code then takes through the name does.
            if modules.contains_key(&path.join("::")) {
                continue;
            }
            if let Some(target) = resolve(&modules, path, 0)
                && target != *name
                && !target.is_empty()
            {
                imported.insert(target);
            }
        }
        for target in imported {
            if layer_of(&target, layers).is_some_and(|target_layer| target_layer > layer) {
                problems.push(format!(
                    "`{name}` imports `{target}`, which LAYERS puts above it: move the \
                     shared piece down, or pass it in from above"
                ));
            }
        }
    }
    problems
}

/// `rest/mod.rs` is `rest`, `rest/api.rs` is `rest::api`, `lib.rs` is the root `""`.
fn module_name(path: &str) -> String {
    let path = path.strip_suffix(".rs").expect("a .rs file");
    let path = path.strip_suffix("/mod").unwrap_or(path);
    if path == "lib" {
        return String::new();
    }
    path.replace('/', "::")
}

/// The position of the layer that places `module`, by its longest listed
/// ancestor (or itself).
fn layer_of(module: &str, layers: &[&[&str]]) -> Option<usize> {
    layers
        .iter()
        .enumerate()
        .flat_map(|(index, layer)| layer.iter().map(move |entry| (index, *entry)))
        .filter(|(_, entry)| {
            module == *entry
                || module
                    .strip_prefix(entry)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
        .max_by_key(|(_, entry)| entry.len())
        .map(|(index, _)| index)
}

/// What a module's code names of the crate.
struct Module {
    /// Absolute paths (from the crate root) the module imports or names.
    paths: Vec<Vec<String>>,
    /// Names brought in by `use`, with the absolute paths they stand for.
    imports: BTreeMap<String, Vec<String>>,
}

impl Module {
    /// `modules` are every module's name, for telling a child module from
    /// another crate.
    fn parse(name: &str, text: &str, modules: &BTreeSet<String>) -> Module {
        let text = without_tests(&code_only(text));
        let here: Vec<String> = if name.is_empty() {
            Vec::new()
        } else {
            name.split("::").map(str::to_owned).collect()
        };
        let mut imports = BTreeMap::new();
        let mut paths = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = find_use(rest) {
            let after = &rest[start..];
            let end = after.find(';').unwrap_or(after.len());
            for (alias, path) in use_tree(&after[..end]) {
                if let Some(absolute) = absolute(&here, &path) {
                    imports.insert(alias, absolute.clone());
                    paths.push(absolute);
                } else if let Some(child) = child_path(&here, &path, modules) {
                    // The face re-exporting its child: a name to follow, not an import.
                    imports.insert(alias, child);
                }
            }
            rest = &after[end..];
        }
        for path in inline_paths(&text) {
            if let Some(absolute) = absolute(&here, &path) {
                paths.push(absolute);
            } else if let Some(imported) = imports.get(&path[0]) {
                paths.push(imported.iter().chain(&path[1..]).cloned().collect());
            }
        }
        Module { paths, imports }
    }
}

/// `path` from the crate root, for a path in module `here` that starts with one
/// of its child modules.
fn child_path(here: &[String], path: &[String], modules: &BTreeSet<String>) -> Option<Vec<String>> {
    let child: Vec<String> = here.iter().chain(path.first()).cloned().collect();
    modules
        .contains(&child.join("::"))
        .then(|| here.iter().chain(path).cloned().collect())
}

/// `text` with comments removed and string and character literals emptied.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            code.push(' ');
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            i += 2 + hashes;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                i += 1;
            }
            i += closing.len();
            code.push_str("\"\"");
        } else if rest[0] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            code.push_str("\"\"");
        } else if rest[0] == '\'' && rest.get(1) == Some(&'\\') {
            // The quote, the backslash and the escaped character, then up to the
            // closing quote (`'\u{7f}'`).
            i += 3;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            code.push_str("' '");
        } else if rest[0] == '\'' && rest.get(2) == Some(&'\'') {
            i += 3;
            code.push_str("' '");
        } else {
            code.push(rest[0]);
            i += 1;
        }
    }
    code
}

/// The number of `#` of a raw string literal (`r"`, `r#"`, `br"`) starting at
/// `chars[i]`, if one does.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let starts_token = |at: usize| at == 0 || !is_ident(chars[at - 1]);
    let prefixed =
        chars[i] == 'r' && (starts_token(i) || (chars[i - 1] == 'b' && starts_token(i - 1)));
    if !prefixed {
        return None;
    }
    let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
    (chars.get(i + 1 + hashes) == Some(&'"')).then_some(hashes)
}

/// `code` without its unit tests, which by convention end the file.
fn without_tests(code: &str) -> String {
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(test)]") {
        let start = from + found;
        let after = code[start + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod tests") {
            return code[..start].to_owned();
        }
        from = start + 1;
    }
    code.to_owned()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where the next `use` declaration's tree starts in `code`.
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = code[from..].find("use ") {
        let start = from + found;
        let before = code[..start].chars().next_back();
        if !before.is_some_and(|c| is_ident(c) || c == '$') {
            return Some(start + "use ".len());
        }
        from = start + 1;
    }
    None
}

/// The leaves of a use tree, `a::{b, c::d as e}`, each with the name it binds:
/// `[("b", [a, b]), ("e", [a, c, d])]`; `self` in a group binds its parent.
fn use_tree(tree: &str) -> Vec<(String, Vec<String>)> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut tree = tree.replace(" as ", "\u{0}");
    tree.retain(|c| c != ' ');
    let tree = tree.replace('\u{0}', " as ");
    let mut leaves = Vec::new();
    expand(&tree, &[], &mut leaves);
    leaves
}

fn expand(tree: &str, prefix: &[String], leaves: &mut Vec<(String, Vec<String>)>) {
    let tree = tree.strip_prefix("::").unwrap_or(tree);
    if let Some(group_start) = tree.find('{') {
        let mut path = prefix.to_vec();
        path.extend(segments(&tree[..group_start]));
        let inner = &tree[group_start + 1..tree.rfind('}').unwrap_or(tree.len())];
        for item in split_top_level(inner) {
            expand(item, &path, leaves);
        }
        return;
    }
    let (path_text, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path, Some(alias)),
        None => (tree, None),
    };
    let mut path = prefix.to_vec();
    let own = segments(path_text);
    if own == ["self"] {
        if let Some(last) = path.last().cloned() {
            leaves.push((alias.map_or(last, str::to_owned), path));
        }
        return;
    }
    path.extend(own);
    if let Some(last) = path.last().cloned()
        && last != "*"
    {
        leaves.push((alias.map_or(last, str::to_owned), path));
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The comma-separated items of a group, not splitting nested groups.
fn split_top_level(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items.into_iter().filter(|item| !item.is_empty()).collect()
}

/// Paths in code: `a::b::c`, at least two segments, not `$crate::`.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == '$')) {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            path.push(chars[start..j].iter().collect::<String>());
            if chars[j..].starts_with(&[':', ':']) && chars.get(j + 2).is_some_and(|c| is_ident(*c))
            {
                j += 2;
            } else {
                break;
            }
        }
        if path.len() > 1 {
            paths.push(path);
        }
        i = j.max(i + 1);
    }
    paths
}

/// `path` from the crate root, for a path through `crate`, `super` or `self`
/// in module `here`.
fn absolute(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some(here.iter().chain(&path[1..]).cloned().collect()),
        "super" => {
            let ups = path
                .iter()
                .take_while(|segment| *segment == "super")
                .count();
            let kept = here.len().checked_sub(ups)?;
            Some(here[..kept].iter().chain(&path[ups..]).cloned().collect())
        }
        _ => None,
    }
}

/// The module that defines what `path` names: its longest module prefix, or,
/// when the next segment is a name that module imports, what that name stands
/// for. `None` for paths out of the crate.
fn resolve(modules: &BTreeMap<String, Module>, path: &[String], depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let mut module = String::new();
    for (index, segment) in path.iter().enumerate() {
        let child = if module.is_empty() {
            segment.clone()
        } else {
            format!("{module}::{segment}")
        };
        if modules.contains_key(&child) {
            module = child;
            continue;
        }
        let imported = modules.get(&module)?.imports.get(segment);
        return match imported {
            Some(target) => {
                let target: Vec<String> =
                    target.iter().chain(&path[index + 1..]).cloned().collect();
                resolve(modules, &target, depth + 1)
            }
            None => Some(module),
        };
    }
    Some(module)
}
