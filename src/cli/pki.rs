use super::EXIT_INPUT;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Write a demo root CA, the agency seal, two officials and a TSA certificate into DIR
    Demo { dir: PathBuf },
}

pub fn run(command: PkiCommand) -> ExitCode {
    let PkiCommand::Demo { dir } = command;
    match crate::pki::demo(&dir) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
