//! The `pinprobe` command: flags in, validated configuration, the library's run, exit status
//! out (0 every endpoint ok, 1 at least one is not, 2 usage or configuration error).

mod cli;

use std::error::Error as _;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use pinprobe::config::Config;

fn test(args: cli::TestArgs) -> Result<pinprobe::report::Summary, pinprobe::error::Error> {
    Config::from_options(&args.options()).and_then(|config| pinprobe::run::run(&config))
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        Some(cli::Command::Test(args)) => test(args),
        None => test(cli.test),
        Some(cli::Command::Inspect(args)) => pinprobe::inspect::run(&args.options()),
        Some(cli::Command::Demo(args)) => pinprobe::demo::run(&args.options()),
        Some(cli::Command::Pin(args)) => pinprobe::generate::run(&args.options()),
        Some(cli::Command::Pins(cli::PinsArgs {
            command: cli::PinsCommand::Convert(args),
        })) => pinprobe::convert::run(&args.options()),
    };
    match outcome {
        Ok(summary) if summary.passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            let mut message = format!("pinprobe: error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            let _ = writeln!(std::io::stderr(), "{message}");
            ExitCode::from(2)
        }
    }
}
