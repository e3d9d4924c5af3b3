#[derive(Clone, Copy, fw::Choices)]
pub struct Status {
    pub active: bool,
}

fn main() {}
