//! The `pinprobe` command: flags in, the subcommand's options, its run in the library, exit
//! status out (0 every endpoint ok, 1 at least one is not, 2 usage or configuration error).

mod cli;

use std::io::Write;
use std::process::ExitCode;

use pinprobe::chain::trust::os_store;
use pinprobe::cmd;
use pinprobe::error::Error;
use pinprobe::report::{Quiet, Shown, Summary};

fn main() -> ExitCode {
    // a copy of pinprobe started by `--os-store platform|both` to read the platform's store
    // without SSL_CERT_FILE and SSL_CERT_DIR (see os_store): not a command line of a user's
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == os_store::PLATFORM_STORE_ARG)
    {
        return match os_store::write_platform_store(&mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(2),
        };
    }
    let outcome = match cli::parse() {
        cli::Run::Test(options) => cmd::test::run(&options),
        cli::Run::Inspect(options) => cmd::inspect::run(&options),
        cli::Run::Demo(options) => cmd::demo::run(&options),
        cli::Run::Pin(options) => cmd::pin::run(&options),
        cli::Run::Convert(options) => cmd::convert::run(&options),
        cli::Run::Serve(options) => cmd::serve::run(&options),
        cli::Run::Text(text) => write_text(text),
    };
    match outcome {
        Ok(summary) if summary.passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            let message = format!("pinprobe: error: {}", e.with_causes());
            // messages quote input files (a pin, a line of --targets) and the network (a PAC
            // file's error)
            let _ = writeln!(std::io::stderr(), "{}", Shown(&message));
            ExitCode::from(2)
        }
    }
}

/// Writes text made by the command line (completions, the man page) to standard output; a
/// closed pipe ends it quietly.
fn write_text(text: std::io::Result<Vec<u8>>) -> Result<Summary, Error> {
    let failed = |source| Error::Write {
        target: "standard output".into(),
        source,
    };
    let text = text.map_err(failed)?;
    let mut out = Quiet::new(std::io::stdout().lock());
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(failed)?;
    Ok(Summary::default())
}
