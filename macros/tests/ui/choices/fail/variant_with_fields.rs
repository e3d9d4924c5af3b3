#[derive(Clone, Copy, fw::Choices)]
pub enum Status {
    Active,
    Suspended { days: u32 },
}

fn main() {}
