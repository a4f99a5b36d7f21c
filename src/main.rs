//! The `pinprobe` command. The probe engine and its command line are being built in the library
//! (see README.md); until they land, the binary checks that the bundled profile loads and says so.

use std::process::ExitCode;

fn main() -> ExitCode {
    match pinprobe::profile::Profile::bundled() {
        Ok(profile) => {
            let count = profile.endpoints.len();
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "pinprobe: the bundled profile holds {count} endpoints; probing is not available yet in this build"
                );
            }
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("pinprobe: {e}");
            ExitCode::from(2)
        }
    }
}
