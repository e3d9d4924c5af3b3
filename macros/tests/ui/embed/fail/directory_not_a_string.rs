const MIGRATIONS: fw::migrate::EmbeddedMigrations = fw::embed_migrations!(migrations);

fn main() {}
