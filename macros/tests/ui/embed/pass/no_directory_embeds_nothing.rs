const MIGRATIONS: fw::migrate::EmbeddedMigrations = fw::embed_migrations!();

fn main() {
    assert!(MIGRATIONS.files.is_empty());
}
