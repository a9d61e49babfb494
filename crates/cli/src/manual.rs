//! `completions` and `man`: the shell completion scripts and the man page, generated from
//! the same command line the program parses.

use clap::CommandFactory;
use std::process::ExitCode;

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(shell, &mut command, "skein", &mut std::io::stdout());
    ExitCode::SUCCESS
}

pub fn man_page() -> ExitCode {
    let command = crate::cli::Cli::command();
    match clap_mangen::Man::new(command).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            crate::redact::err(&format!("error: cannot write the man page: {err}"));
            ExitCode::from(crate::exit::FAILURE)
        }
    }
}
