#[derive(Clone, Copy, fw::Choices)]
pub enum Status {
    #[choice(rename = "active", alias = "live")]
    Active,
}

fn main() {}
