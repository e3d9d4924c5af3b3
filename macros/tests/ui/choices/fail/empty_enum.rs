#[derive(Clone, Copy, fw::Choices)]
pub enum Never {}

fn main() {}
