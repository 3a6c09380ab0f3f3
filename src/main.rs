use clap::Parser;

fn main() -> std::process::ExitCode {
    sohoa::cli::run(sohoa::cli::Cli::parse())
}
